"""The resolver cache's key layout: spelled by cache_keys.py alone, and shared between single
lookups and the bulk batches (a molecule found by name answers a later CID batch from cache)."""

from __future__ import annotations

import ast
from pathlib import Path

import biomedgpt_tools.resolvers as resolvers_package
from biomedgpt_tools.resolvers.cache_keys import (
    accession_key,
    cid_key,
    cid_lookup_keys,
    molecule_key,
    molecule_lookup_keys,
    protein_key,
)
from biomedgpt_tools.resolvers.identifiers import detect_molecule_query, detect_protein_query


def test_key_layout_is_the_on_disk_format():
    # a change here orphans every cached answer: change it only with a cache migration
    assert molecule_key("name", "aspirin") == "molecule:name:aspirin"
    assert molecule_key("name", "aspirin", "full") == "molecule:name:aspirin:full"
    assert cid_key(2244, "basic") == "molecule:cid:2244:basic"
    assert cid_lookup_keys(2244) == [
        "molecule:cid:2244:basic",
        "molecule:cid:2244:full",
        "molecule:cid:2244",
    ]
    assert molecule_lookup_keys("name", "aspirin", details=True) == [
        "molecule:name:aspirin:full",
        "molecule:name:aspirin",
    ]
    assert protein_key("gene", "tp53", "9606") == "protein:gene:tp53:9606"
    assert accession_key("P04637") == "protein:accession:P04637:"
    # a raw sequence is answered as given, never cached; its key keeps the layout all the same
    sequence = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"
    assert detect_protein_query(sequence).cache_key == f"protein:sequence:{sequence}:"


def test_queries_build_their_keys_from_the_builders():
    assert detect_molecule_query("Aspirin").cache_key == molecule_key("name", "aspirin")
    assert detect_molecule_query("CID 2244").cache_key == cid_key(2244)
    assert detect_protein_query("P04637").cache_key == accession_key("P04637")
    assert detect_protein_query("TP53 human").cache_key == protein_key("gene", "tp53", "9606")


def test_a_single_lookup_answers_the_batches_from_cache(make_resolver, resolver_server):
    resolver = make_resolver()
    aspirin = resolver.molecule("aspirin", details=False)
    p53 = resolver.protein("TP53 human")
    resolver_server.clear_requests()
    assert resolver.molecules_by_cid([aspirin.cid])[aspirin.cid].cid == aspirin.cid
    assert resolver.proteins_by_accession([p53.accession])[p53.accession].accession == "P04637"
    assert resolver_server.requests == []  # both batches read the aliases the lookups wrote


def _key_literals(tree: ast.AST) -> list[int]:
    """Lines of string literals and f-strings that start spelling a cache key."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            text = first.value if isinstance(first, ast.Constant) else ""
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if isinstance(text, str) and text.startswith(("molecule:", "protein:")):
            lines.append(node.lineno)
    return lines


def test_no_other_resolver_module_spells_a_key():
    folder = Path(resolvers_package.__file__).parent
    spelled = {
        path.name: lines
        for path in sorted(folder.glob("*.py"))
        if path.name != "cache_keys.py"
        and (lines := _key_literals(ast.parse(path.read_text(), str(path))))
    }
    assert spelled == {}, f"cache keys spelled outside cache_keys.py (file: lines): {spelled}"
