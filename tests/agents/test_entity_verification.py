"""Genes, proteins and drugs named in words, confirmed by the resolvers' test server (issue 15)."""

from __future__ import annotations

import time

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.candidates import find_candidates
from agents.context import AssistantContext
from agents.graph import open_assistant
from agents.known_names import known_molecule_names
from agents.routing import route_by_llm, route_by_rules
from agents.session import AssistantSession
from agents.verification import EntityVerifier, time_budget_from_env
from biomedgpt_tools.environment import SettingsError
from biomedgpt_tools.resolvers.settings import ResolverSettings
from biomedgpt_tools.testing.resolver_server import Fault
from biomedgpt_tools.testing.scripted_chat_model import ScriptedChatModel, calling, tool_call
from tests.local_services import local_resolver_settings


@pytest.fixture
def verifier(resolver_env):
    """Names checked against the local server, in this test's own resolver cache."""
    verifier = EntityVerifier(
        local_resolver_settings(), known_molecule_names=known_molecule_names()
    )
    yield verifier
    verifier.close()


@pytest.fixture
def offline_verifier(resolver_env):
    settings = local_resolver_settings().with_changes(offline=True)
    verifier = EntityVerifier(settings, known_molecule_names=known_molecule_names())
    yield verifier
    verifier.close()


def routed(question: str, verifier) -> list[tuple[str, str]]:
    route = route_by_rules(question, known_molecule_names(), verifier)
    return [(c.name, next(iter(c.args.values()))) for c in route.tool_calls]


# -- the routing set -------------------------------------------------------------------------------
def test_rule_router_gets_at_least_95_percent_of_the_routing_set_exactly_right(verifier):
    """Scored by the harness itself (`python -m evals routing`) against the test server."""
    from evals.assistant.routing_accuracy import load_routing_set, rule_router, score_routing

    cases = load_routing_set()
    assert len(cases) >= 150
    scores = score_routing(cases, rule_router(verifier))
    assert scores.exact >= 0.95, f"accuracy {scores.exact:.3f}; misses: {scores.misses}"
    assert set(scores.by_split) == {"dev", "held_out"}


# -- what the issue names ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "calls"),
    [
        ("What does human KRAS do?", [("ProteinQA", "gene:KRAS organism:9606")]),
        ("What is the function of BRAF in mice?", [("ProteinQA", "gene:BRAF organism:10090")]),
        (
            "Tell me about MYC.",
            [("ProteinQA", "gene:MYC organism:9606")],
        ),  # human, the stated default
        ("Describe human myoglobin.", [("ProteinQA", "myoglobin in 9606")]),
        ("What is the mechanism of action of codeine?", [("MoleculeQA", "codeine")]),
        ("Is dimethylformamide toxic?", [("MoleculeQA", "dimethylformamide")]),
        (
            "Does ibuprofen inhibit PTGS2?",
            [("MoleculeQA", "ibuprofen"), ("ProteinQA", "gene:PTGS2 organism:9606")],
        ),
        (
            "What is the nucleocapsid protein of SARS-CoV-2?",
            [("ProteinQA", "nucleocapsid protein in 2697049")],
        ),
        ("Is potassium chloride safe?", [("MoleculeQA", "potassium chloride")]),
        ("What does mouse Kras do?", [("ProteinQA", "gene:Kras organism:10090")]),
        ("What does Kras in mouse do?", [("ProteinQA", "gene:Kras organism:10090")]),
        ("Is E. coli lacZ an enzyme?", [("ProteinQA", "gene:lacZ organism:83333")]),
        ("What is the role of rat Tp53?", [("ProteinQA", "gene:Tp53 organism:10116")]),
        ("Function of gene:TP53 organism:9606?", [("ProteinQA", "gene:TP53 organism:9606")]),
    ],
)
def test_names_in_words_reach_the_structure_tools(verifier, question, calls):
    assert routed(question, verifier) == calls


def test_the_tool_gets_the_record_the_name_was_confirmed_with(resolver_env, no_model_toolkit):
    outcome = _session(no_model_toolkit).ask("Describe human myoglobin.")
    resolved = [s for s in outcome.sources if s["type"] == "uniprot"]
    assert [s["accession"] for s in resolved] == ["P02144"]  # MYG_HUMAN, not the sperm whale's


