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

_TOOLKITS: dict[str, Any] = {}
_TOOLKITS_LOCK = threading.Lock()


def default_router() -> RouterKind:
    """BIOMEDGPT_ROUTER ("rules" or "llm"); rules when unset or unknown."""
    value = os.environ.get("BIOMEDGPT_ROUTER", "rules").strip().lower()
    return "llm" if value == "llm" else "rules"


def shared_toolkit():
    """One BioMedGPTToolkit per environment (model folder, home, endpoints), built on first use.

    Loading a model is the slow part of a turn; keeping the toolkit per process means the
    second question of a chat does not load the weights again.
    """
    from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit

    keys = ("BIOMEDGPT_MODEL", "BIOMEDGPT_HOME", "BIOMEDGPT_OFFLINE", "BIOMEDGPT_PUBCHEM_URL",
            "BIOMEDGPT_UNIPROT_URL", "BIOMEDGPT_CHROMA_URL", "BIOMEDGPT_MEMORY", "BIOMEDGPT_CACHE_DIR")
    signature = "|".join(os.environ.get(key, "") for key in keys)
    with _TOOLKITS_LOCK:
        toolkit = _TOOLKITS.get(signature)
        if toolkit is None:
            toolkit = _TOOLKITS[signature] = BioMedGPTToolkit.from_env()
        return toolkit


@dataclass
class AssistantContext:
    """What a caller may choose per run (`graph.invoke(..., context=AssistantContext(...))`)."""

    router: RouterKind = field(
        default_factory=default_router,
        metadata={"description": "rules: deterministic, no LLM; llm: `chat_model` picks the tools, "
                  "the rules take over when it fails or is absent"},
    )
    chat_model: Any = field(
        default=None,
        metadata={"description": "any LangChain chat model with tool calling (bind_tools), for router='llm'"},
    )
    toolkit: Any = field(
        default=None,
        metadata={"description": "a BioMedGPTToolkit; None: one built from the environment (from_env)"},
    )
    max_parallel_tools: int = field(
        default=4, metadata={"description": "tool calls of one turn run at most this many at a time"}
    )
    recall_limit: int = field(
        default=3, metadata={"description": "earlier stored answers shown per entity"}
    )

    def resolved_toolkit(self):
        return self.toolkit if self.toolkit is not None else shared_toolkit()
