"""BioMedGPT's tools, resolvers and memory over the Model Context Protocol (`biomedgpt mcp`).

Built on the official Python SDK (`mcp` 2.x, `MCPServer`); needs the `mcp` extra. The package
is named `mcp_server` so it never shadows the SDK's `mcp`. See docs/mcp.md.
"""

from biomedgpt_tools.mcp_server.server import TRANSPORTS, build_server, run_server, select_tools
from biomedgpt_tools.mcp_server.tools import TOOL_NAMES

__all__ = ["TOOL_NAMES", "TRANSPORTS", "build_server", "run_server", "select_tools"]