@pytest.mark.parametrize(
    "question",
    [
        "Is COPD worse in smokers?",
        "How does RNA interference silence genes?",
        "What is an MRI used for?",
        "Are beta blockers safe in asthma?",
        "Does zinc deficiency impair wound healing?",
        "Is blood pressure higher in the morning?",
        "Should IV fluids be warmed?",
        "Do glucose levels predict outcome?",
        "Are statins effective after a stroke?",
    ],
)
def test_common_words_stay_text_questions(verifier, question):
    assert routed(question, verifier) == [("BiomedQA", question)]


@pytest.mark.parametrize(
    ("question", "none_of"),
    [
        ("Is blood pressure higher in the morning?", {"blood", "pressure", "blood pressure"}),
        ("Does zinc deficiency impair wound healing?", {"zinc"}),
        ("Does chronic obstructive pulmonary disease (COPD) shorten life?", {"COPD"}),
        ("What is an MRI used for?", {"MRI"}),
        ("Are statins effective?", {"statins"}),
        ("Does a kinase inhibitor help?", {"kinase"}),
    ],
)
def test_ordinary_words_cost_no_lookup(question, none_of):
    """WordNet, plurals, spelled-out acronyms and qualifiers set them aside before any request."""
    assert {c.text for c in find_candidates(question)} & none_of == set()


def test_a_name_the_knowledge_bases_do_not_know_is_not_an_entity(verifier, resolver_server):
    resolver_server.clear_requests()
    assert routed("Is frobnicazine toxic?", verifier) == [("BiomedQA", "Is frobnicazine toxic?")]
    assert any(
        "frobnicazine" in r.body for r in resolver_server.requests
    )  # it was asked, and said no


def test_a_name_the_person_calls_a_molecule_is_taken_as_said(verifier, resolver_server):
    """ "the molecule zorblaxium": no guess to check, so no lookup; the resolve step then says
    PubChem does not know it. A cue before an English word ("the drug prescription") is prose."""
    resolver_server.clear_requests()
    assert routed("Describe the molecule zorblaxium.", verifier) == [("MoleculeQA", "zorblaxium")]
    assert resolver_server.requests == []
    question = "Have antiepileptic drug prescription claims changed?"
    assert routed(question, verifier) == [("BiomedQA", question)]


def test_an_ambiguous_name_still_pauses_the_graph(resolver_env, no_model_toolkit):
    session = _session(no_model_toolkit)
    outcome = session.ask("What is alanine?")
    assert outcome.interrupt is not None
    assert {c["choice"] for c in outcome.interrupt["candidates"]} == {
        "CID 5950",
        "CID 602",
        "CID 71080",
    }


def test_a_mouse_style_symbol_without_organism_is_ambiguous(verifier):
    """`Kras` alone is searched in every organism; human KRAS and mouse Kras both match."""
    route = route_by_rules("What does Kras do?", known_molecule_names(), verifier)
    assert [c.args["protein"] for c in route.tool_calls] == ["gene:Kras"]


def test_a_rodent_symbol_in_several_organisms_pauses_the_graph(resolver_env, no_model_toolkit):
    outcome = _session(no_model_toolkit).ask("What does Tp53 do?")
    assert outcome.interrupt is not None
    assert {"P02340", "P10361"} <= {
        c["choice"] for c in outcome.interrupt["candidates"]
    }  # mouse, rat


# -- offline ---------------------------------------------------------------------------------------
def test_offline_snapshot_names_still_route(offline_verifier, resolver_server):
    resolver_server.clear_requests()
    assert routed("Describe aspirin.", offline_verifier) == [("MoleculeQA", "aspirin")]
    assert routed("Compare caffeine and ibuprofen", offline_verifier) == [
        ("MoleculeQA", "caffeine"),
        ("MoleculeQA", "ibuprofen"),
    ]
    assert resolver_server.requests == []


