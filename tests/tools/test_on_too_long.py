"""Proteins past the 1022 residues ESM-2 reads (issue 16): ProteinQA and bulk annotation
take `on_too_long`, and "truncate" gives the released model's reading of the first 1022."""

from __future__ import annotations

import random

from biomedgpt_tools.annotation.bulk import BulkAnnotator
from biomedgpt_tools.annotation.results import read_results
from biomedgpt_tools.model.protein_sequence import truncation_note
from tests.local_services import make_toolkit

LONG = "".join(random.Random(11).choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(1100))


def _invoke(tool, **args):
    return tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})


def test_protein_qa_truncates_as_the_reference_and_says_so(toolkit):
    protein_qa = toolkit.get_tools()[1]
    long = _invoke(protein_qa, protein=LONG, question="What does it do?", fresh=True)
    first = _invoke(protein_qa, protein=LONG[:1022], question="What does it do?", fresh=True)
    assert long.status == first.status == "success", long.content
    assert truncation_note(1100) in long.content  # the one wording generate and annotate use too
    assert "read the first" not in first.content
    assert long.artifact.answered_by == "model"
    assert long.artifact.answer == first.artifact.answer  # the model saw the same 1022 residues


def test_protein_qa_refuses_when_set_to_error(resolver_env, tiny_model):
    toolkit = make_toolkit(tiny_model, on_too_long="error")
    try:
        protein_qa = toolkit.get_tools()[1]
        refused = _invoke(protein_qa, protein=LONG)
        assert refused.status == "error"
        assert "1100 residues, more than the 1022" in refused.content
        assert "on_too_long='truncate'" in refused.content
        protein_qa.on_too_long = "truncate"  # the tool's own setting wins over the toolkit's
        assert _invoke(protein_qa, protein=LONG).status == "success"
    finally:
        toolkit.close()


def test_bulk_annotation_notes_truncation_or_fails_the_accession(
    resolver_env, tiny_model, tmp_path
):
    # P00722 (E. coli beta-galactosidase) has 1024 residues on the test server, insulin 110
    for mode in ("truncate", "error"):
        toolkit = make_toolkit(tiny_model, memory=False)
        try:
            out = tmp_path / f"{mode}.jsonl"
            BulkAnnotator(toolkit.services, ["name"], on_too_long=mode).run(
                ["P00722", "P01308"], out, progress=False
            )
        finally:
            toolkit.close()
        results = read_results(out)
        assert results["P01308"].status == "done" and not results["P01308"].message
        long = results["P00722"]
        if mode == "truncate":
            assert long.status == "done" and long.answers["name"] is not None
            assert truncation_note(1024) in long.message
        else:
            assert long.status == "failed" and long.answers == {}
            assert "1024 residues, more than the 1022" in long.message


def test_the_setting_comes_from_the_environment(monkeypatch):
    import pytest

    from biomedgpt_tools.services.settings import SettingsError, ToolkitSettings

    assert ToolkitSettings.from_env().on_too_long == "truncate"
    monkeypatch.setenv("BIOMEDGPT_ON_TOO_LONG", "error")
    assert ToolkitSettings.from_env().on_too_long == "error"
    monkeypatch.setenv("BIOMEDGPT_ON_TOO_LONG", "cut")
    with pytest.raises(SettingsError, match="BIOMEDGPT_ON_TOO_LONG='cut' .* use error or truncate"):
        ToolkitSettings.from_env()
