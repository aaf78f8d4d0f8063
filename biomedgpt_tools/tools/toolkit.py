"""BioMedGPTToolkit: the tools and the chat model, assembled on one set of services.

    tools = BioMedGPTToolkit.from_env().get_tools()   # MoleculeQA, ProteinQA, BiomedQA

The toolkit only assembles: it builds (or is given) a `BioMedGPTServices` (one model backend,
one set of resolvers, one annotation memory; biomedgpt_tools/services/) and hands it to every
tool and to the chat model. So the model is loaded once, lazily, on the first question that
needs it (never a second copy per tool); the store is opened on first use; the resolvers'
cache, rate limiter and connection pools are shared. With no model configured the tools still
resolve, answer from memory, and show the resolved record, saying plainly that no model answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict, Field, model_validator

from biomedgpt_tools.inference.backend import ModelBackend
from biomedgpt_tools.services.biomedgpt_services import BioMedGPTServices
from biomedgpt_tools.services.settings import ToolkitSettings
from biomedgpt_tools.tools.biomed_qa import BiomedQA
from biomedgpt_tools.tools.chat_model import ChatBioMedGPT
from biomedgpt_tools.tools.molecule_qa import MoleculeQA
from biomedgpt_tools.tools.protein_qa import ProteinQA

if TYPE_CHECKING:
    from biomedgpt_tools.model.api import BioMedGPT
    from biomedgpt_tools.resolvers.resolver import Resolver
    from biomedgpt_tools.store.store import AnnotationStore

__all__ = ["BioMedGPTToolkit"]


class BioMedGPTToolkit(BaseToolkit):
    """MoleculeQA, ProteinQA and BiomedQA sharing one model backend, resolvers and store.

    `BioMedGPTToolkit(settings=..., backend=..., resolvers=..., store=...)` builds the services
    from the parts given (each one left out is built from the settings, the environment's when
    none are given); `BioMedGPTToolkit(services=...)` takes services built elsewhere.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    services: BioMedGPTServices = Field(
        description="the model backend, resolvers and annotation memory the tools use"
    )

    @model_validator(mode="before")
    @classmethod
    def _assemble_services(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("services") is not None:
            return data
        parts = dict(data)
        parts["services"] = BioMedGPTServices.build(
            parts.pop("settings", None),
            backend=parts.pop("backend", None),
            resolver=parts.pop("resolvers", None),
            store=parts.pop("store", None),
        )
        return parts

    @classmethod
    def from_env(
        cls,
        *,
        model: BioMedGPT | None = None,
        store: AnnotationStore | None = None,
        **overrides: Any,
    ) -> BioMedGPTToolkit:
        """Everything from environment variables (services/settings.py); works with none set.

        Keyword overrides (model_path=, server_url=, device=, home=, chroma_url=, memory=,
        backend=) win over the environment; `model=` passes an already loaded BioMedGPT;
        `server_url=` (or BIOMEDGPT_SERVER_URL) sends every question to a `biomedgpt serve`.
        """
        return cls(services=BioMedGPTServices.from_env(model=model, store=store, **overrides))

    # -- the assembled parts, for callers that configure or inspect them -----------------------
    @property
    def settings(self) -> ToolkitSettings:
        return self.services.settings

    @settings.setter
    def settings(self, settings: ToolkitSettings) -> None:
        """New settings for what reads them per call (memory on/off before the store opens,
        max_new_tokens, on_too_long); the backend and resolvers already built are kept, so a new
        model path, server URL or resolver setting needs a new toolkit."""
        self.services.settings = settings
        self.services.memory.settings = settings

    @property
    def backend(self) -> ModelBackend:
        return self.services.backend

    @property
    def resolvers(self) -> Resolver:
        return self.services.resolver

    # -- assembly --------------------------------------------------------------------------------
    def get_tools(self) -> list[BaseTool]:
        return [
            MoleculeQA(services=self.services),
            ProteinQA(services=self.services),
            BiomedQA(services=self.services),
        ]

    def chat_model(self, **options: Any) -> ChatBioMedGPT:
        """A ChatBioMedGPT on this toolkit's model (no second copy of the weights)."""
        return ChatBioMedGPT(backend=self.services.backend, **options)

    def close(self) -> None:
        """Close what the services opened: the store (releasing its writer lock), the resolvers."""
        self.services.close()
