"""A thread saved before the assistant's state was typed still opens in the web page: its last
turn's resolve entries (facts kept flat beside the entry's fields, only the fields each had)
read as the current records, with the same cards."""

from __future__ import annotations

from agents.graph import open_assistant
from agents.records import resolved_from_saved
from agents.web.cards import molecule_card, protein_card
from agents.web.threads import thread_history

ASPIRIN_FACTS = {
    "cid": 2244,
    "formula": "C9H8O4",
    "molecular_weight": 180.16,
    "smiles": "CC(=O)OC1=CC=CC=C1C(=O)O",
    "inchikey": "BSYNRYMUTXBXSQ-UHFFFAOYSA-N",
    "record_source": "pubchem",
    "source_url": "https://pubchem.ncbi.nlm.nih.gov/compound/2244",
}
P53_FACTS = {
    "accession": "P04637",
    "entry_name": "P53_HUMAN",
    "organism": "Homo sapiens",
    "length": 393,
    "gene_names": ["TP53"],
    "record_source": "uniprot",
    "source_url": "https://rest.uniprot.org/uniprotkb/P04637",
}
# what agents/nodes.py `resolve` wrote before the typed state (95fc2bf)
OLD_RESOLVED = [
    {"tool": "MoleculeQA", "arg": "molecule", "query": "aspirin", "kind": "molecule",
     "key": ASPIRIN_FACTS["inchikey"], "display": "aspirin", **ASPIRIN_FACTS},
    {"tool": "ProteinQA", "arg": "protein", "query": "P04637", "kind": "protein",
     "key": "P04637", "display": "Cellular tumor antigen p53", **P53_FACTS},
    {"tool": "MoleculeQA", "arg": "molecule", "query": "unobtainium", "error": "not found"},
    {"tool": "BiomedQA"},
]  # fmt: skip


def test_old_entries_become_current_records():
    molecule, protein, failed, text = (resolved_from_saved(entry) for entry in OLD_RESOLVED)
    assert molecule["record"] == ASPIRIN_FACTS and molecule["key"] == ASPIRIN_FACTS["inchikey"]
    assert protein["record"] == P53_FACTS and protein["display"] == "Cellular tumor antigen p53"
    assert failed["error"] == "not found" and failed["record"] is None and failed["kind"] is None
    assert text == {
        "tool": "BiomedQA", "arg": None, "query": None, "kind": None, "key": None,
        "display": None, "error": None, "record": None,
    }  # fmt: skip
    assert resolved_from_saved(molecule) is molecule  # the current shape passes through


def test_the_history_of_an_old_thread_shows_its_cards(tmp_path):
    values = {
        "question": "What is aspirin? And P04637?",
        "answer": "Aspirin is a painkiller [1].",
        "sources": [{"n": 1, "type": "pubchem", "label": "PubChem CID 2244",
                     "url": ASPIRIN_FACTS["source_url"], "cid": 2244}],
        "resolved": OLD_RESOLVED,
        "router": "rules",
        "results": [{"name": "MoleculeQA", "args": {}, "content": "...", "artifact": None}],
        "turns": [{"question": "What is aspirin? And P04637?", "answer": "Aspirin is a painkiller [1]."}],
    }  # fmt: skip
    # the real graph on its SQLite checkpointer, the old turn written as its last node would have
    graph = open_assistant(threads_path=tmp_path / "threads.sqlite")
    graph.update_state({"configurable": {"thread_id": "thread-old"}}, values, as_node="remember")
    history = thread_history(graph, "thread-old")
    cards = history["last"]["cards"]
    assert [card["kind"] for card in cards] == ["molecule", "protein", "error"]
    assert {k: v for k, v in cards[0].items() if k != "call"} == molecule_card(
        "aspirin", 2244, "C9H8O4", ASPIRIN_FACTS["inchikey"], ASPIRIN_FACTS["smiles"], 180.16,
        "pubchem",
    )  # fmt: skip
    assert {k: v for k, v in cards[1].items() if k != "call"} == protein_card(
        "P04637", "Cellular tumor antigen p53", "P53_HUMAN", "Homo sapiens", 393, ["TP53"],
        "uniprot",
    )  # fmt: skip
    assert cards[2]["message"] == "not found"
    assert history["turns"] == [{"question": values["question"], "answer": values["answer"]}]