def test_offline_other_names_fall_back_to_biomedqa_with_a_note(offline_verifier, resolver_server):
    resolver_server.clear_requests()
    route = route_by_rules(
        "What is the mechanism of action of codeine?", known_molecule_names(), offline_verifier
    )
    assert [c.name for c in route.tool_calls] == ["BiomedQA"]
    assert len(route.notes) == 1 and "'codeine'" in route.notes[0] and "offline" in route.notes[0]
    assert resolver_server.requests == []


def test_offline_a_name_confirmed_online_before_is_found_in_the_cache(resolver_env):
    online = EntityVerifier(local_resolver_settings())
    offline = EntityVerifier(local_resolver_settings().with_changes(offline=True))
    try:
        assert routed("Describe codeine.", online) == [("MoleculeQA", "codeine")]
        assert routed("Describe codeine.", offline) == [("MoleculeQA", "codeine")]
    finally:
        online.close()
        offline.close()


def test_offline_the_assistant_answers_with_the_note(resolver_env, no_model_toolkit, monkeypatch):
    settings = no_model_toolkit.resolvers.settings.with_changes(offline=True)
    monkeypatch.setattr(no_model_toolkit.resolvers, "settings", settings)
    outcome = _session(no_model_toolkit).ask("Is dimethylformamide toxic?")
    assert [c["name"] for c in outcome.tool_calls] == ["BiomedQA"]
    assert "Note: 'dimethylformamide': could not be checked offline" in outcome.answer


# -- budgets and outages -------------------------------------------------------------------------------
MANY_DRUGS = (
    "Compare lisinopril, losartan, enalapril, warfarin, metoprolol, omeprazole, diazepam, "
    "fluoxetine, ketamine, lidocaine, tramadol and fentanyl."
)


def test_the_per_question_lookup_budget_holds(verifier, resolver_server):
    resolver_server.clear_requests()
    verified = verifier.verify(MANY_DRUGS)
    name_searches = [
        r for r in resolver_server.requests if r.path.endswith("/compound/name/cids/JSON")
    ]
    assert verified.lookups == len(name_searches) == 8  # 12 names, 8 lookups
    assert len(verified.entities) == 8
    assert any("budget of 8 lookups" in note for note in verified.notes)
    # each confirmed name: its CIDs, properties, synonyms, description (what the tool needs anyway)
    assert len(resolver_server.requests) <= 8 * 4


def test_a_smaller_budget_is_kept_too(resolver_env, resolver_server):
    small = EntityVerifier(local_resolver_settings(), max_lookups=3)
    try:
        resolver_server.clear_requests()
        assert small.verify(MANY_DRUGS).lookups == 3
        assert len([r for r in resolver_server.requests if "/name/cids/" in r.path]) == 3
    finally:
        small.close()


def test_the_budget_spends_no_lookup_on_names_the_cache_knows(verifier, resolver_server):
    verifier.verify("Describe codeine and warfarin.")
    resolver_server.clear_requests()
    again = verifier.verify("Describe codeine and warfarin.")
    assert [e.text for e in again.entities] == ["codeine", "warfarin"]
    assert again.lookups == 0 and resolver_server.requests == []


def test_slow_services_end_at_the_time_budget(resolver_env, resolver_server):
    quick = EntityVerifier(local_resolver_settings(), time_budget_s=0.5)
    assert quick.time_budget_s == 0.5  # the argument wins over the environment's 120 s
    fault_delay_s = 3.0
    try:
        quick.verify("Is water toxic?")  # WordNet loaded before the clock matters
        resolver_server.clear_requests()
        resolver_server.inject("pubchem", *[Fault.delay(fault_delay_s)] * 4)
        try:
            verified = quick.verify("Is dimethylformamide toxic?")
            returned = time.monotonic()
        finally:
            resolver_server.clear_faults()
        assert verified.entities == []
        assert any(
            "0.5 s lookup budget" in note or "could not be checked" in note
            for note in verified.notes
        )
    finally:
        quick.close(wait=True)  # the lookups still running have ended: nothing more can arrive
    late = [r.path for r in resolver_server.requests if r.time > returned + fault_delay_s]
    assert late == [], f"requests sent after the time budget was spent: {late}"


