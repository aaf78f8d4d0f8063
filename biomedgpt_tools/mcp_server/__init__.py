"""BioMedGPT's tools, resolvers and memory over the Model Context Protocol (`biomedgpt mcp`).

Built on the official Python SDK (`mcp` 2.x, `MCPServer`); needs the `mcp` extra. The package
is named `mcp_server` so it never shadows the SDK's `mcp`. See docs/mcp.md. Names are exported
lazily: `tool_names` must import without the SDK.
"""

from __future__ import annotations

from biomedgpt_tools.lazy_exports import lazy_export

_EXPORTS = {
    "TOOL_NAMES": "tool_names",
    "TRANSPORTS": "server",
    "build_server": "server",
    "run_server": "server",
    "select_tools": "server",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    return lazy_export(__name__, _EXPORTS, name)
