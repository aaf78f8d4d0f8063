"""Review fixes of the MCP server: the newest answers listed, progress throttled, quoted
blocks never cut open, store failures explained, `--tools` that names nothing refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from mcp import Client

from biomedgpt_tools.mcp_server import build_server, select_tools
from biomedgpt_tools.mcp_server import resources as mcp_resources
from biomedgpt_tools.mcp_server.progress import CallProgress, GenerationProgress
from biomedgpt_tools.store.record import AnnotationRecord
from biomedgpt_tools.tools.qa_tool import TOKEN_EVENT
from biomedgpt_tools.tools.quoting import quote_external_text, shorten_keeping_quotes
from tests.mcp_server.conftest import text_of

START = datetime(2024, 5, 1, tzinfo=timezone.utc)


def _record(index: int, minutes: int, **changes) -> AnnotationRecord:
    values = {
        "kind": "text", "key": "", "display_name": f"KEY{index:02d}", "question": f"Question {index}?",
        "answer": f"Answer {index}.", "model_id": "m", "created_at": START + timedelta(minutes=minutes),
    }  # fmt: skip
    return AnnotationRecord(**(values | changes))


async def test_resources_list_the_newest_answers_whatever_the_store_holds(
    no_model_toolkit, monkeypatch
):
    store = no_model_toolkit.services.memory.open()
    # stored oldest-last, the newest in the middle: neither the first nor the last are newest
    store.add_many([_record(i, minutes) for i, minutes in enumerate([5, 4, 90, 80, 3, 2, 1])])
    monkeypatch.setattr(mcp_resources, "LISTED_ANNOTATIONS", 2)
    monkeypatch.setattr(mcp_resources, "SCANNED_ANNOTATIONS", 3, raising=False)  # the old bound
    async with Client(build_server(no_model_toolkit)) as client:
        listed = [
            r for r in (await client.list_resources()).resources if "annotations" in str(r.uri)
        ]
    assert [r.title.split(":")[0] for r in listed] == ["KEY02", "KEY03"]
    assert [r.display_name for r in store.newest(3, page_size=2)] == ["KEY02", "KEY03", "KEY00"]


class _RecordingContext:
    def __init__(self):
        self.messages: list[str] = []

    async def report_progress(self, progress, total, message):
        self.messages.append(message)


async def test_generation_progress_is_throttled_and_the_last_count_is_sent():
    tenths = [0]
    context = _RecordingContext()
    generation = GenerationProgress(
        CallProgress(context), every_s=0.5, clock=lambda: tenths[0] / 10
    )
    for _ in range(12):  # a token every 0.1 s, 2 characters each
        await generation.on_custom_event(TOKEN_EVENT, {"text": "ab"}, run_id=None)
        tenths[0] += 1
    await generation.flush()
    # 0.0, 0.5 and 1.0 s, then the held final count
    assert context.messages == [
        "generating the answer (2 characters so far)",
        "generating the answer (12 characters so far)",
        "generating the answer (22 characters so far)",
        "generating the answer (24 characters so far)",
    ]
    await generation.flush()
    assert len(context.messages) == 4  # nothing held: nothing sent twice


def _balanced(text: str) -> bool:
    return text.count("BEGIN QUOTED DATA") == text.count("END QUOTED DATA")


@pytest.mark.parametrize("limit", [20, 60, 150, 200, 260, 400, 5000])
def test_a_cut_never_leaves_a_quoted_block_open(limit):
    fetched = "\n".join(f"Line {i} of a UniProt function text that goes on." for i in range(8))
    text = "Before the quote. " + quote_external_text(fetched, source="UniProt") + "\nAfter it."
    short = shorten_keeping_quotes(text, limit)
    assert _balanced(short), short
    assert len(short) <= max(limit, 0) + 40  # about the limit: a closing marker at most
    if limit >= len(text):
        assert short == text
    digest = text.split("BEGIN QUOTED DATA ")[1].split()[0]
    if "BEGIN QUOTED DATA" in short:
        assert short.rstrip().endswith(f"END QUOTED DATA {digest}") or short.endswith("After it.")


async def test_search_memory_text_keeps_a_long_quoted_answer_closed(no_model_toolkit):
    long_text = "\n".join(
        f"Function line {i}: binds DNA and regulates transcription." for i in range(20)
    )
    store = no_model_toolkit.services.memory.open()
    store.add(_record(1, 1, kind="protein", key="P04637", answer=long_text, source="uniprot",
                      model_id="uniprot"))  # fmt: skip
    async with Client(build_server(no_model_toolkit)) as client:
        result = await client.call_tool("search_memory", {"protein": "P04637"})
    text = text_of(result)
    assert not result.is_error and "BEGIN QUOTED DATA" in text and _balanced(text), text
    assert "Function line 19" not in text  # shortened
    assert "Function line 19" in result.structured_content["hits"][0]["answer"]  # whole there


async def test_a_store_that_cannot_open_says_why(resolver_env):
    from tests.local_services import make_toolkit

    toolkit = make_toolkit(None, chroma_url="http://127.0.0.1:9")  # nothing listens there
    try:
        async with Client(build_server(toolkit)) as client:
            result = await client.call_tool("search_memory", {"query": "aspirin"})
        assert result.is_error
        reason = toolkit.services.memory.error
        assert reason and reason in text_of(result), text_of(result)
    finally:
        toolkit.close()


def test_tools_that_name_nothing_are_an_error(capsys):
    from biomedgpt_tools.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["mcp", "--tools", ","])
    assert exited.value.code == 2 and "names no tool" in capsys.readouterr().err
    with pytest.raises(ValueError, match="names no tool"):
        select_tools([" ", ""])
    assert len(select_tools(None)) == 6


def test_a_non_loopback_host_is_warned_about(capsys):
    from biomedgpt_tools.cli import main

    # an unknown tool stops it before serving; the warning comes first
    assert (
        main(["mcp", "--transport", "streamable-http", "--host", "0.0.0.0", "--tools", "nope"]) == 2
    )
    err = capsys.readouterr().err
    assert "warning: --host 0.0.0.0 is not a loopback address" in err
    assert (
        main(["mcp", "--transport", "streamable-http", "--host", "127.0.0.1", "--tools", "nope"])
        == 2
    )
    assert "warning" not in capsys.readouterr().err
