"""BioMedGPTToolkit: one model, one set of resolvers and one annotation store for all tools.

    tools = BioMedGPTToolkit.from_env().get_tools()   # MoleculeQA, ProteinQA, BiomedQA

The model is loaded once, lazily, on the first question that needs it (never a second copy per
tool); the store is opened on first use; the resolvers are shared, so their cache, rate limiter
and connection pools are too. With no model configured the tools still resolve, answer from
memory, and show the resolved record, saying plainly that no model answered.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool, BaseToolkit, ToolException
from pydantic import ConfigDict, Field, PrivateAttr

from biomedgpt_tools.inference.backend import (
    ModelAnswer,
    ModelBackend,
    ModelIdentity,
    NoModelBackend,
    structure_value,
)
from biomedgpt_tools.resolvers.outcomes import ResolverError
from biomedgpt_tools.resolvers.records import MoleculeRecord, ProteinRecord
from biomedgpt_tools.tools.errors import tool_error_from_resolver
from biomedgpt_tools.tools.settings import ToolkitSettings

if TYPE_CHECKING:
    from biomedgpt_tools.store.record import AnnotationRecord
    from biomedgpt_tools.store.store import AnnotationStore
    from biomedgpt_tools.tools.chat_model import ChatBioMedGPT
    from biomedgpt_tools.tools.qa_tool import PreparedQuestion


def build_backend(settings: ToolkitSettings, model: Any = None) -> ModelBackend:
    """The backend the settings ask for; `model` (a loaded BioMedGPT) skips loading from disk."""
    if model is not None:
        from biomedgpt_tools.inference.in_process import InProcessBackend

        return InProcessBackend(model=model)
    if settings.backend_kind == "none":
        return NoModelBackend()
    if settings.backend_kind == "remote":
        if not settings.server_url:
            raise ValueError(
                'backend "remote" needs a server: set BIOMEDGPT_SERVER_URL or pass server_url='
            )
        from biomedgpt_tools.inference.remote import RemoteBackend

        return RemoteBackend(settings.server_url, concurrency=settings.server_concurrency)
    if settings.model_path is None:
        raise ValueError(
            'backend "in-process" needs a model folder: set BIOMEDGPT_MODEL or pass model_path='
        )
    from biomedgpt_tools.inference.in_process import InProcessBackend

    return InProcessBackend(model_path=Path(settings.model_path), device=settings.device)


_SHARED: dict[ToolkitSettings, BioMedGPTToolkit] = {}
_SHARED_LOCK = threading.Lock()
_MAX_SHARED = 8


class BioMedGPTToolkit(BaseToolkit):
    """MoleculeQA, ProteinQA and BiomedQA sharing one model backend, resolvers and store."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    settings: ToolkitSettings = Field(default_factory=ToolkitSettings.from_env)
    backend: Any = Field(default=None, description="a ModelBackend; None builds one from settings")
    resolvers: Any = Field(
        default=None, description="the resolvers; None builds them from settings"
    )
    store: Any = Field(
        default=None,
        description="an open AnnotationStore; None opens one from settings on first use "
        "(unless settings.memory is False)",
    )

    _store_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _store_error: str | None = PrivateAttr(default=None)
    _owns_store: bool = PrivateAttr(default=False)
    _owns_resolvers: bool = PrivateAttr(default=False)

    def model_post_init(self, context: Any) -> None:
        if self.backend is None:
            self.backend = build_backend(self.settings)
        if self.resolvers is None:
            from biomedgpt_tools.resolvers.resolver import Resolver

            self.resolvers = Resolver(self.settings.resolver)
            self._owns_resolvers = True

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def from_env(
        cls, *, model: Any = None, store: Any = None, **overrides: Any
    ) -> BioMedGPTToolkit:
        """Everything from environment variables (see settings.py); works with none set.

        Keyword overrides (model_path=, server_url=, device=, home=, chroma_url=, memory=,
        backend=) win over the environment; `model=` passes an already loaded BioMedGPT;
        `server_url=` (or BIOMEDGPT_SERVER_URL) sends every question to a `biomedgpt serve`.
        """
        settings = ToolkitSettings.from_env(**overrides)
        return cls(settings=settings, backend=build_backend(settings, model), store=store)

    @classmethod
    def shared(cls) -> BioMedGPTToolkit:
        """The process-wide toolkit for the current environment (one per distinct settings).

        Tools built on their own (`MoleculeQA()`) use it, so three separately built tools still
        share one model, one store and one set of resolvers.
        """
        settings = ToolkitSettings.from_env()
        with _SHARED_LOCK:
            toolkit = _SHARED.get(settings)
            if toolkit is None:
                if len(_SHARED) >= _MAX_SHARED:
                    _SHARED.pop(next(iter(_SHARED)))  # oldest; its tools keep it alive while used
                toolkit = _SHARED[settings] = cls(settings=settings)
            return toolkit

    def get_tools(self) -> list[BaseTool]:
        from biomedgpt_tools.tools.biomed_qa import BiomedQA
        from biomedgpt_tools.tools.molecule_qa import MoleculeQA
        from biomedgpt_tools.tools.protein_qa import ProteinQA

        return [MoleculeQA(toolkit=self), ProteinQA(toolkit=self), BiomedQA(toolkit=self)]

    def chat_model(self, **options: Any) -> ChatBioMedGPT:
        """A ChatBioMedGPT on this toolkit's model (no second copy of the weights)."""
        from biomedgpt_tools.tools.chat_model import ChatBioMedGPT

        return ChatBioMedGPT(backend=self.backend, **options)

    def close(self) -> None:
        """Close what this toolkit opened: the store (releasing its writer lock), the resolvers."""
        with self._store_lock:
            if self._owns_store and self.store is not None:
                self.store.close()
                self.store = None
                self._owns_store = False
        if self._owns_resolvers:
            self.resolvers.close()
            self._owns_resolvers = False

    # -- resolution --------------------------------------------------------------------------------
    def resolve_molecule(self, query: str) -> tuple[MoleculeRecord, list[str]]:
        """The record, and notes on what was decided on the caller's behalf."""
        try:
            return self.resolvers.molecule(query), []
        except ResolverError as error:
            return self._molecule_from_smiles(query, error)

    async def aresolve_molecule(self, query: str) -> tuple[MoleculeRecord, list[str]]:
        try:
            return await self.resolvers.amolecule(query), []
        except ResolverError as error:
            return self._molecule_from_smiles(query, error)

    def resolve_protein(self, query: str) -> ProteinRecord:
        try:
            return self.resolvers.protein(query)
        except ResolverError as error:
            raise tool_error_from_resolver(error, "protein") from error

    async def aresolve_protein(self, query: str) -> ProteinRecord:
        try:
            return await self.resolvers.aprotein(query)
        except ResolverError as error:
            raise tool_error_from_resolver(error, "protein") from error

    @staticmethod
    def _molecule_from_smiles(query: str, error: ResolverError) -> tuple[MoleculeRecord, list[str]]:
        """A valid SMILES that PubChem lacks (a new compound) or cannot be asked about now is
        still a structure BioMedGPT can read: describe it locally with RDKit instead of failing."""
        from biomedgpt_tools.resolvers.identifiers import detect_molecule_query
        from biomedgpt_tools.resolvers.outcomes import NotFoundError, UnavailableError
        from biomedgpt_tools.resolvers.smiles import local_properties

        if not isinstance(error, NotFoundError | UnavailableError):
            raise tool_error_from_resolver(error, "molecule") from error
        try:
            detected = detect_molecule_query(query)
        except ResolverError:
            detected = None
        if detected is None or detected.kind != "smiles":
            raise tool_error_from_resolver(error, "molecule") from error
        facts = local_properties(detected.value)
        record = MoleculeRecord(
            cid=None,
            smiles=detected.value,
            inchikey=facts["inchikey"],
            formula=facts["formula"],
            molecular_weight=facts["molecular_weight"],
            source="local",
            query=query,
        )
        why = (
            "PubChem has no compound with this structure"
            if isinstance(error, NotFoundError)
            else f"PubChem could not be asked ({error.message})"
        )
        return record, [
            f"{why}; BioMedGPT reads the structure as given, without a name or description"
        ]

    @staticmethod
    def inchikey_for(smiles: str) -> str:
        """InChIKey computed locally, for a record PubChem gave none."""
        from biomedgpt_tools.resolvers.smiles import local_properties

        key = local_properties(smiles)["inchikey"]
        if not key:
            raise ToolException(
                f"RDKit cannot compute an InChIKey for {smiles!r}; pass another form"
            )
        return str(key)

    @staticmethod
    def sequence_key_for(sequence: str) -> str:
        from biomedgpt_tools.store.ids import sequence_key

        return sequence_key(sequence)

    @staticmethod
    def text_key_for(context: str | None, options: list[str] | None) -> str:
        from biomedgpt_tools.store.ids import text_key

        return text_key(context, options)

    # -- memory ------------------------------------------------------------------------------------
    def open_store(self) -> AnnotationStore | None:
        """The shared store, opened on first use; None (with a reason kept) when it cannot open."""
        if self.store is not None or not self.settings.memory:
            return self.store
        with self._store_lock:
            if self.store is None and self._store_error is None:
                from biomedgpt_tools.store.errors import StoreError
                from biomedgpt_tools.store.store import open_store

                try:
                    if self.settings.chroma_url:
                        self.store = open_store(url=self.settings.chroma_url)
                    else:
                        self.store = open_store(path=self.settings.store_path)
                    self._owns_store = True
                except StoreError as error:
                    self._store_error = str(error)
        return self.store

    @property
    def store_error(self) -> str | None:
        """Why the store could not be opened (None: it opened, or was never tried)."""
        return self._store_error

    def _memory_off_note(self) -> str | None:
        if not self.settings.memory:
            return None
        return f"memory unavailable: {self._store_error}" if self._store_error else None

    def recall(
        self, kind: str, key: str, question: str, identity: ModelIdentity | None
    ) -> tuple[AnnotationRecord | None, str | None]:
        """The stored answer of this model (or, with no model, of any model), and a note if memory failed."""
        store = self.open_store()
        if store is None:
            return None, self._memory_off_note()
        from biomedgpt_tools.store.errors import StoreError
        from biomedgpt_tools.store.record import normalize_question

        try:
            if identity is not None:
                return store.recall(kind, key, question, identity.model_id, identity.revision), None
            wanted = normalize_question(question)
            for record in store.find(kind, key):  # newest first
                if record.source == "model" and record.normalized_question == wanted:
                    return record, None
            return None, None
        except StoreError as error:
            return None, f"memory lookup failed: {error}"

    def save_answer(
        self, prepared: PreparedQuestion, text: str, answer: ModelAnswer
    ) -> tuple[str | None, str | None]:
        """Save a model answer with its provenance; returns (annotation id, note if saving failed)."""
        store = self.open_store()
        if store is None:
            return None, self._memory_off_note()
        from biomedgpt_tools.store.errors import StoreError
        from biomedgpt_tools.store.record import AnnotationRecord

        extra: dict[str, Any] = {
            "generate_s": round(answer.seconds, 4),
            "backend": self.backend.kind,
        }
        if prepared.options:
            extra["options_json"] = json.dumps(prepared.options)
        try:
            record = AnnotationRecord(
                kind=prepared.kind,
                key=prepared.key,
                question=prepared.question,
                answer=text,
                model_id=answer.identity.model_id,
                model_revision=answer.identity.revision,
                source="model",
                display_name=prepared.display_name,
                extra=extra,
            )
            annotation_id = store.add(record)
        except StoreError as error:
            return None, f"the answer was not saved to memory: {error}"
        if prepared.kind == "protein" and self.settings.protein_vectors:
            try:
                self._remember_protein_vector(store, prepared, answer.identity)
            except (StoreError, ValueError) as error:
                return (
                    annotation_id,
                    f"the protein's embedding was not saved for similarity search: {error}",
                )
        return annotation_id, None

    def _remember_protein_vector(
        self, store: AnnotationStore, prepared: PreparedQuestion, identity: ModelIdentity
    ) -> None:
        """Keep the protein's embedding so later searches can find "similar proteins annotated before"."""
        sequence = structure_value(prepared.model_question.inputs[0])
        vector = self.backend.encode_protein(sequence)
        if vector is not None:
            store.add_protein_vector(
                prepared.key, vector, identity.model_id, identity.revision, prepared.display_name
            )
