"""Issue 14: a SMILES query is parsed by RDKit once while it is classified and canonicalised."""

from __future__ import annotations

from rdkit import Chem

from biomedgpt_tools.resolvers.identifiers import detect_molecule_query


def test_a_smiles_query_is_parsed_once(monkeypatch):
    calls = []
    parse = Chem.MolFromSmiles

    def counting_parse(*args, **kwargs):
        calls.append(args[0])
        return parse(*args, **kwargs)

    monkeypatch.setattr(Chem, "MolFromSmiles", counting_parse)
    query = detect_molecule_query("OC(=O)c1ccccc1OC(C)=O")
    assert (query.kind, query.value) == ("smiles", "CC(=O)Oc1ccccc1C(=O)O")
    assert calls == ["OC(=O)c1ccccc1OC(C)=O"]
