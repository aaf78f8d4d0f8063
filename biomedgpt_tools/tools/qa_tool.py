"""What the three tools share: recall before compute, one model call, save with provenance.

A tool first turns its arguments into a `PreparedQuestion` (resolving the molecule or protein:
the only step that differs per tool, with a sync and an async path), then `answer_prepared`
looks for the same (entity, question, model, revision) in memory, asks the model on a miss,
saves the answer, and renders the short text for the calling LLM plus the typed artifact.
The async path resolves with the resolvers' async API and runs the blocking rest (store,
model) in a worker thread, so an event loop serving other agents keeps running.

While the model generates, its text is sent to the run's callbacks as LangChain custom events
named `TOKEN_EVENT` (`{"text": delta, "tool": name}`: deltas of the model's answer, which join
to it; BiomedQA with options returns that answer after its chosen option; see `backend.TextSink`), which `astream_events` and callback
handlers receive. With no handler
listening the model answers whole. Memory hits and answers without a model send none.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from abc import abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool, ToolException
from pydantic import ConfigDict, Field, ValidationError, model_validator

from biomedgpt_tools.inference.backend import ModelUnavailableError, TextSink, answered_by
from biomedgpt_tools.model.prompt import structure_value
from biomedgpt_tools.model.requests import GenerationRequest, GenerationResult, ModelIdentity
from biomedgpt_tools.resolvers.records import MoleculeRecord, ProteinRecord
from biomedgpt_tools.services.biomedgpt_services import BioMedGPTServices
from biomedgpt_tools.services.memory import AnswerToRemember
from biomedgpt_tools.services.shared import shared_services
from biomedgpt_tools.tools.artifacts import QAArtifact, StepTimings
from biomedgpt_tools.tools.quoting import quote_external_text

if TYPE_CHECKING:
    from biomedgpt_tools.store.record import AnnotationRecord

EntityKind = Literal["molecule", "protein", "text"]

TOKEN_EVENT = "biomedgpt_token"  # custom callback event carrying the model's text as generated
_ASYNC_SINK_TIMEOUT_S = 30.0  # a stopped event loop must not hold the model's lock forever


def explain_validation_error(error: ValidationError) -> str:
    """Validation errors as one line per bad argument, which an LLM can fix and retry."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ())) or "arguments"
        problems.append(f"`{where}`: {item.get('msg', 'invalid')}")
    return "Invalid arguments: " + "; ".join(problems) + ". Fix them and call the tool again."


@dataclass
class PreparedQuestion:
    """A question ready for memory and model: the entity resolved, the model input built."""

    kind: EntityKind
    key: str  # store key: InChIKey, UniProt accession, sequence key or text key
    question: str  # as asked (stored for display; the store compares it normalised)
    model_question: GenerationRequest
    fresh: bool = False
    display_name: str = ""
    record: MoleculeRecord | ProteinRecord | None = None
    identity_line: str = ""  # "Molecule: aspirin (PubChem CID 2244, ...)" for the content
    record_text: str | None = None  # fetched text that can stand in when no model answers
    record_source: str | None = None  # "PubChem" / "UniProt"
    options: list[str] | None = None
    context: str | None = None
    resolve_s: float | None = None
    notes: list[str] = field(default_factory=list)


