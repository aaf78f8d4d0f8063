"""biomedgpt-tools: BioMedGPT-10B for LLM agents.

    from biomedgpt_tools import BioMedGPTToolkit, MoleculeQA, ProteinQA, BiomedQA

The core import is light: subpackages (model, resolvers, store, tools) are imported on
demand, and so are the names above (PEP 562 `__getattr__`), so `import biomedgpt_tools` and
`biomedgpt resolve` never pay for torch or LangChain, and the model never pulls in LangChain.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from biomedgpt_tools.version import __version__

# public name -> the module that defines it (imported on first use)
_LAZY_NAMES = {
    "BioMedGPTServices": "biomedgpt_tools.services.biomedgpt_services",
    "BioMedGPTToolkit": "biomedgpt_tools.tools.toolkit",
    "ToolkitSettings": "biomedgpt_tools.services.settings",
    "MoleculeQA": "biomedgpt_tools.tools.molecule_qa",
    "ProteinQA": "biomedgpt_tools.tools.protein_qa",
    "BiomedQA": "biomedgpt_tools.tools.biomed_qa",
    "ChatBioMedGPT": "biomedgpt_tools.tools.chat_model",
}
__all__ = [
    "BioMedGPTServices",
    "BioMedGPTToolkit",
    "BiomedQA",
    "ChatBioMedGPT",
    "MoleculeQA",
    "ProteinQA",
    "ToolkitSettings",
    "__version__",
]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time these come from __getattr__
    from biomedgpt_tools.services.biomedgpt_services import BioMedGPTServices
    from biomedgpt_tools.services.settings import ToolkitSettings
    from biomedgpt_tools.tools.biomed_qa import BiomedQA
    from biomedgpt_tools.tools.chat_model import ChatBioMedGPT
    from biomedgpt_tools.tools.molecule_qa import MoleculeQA
    from biomedgpt_tools.tools.protein_qa import ProteinQA
    from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit


def __getattr__(name: str) -> Any:
    module_name = _LAZY_NAMES.get(name)
    if module_name is None:
        raise AttributeError(f"module 'biomedgpt_tools' has no attribute {name!r}")
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0].startswith("langchain"):
            raise ImportError(
                f"biomedgpt_tools.{name} needs LangChain ({error.name} is not installed); install "
                "the tools extra: pip install 'biomedgpt-tools[tools]'"
            ) from error
        raise
    value = getattr(module, name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_NAMES})
