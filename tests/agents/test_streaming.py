"""The assistant streams the model's tokens per tool call while the tools run (tiny model)."""

from __future__ import annotations

from langgraph.checkpoint.memory import InMemorySaver

from agents.__main__ import main
from agents.context import AssistantContext
from agents.graph import open_assistant
from agents.session import AssistantSession, model_text


def session_for(toolkit, thread="t", **context) -> AssistantSession:
    return AssistantSession(
        thread, AssistantContext(toolkit=toolkit, **context), graph=open_assistant(InMemorySaver())
    )


def token_events(events):
    return [
        e["payload"]
        for e in events
        if e["mode"] == "custom" and e["payload"].get("type") == "token"
    ]


def stored_answers(session) -> list[str | None]:
    """Each call's model answer as the tool stored it in its artifact."""
    results = session.graph.get_state(session.config).values["results"]
    return [(result["artifact"] or {}).get("answer") for result in results]


def test_parallel_calls_stream_tokens_that_join_to_each_calls_answer(toolkit):
    session = session_for(toolkit, max_parallel_tools=2)
    events, live = [], []
    for event in session.stream("Compare aspirin and ibuprofen"):
        if event["mode"] == "custom" and event["payload"].get("type") == "token":
            live.append(toolkit.backend._generate_lock.locked())  # the model is still generating
        events.append(event)
    outcome = session.outcome()

    tokens = token_events(events)
    assert {t["call"] for t in tokens} == {0, 1} and {t["tool"] for t in tokens} == {"MoleculeQA"}
    streamed = model_text(events)
    answers = stored_answers(session)
    assert [streamed[0], streamed[1]] == answers
    assert answers[0] and answers[1] and answers[0] != answers[1]  # attribution is checkable
    assert all(sum(t["call"] == call for t in tokens) > 1 for call in (0, 1))  # token by token
    assert any(live)
    # every token of a call comes before that call's end event; the answer is unchanged
    ends = {
        e["payload"]["call"]: i
        for i, e in enumerate(events)
        if e["mode"] == "custom" and e["payload"].get("step") == "tool"
    }
    assert all(
        i < ends[e["payload"]["call"]]
        for i, e in enumerate(events)
        if e["mode"] == "custom" and e["payload"].get("type") == "token"
    )
    for answer in answers:
        assert answer in outcome.answer
    composed = [
        e["payload"]["text"]
        for e in events
        if e["mode"] == "custom" and e["payload"].get("type") == "answer"
    ]
    assert composed == [outcome.answer]


def test_an_answer_from_memory_streams_no_model_tokens(toolkit):
    first = session_for(toolkit, "a")
    first_events = list(first.stream("What does P04637 do?"))
    assert model_text(first_events) == {0: stored_answers(first)[0]}

    second = session_for(toolkit, "b")
    second_events = list(second.stream("What does P04637 do?"))
    assert [s["type"] for s in second.outcome().sources][0] == "memory"
    assert token_events(second_events) == []
    assert toolkit.backend.answer_calls == 1


def test_cli_prints_the_model_text_as_it_streams(toolkit, monkeypatch, capsys):
    monkeypatch.setattr("agents.context.shared_toolkit", lambda: toolkit)
    assert main(["ask", "Describe caffeine.", "--thread", "cli-stream"]) == 0
    captured = capsys.readouterr()
    header = "[Caffeine (MoleculeQA)] "
    streamed = captured.err[
        captured.err.index(header) + len(header) : captured.err.index("\n(thread ")
    ]
    assert streamed
    assert f"Caffeine (MoleculeQA): {streamed} [" in captured.out  # the cited answer, on stdout
    assert header not in captured.out

    replies = iter(["Describe nicotine.", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(replies))
    assert main(["chat", "--thread", "cli-stream-chat"]) == 0
    out = capsys.readouterr().out
    header = "[Nicotine (MoleculeQA)] "
    streamed = out[out.index(header) + len(header) : out.index("\n\nNicotine (MoleculeQA): ")]
    assert streamed and f"Nicotine (MoleculeQA): {streamed} [" in out

    calls = toolkit.backend.answer_calls
    assert main(["ask", "Describe dopamine.", "--json"]) == 0
    assert toolkit.backend.answer_calls == calls + 1  # the model ran, but --json shows no stream
    assert "(MoleculeQA)]" not in capsys.readouterr().err


def test_printer_shows_one_call_live_and_holds_the_others_until_it_ends():
    import io

    from agents.__main__ import ModelTextPrinter

    out = io.StringIO()
    printer = ModelTextPrinter(out)

    def custom(payload):
        printer({"mode": "custom", "payload": payload})

    def token(call, text, **extra):
        custom(
            {
                "type": "token",
                "call": call,
                "tool": ["MoleculeQA", "BiomedQA", "ProteinQA"][call],
                "text": text,
                **extra,
            }
        )

    custom({"step": "resolve", "resolved": ["Aspirin", None, "P04637"]})
    token(0, "Pain")
    token(1, "COPD is")
    token(0, " relief")
    token(2, "Tumour")
    token(1, " a disease")
    token(2, " suppressor")
    custom(
        {"step": "tool", "call": 1, "name": "BiomedQA", "status": "success", "answered_by": "model"}
    )
    custom(
        {
            "step": "tool",
            "call": 0,
            "name": "MoleculeQA",
            "status": "success",
            "answered_by": "model",
        }
    )
    token(2, ".")
    printer.finish()
    assert out.getvalue() == (
        "[Aspirin (MoleculeQA)] Pain relief\n"
        "[BiomedQA] COPD is a disease\n"
        "[P04637 (ProteinQA)] Tumour suppressor.\n"
    )
