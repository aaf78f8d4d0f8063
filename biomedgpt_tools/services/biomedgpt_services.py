"""BioMedGPTServices: the model backend, resolvers and annotation memory the tools call.

Below the tools and free of LangChain, so bulk annotation, the evaluations and the MCP server
reach the model, the resolvers and the store through the same object as the tools do,
without importing LangChain. `BioMedGPTToolkit` builds one and hands it to every tool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import biomedgpt_tools.services.resolution as resolution
from biomedgpt_tools.inference.backend import ModelBackend
from biomedgpt_tools.services.backend_choice import build_backend
from biomedgpt_tools.services.memory import AnnotationMemory, AnswerToRemember, Recalled, Saved
from biomedgpt_tools.services.resolution import ResolvedMolecule
from biomedgpt_tools.services.settings import ToolkitSettings

if TYPE_CHECKING:
    from biomedgpt_tools.model.api import BioMedGPT
    from biomedgpt_tools.model.requests import GenerationResult, ModelIdentity
    from biomedgpt_tools.resolvers.records import ProteinRecord
    from biomedgpt_tools.resolvers.resolver import Resolver
    from biomedgpt_tools.store.store import AnnotationStore


class BioMedGPTServices:
    """One model backend, one set of resolvers and one annotation memory, shared by their users.

    Nothing is loaded, opened or written at construction: the in-process model loads on its
    first question and the store opens on first use. `close()` closes what `build` opened.
    (A plain class, not a dataclass: pydantic models holding it check only its type.)
    """

    def __init__(
        self,
        settings: ToolkitSettings,
        backend: ModelBackend,
        resolver: Resolver,
        memory: AnnotationMemory,
        *,
        owns_resolver: bool = False,
    ):
        self.settings = settings
        self.backend = backend
        self.resolver = resolver
        self.memory = memory
        self.owns_resolver = owns_resolver  # close() closes only a resolver built here

    def __repr__(self) -> str:
        return f"BioMedGPTServices(backend={self.backend.kind!r}, memory={self.settings.memory})"

    @classmethod
    def build(
        cls,
        settings: ToolkitSettings | None = None,
        *,
        backend: ModelBackend | None = None,
        resolver: Resolver | None = None,
        store: AnnotationStore | None = None,
        model: BioMedGPT | None = None,
    ) -> BioMedGPTServices:
        """Services on `settings` (None: the environment's); each part not given is built from
        them (`model`, a loaded BioMedGPT, becomes an in-process backend)."""
        settings = settings if settings is not None else ToolkitSettings.from_env()
        if backend is None:
            backend = build_backend(settings, model)
        owns_resolver = resolver is None
        if resolver is None:
            from biomedgpt_tools.resolvers.resolver import Resolver

            resolver = Resolver(settings.resolver)
        return cls(
            settings=settings,
            backend=backend,
            resolver=resolver,
            memory=AnnotationMemory(settings, store),
            owns_resolver=owns_resolver,
        )

    @classmethod
    def from_env(
        cls,
        *,
        model: BioMedGPT | None = None,
        store: AnnotationStore | None = None,
        **overrides: object,
    ) -> BioMedGPTServices:
        """Everything from environment variables (services/settings.py); keyword overrides
        (model_path=, server_url=, device=, home=, chroma_url=, memory=, backend=) win."""
        return cls.build(ToolkitSettings.from_env(**overrides), store=store, model=model)

    def close(self) -> None:
        """Close what these services opened: the store (its writer lock), the resolvers."""
        self.memory.close()
        if self.owns_resolver:
            self.resolver.close()
            self.owns_resolver = False

    # -- resolution (raises ResolverError; see resolution.py) -------------------------------------
    def resolve_molecule(self, query: str) -> ResolvedMolecule:
        return resolution.resolve_molecule(self.resolver, query)

    async def aresolve_molecule(self, query: str) -> ResolvedMolecule:
        return await resolution.aresolve_molecule(self.resolver, query)

    def resolve_protein(self, query: str) -> ProteinRecord:
        return resolution.resolve_protein(self.resolver, query)

    async def aresolve_protein(self, query: str) -> ProteinRecord:
        return await resolution.aresolve_protein(self.resolver, query)

    # -- memory ----------------------------------------------------------------------------------
    def recall(
        self, kind: str, key: str, question: str, identity: ModelIdentity | None
    ) -> Recalled:
        """The stored answer of this model (or, with no model, of any), and a note if memory failed."""
        return self.memory.recall(kind, key, question, identity)

    def save_answer(self, entry: AnswerToRemember, answer: GenerationResult) -> Saved:
        """Save this backend's answer; returns (annotation id, note if saving failed)."""
        return self.memory.save(entry, answer, self.backend)
