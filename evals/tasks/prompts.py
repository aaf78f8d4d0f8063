"""How each evaluation item is asked: the request (and so the conversation) the model sees.

Molecule and protein items use the released weights' system text and attach their input
the way the reference does. Closed questions are text-only turns that list the options and
ask for `Answer: X`, the keyed form LMFlow's extraction looks for first. The exact wording
of LMFlow's PubMedQA/MedMCQA/USMLE inputs is not public in its code (the data files are
downloaded), so these templates are ours; `PROMPT_VERSION` is stored with every run so
cached predictions are never mixed across wordings.
"""

from __future__ import annotations

from biomedgpt_tools.model.prompt import Molecule, Protein, question_with_smiles_text
from biomedgpt_tools.model.requests import GenerationRequest
from evals.tasks.items import CaptionItem, ChoiceItem

PROMPT_VERSION = "2026-11-22.1"

YES_NO_MAYBE_INSTRUCTION = 'Answer with yes, no or maybe, in the form "Answer: yes".'
OPTIONS_INSTRUCTION = 'Answer with the letter of the correct option, in the form "Answer: A".'


def choice_question_text(item: ChoiceItem) -> str:
    """The Human message of a closed question (context, question, options, instruction)."""
    parts = []
    if item.context:
        parts.append(f"Context: {item.context}")
    parts.append(f"Question: {item.question}")
    if list(item.options) == ["yes", "no", "maybe"]:
        parts.append(YES_NO_MAYBE_INSTRUCTION)
    else:
        parts.append(
            "Options:\n" + "\n".join(f"{label}. {text}" for label, text in item.options.items())
        )
        parts.append(OPTIONS_INSTRUCTION)
    return "\n".join(parts)


def request_for(
    item: CaptionItem | ChoiceItem, system: str | None = None, molecule_input: str = "graph"
) -> GenerationRequest:
    """The one-turn request for an item; `system=None` keeps the model's released system text.

    `molecule_input` says how an attached molecule is shown: `graph` (soft tokens, the
    model's own way), `smiles-text` (its SMILES written into the question, no soft tokens)
    or `none` (left out: what the model says with no molecule at all, the captions' prior).
    """
    if isinstance(item, CaptionItem):
        question = item.question
        inputs = []
        for attached in item.inputs:
            if attached.kind == "protein":
                inputs.append(Protein(attached.value))
            elif molecule_input == "graph":
                inputs.append(Molecule(attached.value))
            elif molecule_input == "smiles-text":
                question = question_with_smiles_text(attached.value, question)
        return GenerationRequest(question=question, inputs=inputs, system=system)
    return GenerationRequest(question=choice_question_text(item), system=system)
