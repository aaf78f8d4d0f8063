"""The answer extraction rules on a table of tricky generated answers.

Expected values follow LMFlow's regexes for "lmflow" (quirks included, see
docs/evals.md) and the word-bounded reading for "strict".
"""

from __future__ import annotations

import pytest

from evals.metrics.answer_extraction import extract_answer

# (generated text, kind, lmflow label, strict label)
TABLE = [
    ("Answer: (B)", "medmcqa", "B", "B"),
    ("Answer: B", "medmcqa", "B", "B"),
    ("answer: c", "medmcqa", "C", "C"),
    ("ANSWER: D", "medmcqa", "D", "D"),
    ("Output: A", "medmcqa", "A", "A"),
    ("The answer is c.", "medmcqa", "C", "C"),
    (
        "The answer is b",
        "medmcqa",
        None,
        "B",
    ),  # LMFlow: a bare letter needs "." or a space after it
    ("B and C", "medmcqa", "B", "B"),  # several letters: the first one
    ("", "medmcqa", None, None),
    ("I am not sure.", "medmcqa", None, None),
    ("Based on the findings, B.", "medmcqa", "D", "B"),  # LMFlow reads the d of "Based "
    ("A drug of choice is C.", "medmcqa", "A", "C"),  # strict: "A drug" is the article
    ("(C) Metformin", "medmcqa", "C", "C"),
    ("Answer:B", "medmcqa", None, "B"),  # LMFlow wants exactly one space after the colon
    ("answer: (d)", "medmcqa", "D", "D"),
    ("Correct option is D. Metformin", "medmcqa", "D", "D"),
    ("Answer: Bleeding disorders", "medmcqa", "B", None),  # LMFlow: the B of "Bleeding"
    ("Option A is wrong; the answer is B.", "medmcqa", "A", "B"),  # strict: keyed beats bare
    ("The correct answer is option C", "medmcqa", None, "C"),
    ("E", "medmcqa", None, None),  # not an option of a 4-option question
    ("A.", "medmcqa", "A", "A"),
    ("a.", "medmcqa", "A", None),  # strict: a bare lower-case letter is a word, not an option
    ("Final answer: C", "medmcqa", "C", "C"),
    ("DNA: B is involved", "medmcqa", "B", "B"),  # LMFlow's key "A" matches the end of "DNA"
    ("The answer is (b).", "medmcqa", "B", "B"),
    ("Both A and B are correct.", "medmcqa", "A", "A"),
    ("answer: C", "usmle", None, "C"),  # LMFlow's USMLE keys are Answer/Output/A only
    ("Answer: C", "usmle", "C", "C"),
    ("Answer: yes", "yes_no_maybe", "yes", "yes"),
    ("answer: (No)", "yes_no_maybe", "no", "no"),  # LMFlow itself would return "(no"
    ("Answer: (yes)", "yes_no_maybe", "yes", "yes"),
    ("yes", "yes_no_maybe", None, "yes"),  # LMFlow: nothing after the final word
    ("Yes.", "yes_no_maybe", "yes", "yes"),
    (
        "No, the results do not support this.",
        "yes_no_maybe",
        None,
        "no",
    ),  # LMFlow: "," is not "." or space
    ("Maybe. The evidence is limited", "yes_no_maybe", "maybe", "maybe"),
    ("The piano is loud.", "yes_no_maybe", "no", None),  # LMFlow: the "no" of "piano"
    ("Our eyes see.", "yes_no_maybe", "yes", None),  # LMFlow: the "yes" of "eyes"
    ("I cannot say; maybe", "yes_no_maybe", None, "maybe"),
    ("Output: MAYBE", "yes_no_maybe", "maybe", "maybe"),
    ("A: no", "yes_no_maybe", "no", "no"),
    ("The answer is yes.", "yes_no_maybe", "yes", "yes"),
    ("Yes and no.", "yes_no_maybe", "yes", "yes"),
    ("", "yes_no_maybe", None, None),
    ("YES\n", "yes_no_maybe", "yes", "yes"),
    ("knowledge is limited", "yes_no_maybe", None, None),
]


def test_table_is_large_enough():
    assert len(TABLE) >= 30


@pytest.mark.parametrize(("text", "kind", "lmflow", "strict"), TABLE)
def test_extraction_table(text, kind, lmflow, strict):
    assert extract_answer(text, kind, "lmflow").label == lmflow
    assert extract_answer(text, kind, "strict").label == strict


def test_rule_reports_how_the_answer_was_found():
    assert extract_answer("Answer: (B)", "medmcqa").rule == "keyed"
    assert extract_answer("I think B.", "medmcqa").rule == "bare"
    assert extract_answer("no idea", "medmcqa").rule == "unmatched"


def test_unknown_rule_set_is_refused():
    with pytest.raises(ValueError, match="lmflow"):
        extract_answer("A", "medmcqa", "fuzzy")
