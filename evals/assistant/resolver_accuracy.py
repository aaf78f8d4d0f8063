"""Resolver accuracy on a gold set of names and identifiers (not measured by the paper).

The gold set (evals/data/resolver_gold.jsonl: names, synonyms, CIDs, SMILES, InChIKeys,
accessions, entry names, gene + organism, from public PubChem/UniProt facts) is JSON lines
`{"kind": "molecule"|"protein", "query": ..., "expected": ...}` (expected: the PubChem CID
or UniProt accession as a string, or null when the query must not resolve). A resolver is any callable (kind, query) -> identifier, raising LookupError
when nothing matches; any other exception counts as an error, not as a wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from evals.assistant.gold_rows import gold_rows
from evals.loaders.errors import DataFormatError

ResolveFunction = Callable[[str, str], str]


@dataclass(frozen=True)
class ResolverCase:
    kind: Literal["molecule", "protein"]
    query: str
    expected: str | None


@dataclass
class ResolverScores:
    n: int
    accuracy: float  # right identifier, or correctly not found
    wrong: int  # resolved to another identifier (or resolved what should not resolve)
    not_found: int  # LookupError where an identifier was expected
    errors: int  # any other exception (network, server, bug)
    by_kind: dict[str, float] = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def case_from_mapping(row: dict, where: str) -> ResolverCase:
    if row.get("kind") not in ("molecule", "protein") or not isinstance(row.get("query"), str):
        raise ValueError(f"{where}: needs kind molecule|protein and a query string")
    expected = row.get("expected")
    return ResolverCase(row["kind"], row["query"], None if expected is None else str(expected))


def score_resolver(cases: Sequence[ResolverCase], resolve: ResolveFunction) -> ResolverScores:
    if not cases:
        raise ValueError("no resolver cases to score")
    right, wrong, not_found, errors = 0, 0, 0, 0
    per_kind: dict[str, list[bool]] = {}
    failures = []
    for case in cases:
        try:
            got: str | None = str(resolve(case.kind, case.query))
            outcome = "right" if got == case.expected else "wrong"
        except LookupError:
            got = None
            outcome = "right" if case.expected is None else "not_found"
        except Exception as error:  # noqa: BLE001 - every other failure is counted, not raised
            got, outcome = f"{type(error).__name__}: {error}", "error"
        right += outcome == "right"
        wrong += outcome == "wrong"
        not_found += outcome == "not_found"
        errors += outcome == "error"
        per_kind.setdefault(case.kind, []).append(outcome == "right")
        if outcome != "right":
            failures.append({"kind": case.kind, "query": case.query, "expected": case.expected,
                             "got": got, "outcome": outcome})  # fmt: skip
    return ResolverScores(
        n=len(cases),
        accuracy=right / len(cases),
        wrong=wrong,
        not_found=not_found,
        errors=errors,
        by_kind={kind: sum(oks) / len(oks) for kind, oks in per_kind.items()},
        failures=failures,
    )


GOLD_SET = Path(__file__).resolve().parents[1] / "data" / "resolver_gold.jsonl"


def load_gold_set(path: str | Path = GOLD_SET) -> list[ResolverCase]:
    cases = []
    for where, row in gold_rows(path, "resolver gold set"):
        try:
            cases.append(case_from_mapping(row, where))
        except ValueError as error:
            raise DataFormatError(str(error)) from None
    if not cases:
        raise DataFormatError(f"{path}: no cases")
    return cases


def resolve_function(resolver) -> ResolveFunction:
    """A `biomedgpt_tools.resolvers.Resolver` as a ResolveFunction: CID or accession.

    Not found becomes LookupError; ambiguous, obsolete, unavailable and other resolver
    errors stay exceptions and are counted as errors.
    """
    from biomedgpt_tools.resolvers import NotFoundError

    def resolve(kind: str, query: str) -> str:
        try:
            if kind == "molecule":
                return str(resolver.molecule(query, details=False).cid)
            return str(resolver.protein(query).accession)
        except NotFoundError as error:
            raise LookupError(str(error)) from None

    return resolve
