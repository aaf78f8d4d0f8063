"""`langgraph dev` serves the assistant from langgraph.json; the langgraph SDK drives it.

The server runs offline (resolvers on the local test server, no LangSmith key, telemetry and
version check off) in a temporary folder holding a copy of langgraph.json and a link to
agents/ (the in-memory runtime keeps its state in ./.langgraph_api, which must not land in
the repository). One server for the module.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from biomedgpt_tools.testing.ports import free_port
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.timeout(300)
ASSISTANT = "biomedgpt_assistant"


def server_environment(resolver_server, home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LANGSMITH_", "LANGCHAIN_"))
        and k
        not in ("BIOMEDGPT_OFFLINE", "BIOMEDGPT_MODEL", "BIOMEDGPT_CHROMA_URL", "BIOMEDGPT_ROUTER")
    }
    env.update(
        {
            "LANGGRAPH_CLI_NO_ANALYTICS": "1",
            "LANGGRAPH_NO_VERSION_CHECK": "true",
            "LANGSMITH_TRACING": "false",
            "BIOMEDGPT_PUBCHEM_URL": resolver_server.pubchem_url,
            "BIOMEDGPT_UNIPROT_URL": resolver_server.uniprot_url,
            "BIOMEDGPT_HOME": str(home),
            "BIOMEDGPT_CACHE_DIR": str(home / "cache"),
        }
    )
    return env


@pytest.fixture(scope="module")
def langgraph_server(resolver_server, tmp_path_factory):
    cli = Path(sys.executable).with_name("langgraph")
    if not cli.is_file():
        pytest.skip("langgraph-cli is not installed: `make setup` installs langgraph-cli[inmem]")
    folder = tmp_path_factory.mktemp("langgraph-dev")
    shutil.copy(REPO_ROOT / "langgraph.json", folder / "langgraph.json")
    (folder / "agents").symlink_to(REPO_ROOT / "agents", target_is_directory=True)
    port = free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [
            str(cli),
            "dev",
            "--no-browser",
            "--no-reload",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=folder,
        env=server_environment(resolver_server, folder / "home"),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"langgraph dev did not start:\n{(folder / 'server.log').read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture
def client(langgraph_server):
    from langgraph_sdk import get_sync_client

    return get_sync_client(url=langgraph_server)


def test_the_server_loads_the_graph_with_its_settings_schema(client):
    assistants = client.assistants.search(graph_id=ASSISTANT)
    assert [a["graph_id"] for a in assistants] == [ASSISTANT]
    schemas = client.assistants.get_schemas(assistants[0]["assistant_id"])
    settings = schemas["context_schema"]["properties"]
    assert {"router", "model", "offline", "max_parallel_tools"} <= set(settings)
    assert set(schemas["input_schema"]["properties"]) == {"question"}


def test_a_thread_answers_pauses_on_ambiguity_resumes_and_keeps_state(client):
    thread = client.threads.create()["thread_id"]
    answered = client.runs.wait(
        thread, ASSISTANT, input={"question": "Compare aspirin and ibuprofen"}
    )
    assert [c["args"]["molecule"] for c in answered["tool_calls"]] == ["aspirin", "ibuprofen"]
    assert [s["cid"] for s in answered["sources"]] == [2244, 3672]
    assert "No BioMedGPT model is configured" in answered["answer"]

    client.runs.wait(thread, ASSISTANT, input={"question": "Describe the molecule alanine."})
    paused = client.threads.get_state(thread)
    assert paused["next"] == ["resolve"]
    interrupt = paused["tasks"][0]["interrupts"][0]["value"]
    assert interrupt["type"] == "ambiguous" and interrupt["query"] == "alanine"
    assert [c["choice"] for c in interrupt["candidates"]] == ["CID 5950", "CID 602", "CID 71080"]

    resumed = client.runs.wait(thread, ASSISTANT, command={"resume": "CID 602"})
    assert [s["cid"] for s in resumed["sources"]] == [602]
    final = client.threads.get_state(thread)
    assert final["next"] == []
    values = final["values"]
    assert [t["question"] for t in values["turns"]] == [
        "Compare aspirin and ibuprofen",
        "Describe the molecule alanine.",
    ]
    assert [f["query"] for f in values["focus"]] == ["CID 602"]  # a later follow-up finds it
    follow_up = client.runs.wait(
        thread, ASSISTANT, input={"question": "What is its molecular weight?"}
    )
    assert [s["cid"] for s in follow_up["sources"]] == [602]


def test_settings_are_chosen_per_run_through_the_context(client, tiny_model_dir):
    offline = client.runs.wait(
        None,
        ASSISTANT,
        input={"question": "Describe the molecule naproxen."},
        context={"offline": True},
    )
    assert (
        "could not answer" in offline["answer"] and offline["sources"] == []
    )  # not in the snapshot
    online = client.runs.wait(
        None, ASSISTANT, input={"question": "Describe the molecule naproxen."}
    )
    assert [s["cid"] for s in online["sources"]] == [156391]

    modelled = client.runs.wait(
        None,
        ASSISTANT,
        input={"question": "What does P04637 do?"},
        context={"model": str(tiny_model_dir)},
    )
    assert [s["type"] for s in modelled["sources"]] == ["model", "uniprot"]
    assert "No BioMedGPT model is configured" not in modelled["answer"]
