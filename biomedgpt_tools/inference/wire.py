"""The chat-completions wire format between `RemoteBackend` and `biomedgpt serve`, both ways.

OpenAI's shape, so the openai client and ChatOpenAI work unchanged, plus two kinds of content
part for BioMedGPT's structures:

    {"role": "user", "content": [{"type": "molecule", "smiles": "CCO"},
                                 {"type": "protein", "sequence": "MKT..."},
                                 {"type": "text", "text": "Does it bind?"}]}

Structures keep their order (the order of their soft tokens in the prompt); the text parts of
a message, joined by a space, are its question. A system message replaces the released
model's system text; without one the server uses it. `assistant` messages are the answers of
earlier turns. Decoding is greedy unless `temperature` > 0 (BioMedGPT's reference decodes
greedily, so 0 is the default here, unlike OpenAI's 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from biomedgpt_tools.model.prompt import (
    SYSTEM_TEXT,
    Conversation,
    ModalInput,
    Molecule,
    Protein,
    Turn,
)
from biomedgpt_tools.model.requests import GenerationRequest

DEFAULT_MAX_TOKENS = 255  # the reference's max_new_tokens
PART_TYPES = ("text", "molecule", "protein")


class WireError(ValueError):
    """A request the server cannot read; `param` names the offending field (OpenAI's error shape)."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class ChatRequest:
    """What the server takes from one chat-completions body."""

    conversation: Conversation
    max_tokens: int
    temperature: float
    top_p: float
    seed: int | None
    stream: bool
    include_usage: bool
    model: str | None


# -- client side ----------------------------------------------------------------------------------
def user_content(question: str, inputs: Sequence[ModalInput]) -> str | list:
    """A user message's content: plain text, or the structures' parts and then the text."""
    if not inputs:
        return question
    parts: list[dict] = [
        {"type": "molecule", "smiles": item.smiles}
        if isinstance(item, Molecule)
        else {"type": "protein", "sequence": item.sequence}
        for item in inputs
    ]
    return parts + [{"type": "text", "text": question}]


def chat_request_body(question: GenerationRequest, *, stream: bool = False) -> dict:
    """The chat-completions body asking `question` greedily."""
    messages: list[dict] = []
    if question.system is not None:
        messages.append({"role": "system", "content": question.system})
    for turn in question.history:
        messages.append({"role": "user", "content": user_content(turn.question, turn.inputs)})
        messages.append({"role": "assistant", "content": turn.answer or ""})
    messages.append({"role": "user", "content": user_content(question.question, question.inputs)})
    body: dict = {
        "model": "biomedgpt",
        "messages": messages,
        "max_tokens": question.max_new_tokens or DEFAULT_MAX_TOKENS,
        "temperature": 0,
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


# -- server side ----------------------------------------------------------------------------------
def parse_chat_request(body: object) -> ChatRequest:
    """The conversation and decoding settings of a chat-completions body; WireError when unreadable."""
    if not isinstance(body, Mapping):
        raise WireError(f"the request body must be a JSON object, not {type(body).__name__}")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise WireError("'messages' must be a non-empty list of {role, content}", "messages")
    system: str | None = None
    turns: list[Turn] = []
    for index, message in enumerate(messages):
        param = f"messages[{index}]"
        if not isinstance(message, Mapping):
            raise WireError(f"{param} must be an object with 'role' and 'content'", param)
        role = message.get("role")
        if role in ("system", "developer"):
            if turns:
                raise WireError(f"{param}: a system message must come before the others", param)
            text = _text_only(message.get("content"), param)
            system = text if system is None else system + text
        elif role == "user":
            if turns and turns[-1].answer is None:
                raise WireError(
                    f"{param}: two user messages in a row; join them into one, or put the "
                    "assistant's answer between them",
                    param,
                )
            question, inputs = _user_content(message.get("content"), param)
            turns.append(Turn(question=question, inputs=inputs))
        elif role == "assistant":
            if not turns or turns[-1].answer is not None:
                raise WireError(f"{param}: an assistant message must answer a user message", param)
            turns[-1].answer = _text_only(message.get("content"), param)
        else:
            raise WireError(
                f"{param}: unknown role {role!r}; use system, user or assistant", f"{param}.role"
            )
    if not turns or turns[-1].answer is not None:
        raise WireError("the last message must be a user message: BioMedGPT answers it", "messages")
    if body.get("n", 1) != 1:
        raise WireError("only n=1 is supported", "n")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise WireError("'stream' must be true or false", "stream")
    options = body.get("stream_options") or {}
    if not isinstance(options, Mapping):
        raise WireError("'stream_options' must be an object", "stream_options")
    model = body.get("model")
    return ChatRequest(
        conversation=Conversation(turns=turns, system=SYSTEM_TEXT if system is None else system),
        max_tokens=_max_tokens(body),
        temperature=_number(body, "temperature", 0.0, low=0.0, high=2.0),
        top_p=_number(body, "top_p", 1.0, low=0.0, high=1.0, low_open=True),
        seed=_seed(body),
        stream=stream,
        include_usage=bool(options.get("include_usage", False)),
        model=model if isinstance(model, str) else None,
    )


def _user_content(content: object, param: str) -> tuple[str, list[ModalInput]]:
    if isinstance(content, str):
        return _question(content, param), []
    if not isinstance(content, list):
        raise WireError(f"{param}.content must be a string or a list of parts", f"{param}.content")
    texts: list[str] = []
    inputs: list[ModalInput] = []
    for index, part in enumerate(content):
        where = f"{param}.content[{index}]"
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            texts.append(_string(part, "text", where))
        elif kind == "molecule":
            inputs.append(Molecule(_string(part, "smiles", where)))
        elif kind == "protein":
            inputs.append(Protein(_string(part, "sequence", where)))
        else:
            raise WireError(
                f"{where}: unknown content part type {kind!r}; use one of {', '.join(PART_TYPES)}",
                f"{where}.type",
            )
    return _question(" ".join(texts), param), inputs


def _text_only(content: object, param: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for index, part in enumerate(content):
            where = f"{param}.content[{index}]"
            if not isinstance(part, Mapping) or part.get("type") != "text":
                kind = part.get("type") if isinstance(part, Mapping) else type(part).__name__
                raise WireError(
                    f"{where}: only text parts are allowed here, not {kind!r}; attach molecules "
                    "and proteins to user messages",
                    f"{where}.type",
                )
            texts.append(_string(part, "text", where))
        return " ".join(texts)
    raise WireError(f"{param}.content must be a string or a list of text parts", f"{param}.content")


def _question(text: str, param: str) -> str:
    if not text.strip():
        raise WireError(f"{param} has no question text; add a text part", f"{param}.content")
    return text


def _string(part: Mapping, key: str, where: str) -> str:
    value = part.get(key)
    if not isinstance(value, str) or not value.strip():
        raise WireError(f"{where}: '{key}' must be a non-empty string", f"{where}.{key}")
    return value


def _max_tokens(body: Mapping) -> int:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise WireError(f"'{key}' must be a positive integer, not {value!r}", key)
        return value
    return DEFAULT_MAX_TOKENS


def _number(
    body: Mapping, key: str, default: float, *, low: float, high: float, low_open: bool = False
) -> float:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WireError(f"'{key}' must be a number, not {value!r}", key)
    if value > high or value < low or (low_open and value == low):
        bound = "(" if low_open else "["
        raise WireError(f"'{key}' must be in {bound}{low}, {high}], not {value!r}", key)
    return float(value)


def _seed(body: Mapping) -> int | None:
    value = body.get("seed")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise WireError(f"'seed' must be an integer, not {value!r}", "seed")
    return value
