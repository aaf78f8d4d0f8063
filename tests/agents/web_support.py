"""Shared pieces of the web page's tests: the page on a real server, SSE parsing, a browser.

The page runs with uvicorn on a free loopback port (agents.web.background), its toolkit on
the resolvers' test server and a home folder of its own; module-scoped, so one module's
tests share one server. The browser is Debian's chromium driven by Playwright (no browser
download): tests that need it skip with the reason when /usr/bin/chromium is missing, as on a
machine where `make setup` has not run.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from biomedgpt_tools.testing.chromium import CHROMIUM, CHROMIUM_FLAGS
from tests.agents.conftest import make_toolkit

# Text a hostile PubChem record carries: if any of it ran, window.__pwned would be set.
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1">Evilium<script>window.__pwned=2</script>'
HOSTILE_SYNONYM = "evilium"


@contextlib.contextmanager
def page_server(resolver_server, home: Path, model=None) -> Iterator:
    """The page on its own toolkit (resolvers on `resolver_server`), stopped afterwards."""
    from agents.context import AssistantContext
    from agents.graph import open_assistant
    from agents.web.app import create_app
    from agents.web.background import BackgroundServer

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BIOMEDGPT_PUBCHEM_URL", resolver_server.pubchem_url)
        patch.setenv("BIOMEDGPT_UNIPROT_URL", resolver_server.uniprot_url)
        patch.setenv("BIOMEDGPT_HOME", str(home))
        patch.setenv("BIOMEDGPT_CACHE_DIR", str(home / "cache"))
        for name in (
            "BIOMEDGPT_OFFLINE",
            "BIOMEDGPT_MODEL",
            "BIOMEDGPT_CHROMA_URL",
            "BIOMEDGPT_ROUTER",
        ):
            patch.delenv(name, raising=False)
        toolkit = make_toolkit(model, home=home)
    graph = open_assistant(threads_path=home / "threads.sqlite")
    app = create_app(graph, AssistantContext(toolkit=toolkit))
    server = BackgroundServer(app).start()
    try:
        server.toolkit = toolkit
        yield server
    finally:
        server.stop()
        graph.checkpointer.conn.close()
        toolkit.close()


def parse_sse(body: str) -> list[tuple[str, dict]]:
    """(event, data) per frame; asserts the framing: `event:` + one `data:` line, blank line after."""
    assert body.endswith("\n\n"), "every SSE frame ends with a blank line"
    frames = []
    for frame in body[:-2].split("\n\n"):
        lines = frame.split("\n")
        assert (
            len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: ")
        ), frame
        frames.append((lines[0][len("event: ") :], json.loads(lines[1][len("data: ") :])))
    return frames


def hostile_entities(folder: Path) -> Path:
    """The test server's entities plus one compound whose names and description are markup."""
    from rdkit import Chem

    from biomedgpt_tools.testing.resolver_server.entities import ENTITIES_PATH

    raw = json.loads(ENTITIES_PATH.read_text(encoding="utf-8"))
    smiles = "CCCCCCCCCCCCCCCCO"
    molecule = Chem.MolFromSmiles(smiles)
    raw["molecules"].append(
        {
            "cid": 99999901,
            "title": HOSTILE_TITLE,
            "smiles": smiles,
            "connectivity_smiles": smiles,
            "inchi": Chem.MolToInchi(molecule),
            "inchikey": Chem.MolToInchiKey(molecule),
            "formula": "C16H34O",
            "molecular_weight": "242.44",
            "iupac_name": "<b>hexadecan-1-ol</b>",
            "synonyms": [HOSTILE_SYNONYM, '<svg onload="window.__pwned=3">'],
            "description": 'Test data. <script>window.__pwned=4</script><a href="javascript:window.__pwned=5">x</a>',
            "in_snapshot": False,
        }
    )
    path = folder / "entities.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


@contextlib.contextmanager
def chromium_browser() -> Iterator:
    """Headless Debian chromium under Playwright, with a fresh temporary profile."""
    if not Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium")
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="`make install` installs playwright"
    )
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield browser
        finally:
            browser.close()
