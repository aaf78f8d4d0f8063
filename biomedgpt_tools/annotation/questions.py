"""The four UniProtQA question types (function, official name, family, subcellular location).

The wording follows the UniProtQA-style questions the models are trained on (see
training/data/prepare_uniprotqa.py and training/demo_facts.py), so answers stay comparable.
"""

from __future__ import annotations

QUESTION_TYPES: dict[str, str] = {
    "function": "What is the function of this protein?",
    "name": "What is the official name of this protein?",
    "family": "What is the protein family that this protein belongs to?",
    "location": "What is the subcellular location of this protein?",
}


def parse_question_types(text: str | None) -> list[str]:
    """ "function,name" -> ["function", "name"]; None or "" -> all four; unknown names raise."""
    if not text:
        return list(QUESTION_TYPES)
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in QUESTION_TYPES]
    if unknown or not names:
        raise ValueError(
            f"unknown question type(s) {unknown or [text]}; choose from {', '.join(QUESTION_TYPES)} "
            "(comma-separated, e.g. --questions function,name)"
        )
    return list(dict.fromkeys(names))
