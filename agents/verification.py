"""Candidates become entities only when PubChem or UniProt confirm them.

`EntityVerifier.verify(question)` finds the identifiers (accessions, SMILES, CIDs... need no
confirmation, nor does a name the person calls a molecule: "the molecule X", "the drug X"),
then the candidate names (candidates.py), and looks the names up:

1. through the resolvers' cache and the bundled snapshot first, which costs no request;
2. the rest online (unless offline), in parallel, through the resolvers' shared rate budget,
   at most `max_lookups` lookups and `time_budget_s` seconds per question, likeliest first
   (BIOMEDGPT_VERIFY_TIME_BUDGET_S, default 6 s). When the time is up, the lookups still
   running send no further request: each checks the question's stop event before each one.

A gene symbol is looked up in the organism the question names, else in human (the stated
default), a mouse-style symbol without organism in any; a protein name in the organism, else
in human, then in any. What a lookup confirms becomes an Entity whose `query` is the exact
string it was confirmed with, so the resolve step and the tools hit the cache. An ambiguous
compound name stays an entity (the graph then asks which one); an ambiguous protein search
counts only if a candidate carries the very name or symbol. Anything not checked (offline
without a cached answer, a service down, the budget spent) is not an entity and gets a note.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from agents.candidates import (
    MOLECULE,
    PROTEIN,
    Candidate,
    chemical_word,
    find_candidates,
    said_about_something_else,
)
from agents.english import is_known_word
from agents.entities import MOLECULE_CUE, STOP_NAMES, Entity, find_entities

HUMAN = "9606"
DEFAULT_MAX_LOOKUPS = 8
DEFAULT_TIME_BUDGET_S = 6.0
TIME_BUDGET_ENV = "BIOMEDGPT_VERIFY_TIME_BUDGET_S"


def time_budget_from_env() -> float:
    """BIOMEDGPT_VERIFY_TIME_BUDGET_S (seconds, > 0), else 6 s: tests on a loaded machine set
    a generous one so that only the test about the budget depends on it."""
    from biomedgpt_tools.environment import SettingsError

    raw = os.environ.get(TIME_BUDGET_ENV, "").strip()
    if not raw:
        return DEFAULT_TIME_BUDGET_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not (math.isfinite(seconds) and seconds > 0):
        raise SettingsError(
            f"{TIME_BUDGET_ENV}={raw!r} is not a number of seconds above 0: use e.g. 6 (or unset it)"
        )
    return seconds


@dataclass
class Verification:
    """What one question names, confirmed, and what could not be checked."""

    entities: list[Entity] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lookups: int = 0  # lookups sent to the services (cache and snapshot answers are free)
    candidates: list[dict] = field(default_factory=list)  # per candidate: text, outcome


@dataclass(frozen=True)
class _Plan:
    modality: str  # MOLECULE or PROTEIN
    query: str  # the resolver query


def lookup_plans(candidate: Candidate) -> list[_Plan]:
    """The lookups that could confirm a candidate, in the order they are tried."""
    plans: list[_Plan] = []
    for modality in candidate.lookups:
        if modality == MOLECULE:
            plans.append(_Plan(MOLECULE, candidate.text))
        elif candidate.shape == "gene":
            organism = candidate.organism
            if organism is None and candidate.text.isupper():
                organism = HUMAN  # human symbols (KRAS); Kras, lacZ without organism: any organism
            query = f"gene:{candidate.text}" + (f" organism:{organism}" if organism else "")
            plans.append(_Plan(PROTEIN, query))
        else:
            plans.append(_Plan(PROTEIN, f"{candidate.text} in {candidate.organism or HUMAN}"))
            if candidate.organism is None:
                plans.append(_Plan(PROTEIN, f"protein:{candidate.text}"))
    return plans


def _entity_kind(candidate: Candidate, plan: _Plan) -> str:
    if plan.modality == MOLECULE:
        return "molecule_name"
    return "gene" if candidate.shape == "gene" else "protein_name"


def _ambiguity_confirms(candidate: Candidate, plan: _Plan, error) -> bool:
    """A compound name several CIDs carry is still that name; a protein search only counts
    when one candidate has exactly this symbol or name ("membrane protein" is a kind)."""
    if plan.modality == MOLECULE:
        return True
    wanted = candidate.text.casefold()
    for option in error.candidates:
        names = [g.casefold() for g in getattr(option, "gene_names", [])]
        if wanted in names or (getattr(option, "protein_name", None) or "").casefold() == wanted:
            return True
    return False


class _Budget:
    """At most `limit` lookups, handed out one at a time to the worker threads."""

    def __init__(self, limit: int):
        self.left, self.used, self._lock = limit, 0, threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.left <= 0:
                return False
            self.left -= 1
            self.used += 1
            return True


class _Stopped(Exception):
    """The question's time budget is spent: a lookup still running sends no further request."""


_running = threading.local()  # .stop: the stop event of the question this worker thread serves


