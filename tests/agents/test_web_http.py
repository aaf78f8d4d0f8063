"""The web page's server over plain HTTP: routes, SSE framing, errors (no model, no browser)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from agents.graph import STEPS
from agents.web.app import CONTENT_SECURITY_POLICY
from biomedgpt_tools.testing.resolver_server import Fault
from tests.agents.web_support import page_server, parse_sse
from tests.conftest import REPO_ROOT
from tests.scripted_decoding import ANSWER_OF_TWO_MORE_MARKERS, script_decoding


@pytest.fixture(scope="module")
def page(resolver_server, tmp_path_factory):
    with page_server(resolver_server, tmp_path_factory.mktemp("web-http")) as server:
        yield server


@pytest.fixture
def client(page):
    with httpx.Client(base_url=page.url, timeout=60) as client:
        yield client


def new_thread(client) -> str:
    response = client.post("/api/threads", json={})
    assert response.status_code == 201
    return response.json()["id"]


def turn(client, thread: str, verb: str, body: dict) -> list[tuple[str, dict]]:
    response = client.post(f"/api/threads/{thread}/{verb}", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    return parse_sse(response.text)


def only(frames, name: str) -> dict:
    found = [data for event, data in frames if event == name]
    assert len(found) == 1, (name, frames)
    return found[0]


def test_page_has_csp_and_loads_nothing_from_elsewhere(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert (
        "script-src 'self'" in CONTENT_SECURITY_POLICY
        and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    html = response.text
    assert 'src="/static/app.js"' in html and 'href="/static/app.css"' in html
    assert "http://" not in html and "https://" not in html  # no CDN
    assert '<label for="question">' in html and 'role="log"' in html
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "innerHTML" not in script.text and "insertAdjacentHTML" not in script.text
    assert client.get("/static/app.css").status_code == 200


def test_status_says_plainly_that_no_model_answers(client):
    status = client.get("/api/status").json()
    assert status["has_model"] is False and status["model"].startswith("No model")
    assert status["resolvers"] == "PubChem and UniProt" and status["memory"] == "on"


def test_depiction_is_an_svg_and_bad_smiles_a_readable_400(client):
    svg = client.get("/depict.svg", params={"smiles": "CC(=O)Oc1ccccc1C(=O)O"})
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in svg.text and "<script" not in svg.text
    assert svg.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    bad = client.get("/depict.svg", params={"smiles": "C1CC(("})
    assert bad.status_code == 400 and "cannot read the SMILES" in bad.json()["error"]
    assert client.get("/depict.svg").status_code == 400


def test_a_question_streams_every_step_then_the_answer_in_sse_frames(client):
    thread = new_thread(client)
    frames = turn(client, thread, "ask", {"question": "Compare aspirin and ibuprofen"})
    events = [event for event, _ in frames]
    assert events[0] == "thread" and frames[0][1] == {"id": thread}
    assert events[-2:] == ["answer", "done"]
    done_steps = [
        data["name"] for event, data in frames if event == "step" and data["status"] == "done"
    ]
    assert [s for s in STEPS if s in done_steps] == list(STEPS)
    assert any(
        "MoleculeQA" in data["detail"]
        for event, data in frames
        if event == "step" and data["name"] == "route"
    )
    cards = only(frames, "cards")["cards"]
    assert [(c["kind"], c["cid"]) for c in cards] == [("molecule", 2244), ("molecule", 3672)]
    aspirin = cards[0]
    assert aspirin["name"] == "Aspirin" and aspirin["formula"] == "C9H8O4"
    assert aspirin["inchikey"] == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"
    assert aspirin["url"] == "https://pubchem.ncbi.nlm.nih.gov/compound/2244"
    assert client.get(aspirin["depiction"]).headers["content-type"].startswith("image/svg+xml")
    answer = only(frames, "answer")
    assert "Sources:" not in answer["text"] and "No BioMedGPT model is configured" in answer["text"]
    assert [s["url"] for s in answer["sources"]] == [
        "https://pubchem.ncbi.nlm.nih.gov/compound/2244",
        "https://pubchem.ncbi.nlm.nih.gov/compound/3672",
    ]

    listed = client.get("/api/threads").json()["threads"]
    assert {"id": thread, "title": "Compare aspirin and ibuprofen", "turns": 1} in listed
    history = client.get(f"/api/threads/{thread}").json()
    assert [t["question"] for t in history["turns"]] == ["Compare aspirin and ibuprofen"]
    assert history["last"]["cards"] == cards and history["interrupt"] is None


def test_ambiguous_name_pauses_with_candidate_cards_and_resumes(client):
    thread = new_thread(client)
    frames = turn(client, thread, "ask", {"question": "Describe the molecule alanine."})
    paused = only(frames, "interrupt")
    assert [c["choice"] for c in paused["choices"]] == ["CID 5950", "CID 602", "CID 71080"]
    assert all(
        c["card"]["depiction"] and c["card"]["formula"] == "C3H7NO2" for c in paused["choices"]
    )
    assert "answer" not in [event for event, _ in frames]
    assert client.get(f"/api/threads/{thread}").json()["interrupt"]["query"] == "alanine"

    refused = turn(client, thread, "ask", {"question": "Describe aspirin"})  # still waiting
    assert "waits for a choice" in only(refused, "error")["message"]
    wrong = turn(client, thread, "resume", {"choice": "CID 2244"})
    assert "not one of the candidates" in only(wrong, "error")["message"]

    frames = turn(client, thread, "resume", {"choice": 2})
    answer = only(frames, "answer")
    assert [c["cid"] for c in answer["cards"]] == [602]
    assert [s["url"] for s in answer["sources"]] == [
        "https://pubchem.ncbi.nlm.nih.gov/compound/602"
    ]
    again = turn(client, thread, "resume", {"choice": 1})
    assert "not waiting for a choice" in only(again, "error")["message"]


def test_unknown_compound_and_service_down_are_readable_messages(client, page, resolver_server):
    thread = new_thread(client)
    frames = turn(client, thread, "ask", {"question": "Describe the molecule zorblaxium."})
    card = only(frames, "cards")["cards"][0]
    assert card["kind"] == "error" and "zorblaxium" in card["message"]
    assert "could not answer" in only(frames, "answer")["text"]

    # naproxen is not in the bundled snapshot: with PubChem down there is no answer to fall back on
    resolver_server.inject(
        "pubchem", *[Fault.status(503)] * 4
    )  # 2 attempts: resolve step, then tool
    frames = turn(
        client, new_thread(client), "ask", {"question": "Describe the molecule naproxen."}
    )
    assert resolver_server.pending_faults("pubchem") == 0
    card = only(frames, "cards")["cards"][0]
    assert (
        card["kind"] == "error"
        and "HTTP 503" in card["message"]
        and "try again later" in card["message"]
    )
    text = only(frames, "answer")["text"]
    assert text.startswith("MoleculeQA: could not answer.") and "cannot be used now" in text
    assert "Traceback" not in text


def test_empty_question_is_an_error_event(client):
    frames = turn(client, new_thread(client), "ask", {"question": "   "})
    assert [event for event, _ in frames] == ["thread", "error", "done"]
    assert "empty" in frames[1][1]["message"]


@pytest.mark.parametrize(
    ("request_kwargs", "status", "message"),
    [
        (
            {
                "content": "question=hi",
                "headers": {"content-type": "application/x-www-form-urlencoded"},
            },
            415,
            "JSON",
        ),
        (
            {"content": "{not json", "headers": {"content-type": "application/json"}},
            400,
            "not valid JSON",
        ),
        ({"json": ["a list"]}, 400, "JSON object"),
        ({"json": {"question": 42}}, 400, "question"),
        ({"json": {"question": "x" * 5000}}, 413, "at most"),
        (
            {"json": {"question": "hi"}, "headers": {"origin": "https://evil.example"}},
            403,
            "other sites",
        ),
    ],
)
def test_bad_requests_get_readable_json_errors(client, request_kwargs, status, message):
    response = client.post(f"/api/threads/{new_thread(client)}/ask", **request_kwargs)
    assert response.status_code == status and message in response.json()["error"]
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_error_pages_are_escaped_html_for_browsers_and_json_for_the_api(client):
    html = client.get("/<script>alert(1)</script>", headers={"accept": "text/html"})
    assert html.status_code == 404 and html.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)</script>" not in html.text and "&lt;script&gt;" in html.text
    assert html.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    api = client.get("/api/nothing-here")
    assert api.status_code == 404 and api.json() == {"error": "nothing at /api/nothing-here"}
    assert client.get(f"/api/threads/{new_thread(client)}/ask").status_code == 405
    bad_id = client.get("/api/threads/..%2f..%2fetc")
    assert bad_id.status_code in (400, 404) and "error" in bad_id.json()
    assert (
        client.get("/api/threads/has%20space")
        .json()["error"]
        .startswith("'has space' is not a thread id")
    )


def test_the_web_command_serves_the_offline_snapshot_on_a_free_port(tmp_path):
    """`python -m agents web --port 0`: the embedded default, no model built in this home."""
    env = {
        **os.environ,
        "BIOMEDGPT_HOME": str(tmp_path),
        "BIOMEDGPT_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": str(REPO_ROOT),
    }
    for name in (
        "BIOMEDGPT_OFFLINE",
        "BIOMEDGPT_MODEL",
        "BIOMEDGPT_PUBCHEM_URL",
        "BIOMEDGPT_UNIPROT_URL",
    ):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "agents", "web", "--port", "0"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "assistant on http://" in line:
                break
        output = "".join(lines)
        assert "No model" in output and "no demo model is built" in output, output
        url = output.split("assistant on ")[1].split("/ ")[0]
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        status = httpx.get(f"{url}/api/status", timeout=30).json()
        assert status["resolvers"] == "bundled offline snapshot of PubChem/UniProt"
        body = httpx.post(
            f"{url}/api/threads/t1/ask", json={"question": "Describe aspirin"}, timeout=120
        ).text
        assert "PubChem CID 2244 (bundled offline snapshot)" in body
        assert (tmp_path / "agent" / "threads.sqlite").is_file()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_new_thread_database_lists_no_threads(resolver_server, tmp_path):
    with (
        page_server(resolver_server, tmp_path) as fresh,
        httpx.Client(base_url=fresh.url) as client,
    ):
        assert client.get("/api/threads").json() == {"threads": []}
        history = client.get("/api/threads/never-used").json()
        assert history == {
            "id": "never-used", "turns": [], "interrupt": None, "last": None, "answering": False,
        }  # fmt: skip


def test_one_turn_per_thread_and_a_dropped_stream_still_finishes_its_turn(
    client, page, resolver_server
):
    thread = new_thread(client)
    resolver_server.inject("pubchem", Fault.delay(2.0))  # holds the first lookup of the turn
    with client.stream(
        "POST",
        f"/api/threads/{thread}/ask",
        json={"question": "Describe the molecule cholesterol."},
    ) as first:
        assert next(first.iter_lines()) == "event: thread"
        second = client.post(f"/api/threads/{thread}/ask", json={"question": "Describe aspirin"})
        assert second.status_code == 409 and "still answering" in second.json()["error"]
        assert client.get(f"/api/threads/{thread}").json()["answering"] is True
        # the browser goes away before the answer: the turn must still complete and be kept
    deadline = time.monotonic() + 60
    while (history := client.get(f"/api/threads/{thread}").json())["answering"] or not history[
        "turns"
    ]:
        assert time.monotonic() < deadline, "the dropped turn never finished"
        time.sleep(0.2)
    turns = history["turns"]
    assert [t["question"] for t in turns] == ["Describe the molecule cholesterol."]
    assert "PubChem CID 5997" in turns[0]["answer"]
    again = turn(
        client, thread, "ask", {"question": "Describe aspirin"}
    )  # the thread is free again
    assert only(again, "answer")["cards"][0]["cid"] == 2244


def test_model_tokens_reach_the_page_as_deltas_of_the_answer_even_past_a_second_turn(
    resolver_server, tiny_model, tmp_path, monkeypatch
):
    """The model opens with `Assistant:` again and then begins a turn of its own: the page gets
    the answer alone, in `token` deltas that join to what the tool answered."""
    script_decoding(monkeypatch, tiny_model)
    with page_server(resolver_server, tmp_path, model=tiny_model) as server, \
            httpx.Client(base_url=server.url, timeout=120) as client:  # fmt: skip
        frames = turn(client, new_thread(client), "ask", {"question": "Describe aspirin"})
    tokens = [data for event, data in frames if event == "token"]
    assert len(tokens) > 1 and all(
        set(data) == {"call", "tool", "label", "text"} for data in tokens
    )
    assert {(data["call"], data["tool"]) for data in tokens} == {(0, "MoleculeQA")}
    assert "".join(data["text"] for data in tokens) == ANSWER_OF_TWO_MORE_MARKERS
    assert not any("#" in data["text"] or "Assis" in data["text"] for data in tokens)
    assert ANSWER_OF_TWO_MORE_MARKERS in only(frames, "answer")["text"]


def test_a_model_that_cannot_load_is_said_at_start_and_in_the_status(tmp_path, resolver_server):
    from agents.context import AssistantContext
    from agents.graph import open_assistant
    from agents.web.app import create_app
    from agents.web.background import BackgroundServer
    from agents.web.serve import load_model_now
    from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit

    toolkit = BioMedGPTToolkit.from_env(model_path=tmp_path / "no-such-model", home=tmp_path)
    problem = load_model_now(toolkit)
    assert problem.startswith("The model cannot be used:") and "no-such-model" in problem
    app = create_app(
        open_assistant(threads_path=tmp_path / "t.sqlite"),
        AssistantContext(toolkit=toolkit),
        problem,
    )
    with BackgroundServer(app) as server:
        status = httpx.get(f"{server.url}/api/status").json()
    toolkit.close()
    assert status["model"] == problem and status["has_model"] is False


def test_the_printed_url_accepts_connections_before_the_server_starts(
    tmp_path, monkeypatch, capsys
):
    """`agents web` prints its URL once the socket listens: a client that connects the moment
    it reads the URL waits in the backlog instead of being refused (seen under load)."""
    import uvicorn

    from agents.web.serve import serve

    for name in ("BIOMEDGPT_MODEL", "BIOMEDGPT_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BIOMEDGPT_HOME", str(tmp_path))
    monkeypatch.setenv("BIOMEDGPT_OFFLINE", "1")
    seen = {}

    def run_instead(self, sockets):
        url = capsys.readouterr().out.split("assistant on ")[1].split("/ ")[0]
        host, port = url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5):  # refused if not listening
            seen["connected"] = url

    monkeypatch.setattr(uvicorn.Server, "run", run_instead)
    assert serve(port=0, threads_db=str(tmp_path / "threads.sqlite")) == 0
    assert seen["connected"].startswith("http://127.0.0.1:")
