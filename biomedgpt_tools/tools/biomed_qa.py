"""BiomedQA: ask BioMedGPT's language model a biomedical question, open or multiple choice.

Multiple-choice questions are shown with lettered options; the answer is read from an
`Answer: X`, a reply that is or opens with the letter, or else the one option it names (see
`chosen_option`), then named by its option text so the calling LLM does not map letters back.
"""

from __future__ import annotations

import re
import string
from typing import Any

from pydantic import BaseModel

from biomedgpt_tools.model.requests import GenerationRequest
from biomedgpt_tools.store.ids import text_key
from biomedgpt_tools.tools.qa_tool import BioMedGPTQATool, PreparedQuestion
from biomedgpt_tools.tools.schemas import BiomedQAInput

LETTERS = string.ascii_uppercase


def render_question(question: str, options: list[str] | None, context: str | None) -> str:
    """The text the model sees: context first, then the question, then lettered options."""
    parts = []
    if context:
        parts.append(f"Context: {context}")
    parts.append(f"Question: {question}" if (context or options) else question)
    if options:
        parts.append(
            "Options: " + " ".join(f"({LETTERS[i]}) {option}" for i, option in enumerate(options))
        )
        parts.append("Answer with the letter of the correct option, as 'Answer: X'.")
    return "\n".join(parts)


def chosen_option(text: str, options: list[str]) -> int | None:
    """Index of the option the model chose, or None when its text names none clearly.

    A letter counts only where it cannot be the article "A" or a word: `Answer: B` /
    `the answer is (B)`, the whole reply `B`, a reply opening with `B.` / `B)` / `(B)`, or
    one lone `(B)` in the text. Otherwise the one option whose text the reply contains as
    whole words (an option inside a longer named option does not count); otherwise None.
    """
    letters = LETTERS[: len(options)]
    if not letters:
        return None
    # an upper-case letter closed by a bracket, punctuation or the end: "(B)", "B.", "B", not "A key"
    letter = rf"(?:\(([{letters}])\)|([{letters}])(?=\s*$|[.):]))"
    for pattern in (
        rf"(?i:\banswer\b)\s*(?:(?i:is)\s*)?[:：]?\s*{letter}",  # "Answer: B", "answer is (B)"
        rf"^\s*{letter}",  # the whole reply, or a reply opening "B." / "B)" / "(B)"
    ):
        found = re.search(pattern, text)
        if found:
            return letters.index(found.group(1) or found.group(2))
    bracketed = set(re.findall(rf"\(([{letters}])\)", text))
    if len(bracketed) == 1:
        return letters.index(bracketed.pop())
    return _named_option(text, options)


def _named_option(text: str, options: list[str]) -> int | None:
    """The one option whose text appears in `text` as whole words, ignoring case."""
    lowered = text.casefold()
    folded = [option.strip().casefold() for option in options]
    named = [
        i
        for i, option in enumerate(folded)
        if option and re.search(rf"(?<!\w){re.escape(option)}(?!\w)", lowered)
    ]
    # a reply naming "aspirin and caffeine" also contains the option "aspirin": keep the longer
    named = [
        i
        for i in named
        if not any(folded[i] != folded[j] and folded[i] in folded[j] for j in named)
    ]
    return named[0] if len(named) == 1 else None


class BiomedQA(BioMedGPTQATool):
    """Answers a biomedical question (optionally multiple choice or about a passage) with BioMedGPT."""

    name: str = "BiomedQA"
    description: str = (
        "Ask BioMedGPT, a language model trained on biomedical literature, a biomedical or clinical "
        "question that does not hinge on one specific molecule or protein structure. Optionally give "
        "answer options for a multiple-choice question (the chosen option is named in the answer) "
        "or a passage such as a PubMed abstract to answer from. Returns the answer and whether it "
        "was computed now or remembered. It has no internet access and can be wrong: verify "
        "important claims."
    )
    args_schema: type[BaseModel] = BiomedQAInput

    def prepare(
        self,
        question: str,
        options: list[str] | None = None,
        context: str | None = None,
        fresh: bool = False,
        **_: Any,
    ) -> PreparedQuestion:
        return PreparedQuestion(
            kind="text",
            key=text_key(context, options),
            question=question,
            model_question=GenerationRequest(
                question=render_question(question, options, context),
                max_new_tokens=self.services.settings.max_new_tokens,
            ),
            fresh=fresh,
            display_name=question[:120],
            options=options,
            context=context,
        )

    async def aprepare(self, **arguments: Any) -> PreparedQuestion:
        return self.prepare(**arguments)  # no I/O before the model

    def finish_answer(self, prepared: PreparedQuestion, text: str) -> str:
        if not prepared.options:
            return text
        index = chosen_option(text, prepared.options)
        if index is None:
            return f"{text}\n(The answer names none of the options clearly.)"
        return f"({LETTERS[index]}) {prepared.options[index]}. Model output: {text}"