class _StoppableTransport:
    """A service transport that refuses to send once the current question's stop event is set."""

    def __init__(self, transport):
        self._transport = transport

    def send(self, request):
        stop = getattr(_running, "stop", None)
        if stop is not None and stop.is_set():
            raise _Stopped()
        return self._transport.send(request)

    def __getattr__(self, name):  # close(), requests_sent, ...
        return getattr(self._transport, name)


class EntityVerifier:
    """Confirms candidate names through the resolvers (cache, snapshot, services), per question."""

    def __init__(
        self,
        resolver_settings=None,
        *,
        max_lookups: int = DEFAULT_MAX_LOOKUPS,
        time_budget_s: float | None = None,  # None: time_budget_from_env()
        known_molecule_names: frozenset[str] = frozenset(),
    ):
        from biomedgpt_tools.resolvers import Resolver, ResolverSettings

        settings = resolver_settings or ResolverSettings.from_env()
        self.offline = settings.offline
        self.max_lookups = max_lookups
        self.time_budget_s = time_budget_s if time_budget_s is not None else time_budget_from_env()
        self.known_molecule_names = known_molecule_names
        # the cache and the snapshot: never a request
        self.local = Resolver(settings.with_changes(offline=True))
        # the services: no lookup may outlive the question's time budget
        self.online = (
            None
            if settings.offline
            else Resolver(
                settings.with_changes(deadline_s=min(settings.deadline_s, self.time_budget_s))
            )
        )
        if self.online is not None:
            self.online.transports = {
                name: _StoppableTransport(t) for name, t in self.online.transports.items()
            }
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, max_lookups), thread_name_prefix="verify"
        )

    @classmethod
    def from_env(cls, **options) -> EntityVerifier:
        """Services only when BIOMEDGPT_PUBCHEM_URL and BIOMEDGPT_UNIPROT_URL both name them
        (a test server, a mirror); otherwise offline: the cache and the bundled snapshot."""
        import os

        from biomedgpt_tools.resolvers import ResolverSettings

        configured = os.environ.get("BIOMEDGPT_PUBCHEM_URL") and os.environ.get(
            "BIOMEDGPT_UNIPROT_URL"
        )
        settings = ResolverSettings.from_env()
        if not configured:
            settings = settings.with_changes(offline=True)
        return cls(settings, **options)

    def close(self, *, wait: bool = False) -> None:
        """`wait`: until lookups still running (past a question's time budget) have ended."""
        self._pool.shutdown(wait=wait, cancel_futures=True)
        self.local.close()
        if self.online is not None:
            self.online.close()

    # -- one question -------------------------------------------------------------------------
    def candidates(self, question: str, identifiers: list[Entity]) -> list[Candidate]:
        taken = [(e.start, e.end) for e in identifiers]
        found = find_candidates(question, taken)
        spans = taken + [(c.start, c.end) for c in found]

        def free(start: int, end: int) -> bool:
            return not any(start < e and s < end for s, e in spans)

        # words the caller knows are molecules
        extra = []
        if self.known_molecule_names:
            for match in re.finditer(r"[A-Za-z][A-Za-z0-9-]+", question):
                if (
                    match.group(0).lower() in self.known_molecule_names
                    and free(*match.span())
                    and not said_about_something_else(question, *match.span())
                ):
                    extra.append(
                        Candidate(
                            match.group(0), *match.span(), (MOLECULE,), "molecule_name", priority=0
                        )
                    )
                    spans.append(match.span())
        return sorted(found + extra, key=lambda c: c.start)

    @staticmethod
    def named_by_cue(question: str) -> list[Entity]:
        """ "the molecule zorblaxium", "the drug X": the person says what it is, so it is an
        entity unchecked (the resolve step then says if PubChem does not know it)."""
        named = []
        for match in MOLECULE_CUE.finditer(question):
            name = match.group(1)
            stated = re.search(
                r"(?:molecule|compound|drug|chemical)\s+(?:called\s+|named\s+)?$",
                question[: match.start(1)],
                re.IGNORECASE,
            )
            if (
                stated
                and name.lower() not in STOP_NAMES
                and (not is_known_word(name) or chemical_word(name))
                and not said_about_something_else(question, *match.span(1))
            ):
                named.append(Entity("molecule_name", name, *match.span(1)))
        return named

    def verify(self, question: str) -> Verification:
        from biomedgpt_tools.resolvers.outcomes import (
            AmbiguousError,
            OfflineError,
            ResolverError,
            UnavailableError,
        )

        identifiers = find_entities(question, names=False) + self.named_by_cue(question)
        candidates = self.candidates(question, identifiers)
        result = Verification(entities=list(identifiers))
        outcomes: dict[int, tuple[str, Entity | None, str]] = {}
        pending: list[tuple[int, Candidate, list[_Plan]]] = []

        def attempt(resolver, candidate: Candidate, plans: list[_Plan]):
            """('found', entity) / ('rejected', None) / ('unchecked', reason) + plans left."""
            for position, plan in enumerate(plans):
                try:
                    if plan.modality == MOLECULE:
                        resolver.molecule(plan.query)
                    else:
                        resolver.protein(plan.query)
                except AmbiguousError as error:
                    if _ambiguity_confirms(candidate, plan, error):
                        return "found", self._entity(candidate, plan), plans[position + 1 :]
                    continue
                except OfflineError:
                    return "unchecked", "offline", plans[position:]
                except UnavailableError as error:
                    return "unchecked", error.message, plans[position:]
                except ResolverError:
                    continue  # not found, obsolete, invalid: this reading is wrong
                return "found", self._entity(candidate, plan), plans[position + 1 :]
            return "rejected", None, []

        for index, candidate in enumerate(candidates):
            outcome, value, left = attempt(self.local, candidate, lookup_plans(candidate))
            if outcome == "unchecked" and self.online is not None:
                pending.append((index, candidate, left))
            else:
                outcomes[index] = (
                    outcome,
                    value if outcome == "found" else None,
                    value if outcome == "unchecked" else "",
                )

        if pending:
            budget = _Budget(self.max_lookups)
            started = time.monotonic()
            stop = threading.Event()  # set when the time is up: no lookup sends another request

            def online(candidate: Candidate, plans: list[_Plan]):
                _running.stop = stop
                try:
                    for plan in plans:
                        if stop.is_set() or time.monotonic() - started > self.time_budget_s:
                            return "unchecked", "time", []
                        if not budget.take():
                            return "unchecked", "budget", []
                        outcome, value, _ = attempt(self.online, candidate, [plan])
                        if outcome != "rejected":
                            return outcome, value, []
                    return "rejected", None, []
                except _Stopped:
                    return "unchecked", "time", []
                finally:
                    _running.stop = None

            ordered = sorted(pending, key=lambda item: (item[1].priority, item[1].start))
            futures = {
                self._pool.submit(online, candidate, plans): index
                for index, candidate, plans in ordered
            }
            done, not_done = wait(futures, timeout=self.time_budget_s)
            if not_done:
                stop.set()
            for future in not_done:
                future.cancel()
                outcomes[futures[future]] = ("unchecked", None, "time")
            for future in done:
                outcome, value, _ = future.result()
                outcomes[futures[future]] = (
                    outcome,
                    value if outcome == "found" else None,
                    value if outcome == "unchecked" else "",
                )
            result.lookups = budget.used

        unchecked: dict[str, list[str]] = {}
        for index, candidate in enumerate(candidates):
            outcome, entity, reason = outcomes[index]
            result.candidates.append(
                {"text": candidate.text, "outcome": outcome, **({"why": reason} if reason else {})}
            )
            if entity is not None:
                result.entities.append(entity)
            elif outcome == "unchecked":
                unchecked.setdefault(self._reason_text(reason), []).append(candidate.text)
        for reason, names in unchecked.items():
            quoted = ", ".join(repr(n) for n in dict.fromkeys(names))
            result.notes.append(f"{quoted}: {reason}, so not used as a molecule or protein")
        result.entities.sort(key=lambda e: e.start)
        return result

    @staticmethod
    def _entity(candidate: Candidate, plan: _Plan) -> Entity:
        organism = candidate.organism
        if organism is None and (
            plan.query.endswith(f"organism:{HUMAN}") or plan.query.endswith(f" in {HUMAN}")
        ):
            organism = HUMAN  # the stated default
        return Entity(
            _entity_kind(candidate, plan),
            candidate.text,
            candidate.start,
            candidate.end,
            organism=organism if plan.modality == PROTEIN else None,
            query=plan.query,
        )

    def _reason_text(self, reason: str) -> str:
        if reason == "offline":
            return (
                "could not be checked offline (neither in the resolver cache nor in the bundled "
                "snapshot; go online to look it up)"
            )
        if reason == "budget":
            return f"not checked: this question's budget of {self.max_lookups} lookups was spent"
        if reason == "time":
            return f"not checked within this question's {self.time_budget_s:g} s lookup budget"
        return f"could not be checked ({reason})"


_VERIFIERS: dict = {}
_VERIFIERS_LOCK = threading.Lock()
_MAX_VERIFIERS = 8


def verifier_for(
    resolver_settings, known_molecule_names: frozenset[str] = frozenset()
) -> EntityVerifier:
    """One verifier per resolver settings and time budget for the process (its resolvers and
    threads are reused)."""
    time_budget_s = time_budget_from_env()
    key = (resolver_settings, time_budget_s)
    with _VERIFIERS_LOCK:
        verifier = _VERIFIERS.get(key)
        if verifier is None:
            if len(_VERIFIERS) >= _MAX_VERIFIERS:
                _VERIFIERS.pop(next(iter(_VERIFIERS)))
            verifier = _VERIFIERS[key] = EntityVerifier(
                resolver_settings,
                time_budget_s=time_budget_s,
                known_molecule_names=known_molecule_names,
            )
        return verifier
