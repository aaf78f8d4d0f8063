"""The web page in a real headless browser: Debian's chromium driven by Playwright.

Each scenario saves a screenshot under its temporary folder (pytest prints the folder on
failure; `--basetemp` makes it easy to find). The page runs on a real uvicorn server with
the tiny model, so model text streams token by token.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from biomedgpt_tools.testing.resolver_server import ResolverTestServer
from tests.agents.web_support import (
    HOSTILE_SYNONYM,
    HOSTILE_TITLE,
    chromium_browser,
    hostile_entities,
    page_server,
)

pytestmark = pytest.mark.timeout(300)

# Counts changes to the live model text (.drafts) before the answer replaces it.
COUNT_DRAFT_CHANGES = """() => {
  window.__draftChanges = 0;
  new MutationObserver((records) => {
    for (const r of records) if (r.target.closest && r.target.closest('.drafts') || r.target.parentElement?.closest('.drafts')) window.__draftChanges++;
  }).observe(document.getElementById('log'), {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as browser:
        yield browser


@pytest.fixture(scope="module")
def page_url(resolver_server, tiny_model, tmp_path_factory):
    with page_server(
        resolver_server, tmp_path_factory.mktemp("web-browser"), model=tiny_model
    ) as server:
        yield server.url


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.errors = errors
    yield page
    context.close()


def wait_until(page, script: str, timeout_s: float = 30.0) -> None:
    """Poll `script` with evaluate: wait_for_function evaluates strings, which the CSP forbids."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"timed out waiting for {script}"
        page.wait_for_timeout(50)


def ask(page, question: str) -> None:
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def last_answer(page):
    return page.locator("section.msg.assistant").last


def test_compare_two_molecules_shows_drawings_steps_tokens_and_sources(tab, page_url, tmp_path):
    tab.goto(page_url)
    expect(tab.locator("#status")).to_have_text(re.compile("^Model: "))
    tab.evaluate(COUNT_DRAFT_CHANGES)
    ask(tab, "Compare aspirin and ibuprofen")
    answer = last_answer(tab)
    answer.locator(".answer-text").wait_for(timeout=120_000)

    drawings = answer.locator(".cards img")
    assert drawings.count() == 2
    assert [drawings.nth(i).get_attribute("alt") for i in range(2)] == [
        "2D structure of Aspirin",
        "2D structure of Ibuprofen",
    ]
    wait_until(
        tab,
        "() => [...document.querySelectorAll('.cards img')].every(i => i.complete && i.naturalWidth > 0)",
    )
    assert all(
        src.startswith("/depict.svg?smiles=")
        for src in answer.locator(".cards img").evaluate_all(
            "l => l.map(i => i.getAttribute('src'))"
        )
    )
    cards = answer.locator(".card.molecule")
    assert "CID2244" in cards.nth(0).inner_text().replace("\n", "").replace("\t", "")
    assert "BSYNRYMUTXBXSQ-UHFFFAOYSA-N" in cards.nth(0).inner_text()
    assert (
        cards.nth(1).get_by_role("link", name="PubChem CID 3672").get_attribute("href")
        == "https://pubchem.ncbi.nlm.nih.gov/compound/3672"
    )

    steps = answer.get_by_role("list", name="Steps").inner_text()
    for label in (
        "Understand the question",
        "Route to tools",
        "Resolve names",
        "Recall earlier answers",
        "Run tools",
        "Compose the cited answer",
        "Remember",
    ):
        assert label in steps
    assert (
        "MoleculeQA(aspirin" in steps
        and "MoleculeQA call 1 (Aspirin) ✓: answered by model" in steps
    )
    assert "MoleculeQA call 2 (Ibuprofen) ✓: answered by model" in steps
    assert tab.evaluate("window.__draftChanges") > 2  # the model's text arrived piece by piece

    sources = answer.get_by_role("list", name="Sources")
    links = sources.get_by_role("link")
    hrefs = links.evaluate_all("l => l.map(a => a.href)")
    assert (
        "https://pubchem.ncbi.nlm.nih.gov/compound/2244" in hrefs
        and "https://pubchem.ncbi.nlm.nih.gov/compound/3672" in hrefs
    )
    assert "answered now" in sources.inner_text()
    assert tab.evaluate("document.activeElement.id") == "question"  # focus back to the question box
    assert answer.get_attribute("aria-busy") == "false"
    tab.screenshot(path=str(tmp_path / "compare.png"), full_page=True)

    # the same question again: answered from memory, which says when and by which revision
    ask(tab, "Compare aspirin and ibuprofen")
    again = last_answer(tab)
    again.locator(".answer-text").wait_for(timeout=120_000)
    assert again.locator(".badge").inner_text() == "answered from memory"
    assert re.search(
        r"memory: .+ \(revision \w+\) answered on \d{4}-\d\d-\d\d \d\d:\d\d UTC",
        again.get_by_role("list", name="Sources").inner_text(),
    )
    tab.screenshot(path=str(tmp_path / "compare-from-memory.png"), full_page=True)
    assert tab.errors == []


def test_ambiguous_name_offers_candidates_and_a_click_answers_then_a_reload_continues(
    tab, page_url, tmp_path
):
    tab.goto(page_url)
    ask(tab, "Describe the molecule alanine.")
    choices = tab.locator("button.choice")
    choices.first.wait_for(timeout=120_000)
    assert choices.count() == 3
    assert tab.locator(".interrupt img").count() == 3  # each candidate drawn
    assert (
        tab.evaluate("document.activeElement.className") == "choice"
    )  # focus moves to the choices
    assert "matches 3 PubChem compounds" in tab.locator(".interrupt legend").inner_text()
    tab.screenshot(path=str(tmp_path / "ambiguous.png"), full_page=True)

    tab.get_by_role("button", name="Choose DL-Alanine (CID 602)").click()
    answer = last_answer(tab)
    answer.locator(".answer-text").wait_for(timeout=120_000)
    assert answer.locator(".card.molecule h4").inner_text() == "DL-Alanine"
    assert "https://pubchem.ncbi.nlm.nih.gov/compound/602" in answer.get_by_role(
        "link"
    ).evaluate_all("l => l.map(a => a.href)")
    assert all(button.is_disabled() for button in choices.all())
    thread = tab.evaluate("location.hash")
    assert thread.startswith("#thread=")
    tab.screenshot(path=str(tmp_path / "ambiguous-chosen.png"), full_page=True)

    tab.reload()
    tab.locator("section.msg.user").first.wait_for()
    assert tab.evaluate("location.hash") == thread
    assert (
        tab.locator("section.msg.user")
        .first.inner_text()
        .endswith("Describe the molecule alanine.")
    )
    assert (
        tab.locator(".card.molecule h4").first.inner_text() == "DL-Alanine"
    )  # the last answer, in full
    assert (
        tab.locator("#thread-list button[aria-current='true']").inner_text()
        == "Describe the molecule alanine."
    )
    ask(tab, "What is its molecular weight?")  # a follow-up: the thread remembers the molecule
    follow_up = last_answer(tab)
    follow_up.locator(".answer-text").wait_for(timeout=120_000)
    assert follow_up.locator(".card.molecule h4").inner_text() == "DL-Alanine"
    assert "router follow-up" in follow_up.get_by_role("list", name="Steps").inner_text()
    tab.screenshot(path=str(tmp_path / "reloaded-follow-up.png"), full_page=True)

    tab.set_viewport_size({"width": 390, "height": 844})  # a phone
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    tab.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    tab.get_by_role("button", name="New thread").click()
    expect(tab.locator("section.msg")).to_have_count(0)
    assert tab.evaluate("location.hash") != thread
    expect(tab.get_by_label("Your question")).to_be_focused()
    tab.get_by_role(
        "button", name="Describe the molecule alanine."
    ).click()  # reopen it from the list
    expect(tab.locator("section.msg.user")).to_have_count(2)
    assert tab.evaluate("location.hash") == thread
    assert tab.errors == []


def test_keyboard_alone_asks_and_the_page_is_labelled(tab, page_url, tmp_path):
    tab.goto(page_url)
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.textContent") == "Skip to the question"
    tab.keyboard.press("Enter")
    expect(tab.get_by_label("Your question")).to_be_focused()
    tab.keyboard.type("What does P04637 do?")
    tab.keyboard.press("Enter")
    answer = last_answer(tab)
    answer.locator(".answer-text").wait_for(timeout=120_000)
    card = answer.get_by_role("article", name=re.compile("^Protein "))
    text = card.inner_text()
    assert "P04637" in text and "Homo sapiens" in text and "393 aa" in text
    assert (
        card.get_by_role("link").get_attribute("href")
        == "https://www.uniprot.org/uniprotkb/P04637/entry"
    )
    assert tab.get_by_role("log").count() == 1 and tab.get_by_role("navigation").count() == 1
    tab.screenshot(path=str(tmp_path / "keyboard-protein.png"), full_page=True)

    tab.keyboard.type("Describe the molecule zorblaxium.")  # focus is back in the question box
    tab.keyboard.press("Enter")
    unknown = last_answer(tab)
    unknown.locator(".answer-text").wait_for(timeout=120_000)
    note = unknown.get_by_role("note")
    assert note.locator("h4").inner_text() == "zorblaxium: could not look it up"
    assert "zorblaxium" in note.locator("p").inner_text()
    assert "could not answer" in unknown.locator(".answer-text").inner_text()
    assert (
        "MoleculeQA call 1 (zorblaxium) ✗: failed"
        in unknown.get_by_role("list", name="Steps").inner_text()
    )
    tab.screenshot(path=str(tmp_path / "unknown-compound.png"), full_page=True)
    assert tab.errors == []


def test_markup_in_records_and_questions_is_shown_as_text_and_never_runs(
    browser, tiny_model, tmp_path
):
    with (
        ResolverTestServer(entities_path=hostile_entities(tmp_path)) as hostile,
        page_server(hostile, tmp_path / "home") as server,
    ):
        context = browser.new_context()
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto(server.url)
        question = f'Describe the molecule {HOSTILE_SYNONYM}. <img src=x onerror="window.__pwned=6"><script>window.__pwned=7</script>'
        ask(tab, question)
        answer = last_answer(tab)
        answer.locator(".answer-text").wait_for(timeout=120_000)
        tab.wait_for_timeout(300)  # time for any injected handler to fire

        assert tab.evaluate("window.__pwned") is None
        assert (
            tab.locator(
                "#log script, #log img[src='x'], #log svg, #log a[href^='javascript']"
            ).count()
            == 0
        )
        assert tab.locator("section.msg.user").last.inner_text().endswith(question)
        card = answer.locator(".card.molecule")
        assert card.locator("h4").inner_text() == HOSTILE_TITLE
        assert card.locator("img").get_attribute("alt") == f"2D structure of {HOSTILE_TITLE}"
        assert "<script>window.__pwned=4</script>" in answer.locator(".answer-text").inner_text()
        assert "No model" in tab.locator("#status").inner_text()
        tab.screenshot(path=str(tmp_path / "escaped.png"), full_page=True)
        context.close()
        assert errors == []
