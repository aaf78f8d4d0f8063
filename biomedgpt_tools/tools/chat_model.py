"""ChatBioMedGPT: BioMedGPT-LM as a LangChain chat model, usable in any chain.

Text messages in; the prompt is BioMedGPT's own conversation template (`{system}### Human:
... ### Assistant: `), so the model sees the format it was trained on. A system message
replaces the default system text; earlier Human/AI pairs become earlier turns. Streaming yields
the model's text as it is generated. BioMedGPT was not trained for tool calling, so
`bind_tools` is not offered: use it as the answering model, and MoleculeQA/ProteinQA/BiomedQA as
tools of another agent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

from biomedgpt_tools.inference.backend import ModelBackend, answered_by
from biomedgpt_tools.model.prompt import Turn
from biomedgpt_tools.model.requests import GenerationRequest
from biomedgpt_tools.services.backend_choice import build_backend
from biomedgpt_tools.services.settings import ToolkitSettings


def _text_of(message: BaseMessage) -> str:
    """The text of a message; anything but text (images, tool calls) is refused by name."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        else:
            kind = block.get("type") if isinstance(block, dict) else type(block).__name__
            raise ValueError(
                f"ChatBioMedGPT takes text only; a {message.type} message has a {kind!r} block. "
                "Pass molecules and proteins through MoleculeQA/ProteinQA instead."
            )
    return "".join(parts)


def conversation_from_messages(
    messages: Sequence[BaseMessage], default_system: str | None
) -> tuple[str | None, tuple[Turn, ...], str]:
    """(system text, earlier turns, last question) from LangChain messages.

    Consecutive messages of one role are joined with a newline; the last message must come
    from the human, since the model answers as the Assistant.
    """
    system_parts: list[str] = []
    roles: list[tuple[str, str]] = []  # ("human" | "ai", text), consecutive roles merged
    for message in messages:
        if isinstance(message, SystemMessage):
            system_parts.append(_text_of(message))
            continue
        if isinstance(message, HumanMessage):
            role = "human"
        elif isinstance(message, AIMessage):
            if message.tool_calls:
                raise ValueError("ChatBioMedGPT cannot read tool calls; pass text messages only")
            role = "ai"
        else:
            raise ValueError(
                f"ChatBioMedGPT takes system, human and AI text messages; got a {message.type!r} message"
            )
        text = _text_of(message).strip()
        if roles and roles[-1][0] == role:
            roles[-1] = (role, roles[-1][1] + "\n" + text)
        else:
            roles.append((role, text))
    if not roles or roles[-1][0] != "human":
        raise ValueError(
            "the last message must be a human message: BioMedGPT answers as the Assistant"
        )
    if roles[0][0] == "ai":
        roles.insert(0, ("human", ""))  # an opening AI message answers an empty human turn
    turns = tuple(
        Turn(question=roles[i][1] or "(no message)", answer=roles[i + 1][1])
        for i in range(0, len(roles) - 1, 2)
    )
    system = " ".join(part.strip() for part in system_parts if part.strip()) or default_system
    if system is not None and not system.endswith(" "):
        system += " "  # the template has no space between the system text and `###`
    return system, turns, roles[-1][1]


def _cut_at_stop(text: str, stop: Sequence[str] | None) -> tuple[str, bool]:
    """Text up to the first stop sequence, and whether one was found."""
    cut = len(text)
    for marker in stop or ():
        position = text.find(marker)
        if marker and position != -1:
            cut = min(cut, position)
    return text[:cut], cut < len(text)


class ChatBioMedGPT(BaseChatModel):
    """BioMedGPT-LM behind LangChain's chat-model interface (invoke, batch, stream, async)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    backend: ModelBackend | None = Field(
        default=None,
        description="a ModelBackend (e.g. BioMedGPTToolkit.backend); None: built from model_path",
    )
    model_path: str | None = Field(default=None, description="folder of a saved BioMedGPT model")
    system: str | None = Field(
        default=None,
        description="system text used when the messages have none; None: the model's default",
    )
    max_new_tokens: int = Field(default=255, ge=1, le=4096)
    stop: list[str] | None = Field(
        default=None, description="stop sequences used when a call gives none"
    )
    streaming: bool = False

    def model_post_init(self, context: Any) -> None:
        if self.backend is None:
            settings = ToolkitSettings.from_env(model_path=self.model_path)
            self.backend = build_backend(settings)
            if self.model_path is None and settings.model_path is not None:
                self.model_path = str(settings.model_path)  # from BIOMEDGPT_MODEL

    @property
    def _llm_type(self) -> str:
        return "biomedgpt"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "backend": getattr(self.backend, "kind", None),
            "max_new_tokens": self.max_new_tokens,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any):
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "biomedgpt"
        params["ls_model_name"] = kwargs.get("model") or self._backend().model_name or "biomedgpt"
        params["ls_max_tokens"] = kwargs.get("max_new_tokens", self.max_new_tokens)
        params["ls_temperature"] = 0.0  # greedy decoding
        return params

    def _backend(self) -> ModelBackend:
        if (
            self.backend is None
        ):  # model_post_init sets it; only a caller's `backend = None` clears it
            raise RuntimeError("ChatBioMedGPT has no backend; pass backend= or model_path=")
        return self.backend

    def _question(self, messages: list[BaseMessage], **kwargs: Any) -> GenerationRequest:
        system, history, question = conversation_from_messages(messages, self.system)
        return GenerationRequest(
            question=question,
            history=list(history),
            system=system,
            max_new_tokens=int(kwargs.get("max_new_tokens", self.max_new_tokens)),
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        backend = self._backend()
        answer = backend.answer([self._question(messages, **kwargs)])[0]
        identity = answered_by(backend, answer)
        text, stopped = _cut_at_stop(answer.text, stop or self.stop)
        message = AIMessage(
            content=text,
            response_metadata={
                "model_name": identity.model_id,
                "model_revision": identity.revision,
                "finish_reason": "stop_sequence" if stopped else "stop",
                "generate_s": round(answer.seconds, 4),
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        backend = self._backend()
        identity = backend.identity()
        stop = stop or self.stop
        pieces = backend.stream(self._question(messages, **kwargs))
        # Hold back as many characters as a stop sequence could span, so none leaks out.
        hold = max((len(marker) for marker in stop or () if marker), default=1) - 1
        received, sent, stopped = "", 0, False
        for piece in pieces:
            received += piece
            text, stopped = _cut_at_stop(received, stop)
            ready = text[sent:] if stopped else text[sent : max(sent, len(text) - hold)]
            if ready:
                sent += len(ready)
                yield self._chunk(ready)
            if stopped:
                close = getattr(pieces, "close", None)
                if close is not None:
                    close()  # stop generating
                break
        if not stopped and received[sent:]:
            yield self._chunk(received[sent:])
        final = AIMessageChunk(
            content="",
            chunk_position="last",
            response_metadata={
                "model_name": identity.model_id,
                "model_revision": identity.revision,
                "finish_reason": "stop_sequence" if stopped else "stop",
            },
        )
        yield ChatGenerationChunk(message=final)

    @staticmethod
    def _chunk(text: str) -> ChatGenerationChunk:
        # BaseChatModel reports each chunk to the callbacks (on_llm_new_token) itself.
        return ChatGenerationChunk(message=AIMessageChunk(content=text))
