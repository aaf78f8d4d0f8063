"""Turn generated text into a yes/no/maybe or A-D answer, the way LMFlow's evaluation does.

The paper's Table 2 numbers come from LMFlow's `answer_extraction`: first a keyed pattern
(`Answer: (B)`, `Output: yes`), then the first bare label anywhere in the text; unmatched
text counts as wrong. Two rule sets:

- "lmflow" (default) keeps LMFlow's regexes, quirks included: keys are case-sensitive
  (answer/Answer/ANSWER/output/Output/OUTPUT/A, USMLE only Answer/Output/A), exactly one
  space after the colon, and the bare label is not word-bounded on its left and must be
  followed by `.` or whitespace (so "Based on" yields D and a final "yes" with nothing after
  it is unmatched). One deliberate fix: we return the label the pattern captured, where
  LMFlow's yes/no code returns "(yes" for "Answer: (yes)", which can never be right.
- "strict" is word-bounded and case-insensitive; it also reads "the answer is c".
Every tie-break is listed in docs/evals.md and pinned by tests/evals/metrics/test_answer_extraction.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

RuleSet = Literal["lmflow", "strict"]
AnswerKind = Literal["yes_no_maybe", "medmcqa", "usmle"]
RULE_SETS = ("lmflow", "strict")

# LMFlow, verbatim in meaning (src/lmflow/utils/data_utils.py, answer_extraction).
_LMFLOW_KEYS = "answer|Answer|ANSWER|output|Output|OUTPUT|A"
_LMFLOW_USMLE_KEYS = "Answer|Output|A"
_LMFLOW_YNM = "yes|Yes|YES|no|No|NO|maybe|Maybe|MAYBE"
_LMFLOW_LETTER = "A|B|C|D|a|b|c|d"
LMFLOW_PATTERNS: dict[AnswerKind, tuple[re.Pattern, re.Pattern]] = {
    "yes_no_maybe": (
        re.compile(rf"({_LMFLOW_KEYS}): \(*({_LMFLOW_YNM})"),
        re.compile(rf"({_LMFLOW_YNM})(\.|\s)"),
    ),
    "medmcqa": (
        re.compile(rf"({_LMFLOW_KEYS}): \(*({_LMFLOW_LETTER})"),
        re.compile(rf"\(*({_LMFLOW_LETTER})\)*(\.|\s)"),
    ),
    "usmle": (
        re.compile(rf"({_LMFLOW_USMLE_KEYS}): \(*({_LMFLOW_LETTER})"),
        re.compile(rf"\(*({_LMFLOW_LETTER})\)*(\.|\s)"),
    ),
}

# Strict: keys in any case, "answer is", any spacing; labels must stand alone as words.
_STRICT_KEY = r"\b(?:final\s+answer|answer|output)\s*(?::|is|=)?\s*[\(\[\"'*]*"
STRICT_PATTERNS: dict[str, tuple[re.Pattern, re.Pattern]] = {
    "yes_no_maybe": (
        re.compile(rf"{_STRICT_KEY}(yes|no|maybe)\b", re.IGNORECASE),
        re.compile(r"\b(yes|no|maybe)\b", re.IGNORECASE),
    ),
    "options": (
        re.compile(rf"{_STRICT_KEY}([A-D])(?![A-Za-z0-9])", re.IGNORECASE),
        # An upper-case letter on its own; "A" before a lower-case word is the article
        # ("A drug"), unless that word is and/or/is/was/are ("A and B", "A is correct").
        re.compile(
            r"(?<![A-Za-z0-9'])([B-D]|A(?!\s+(?!(?:and|or|is|was|are)\b)[a-z]))(?![A-Za-z0-9'])"
        ),
    ),
}


@dataclass(frozen=True)
class Extraction:
    """The extracted label (None when unmatched) and which rule found it."""

    label: str | None
    rule: Literal["keyed", "bare", "unmatched"]


def _normalize(label: str, kind: AnswerKind) -> str:
    return label.lower() if kind == "yes_no_maybe" else label.upper()


def extract_answer(text: str, kind: AnswerKind, rules: RuleSet = "lmflow") -> Extraction:
    """The answer in `text`: "yes"/"no"/"maybe" or "A"-"D", or label None if unmatched."""
    if rules == "lmflow":
        keyed, bare = LMFLOW_PATTERNS[kind]
        keyed_group, bare_group = 2, 1
    elif rules == "strict":
        keyed, bare = STRICT_PATTERNS["yes_no_maybe" if kind == "yes_no_maybe" else "options"]
        keyed_group = bare_group = 1
    else:
        raise ValueError(f"unknown extraction rules {rules!r}; choose one of {RULE_SETS}")
    match = keyed.search(text)
    if match:
        return Extraction(_normalize(match.group(keyed_group), kind), "keyed")
    match = bare.search(text)
    if match:
        return Extraction(_normalize(match.group(bare_group), kind), "bare")
    return Extraction(None, "unmatched")
