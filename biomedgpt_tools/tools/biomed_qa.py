"""BiomedQA: ask BioMedGPT's language model a biomedical question, open or multiple choice.

Multiple-choice questions are shown with lettered options and the answer is read the way the
paper's comparison protocol reads it (`answer: X`, else the first bare option letter), then
named by its option text so the calling LLM does not have to map letters back.
"""

from __future__ import annotations

import re
import string
from typing import Any

from pydantic import BaseModel

from biomedgpt_tools.tools.backend import ModelQuestion
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
    """Index of the option the model chose, or None when its text names none."""
    letters = LETTERS[: len(options)]
    explicit = re.search(
        rf"answer\s*(?:is)?\s*[:：]?\s*\(?([{letters}])\)?(?![A-Za-z])", text, re.IGNORECASE
    )
    if explicit:
        return letters.index(explicit.group(1).upper())
    bare = re.search(rf"(?<![A-Za-z])\(?([{letters}])\)?(?![A-Za-z])", text)
    if bare:
        return letters.index(bare.group(1))
    lowered = text.casefold()
    named = [i for i, option in enumerate(options) if option.casefold() in lowered]
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
            key=self.toolkit.text_key_for(context, options),
            question=question,
            model_question=ModelQuestion(
                question=render_question(question, options, context),
                max_new_tokens=self.toolkit.settings.max_new_tokens,
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