class BioMedGPTQATool(BaseTool):
    """Base of MoleculeQA, ProteinQA and BiomedQA (not a tool by itself)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: Any = True
    handle_validation_error: Any = explain_validation_error
    services: BioMedGPTServices = Field(
        default_factory=shared_services,
        exclude=True,
        description="the model backend, resolvers and memory this tool uses; by default the "
        "process-wide services for the environment (services.shared_services())",
    )

    @model_validator(mode="before")
    @classmethod
    def _services_of_toolkit(cls, data: Any) -> Any:
        """`MoleculeQA(toolkit=...)`, as before the tools took the services: the toolkit's."""
        if not isinstance(data, dict) or "toolkit" not in data:
            return data
        data = dict(data)
        toolkit = data.pop("toolkit")
        if toolkit is not None and data.get("services") is None:
            data["services"] = toolkit.services
        return data

    # -- configuration visible on the tool (ToolsUnitTests' init-from-env checks these) --------
    @property
    def model_path(self) -> str | None:
        path = self.services.settings.model_path
        return str(path) if path is not None else None

    @property
    def backend_kind(self) -> str:
        return self.services.backend.kind

    # -- per tool ------------------------------------------------------------------------------
    @abstractmethod
    def prepare(self, **arguments: Any) -> PreparedQuestion:
        """Resolve the entity and build the model question (blocking I/O allowed)."""

    @abstractmethod
    async def aprepare(self, **arguments: Any) -> PreparedQuestion:
        """Same as `prepare`, without blocking the event loop."""

    def finish_answer(self, prepared: PreparedQuestion, text: str) -> str:
        """Post-process the model's text for display (BiomedQA maps a letter to its option)."""
        return text

    # -- LangChain entry points ----------------------------------------------------------------
    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, **arguments: Any
    ) -> tuple[str, QAArtifact]:
        started = time.perf_counter()
        prepared = self.prepare(**arguments)
        return self.answer_prepared(prepared, started, self._token_sink(run_manager))

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, **arguments: Any
    ) -> tuple[str, QAArtifact]:
        started = time.perf_counter()
        prepared = await self.aprepare(**arguments)
        sink = self._async_token_sink(run_manager, asyncio.get_running_loop())
        return await asyncio.to_thread(self.answer_prepared, prepared, started, sink)

    # -- the model's text to the callbacks ------------------------------------------------------
    def _token_data(self, delta: str) -> dict[str, Any]:
        return {"text": delta, "tool": self.name}

    def _token_sink(self, run_manager: CallbackManagerForToolRun | None) -> TextSink | None:
        """Custom events on the tool's run (as `dispatch_custom_event` would send them)."""
        if run_manager is None:
            return None
        callbacks = run_manager.get_child()
        if not callbacks.handlers:
            return None

        def sink(delta: str) -> None:
            callbacks.on_custom_event(
                TOKEN_EVENT, self._token_data(delta), run_id=run_manager.run_id
            )

        return sink

    def _async_token_sink(
        self, run_manager: AsyncCallbackManagerForToolRun | None, loop: asyncio.AbstractEventLoop
    ) -> TextSink | None:
        """Like `_token_sink`, called from the worker thread; each event is delivered on the
        loop before generation goes on, so handlers see the pieces in order."""
        if run_manager is None:
            return None
        callbacks = run_manager.get_child()
        if not callbacks.handlers:
            return None
        broken = False

        def sink(delta: str) -> None:
            nonlocal broken
            if broken:
                return
            event = callbacks.on_custom_event(
                TOKEN_EVENT, self._token_data(delta), run_id=run_manager.run_id
            )
            try:
                delivery = asyncio.run_coroutine_threadsafe(event, loop)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                event.close()
                broken = True
                return
            try:
                delivery.result(_ASYNC_SINK_TIMEOUT_S)
            except concurrent.futures.TimeoutError:  # the loop stopped or a handler hangs
                delivery.cancel()
                broken = True

        return sink

    # -- shared flow ---------------------------------------------------------------------------
    def answer_prepared(
        self, prepared: PreparedQuestion, started: float, sink: TextSink | None = None
    ) -> tuple[str, QAArtifact]:
        """Recall, else compute, then save; returns (content, artifact).

        With a `sink` the model's text is passed to it as it is generated (model answers
        only: a memory hit or a missing model sends nothing).
        """
        services = self.services
        backend = services.backend
        notes = list(prepared.notes)
        identity: ModelIdentity | None = None
        unavailable_reason: str | None = None
        try:
            identity = backend.identity()
        except ModelUnavailableError as error:
            unavailable_reason = str(error)

        recall_s = None
        if not prepared.fresh:
            t0 = time.perf_counter()
            remembered, memory_note = services.recall(
                prepared.kind, prepared.key, prepared.question, identity
            )
            recall_s = time.perf_counter() - t0
            if memory_note:
                notes.append(memory_note)
            if remembered is not None:
                timings = StepTimings(
                    resolve_s=prepared.resolve_s,
                    recall_s=recall_s,
                    total_s=time.perf_counter() - started,
                )
                return self._from_memory(prepared, remembered, identity, timings, notes)

        if identity is not None:
            try:
                if sink is None:
                    answer = backend.answer([prepared.model_question])[0]
                else:
                    answer = backend.answer_streaming(prepared.model_question, sink)
            except ModelUnavailableError as error:
                identity, unavailable_reason = None, str(error)
            except ValueError as error:  # the model's own input checks (featurization, sequence)
                raise ToolException(
                    f"BioMedGPT cannot read this input: {error}. Pass another form of the "
                    "molecule or protein, or ask without it (BiomedQA)."
                ) from error
            else:
                text = self.finish_answer(prepared, answer.text)
                t0 = time.perf_counter()
                annotation_id, save_note = services.save_answer(
                    self._to_remember(prepared, text), answer
                )
                save_s = time.perf_counter() - t0
                if save_note:
                    notes.append(save_note)
                timings = StepTimings(
                    resolve_s=prepared.resolve_s,
                    recall_s=recall_s,
                    generate_s=answer.seconds,
                    save_s=save_s,
                    total_s=time.perf_counter() - started,
                )
                return self._from_model(prepared, text, answer, annotation_id, timings, notes)

        timings = StepTimings(
            resolve_s=prepared.resolve_s, recall_s=recall_s, total_s=time.perf_counter() - started
        )
        return self._without_model(
            prepared, unavailable_reason or "no model answered", timings, notes
        )

    @staticmethod
    def _to_remember(prepared: PreparedQuestion, text: str) -> AnswerToRemember:
        """What memory keeps of an answer: a protein's sequence as the model read it too."""
        sequence = None
        if prepared.kind == "protein":
            sequence = structure_value(prepared.model_question.inputs[0])
        return AnswerToRemember(
            kind=prepared.kind,
            key=prepared.key,
            question=prepared.question,
            text=text,
            display_name=prepared.display_name,
            options=prepared.options,
            protein_sequence=sequence,
        )

    # -- rendering -----------------------------------------------------------------------------
    def _artifact(self, prepared: PreparedQuestion, **fields: Any) -> QAArtifact:
        return QAArtifact(
            tool=self.name,
            question=prepared.question,
            record=prepared.record,
            entity_key=prepared.key or None,
            options=prepared.options,
            context=prepared.context,
            backend=self.services.backend.kind,
            **fields,
        )

    def _prompt_or_none(self, prepared: PreparedQuestion) -> str | None:
        try:
            return self.services.backend.render_prompt(prepared.model_question)
        except ModelUnavailableError:
            return None

    def _content(self, prepared: PreparedQuestion, head: str, body: str, notes: list[str]) -> str:
        lines = [head, body]
        if prepared.identity_line:
            lines.append(prepared.identity_line)
        lines.extend(f"Note: {note}" for note in notes)
        return "\n".join(line for line in lines if line)

    def _from_model(
        self,
        prepared: PreparedQuestion,
        text: str,
        answer: GenerationResult,
        annotation_id: str | None,
        timings: StepTimings,
        notes: list[str],
    ) -> tuple[str, QAArtifact]:
        identity = answered_by(self.services.backend, answer)
        head = (
            f"BioMedGPT answer ({identity.model_id}, revision {identity.revision[:12]}, "
            f"computed now in {answer.seconds:.1f} s):"
        )
        artifact = self._artifact(
            prepared,
            answered_by="model",
            answer=text,
            prompt=answer.prompt,
            model_id=identity.model_id,
            revision=identity.revision,
            annotation_id=annotation_id,
            answered_at=datetime.now(timezone.utc),
            timings=timings,
            notes=notes,
        )
        shown = text if text.strip() else "(the model gave an empty answer)"
        return self._content(prepared, head, shown, notes), artifact

    def _from_memory(
        self,
        prepared: PreparedQuestion,
        remembered: AnnotationRecord,
        identity: ModelIdentity | None,
        timings: StepTimings,
        notes: list[str],
    ) -> tuple[str, QAArtifact]:
        when = remembered.created_at.strftime("%Y-%m-%d %H:%M UTC")
        revision = remembered.model_revision[:12] or "unknown"
        head = (
            f"BioMedGPT answer from memory ({remembered.model_id}, revision {revision}, "
            f"answered {when}; pass fresh=true for a new answer):"
        )
        if identity is None:
            notes = [*notes, "no model is loaded now; this answer was stored earlier"]
        artifact = self._artifact(
            prepared,
            answered_by="memory",
            answer=remembered.answer,
            from_memory=True,
            prompt=self._prompt_or_none(prepared),
            model_id=remembered.model_id,
            revision=remembered.model_revision,
            annotation_id=remembered.id,
            answered_at=remembered.created_at,
            timings=timings,
            notes=notes,
        )
        return self._content(prepared, head, remembered.answer, notes), artifact

    def _without_model(
        self, prepared: PreparedQuestion, reason: str, timings: StepTimings, notes: list[str]
    ) -> tuple[str, QAArtifact]:
        if prepared.kind == "text":
            raise ToolException(
                f"No model answered: {reason}; and no earlier answer to this question is stored. "
                "Answer without this tool, or ask the user to configure a BioMedGPT model."
            )
        source = prepared.record_source
        body = ""
        if prepared.record_text and source:
            head = (
                f"No model answered: {reason}. Below is what {source} says about this entity; "
                "it is not an answer generated for the question."
            )
            body = quote_external_text(prepared.record_text, source=source)
        elif source:
            head = f"No model answered: {reason}. {source} has no description text for this entity."
        else:
            head = f"No model answered: {reason}. There is no database record to show for an input used as given."
        artifact = self._artifact(
            prepared,
            answered_by="record",
            answer=None,
            prompt=None,
            timings=timings,
            notes=notes,
        )
        return self._content(prepared, head, body, notes), artifact
