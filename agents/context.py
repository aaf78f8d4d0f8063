"""Settings of one assistant run: which router, which chat model, which toolkit.

LangGraph passes this dataclass to every node as `runtime.context` (the graph's
`context_schema`), so one compiled graph serves callers with different settings. Every
field has a default: `python -m agents ask` and LangGraph Studio run it with none given.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

RouterKind = Literal["rules", "llm"]


def default_router() -> RouterKind:
    """BIOMEDGPT_ROUTER ("rules" or "llm"); rules when unset. A typo is an error, not "rules"."""
    from biomedgpt_tools.environment import SettingsError

    raw = os.environ.get("BIOMEDGPT_ROUTER", "").strip()
    if not raw:
        return "rules"
    if raw.lower() not in ("rules", "llm"):
        raise SettingsError(
            f"BIOMEDGPT_ROUTER={raw!r} is not a value it takes: use rules or llm (or unset it)"
        )
    return "llm" if raw.lower() == "llm" else "rules"


def shared_toolkit():
    """A toolkit on the process-wide services for the current environment (`shared_services`).

    Loading a model is the slow part of a turn; sharing the library's one set of services per
    settings means the second question of a chat does not load the weights again, and tools
    the caller built on their own (`MoleculeQA()`) use the same model.
    """
    from biomedgpt_tools.services.shared import shared_services
    from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit

    return BioMedGPTToolkit(services=shared_services())


_RUN_TOOLKITS: dict[Any, Any] = {}
_RUN_TOOLKITS_LOCK = threading.Lock()
_MAX_RUN_TOOLKITS = 8
NO_MODEL = "none"


def toolkit_for_run(model: str | None, offline: bool | None):
    """The toolkit for a run's JSON settings (LangGraph server, Studio): one per distinct
    settings, kept for the process, so a second run does not load the weights again.

    `model`: a model folder, or "none" for no model; None keeps the environment's. `offline`:
    True answers from the bundled snapshot; None keeps BIOMEDGPT_OFFLINE.
    """
    from biomedgpt_tools.resolvers.settings import ResolverSettings
    from biomedgpt_tools.services.settings import ToolkitSettings
    from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit

    overrides: dict[str, Any] = {}
    if model is not None and model.strip().lower() == NO_MODEL:
        overrides["backend"] = "none"
    elif model is not None:
        overrides["model_path"] = model
        overrides["server_url"] = ""  # a folder named for the run wins over BIOMEDGPT_SERVER_URL
    if offline is not None:
        overrides["resolver"] = ResolverSettings.from_env().with_changes(offline=bool(offline))
    settings = ToolkitSettings.from_env(**overrides)
    with _RUN_TOOLKITS_LOCK:
        toolkit = _RUN_TOOLKITS.get(settings)
        if toolkit is None:
            if len(_RUN_TOOLKITS) >= _MAX_RUN_TOOLKITS:
                _RUN_TOOLKITS.pop(
                    next(iter(_RUN_TOOLKITS))
                )  # the oldest; runs using it keep it alive
            toolkit = _RUN_TOOLKITS[settings] = BioMedGPTToolkit(settings=settings)
        return toolkit


@dataclass
class AssistantContext:
    """What a caller may choose per run (`graph.invoke(..., context=AssistantContext(...))`)."""

    router: RouterKind = field(
        default_factory=default_router,
        metadata={
            "description": "rules: deterministic, no LLM; llm: `chat_model` picks the tools, "
            "the rules take over when it fails or is absent"
        },
    )
    chat_model: Any = field(
        default=None,
        metadata={
            "description": "any LangChain chat model with tool calling (bind_tools), for router='llm'; "
            "or a string: 'provider:model' for LangChain's init_chat_model (e.g. 'openai:gpt-4o-mini'), "
            "or 'MODULE:ATTR' naming a chat model or a factory of one"
        },
    )
    chat_model_base_url: str | None = field(
        default=None,
        metadata={
            "description": "with a 'provider:model' chat_model, an OpenAI-compatible server URL "
            "(e.g. http://127.0.0.1:8000/v1) instead of the provider's own"
        },
    )
    toolkit: Any = field(
        default=None,
        metadata={
            "description": "a BioMedGPTToolkit; None: one built from the environment (from_env) "
            "and `model` / `offline`"
        },
    )
    model: str | None = field(
        default=None,
        metadata={
            "description": "model folder for this run ('none': no model); default BIOMEDGPT_MODEL"
        },
    )
    offline: bool | None = field(
        default=None,
        metadata={
            "description": "true: resolve from the bundled PubChem/UniProt snapshot; default BIOMEDGPT_OFFLINE"
        },
    )
    max_parallel_tools: int = field(
        default=4,
        metadata={"description": "tool calls of one turn run at most this many at a time"},
    )
    recall_limit: int = field(
        default=3, metadata={"description": "earlier stored answers shown per entity"}
    )

    def resolved_toolkit(self):
        if self.toolkit is not None:
            return self.toolkit
        if self.model is not None or self.offline is not None:
            return toolkit_for_run(self.model, self.offline)
        return shared_toolkit()
