"""BioMedGPT as LangChain tools: MoleculeQA, ProteinQA, BiomedQA, and the ChatBioMedGPT chat model.

    from biomedgpt_tools.tools import BioMedGPTToolkit
    tools = BioMedGPTToolkit.from_env().get_tools()

See docs/tools.md. Needs the `tools` extra (langchain-core); the model needs `model`, the
memory `store`.
"""

from biomedgpt_tools.inference.backend import ModelBackend, NoModelBackend
from biomedgpt_tools.inference.in_process import InProcessBackend
from biomedgpt_tools.inference.remote import RemoteBackend
from biomedgpt_tools.services.biomedgpt_services import BioMedGPTServices
from biomedgpt_tools.services.settings import ToolkitSettings
from biomedgpt_tools.tools.artifacts import QAArtifact, StepTimings
from biomedgpt_tools.tools.biomed_qa import BiomedQA
from biomedgpt_tools.tools.chat_model import ChatBioMedGPT
from biomedgpt_tools.tools.molecule_qa import MoleculeQA
from biomedgpt_tools.tools.protein_qa import ProteinQA
from biomedgpt_tools.tools.schemas import BiomedQAInput, MoleculeQAInput, ProteinQAInput
from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit

__all__ = [
    "BioMedGPTServices",
    "BioMedGPTToolkit",
    "BiomedQA",
    "BiomedQAInput",
    "ChatBioMedGPT",
    "InProcessBackend",
    "ModelBackend",
    "MoleculeQA",
    "MoleculeQAInput",
    "NoModelBackend",
    "ProteinQA",
    "ProteinQAInput",
    "QAArtifact",
    "RemoteBackend",
    "StepTimings",
    "ToolkitSettings",
]
