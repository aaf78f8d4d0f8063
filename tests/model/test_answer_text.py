"""Cutting the answer out of the generated text: once, as it grows, never taking text back."""

from __future__ import annotations

import itertools

import pytest

from biomedgpt_tools.model.answer_text import AnswerCutter, cut_answer


@pytest.mark.parametrize(
    ("raw", "answer"),
    [
        ("  plain answer \n", "plain answer"),
        ("  Aspirin is an NSAID.  ", "Aspirin is an NSAID."),
        # the model opens its turn again: markers before the answer are skipped
        ("Assistant: Assistant: twice", "twice"),
        (" ### Assistant: It is. ", "It is."),
        # having answered, the model begins a turn of its own: that ends the answer (the
        # reference would keep the text after the last marker; see answer_text.py)
        (" It is. ### Assistant: Really it is. ", "It is."),
        ("first try ### Human: again ### Assistant: the real answer ", "first try"),
        ("It is ###   \n Assistant: no", "It is"),
        ("ends with Assistant:", "ends with"),
        ("### Human: hi", ""),
        # what only looks like a marker is answer text
        ("Aspirin Assists in pain. Assistant", "Aspirin Assists in pain. Assistant"),
        ("Assistants are ### helpful", "Assistants are ### helpful"),
        ("a ## b # c ### Humane", "a ## b # c ### Humane"),
        ("Ass", "Ass"),
        (" \n ", ""),
    ],
)
def test_the_answer_and_its_deltas_however_the_text_is_split(raw, answer):
    assert cut_answer(raw) == answer
    for cuts in itertools.combinations(range(1, len(raw)), min(3, len(raw) - 1)):
        bounds = [0, *cuts, len(raw)]
        cutter = AnswerCutter()
        deltas = [cutter.feed(raw[start:end]) for start, end in itertools.pairwise(bounds)]
        deltas.append(cutter.finish())
        # AnswerCutter asserts that what it released is a prefix of every later answer
        assert "".join(deltas) == cutter.text == answer, (raw, cuts)


def test_the_cutter_holds_back_what_may_become_a_marker_and_stops_at_a_next_turn():
    cutter = AnswerCutter()
    deltas = [
        cutter.feed(piece)
        for piece in [" Assis", "tant: Hello", " wor", "ld ", "### Assis", "tant: ", "Bye"]
    ]
    # "Assis" could open the marker, the trailing space waits for more text, "### Assis" could
    # become the next turn; once it does, nothing after it is answer text
    assert deltas == ["", "Hello", " wor", "ld", "", "", ""]
    assert cutter.finish() == "" and cutter.text == "Hello world"


def test_a_held_back_tail_that_turns_out_to_be_text_is_released():
    cutter = AnswerCutter()
    assert [cutter.feed(piece) for piece in ["It binds ATP", " #", "#", "# and", " Assis", "ts"]] == [
        "It binds ATP", "", "", " ### and", "", " Assists"]  # fmt: skip
    assert cutter.finish() == "" and cutter.text == "It binds ATP ### and Assists"
