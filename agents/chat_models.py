"""The chat model behind `--router llm`, from a string: `provider:model` or `MODULE:ATTR`.

`provider:model` (`openai:gpt-4o-mini`, `ollama:llama3.1`, `anthropic:claude-...`) goes to
LangChain's `init_chat_model`, as the react-agent template does; `base_url` points it at an
OpenAI-compatible local server (`openai:NAME` + `http://127.0.0.1:8000/v1`). `MODULE:ATTR`
names a chat model object, a chat model class, or a zero-argument factory of one (a module
path has a dot or is not a LangChain provider name). Every failure is a ChatModelLoadError
with one line that names the target and the way out, never a traceback.
"""

from __future__ import annotations

import importlib
import threading
from collections import OrderedDict
from typing import Any

CACHED_CONTEXT_MODELS = 8  # chat models built from context strings, kept for the next question
_context_models: OrderedDict[tuple[str, str | None], Any] = OrderedDict()
_context_models_lock = threading.Lock()

# LangChain's provider names (init_chat_model's registry, read at call time when present)
_FALLBACK_PROVIDERS = frozenset({
    "anthropic", "azure_openai", "bedrock", "bedrock_converse", "cohere", "deepseek",
    "fireworks", "google_genai", "google_vertexai", "groq", "huggingface", "ibm", "litellm",
    "mistralai", "nvidia", "ollama", "openai", "openrouter", "perplexity", "together", "xai",
})  # fmt: skip


class ChatModelLoadError(ValueError):
    """A --chat-model string that does not give a usable chat model; the message is one line."""


def langchain_providers() -> frozenset[str]:
    try:
        from langchain.chat_models.base import _BUILTIN_PROVIDERS  # the installed registry
    except ImportError:
        return _FALLBACK_PROVIDERS
    return frozenset(_BUILTIN_PROVIDERS) | _FALLBACK_PROVIDERS


def is_provider_string(spec: str) -> bool:
    prefix = spec.partition(":")[0].strip().replace("-", "_").lower()
    return prefix in langchain_providers() and "." not in spec.partition(":")[0]


def load_chat_model(spec: str, *, base_url: str | None = None) -> Any:
    """A tool-calling LangChain chat model for `spec` (see the module docstring)."""
    spec = (spec or "").strip()
    if ":" not in spec or not spec.partition(":")[0] or not spec.partition(":")[2]:
        raise ChatModelLoadError(
            f"--chat-model {spec!r}: expected provider:model (e.g. openai:gpt-4o-mini) or "
            "MODULE:ATTRIBUTE (e.g. mypkg.models:make_chat_model)"
        )
    if is_provider_string(spec):
        return _from_provider(spec, base_url)
    if base_url:
        raise ChatModelLoadError(
            f"--base-url applies to provider:model strings (e.g. openai:NAME), not to {spec!r}"
        )
    return _from_target(spec)


def _from_provider(spec: str, base_url: str | None) -> Any:
    import langchain.chat_models as chat_models

    options = {"base_url": base_url} if base_url else {}
    try:
        model = chat_models.init_chat_model(spec, **options)
    except (
        ImportError
    ) as error:  # "Initializing ChatOpenAI requires the langchain-openai package..."
        raise ChatModelLoadError(f"--chat-model {spec!r}: {_one_line(error)}") from None
    except Exception as error:  # noqa: BLE001 - a provider's constructor: missing key, bad option
        raise ChatModelLoadError(
            f"--chat-model {spec!r} could not be created: {type(error).__name__}: {_one_line(error)}"
        ) from None
    return _checked(model, spec)


def _from_target(spec: str) -> Any:
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - ImportError, or the module itself raising
        raise ChatModelLoadError(
            f"--chat-model {spec!r}: module {module_name!r} cannot be imported "
            f"({type(error).__name__}: {_one_line(error)})"
        ) from None
    try:
        target = module
        for part in attribute.split("."):
            target = getattr(target, part)
    except AttributeError:
        raise ChatModelLoadError(
            f"--chat-model {spec!r}: module {module_name!r} has no attribute {attribute!r}"
        ) from None
    if not _is_chat_model(target) or isinstance(target, type):
        if not callable(target):
            raise ChatModelLoadError(
                f"--chat-model {spec!r} is a {type(target).__name__}, neither a chat model nor a "
                "factory of one (a class or a function taking no arguments)"
            )
        try:
            target = target()
        except Exception as error:  # noqa: BLE001 - user code
            raise ChatModelLoadError(
                f"--chat-model {spec!r}: calling it failed ({type(error).__name__}: {_one_line(error)})"
            ) from None
    return _checked(target, spec)


def _is_chat_model(value: Any) -> bool:
    return callable(getattr(value, "bind_tools", None)) and hasattr(value, "invoke")


def _checked(model: Any, spec: str) -> Any:
    if not _is_chat_model(model) or isinstance(model, type):
        raise ChatModelLoadError(
            f"--chat-model {spec!r} gave a {type(model).__name__}, not a chat model with tool "
            "calling (it needs bind_tools and invoke, as LangChain chat models have)"
        )
    return model


def resolve_chat_model(value: Any, base_url: str | None = None) -> Any:
    """The assistant context's `chat_model`: a model object as is, a string loaded.

    A run's context comes from whoever calls the graph (a LangGraph API client, Studio), so a
    string there may only be `provider:model` (MODULE:ATTR would import and call any code),
    and its base URL only a loopback server (a remote one would receive the server's API key).
    A string is loaded once and its model reused by the next questions (the routing node asks
    for it on every question).
    """
    if not isinstance(value, str):
        return value
    spec = value.strip()
    if not is_provider_string(spec):
        raise ChatModelLoadError(
            f"chat_model {spec!r} in a run's context must be provider:model (e.g. "
            "openai:gpt-4o-mini); MODULE:ATTR is accepted only by --chat-model on the command line"
        )
    if base_url and not _is_loopback_url(base_url):
        raise ChatModelLoadError(
            f"chat_model_base_url {base_url!r} in a run's context must be a loopback server "
            "(127.0.0.1, localhost or [::1]): a remote one would receive this server's API key"
        )
    key = (spec, base_url or None)
    with _context_models_lock:  # one model per string, not one per question (a client, a pool)
        if key in _context_models:
            _context_models.move_to_end(key)
            return _context_models[key]
    model = load_chat_model(spec, base_url=base_url)  # errors are not kept: a fix takes effect
    with _context_models_lock:
        model = _context_models.setdefault(key, model)
        while len(_context_models) > CACHED_CONTEXT_MODELS:
            _context_models.popitem(last=False)
    return model


def _is_loopback_url(url: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:300] + ("..." if len(text) > 300 else "") if text else type(error).__name__
