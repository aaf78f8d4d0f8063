"""`biomedgpt mcp [--transport stdio|streamable-http] [--host H] [--port P] [--tools ...]`.

Serves the tools, resolvers and memory to MCP clients (docs/mcp.md). Settings come from the
environment, as for the toolkit (BIOMEDGPT_MODEL, BIOMEDGPT_OFFLINE, BIOMEDGPT_HOME, ...);
with no model configured the tools still resolve and recall, and say that no model answered.
Over stdio, stdout carries the protocol only: everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import sys

from biomedgpt_tools.mcp_server.tool_names import TOOL_NAMES  # no MCP SDK import


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:  # `--tools ","` must not mean "every tool"
        raise argparse.ArgumentTypeError(
            f"{text!r} names no tool; give comma-separated names from {', '.join(TOOL_NAMES)}"
        )
    return names


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "mcp",
        help="serve the tools to MCP clients (Claude Desktop, IDE agents, ...)",
        description="Serve molecule_qa, protein_qa, biomed_qa, resolve_molecule, "
        "resolve_protein and search_memory over the Model Context Protocol. Settings come "
        "from the environment like the toolkit's (BIOMEDGPT_MODEL, BIOMEDGPT_OFFLINE, "
        "BIOMEDGPT_HOME, ...).",
    )
    parser.add_argument(
        "--transport",
        choices=("stdio", "streamable-http"),
        default="stdio",
        help="stdio (default: the client starts this command) or streamable-http (a server "
        "at http://HOST:PORT/mcp)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="streamable-http: address to bind (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="streamable-http: port (default 8000)"
    )
    parser.add_argument(
        "--tools",
        type=_names,
        default=None,
        metavar="NAMES",
        help=f"comma-separated tools to expose (default all: {', '.join(TOOL_NAMES)})",
    )
    parser.add_argument(
        "--exclude-tools",
        type=_names,
        default=None,
        metavar="NAMES",
        help="comma-separated tools to leave out",
    )
    parser.set_defaults(handler=run_mcp)


def run_mcp(args: argparse.Namespace) -> int:
    from biomedgpt_tools.cli import CommandError

    if not 0 < args.port < 65536:
        raise CommandError(f"--port {args.port} is not a TCP port (1-65535)")
    try:
        from biomedgpt_tools.mcp_server import build_server, run_server
    except ImportError as error:
        raise CommandError(
            f"the MCP server needs the `mcp` extra ({error.name or error} is missing): "
            "pip install 'biomedgpt-tools[mcp]'"
        ) from error
    if args.transport == "streamable-http" and not _is_loopback(args.host):
        print(
            f"biomedgpt mcp: warning: --host {args.host} is not a loopback address: anyone who "
            "can reach it can call the tools (no authentication), using this machine's model and "
            "its PubChem/UniProt budget; bind 127.0.0.1 unless a proxy guards it",
            file=sys.stderr,
        )
    try:
        server = build_server(tools=args.tools, exclude_tools=args.exclude_tools)
    except ValueError as error:
        raise CommandError(str(error)) from error
    try:
        run_server(server, args.transport, host=args.host, port=args.port)
    except KeyboardInterrupt:  # Ctrl-C is how a server is stopped: a clean exit, not an error
        print("biomedgpt mcp: stopped", file=sys.stderr)
    except OSError as error:  # e.g. the port is taken
        raise CommandError(f"cannot serve on {args.host}:{args.port}: {error}", 1) from error
    return 0
