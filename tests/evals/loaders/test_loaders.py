"""Loaders of PubMedQA, MedMCQA, MedQA-USMLE and UniProtQA-format files."""

from __future__ import annotations

import json
import warnings
from collections import Counter

import pytest

from evals.loaders.errors import DataFormatError
from evals.loaders.medmcqa import medmcqa_items
from evals.loaders.medqa import medqa_items
from evals.loaders.pubmedqa import pubmedqa_items
from evals.loaders.uniprotqa import question_type, read_sequence_map, uniprotqa_items


def _jsonl(path, records):
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


# -- PubMedQA ---------------------------------------------------------------------------------


@pytest.mark.needs_shared_data
def test_pubmedqa_test_set_is_the_500_ground_truth_pmids(shared_data):
    items = pubmedqa_items(shared_data / "pubmedqa")
    assert len(items) == 500
    truth = json.loads((shared_data / "pubmedqa" / "test_ground_truth.json").read_text())
    assert [i.item_id for i in items] == list(truth)
    assert Counter(i.answer for i in items) == Counter(truth.values())
    assert all(i.context and i.question.endswith("?") for i in items[:20])
    # The path of ori_pqal.json works too.
    assert len(pubmedqa_items(shared_data / "pubmedqa" / "ori_pqal.json")) == 500


def _pubmedqa_folder(tmp_path, decision="yes", truth="yes"):
    folder = tmp_path / "pq"
    folder.mkdir()
    record = {"QUESTION": "Does X help?", "CONTEXTS": ["First part.", "Second part."],
              "LABELS": ["A", "B"], "final_decision": decision, "LONG_ANSWER": "It does."}  # fmt: skip
    (folder / "ori_pqal.json").write_text(json.dumps({"101": record}))
    (folder / "test_ground_truth.json").write_text(json.dumps({"101": truth}))
    return folder


def test_pubmedqa_contexts_are_joined_and_long_answer_left_out(tmp_path):
    (item,) = pubmedqa_items(_pubmedqa_folder(tmp_path))
    assert item.context == "First part. Second part."
    assert "It does." not in item.context
    assert item.options == {"yes": "yes", "no": "no", "maybe": "maybe"}


def test_pubmedqa_disagreeing_files_are_refused(tmp_path):
    with pytest.raises(DataFormatError, match="same release"):
        pubmedqa_items(_pubmedqa_folder(tmp_path, decision="no", truth="yes"))


# -- MedMCQA ----------------------------------------------------------------------------------


def _medmcqa_record(i, cop):
    return {"id": f"q{i}", "question": f"Question {i}?", "opa": "alpha", "opb": "beta",
            "opc": "gamma", "opd": "delta", "cop": cop, "choice_type": "single",
            "exp": "", "subject_name": "Anatomy", "topic_name": "x"}  # fmt: skip


def test_medmcqa_one_based_cop_is_detected(tmp_path):
    path = _jsonl(
        tmp_path / "dev.json", [_medmcqa_record(i, cop) for i, cop in enumerate([1, 4, 2])]
    )
    items, base = medmcqa_items(path)
    assert base == 1
    assert [i.answer for i in items] == ["A", "D", "B"]
    assert items[0].options == {"A": "alpha", "B": "beta", "C": "gamma", "D": "delta"}


def test_medmcqa_zero_based_cop_is_detected(tmp_path):
    path = _jsonl(
        tmp_path / "dev.json", [_medmcqa_record(i, cop) for i, cop in enumerate([0, 3, "2"])]
    )
    items, base = medmcqa_items(path)
    assert base == 0
    assert [i.answer for i in items] == ["A", "D", "C"]


def test_medmcqa_ambiguous_cop_warns_and_assumes_one_based(tmp_path):
    path = _jsonl(
        tmp_path / "dev.json", [_medmcqa_record(i, cop) for i, cop in enumerate([1, 2, 3])]
    )
    with pytest.warns(UserWarning, match="assuming the original release's 1-based"):
        items, base = medmcqa_items(path)
    assert base == 1 and [i.answer for i in items] == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("cops", "message"), [([0, 4], "neither 0-based nor 1-based"), ([5], "not an option index")]
)
def test_medmcqa_impossible_cop_is_refused(tmp_path, cops, message):
    path = _jsonl(tmp_path / "dev.json", [_medmcqa_record(i, c) for i, c in enumerate(cops)])
    with warnings.catch_warnings(), pytest.raises(DataFormatError, match=message):
        warnings.simplefilter("ignore")
        medmcqa_items(path)


def test_medmcqa_bad_json_names_the_line(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(_medmcqa_record(0, 1)) + "\n{not json\n")
    with pytest.raises(DataFormatError, match="dev.json:2"):
        medmcqa_items(path)


# -- MedQA-USMLE ------------------------------------------------------------------------------


def _medqa_record(answer_idx="C", options=None):
    options = options or {"A": "Aspirin", "B": "Heparin", "C": "Warfarin", "D": "Alteplase"}
    return {"question": "A 60-year-old man ...?", "answer": options.get(answer_idx, "?"),
            "options": options, "meta_info": "step1", "answer_idx": answer_idx}  # fmt: skip


def test_medqa_four_options(tmp_path):
    (item,) = medqa_items(_jsonl(tmp_path / "test.jsonl", [_medqa_record()]))
    assert item.answer == "C" and list(item.options) == ["A", "B", "C", "D"]


