"""Routing accuracy: does the agent send a question to the right tools, for the right entities?

Not measured by the paper. The routing set (evals/data/routing_set.jsonl, written with the
agent) has one JSON object per line: `question`, the expected `tools` in call order and
the expected `entities` texts, and optionally `split` ("dev": seen while the rules were
tuned; "held_out": written with the rest but never used for tuning). A router is any
callable question -> (tools, entities).

The rule router confirms names through the resolvers (agents/verification.py): against the
services only when BIOMEDGPT_PUBCHEM_URL and BIOMEDGPT_UNIPROT_URL name them (the resolvers'
test server, `python -m biomedgpt_tools.testing.resolver_server`), otherwise offline on the cache and the
bundled snapshot, where names outside the snapshot are not confirmed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from evals.assistant.gold_rows import gold_rows
from evals.loaders.errors import DataFormatError

ROUTING_SET = Path(__file__).resolve().parents[1] / "data" / "routing_set.jsonl"
Router = Callable[[str], tuple[list[str], list[str]]]


@dataclass(frozen=True)
class RoutingCase:
    question: str
    tools: list[str]
    entities: list[str]
    split: str = "dev"


@dataclass
class RoutingScores:
    n: int
    exact: float  # tools and entities both exactly as expected, in order
    tools_exact: float  # the tool list exactly as expected
    tool_precision: float  # over all (tool, count) predictions, micro-averaged
    tool_recall: float
    misses: list[dict] = field(default_factory=list)
    by_split: dict[str, float] = field(default_factory=dict)  # exact, per split

    def as_dict(self) -> dict:
        return asdict(self)


def load_routing_set(path: str | Path = ROUTING_SET) -> list[RoutingCase]:
    cases = []
    for where, row in gold_rows(path, "routing set"):
        try:
            cases.append(
                RoutingCase(
                    row["question"],
                    list(row["tools"]),
                    list(row.get("entities", [])),
                    str(row.get("split", "dev")),
                )
            )
        except (KeyError, TypeError) as error:
            raise DataFormatError(
                f'{where}: expected {{"question", "tools": [...], "entities": [...]}} ({error})'
            ) from None
    if not cases:
        raise DataFormatError(f"{path}: no routing cases")
    return cases


def _multiset_overlap(expected: Sequence[str], predicted: Sequence[str]) -> int:
    remaining = list(expected)
    hits = 0
    for tool in predicted:
        if tool in remaining:
            remaining.remove(tool)
            hits += 1
    return hits


def score_routing(cases: Sequence[RoutingCase], router: Router) -> RoutingScores:
    if not cases:
        raise ValueError("no routing cases to score")
    exact = tools_exact = overlap = predicted_total = expected_total = 0
    misses = []
    split_hits: dict[str, list[int]] = {}
    for case in cases:
        tools, entities = router(case.question)
        tools_ok = list(tools) == case.tools
        entities_ok = list(entities) == case.entities
        tools_exact += tools_ok
        exact += tools_ok and entities_ok
        split_hits.setdefault(case.split, []).append(int(tools_ok and entities_ok))
        overlap += _multiset_overlap(case.tools, tools)
        predicted_total += len(tools)
        expected_total += len(case.tools)
        if not (tools_ok and entities_ok):
            misses.append({"question": case.question, "split": case.split,
                           "expected": [case.tools, case.entities], "got": [list(tools), list(entities)]})  # fmt: skip
    n = len(cases)
    return RoutingScores(
        n=n,
        exact=exact / n,
        tools_exact=tools_exact / n,
        tool_precision=overlap / predicted_total if predicted_total else 0.0,
        tool_recall=overlap / expected_total if expected_total else 0.0,
        misses=misses,
        by_split={split: sum(hits) / len(hits) for split, hits in sorted(split_hits.items())},
    )


def rule_router(verifier=None) -> Router:
    """The agent's rule-based router (agents/routing.py) as a Router, names confirmed by
    `verifier` (default: EntityVerifier.from_env(), see the module docstring)."""
    from agents.known_names import known_molecule_names
    from agents.routing import route_by_rules
    from agents.verification import EntityVerifier

    known = known_molecule_names()
    if verifier is None:
        verifier = EntityVerifier.from_env(known_molecule_names=known)

    def route(question: str) -> tuple[list[str], list[str]]:
        decision = route_by_rules(question, known, verifier)
        return [call.name for call in decision.tool_calls], [
            entity.text for entity in decision.entities
        ]

    return route
