"""Deciding which tools answer a question.

The rule-based router is the default: it needs no LLM, takes well under a millisecond, and
its choices are explainable (one tool call per entity found). An LLM router can replace it
(see graph.py); when that router fails, these rules take over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.entities import Entity, find_entities
from agents.records import FocusRecord, ToolCallRecord

MOLECULE_TOOL = "MoleculeQA"
PROTEIN_TOOL = "ProteinQA"
TEXT_TOOL = "BiomedQA"


@dataclass(frozen=True)
class ToolCall:
    name: str
    args: dict

    def as_dict(self) -> ToolCallRecord:
        return ToolCallRecord(name=self.name, args=dict(self.args))


@dataclass
class Route:
    """The router's decision: the entities it saw and the tool calls it plans."""

    entities: list[Entity] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    router: str = "rules"
    notes: list[str] = field(default_factory=list)  # names that could not be checked, and why


def protein_query(entity: Entity) -> str:
    """The identifier form the protein resolver accepts for this entity (the verified query
    when verification.py confirmed it, so the lookup is a cache hit)."""
    if entity.query:
        return entity.query
    if entity.kind == "gene" and entity.organism:
        return f"gene:{entity.text} organism:{entity.organism}"
    return entity.text


def understand_question(
    question: str, known_molecule_names: frozenset[str] = frozenset(), verifier=None
) -> tuple[list[Entity], list[str]]:
    """(entities, notes): with a verifier (verification.py) names count only once PubChem or
    UniProt confirm them; without one, the shape detectors of entities.py alone decide."""
    question = question.strip()
    if verifier is None:
        return find_entities(question, known_molecule_names), []
    verified = verifier.verify(question)
    return verified.entities, verified.notes


def route_by_rules(
    question: str, known_molecule_names: frozenset[str] = frozenset(), verifier=None
) -> Route:
    """One MoleculeQA/ProteinQA call per entity, in question order; BiomedQA when none."""
    entities, notes = understand_question(question, known_molecule_names, verifier)
    return route_entities(question, entities, notes)


def route_entities(question: str, entities: list[Entity], notes: list[str] = ()) -> Route:
    """The rule router's plan for entities already found (and verified)."""
    question = question.strip()
    calls: list[ToolCall] = []
    seen: set[tuple[str, str]] = set()
    for entity in entities:
        if entity.modality == "molecule":
            call = ToolCall(
                MOLECULE_TOOL, {"molecule": entity.query or entity.text, "question": question}
            )
        else:
            call = ToolCall(PROTEIN_TOOL, {"protein": protein_query(entity), "question": question})
        key = (call.name, next(iter(call.args.values())))
        if key not in seen:
            seen.add(key)
            calls.append(call)
    if not calls:
        calls.append(ToolCall(TEXT_TOOL, {"question": question}))
    kept = []
    for entity in entities:  # one entity per distinct lookup, as the calls
        if all((e.kind, e.text, e.query) != (entity.kind, entity.text, entity.query) for e in kept):
            kept.append(entity)
    return Route(entities=kept, tool_calls=calls, router="rules", notes=list(notes))


# -- follow-ups ----------------------------------------------------------------------------------
# A question that names nothing but points back ("and what is its molecular weight?").
FOLLOW_UP_CUE = re.compile(
    r"\b(?:it|its|it's|this|that|these|those|they|them|their|the same|the molecule|the protein|"
    r"the compound|the drug)\b",
    re.IGNORECASE,
)
MOLECULE_WORDS = re.compile(r"\b(?:molecule|compound|drug|chemical)s?\b", re.IGNORECASE)
PROTEIN_WORDS = re.compile(r"\b(?:protein|enzyme|gene|receptor)s?\b", re.IGNORECASE)


def is_follow_up(question: str) -> bool:
    return bool(FOLLOW_UP_CUE.search(question))


def route_follow_up(question: str, focus: list[FocusRecord]) -> Route | None:
    """Tool calls for the previous turn's entities when the question points back; else None.

    `focus` holds the previous turn's tool calls (`{"tool", "arg", "query", "entity"}`).
    "this molecule" keeps only molecules, "this protein" only proteins.
    """
    question = question.strip()
    if not focus or not is_follow_up(question):
        return None
    wanted = list(focus)
    if MOLECULE_WORDS.search(question) and not PROTEIN_WORDS.search(question):
        wanted = [item for item in focus if item["tool"] == MOLECULE_TOOL] or wanted
    elif PROTEIN_WORDS.search(question) and not MOLECULE_WORDS.search(question):
        wanted = [item for item in focus if item["tool"] == PROTEIN_TOOL] or wanted
    calls = [
        ToolCall(item["tool"], {item["arg"]: item["query"], "question": question})
        for item in wanted
    ]
    entities = [
        Entity(
            kind=mention["kind"],
            text=mention["text"],
            start=-1,
            end=-1,
            organism=mention.get("organism"),
        )
        for mention in (item["entity"] for item in wanted)
        if mention
    ]
    return Route(entities=entities, tool_calls=calls, router="follow-up")


# -- the LLM router --------------------------------------------------------------------------------
class LLMRouterError(RuntimeError):
    """The chat model could not route this question (error, no tool call, unknown tool)."""


def route_by_llm(
    question: str,
    chat_model,
    tools,
    system_prompt: str,
    *,
    entities: list[Entity],
) -> Route:
    """Tool calls chosen by any LangChain chat model that supports `bind_tools`.

    The model only chooses; the tools still run here. Anything unusable (an exception, a
    reply without tool calls, a tool that does not exist, arguments that fail the tool's
    schema) raises LLMRouterError so the caller can fall back to the rules. `entities`:
    what the turn found (and verification confirmed) once, before routing; the model is told
    their resolved queries.
    """
    from langchain_core.messages import HumanMessage, SystemMessage
    from pydantic import ValidationError

    by_name = {tool.name: tool for tool in tools}
    if entities:
        system_prompt = system_prompt + "\n" + verified_entities_hint(entities)
    try:
        reply = chat_model.bind_tools(list(tools)).invoke(
            [SystemMessage(system_prompt), HumanMessage(question)]
        )
    except Exception as error:  # any provider failure: network, quota, parsing
        raise LLMRouterError(f"{type(error).__name__}: {error}") from error
    planned = list(getattr(reply, "tool_calls", None) or [])
    if not planned:
        raise LLMRouterError("the chat model answered without calling a tool")
    calls = []
    for planned_call in planned:
        tool = by_name.get(planned_call.get("name"))
        if tool is None:
            raise LLMRouterError(
                f"the chat model called an unknown tool {planned_call.get('name')!r}"
            )
        args = dict(planned_call.get("args") or {})
        try:
            tool.args_schema.model_validate(args)
        except ValidationError as error:
            raise LLMRouterError(f"bad arguments for {tool.name}: {error.errors()[:2]}") from error
        calls.append(ToolCall(tool.name, args))
    return Route(entities=list(entities), tool_calls=calls, router="llm")


def verified_entities_hint(entities: list[Entity]) -> str:
    """The router prompt's list of confirmed entities, with the argument each tool should get."""
    from agents.prompts import VERIFIED_ENTITIES_HINT

    lines = []
    for entity in entities:
        tool, argument = (
            (MOLECULE_TOOL, "molecule")
            if entity.modality == "molecule"
            else (PROTEIN_TOOL, "protein")
        )
        value = (
            entity.query or entity.text if entity.modality == "molecule" else protein_query(entity)
        )
        lines.append(f"- {entity.text!r}: {tool} with {argument}={value!r}")
    return VERIFIED_ENTITIES_HINT.format(entities="\n".join(lines))