def test_fixing_a_bad_line_keeps_every_other_items_id(tmp_path):
    """Ids without an `id` field follow the file's lines: fixing line 2 must not rename line 3."""
    records = [_medqa_record() | {"question": f"Question {i}?"} for i in range(3)]
    lines = [json.dumps(r) for r in records]
    path = tmp_path / "test.jsonl"
    path.write_text("\n".join([lines[0], '{"question": "broken"', lines[2]]) + "\n")
    before = medqa_items(path, line_errors=[])
    path.write_text("\n".join(lines) + "\n")
    after = medqa_items(path, line_errors=[])
    assert [(i.item_id, i.question) for i in before] == [("1", "Question 0?"), ("3", "Question 2?")]
    assert [(i.item_id, i.question) for i in after] == [
        ("1", "Question 0?"),
        ("2", "Question 1?"),
        ("3", "Question 2?"),
    ]


def test_medmcqa_ids_follow_the_lines_too(tmp_path):
    records = [
        {k: v for k, v in _medmcqa_record(i, c).items() if k != "id"}
        for i, c in enumerate([1, 4, 4])
    ]
    path = tmp_path / "dev.json"
    path.write_text("\n".join([json.dumps(records[0]), "not json", json.dumps(records[2])]) + "\n")
    items, _ = medmcqa_items(path, line_errors=[])
    assert [(i.item_id, i.question) for i in items] == [("1", "Question 0?"), ("3", "Question 2?")]


def test_medqa_five_option_release_is_refused(tmp_path):
    options = {"A": "a", "B": "b", "C": "c", "D": "d", "E": "e"}
    with pytest.raises(DataFormatError, match="4-option release"):
        medqa_items(_jsonl(tmp_path / "test.jsonl", [_medqa_record("A", options)]))


def test_medqa_answer_text_must_match_answer_idx(tmp_path):
    record = _medqa_record()
    record["answer"] = "Aspirin"
    with pytest.raises(DataFormatError, match="differs from option C"):
        medqa_items(_jsonl(tmp_path / "test.jsonl", [record]))


# -- UniProtQA --------------------------------------------------------------------------------

SEQUENCES = {
    "P69905": "MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYF",
    "P01308": "MALWMRLLPLLALLALWGPDPAAA",
}
QUESTIONS = {
    "function": "What is the function of this protein?",
    "official name": "What is the official name of this protein?",
    "protein family": "What is the protein family that this protein belongs to?",
    "subcellular location": "What are the subcellular locations of this protein?",
}


def _uniprot_records():
    return [
        {"protein_accession": [accession], "question": question, "answer": f"{kind} of {accession}"}
        for accession in SEQUENCES
        for kind, question in QUESTIONS.items()
    ]


@pytest.mark.parametrize("layout", ["json_list", "jsonl", "wrapped"])
def test_uniprotqa_believed_shape_with_json_sequence_map(tmp_path, layout):
    records = _uniprot_records()
    path = tmp_path / "test.json"
    if layout == "json_list":
        path.write_text(json.dumps(records))
    elif layout == "jsonl":
        _jsonl(path, records)
    else:
        path.write_text(json.dumps({"test": records}))
    (tmp_path / "seqs.json").write_text(json.dumps(SEQUENCES))
    items = uniprotqa_items(path, tmp_path / "seqs.json")
    assert len(items) == 8
    assert Counter(i.group for i in items) == Counter({kind: 2 for kind in QUESTIONS})
    first = items[0]
    assert first.inputs[0].kind == "protein" and first.inputs[0].value == SEQUENCES["P69905"]
    assert first.reference == "function of P69905"
    assert len({i.item_id for i in items}) == 8


def test_uniprotqa_fasta_and_tsv_maps_and_string_accessions(tmp_path):
    fasta = tmp_path / "seqs.fasta"
    fasta.write_text(
        ">sp|P69905|HBA_HUMAN Hemoglobin\nMVLSPADKTN\nVKAAWGKVGA\n>P01308\nMALWMRLLPL\n"
    )
    assert read_sequence_map(fasta) == {"P69905": "MVLSPADKTNVKAAWGKVGA", "P01308": "MALWMRLLPL"}
    tsv = tmp_path / "seqs.tsv"
    tsv.write_text("P69905\tMVLS\n")
    assert read_sequence_map(tsv) == {"P69905": "MVLS"}
    records = tmp_path / "r.jsonl"
    _jsonl(
        records, [{"protein_accession": "P69905", "question": QUESTIONS["function"], "answer": "x"}]
    )
    (item,) = uniprotqa_items(records, tsv)
    assert item.inputs[0].value == "MVLS"


def test_uniprotqa_inline_sequence_and_declared_type(tmp_path):
    records = _jsonl(tmp_path / "r.jsonl", [
        {"sequence": "MKT", "question": "Tell me about it.", "answer": "x", "question_type": "protein_family"},
    ])  # fmt: skip
    (item,) = uniprotqa_items(records)
    assert item.group == "protein family" and item.inputs[0].value == "MKT"


def test_uniprotqa_missing_sequence_names_accession_and_option(tmp_path):
    records = _jsonl(
        tmp_path / "r.jsonl", [{"protein_accession": ["Q99999"], "question": "q?", "answer": "a"}]
    )
    with pytest.raises(DataFormatError, match="Q99999; pass --sequences"):
        uniprotqa_items(records)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        *[(q, k) for k, q in QUESTIONS.items()],
        ("Where is this protein located in the cell?", "subcellular location"),
        ("Which family does this protein belong to?", "protein family"),
        ("What is this protein called?", "official name"),
        ("What role does this protein play?", "function"),
        ("How long is it?", "other"),
    ],
)
def test_question_types(question, kind):
    assert question_type(question) == kind
