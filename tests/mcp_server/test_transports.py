"""`biomedgpt mcp` as a real process: over stdio (the SDK's stdio client) and streamable HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import psutil
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from biomedgpt_tools.testing.ports import free_port as _free_port
from tests.mcp_server.conftest import text_of

SERVER_COMMAND = [sys.executable, "-m", "biomedgpt_tools", "mcp"]


def _server_children() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if "biomedgpt_tools" in " ".join(child.cmdline()) and "mcp" in child.cmdline()
    ]


async def test_stdio_subprocess_lists_calls_and_shuts_down_cleanly(resolver_env, tmp_path):
    parameters = StdioServerParameters(
        command=SERVER_COMMAND[0], args=SERVER_COMMAND[1:], env=dict(os.environ)
    )
    errors = tmp_path / "server-stderr.txt"
    with errors.open("w") as errlog:
        async with Client(stdio_client(parameters, errlog=errlog)) as client:
            (server_process,) = _server_children()
            names = [tool.name for tool in (await client.list_tools()).tools]
            assert "molecule_qa" in names and len(names) == 6
            result = await client.call_tool("molecule_qa", {"molecule": "caffeine"})
            assert not result.is_error, text_of(result)
            assert result.structured_content["entity"]["cid"] == 2519
            assert "No model answered" in text_of(result)  # no BIOMEDGPT_MODEL: says so
    assert not server_process.is_running() or server_process.status() == psutil.STATUS_ZOMBIE
    assert "Traceback" not in errors.read_text()


def test_stdio_server_exits_cleanly_at_end_of_input(resolver_env):
    # what the SDK's client relies on before its grace period ends and it kills the server:
    # closing stdin is a clean shutdown, exit status 0 (a signal would give a negative status)
    server = subprocess.Popen(
        SERVER_COMMAND,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    _, stderr = server.communicate(input=b"", timeout=120)  # the timeout only guards a hang
    assert server.returncode == 0, stderr.decode(errors="replace")
    assert b"Traceback" not in stderr


def _wait_for_port(port: int, process: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited before listening"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listened on port {port} within {timeout_s} s")


async def test_streamable_http_on_a_loopback_port(resolver_env, tmp_path):
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [
            *SERVER_COMMAND,
            "--transport",
            "streamable-http",
            "--port",
            str(port),
            "--tools",
            "resolve_protein,search_memory",
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, process)
        listening = [
            c.laddr
            for c in psutil.Process(process.pid).net_connections("tcp")
            if c.status == psutil.CONN_LISTEN
        ]
        assert [address.ip for address in listening] == ["127.0.0.1"]  # loopback by default
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            names = sorted(tool.name for tool in (await client.list_tools()).tools)
            assert names == ["resolve_protein", "search_memory"]
            result = await client.call_tool("resolve_protein", {"protein": "P04637"})
            assert not result.is_error, text_of(result)
            assert result.structured_content["protein"]["accession"] == "P04637"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    assert "Traceback" not in (tmp_path / "server.log").read_text()


def test_cli_refuses_unknown_tools_and_bad_ports(capsys):
    from biomedgpt_tools.cli import main

    assert main(["mcp", "--tools", "molecule_qa,fetch_everything"]) == 2
    assert "unknown tool(s): fetch_everything" in capsys.readouterr().err
    assert main(["mcp", "--tools", "search_memory", "--exclude-tools", "search_memory"]) == 2
    assert "no tool left" in capsys.readouterr().err
    assert main(["mcp", "--transport", "streamable-http", "--port", "70000"]) == 2
    assert "not a TCP port" in capsys.readouterr().err


def test_mcp_help_lists_every_tool_without_importing_the_sdk():
    """`biomedgpt mcp --help` names every tool (test_in_process checks the server serves exactly
    TOOL_NAMES) and imports no `mcp` SDK module, so it works without the extra."""
    from biomedgpt_tools.mcp_server.tool_names import TOOL_NAMES

    probe = (
        "import contextlib, io, sys\n"
        "from biomedgpt_tools.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    main(['mcp', '--help'])\n"
        "print(' '.join(out.getvalue().split()))\n"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    help_text, sdk_modules = done.stdout.strip().splitlines()
    assert sdk_modules == "[]"
    assert all(name in help_text for name in TOOL_NAMES), help_text