def test_a_spent_time_budget_stops_the_lookup_still_running(resolver_env, resolver_server):
    """Each answer takes 0.35 s: the name search and the properties fit in the 0.5 s budget's
    per-request deadline, but the lookup is still running when verify() returns. Once the time
    is up it sends no new request: at most the one already on its way arrives after the return
    (without the stop event, synonyms and description followed)."""
    quick = EntityVerifier(local_resolver_settings(), time_budget_s=0.5)
    try:
        quick.verify("Is water toxic?")  # WordNet loaded before the clock matters
        resolver_server.clear_requests()
        resolver_server.inject("pubchem", *[Fault.delay(0.35)] * 4)
        try:
            verified = quick.verify("Is dimethylformamide toxic?")
            returned = time.monotonic()
            quick.close(wait=True)  # the lookup still running has ended
        finally:
            resolver_server.clear_faults()
    finally:
        quick.close(wait=True)
    assert [c["why"] for c in verified.candidates] == ["time"]
    requests = resolver_server.requests
    assert any(r.path.endswith("/compound/name/cids/JSON") for r in requests)
    after_return = [r.path for r in requests if r.time > returned]
    assert len(after_return) <= 1, f"requests sent after the time budget was spent: {after_return}"


def test_a_time_budget_that_is_not_a_number_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("BIOMEDGPT_VERIFY_TIME_BUDGET_S", "soon")
    with pytest.raises(
        SettingsError, match=r"^BIOMEDGPT_VERIFY_TIME_BUDGET_S='soon' is not a number of seconds"
    ):
        time_budget_from_env()
    monkeypatch.setenv("BIOMEDGPT_VERIFY_TIME_BUDGET_S", "2.5")
    assert time_budget_from_env() == 2.5


def test_an_outage_during_verification_degrades_to_biomedqa_with_a_note(
    resolver_env, no_model_toolkit, resolver_server
):
    resolver_server.inject("pubchem", *[Fault.status(503)] * 20)
    resolver_server.inject("uniprot", *[Fault.status(503, html=True)] * 20)
    try:
        outcome = _session(no_model_toolkit).ask("Does dimethylformamide damage the liver?")
    finally:
        resolver_server.clear_faults()
    assert [c["name"] for c in outcome.tool_calls] == ["BiomedQA"]
    assert "Note: 'dimethylformamide': could not be checked" in outcome.answer


# -- the LLM router ------------------------------------------------------------------------------------
def test_the_llm_router_is_told_the_verified_entities(verifier, no_model_toolkit):
    question = "Does ibuprofen inhibit PTGS2?"
    verified = verifier.verify(question)
    model = ScriptedChatModel(
        script=[
            calling(
                tool_call("MoleculeQA", "c1", molecule="ibuprofen", question=question),
                tool_call("ProteinQA", "c2", protein="gene:PTGS2 organism:9606", question=question),
            )
        ]
    )
    route = route_by_llm(
        question, model, no_model_toolkit.get_tools(), "Route.", entities=verified.entities
    )
    system = model.seen[0][0].content
    assert "ProteinQA with protein='gene:PTGS2 organism:9606'" in system
    assert "MoleculeQA with molecule='ibuprofen'" in system
    assert [e.text for e in route.entities] == ["ibuprofen", "PTGS2"]


def test_the_graph_verifies_with_its_own_resolver_settings(resolver_env, no_model_toolkit):
    assert isinstance(no_model_toolkit.resolvers.settings, ResolverSettings)
    outcome = _session(no_model_toolkit).ask("Does ibuprofen inhibit PTGS2?")
    assert [(c["name"], next(iter(c["args"].values()))) for c in outcome.tool_calls] == [
        ("MoleculeQA", "ibuprofen"),
        ("ProteinQA", "gene:PTGS2 organism:9606"),
    ]
    assert {e["text"] for e in outcome.entities} == {"ibuprofen", "PTGS2"}


def _session(toolkit) -> AssistantSession:
    return AssistantSession(
        "t", AssistantContext(toolkit=toolkit), graph=open_assistant(InMemorySaver())
    )
