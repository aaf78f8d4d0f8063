"""The web page's latency: time to the first visible model token and to the full answer.

Measured for the demo model (`make demo-model`) on the offline snapshot with memory off (so
every answer is generated), per question, three ways in the same run:
- the page in headless Chromium (Playwright): from submitting the question to the first
  model text drawn in the page, and to the cited answer drawn (times taken in the page,
  `performance.now()` from a MutationObserver);
- baseline 1, `python -m agents ask` as a user runs it: from starting the process to the first
  model text on stderr, and to the process's exit (includes Python start-up and model load,
  which the page's server pays once at start);
- baseline 2, the page's SSE stream read by httpx (the server without the browser);
- baseline 3, the same turn in process (`AssistantSession.stream`, the server's own toolkit):
  what the web layer (SSE, JSON, the browser) adds on top of the graph.

    python benchmarks/bench_web.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from biomedgpt_tools.testing.chromium import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

# Phrasings the demo model was trained on (scripts/demo.py): it answers them with text.
QUESTIONS = (
    "What is the molecular formula of ibuprofen?",
    "What is the subcellular location of P0CG47?",
    "Please describe the molecule CC(=O)OC1=CC=CC=C1C(=O)O.",
)

# Submits the question and records, in page time, when model text and the answer appear.
SUBMIT_AND_WATCH = """(question) => {
  const marks = window.__marks = {start: performance.now(), token: null, answer: null};
  new MutationObserver(() => {
    const now = performance.now();
    if (marks.token === null && [...document.querySelectorAll('.draft .text')].some(t => t.textContent)) marks.token = now;
    if (marks.answer === null && document.querySelector('section.msg.assistant:last-of-type .answer-text')) marks.answer = now;
  }).observe(document.getElementById('log'), {subtree: true, childList: true, characterData: true});
  document.getElementById('question').value = question;
  document.getElementById('ask-form').requestSubmit();
}"""


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.0f} ms" if values else "    n/a"


def through_browser(url: str, questions: list[str]) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    firsts, fulls = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        page = browser.new_page()
        page.goto(url)
        for question in questions:
            page.get_by_role("button", name="New thread").click()
            page.locator("section.msg").first.wait_for(state="detached")
            page.evaluate(SUBMIT_AND_WATCH, question)
            page.locator("section.msg.assistant .answer-text").last.wait_for(timeout=300_000)
            marks = page.evaluate("() => window.__marks")
            if marks["token"] is not None:
                firsts.append((marks["token"] - marks["start"]) / 1000)
            fulls.append((marks["answer"] - marks["start"]) / 1000)
        browser.close()
    return firsts, fulls


def through_http(url: str, questions: list[str]) -> tuple[list[float], list[float]]:
    """The page's SSE stream read by httpx: the server's share of the page's time."""
    import httpx

    firsts, fulls = [], []
    with httpx.Client(base_url=url, timeout=300) as client:
        for question in questions:
            thread = client.post("/api/threads", json={}).json()["id"]
            started = time.perf_counter()
            first = None
            with client.stream(
                "POST", f"/api/threads/{thread}/ask", json={"question": question}
            ) as response:
                for line in response.iter_lines():
                    if first is None and line == "event: token":
                        first = time.perf_counter() - started
            fulls.append(time.perf_counter() - started)
            if first is not None:
                firsts.append(first)
    return firsts, fulls


def through_cli(questions: list[str], threads_db: Path) -> tuple[list[float], list[float]]:
    firsts, fulls = [], []
    for number, question in enumerate(questions):
        started = time.perf_counter()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agents",
                "ask",
                question,
                "--thread",
                f"bench-{number}",
                "--threads-db",
                str(threads_db),
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
        )
        first: list[float] = []

        def watch(stream=process.stderr, first=first, started=started):
            seen = b""
            while chunk := stream.read1(256):
                seen += chunk
                if not first and b")] " in seen and not seen.endswith(b")] "):
                    first.append(time.perf_counter() - started)

        reader = threading.Thread(target=watch)
        reader.start()
        process.wait()
        reader.join()
        fulls.append(time.perf_counter() - started)
        firsts.extend(first)
    return firsts, fulls


def in_process(context, graph, questions: list[str]) -> tuple[list[float], list[float]]:
    from agents.session import AssistantSession

    firsts, fulls = [], []
    for number, question in enumerate(questions):
        session = AssistantSession(thread_id=f"inproc-{number}", context=context, graph=graph)
        started = time.perf_counter()
        first = None
        for event in session.stream(question):
            payload = event["payload"]
            if (
                first is None
                and event["mode"] == "custom"
                and isinstance(payload, dict)
                and payload.get("type") == "token"
                and payload.get("text")
            ):
                first = time.perf_counter() - started
        session.outcome()
        fulls.append(time.perf_counter() - started)
        if first is not None:
            firsts.append(first)
    return firsts, fulls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="each question once (default: three times)"
    )
    args = parser.parse_args()
    if not Path(CHROMIUM).is_file():
        print(f"skipped: {CHROMIUM} is missing (`make setup` installs Debian's chromium)")
        return 0

    from agents.web.serve import choose_environment

    why = (
        choose_environment()
    )  # offline snapshot; the demo model if built (found before the home moves)
    if not os.environ.get("BIOMEDGPT_MODEL"):
        print(f"skipped: {why}; `make demo-model` builds the demo model")
        return 0
    home = Path(tempfile.mkdtemp(prefix="bench-web-"))
    os.environ.update(
        {
            "BIOMEDGPT_HOME": str(home),
            "BIOMEDGPT_CACHE_DIR": str(home / "cache"),
            "BIOMEDGPT_MEMORY": "0",
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
        }
    )
    questions = list(QUESTIONS) * (1 if args.quick else 3)

    from agents.context import AssistantContext
    from agents.graph import open_assistant
    from agents.web.app import create_app, describe_model
    from agents.web.background import BackgroundServer

    context = AssistantContext()
    toolkit = context.resolved_toolkit()
    print(f"{describe_model(toolkit)} ({why}); resolvers: offline snapshot; memory off")
    print(f"{len(questions)} questions, medians\n")
    graph = open_assistant(threads_path=home / "threads.sqlite")
    in_process(context, graph, QUESTIONS[:1])  # warm-up: the first generation compiles kernels
    with BackgroundServer(create_app(graph, context)) as server:
        page_first, page_full = through_browser(server.url, questions)
        http_first, http_full = through_http(server.url, questions)
    local_first, local_full = in_process(context, graph, questions)
    cli_first, cli_full = through_cli(questions, home / "cli-threads.sqlite")

    print(f"{'':38}{'first token':>14}{'full answer':>14}")
    print(
        f"{'web page (Chromium, server warm)':38}{median_ms(page_first):>14}{median_ms(page_full):>14}"
    )
    print(
        f"{'python -m agents ask (whole process)':38}{median_ms(cli_first):>14}{median_ms(cli_full):>14}"
    )
    print(
        f"{'SSE stream over HTTP (httpx)':38}{median_ms(http_first):>14}{median_ms(http_full):>14}"
    )
    print(
        f"{'in process (AssistantSession.stream)':38}{median_ms(local_first):>14}{median_ms(local_full):>14}"
    )
    print(
        f"\ntoken seen in {len(page_first)}/{len(questions)} page answers, {len(cli_first)}/{len(questions)} CLI answers"
    )
    if local_full and page_full:
        overhead = statistics.median(page_full) - statistics.median(local_full)
        print(
            f"web layer adds {overhead * 1000:.0f} ms to the median full answer over the in-process turn"
        )
    toolkit.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
