"""`python -m evals run` with a tiny BioMedGPT on small files in each dataset's official format.

The tiny model is random, so the scores are not the point: the tests check that every task
goes from its file format through batched generation (or option scoring) to metrics, that
the runner's prompts are what the model API generates from, and that the report collects it all.
"""

from __future__ import annotations

import json
import string

import pytest

pytest.importorskip("torch")

from biomedgpt_tools.model.api import BioMedGPT  # noqa: E402
from biomedgpt_tools.model.tiny import build_tiny_biomedgpt  # noqa: E402
from evals.__main__ import main  # noqa: E402
from evals.loaders.pubmedqa import pubmedqa_items  # noqa: E402
from evals.tasks.prompts import request_for  # noqa: E402

MAX_NEW_TOKENS = "6"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("evals-e2e")
    build_tiny_biomedgpt(root / "assets", seed=1).save_pretrained(root / "model")
    # A character-level WordPiece vocabulary: real pieces (not [UNK]) without ../shared.
    vocab = root / "vocab"
    vocab.mkdir()
    pieces = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *string.ascii_lowercase, *string.digits,
              *string.punctuation, *[f"##{c}" for c in string.ascii_lowercase + string.digits]]  # fmt: skip
    (vocab / "vocab.txt").write_text("\n".join(pieces) + "\n")
    _write_datasets(root)
    return root


def _write_datasets(root):
    (root / "chebi20.txt").write_text(
        "CID\tSMILES\tdescription\n"
        "176\tCC(=O)O\tThe molecule is a simple monocarboxylic acid.\n"
        "5281\tC/C=C\\\\C\tThe molecule is an alkene.\n"
        "702\tCCO\tThe molecule is a primary alcohol.\n"
        "999\tC1CC\tAn unclosed ring the model must refuse.\n"
    )
    records = [
        {"protein_accession": ["P01308"], "question": q, "answer": a}
        for q, a in [
            ("What is the function of this protein?", "Insulin decreases blood glucose."),
            ("What is the official name of this protein?", "Insulin"),
            (
                "What is the protein family that this protein belongs to?",
                "Belongs to the insulin family.",
            ),
            ("What are the subcellular locations of this protein?", "Secreted."),
        ]
    ]
    (root / "uniprotqa.json").write_text(json.dumps(records))
    (root / "sequences.json").write_text(json.dumps({"P01308": "MALWMRLLPLLALLALWGPDPAAAFVNQHLCG"}))
    (root / "pubmedqa").mkdir()
    pqal, truth = {}, {}
    for pmid, label in zip(["11", "12", "13", "14"], ["yes", "no", "maybe", "yes"], strict=True):
        pqal[pmid] = {"QUESTION": f"Does treatment {pmid} work?", "CONTEXTS": ["Background.", "Results."],
                      "LABELS": ["BACKGROUND", "RESULTS"], "MESHES": ["Humans"], "YEAR": "2001",
                      "reasoning_required_pred": label, "reasoning_free_pred": label,
                      "final_decision": label, "LONG_ANSWER": "Conclusion."}  # fmt: skip
        truth[pmid] = label
    (root / "pubmedqa" / "ori_pqal.json").write_text(json.dumps(pqal))
    (root / "pubmedqa" / "test_ground_truth.json").write_text(json.dumps(truth))
    medmcqa = [
        {"question": f"Which nerve {i}?", "opa": "Ulnar", "opb": "Radial", "opc": "Median", "opd": "Axillary",
         "cop": cop, "choice_type": "single", "exp": "", "subject_name": "Anatomy", "topic_name": "Arm",
         "id": f"m{i}"}
        for i, cop in enumerate([1, 4, 2])
    ]  # fmt: skip
    (root / "medmcqa_dev.json").write_text("\n".join(json.dumps(r) for r in medmcqa) + "\n")
    medqa = [
        {"question": f"A {40 + i}-year-old man has chest pain. Next step?", "answer": "ECG",
         "options": {"A": "ECG", "B": "MRI", "C": "Biopsy", "D": "Discharge"}, "meta_info": "step2&3",
         "answer_idx": "A"}
        for i in range(3)
    ]  # fmt: skip
    (root / "medqa_test.jsonl").write_text("\n".join(json.dumps(r) for r in medqa) + "\n")


def _run(workspace, task, data, *extra, code=0):
    out = (
        workspace / "runs" / "-".join([task, *[e.strip("-") for e in extra if e.startswith("--")]])
    )
    argv = ["run", task, "--model", str(workspace / "model"), "--data", str(workspace / data),
            "--out", str(out), "--batch-size", "2", "--max-new-tokens", MAX_NEW_TOKENS,
            "--vocab", str(workspace / "vocab"), "--quiet", *extra]  # fmt: skip
    assert main(argv) == code
    metrics = json.loads((out / "metrics.json").read_text())
    predictions = [
        json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()
    ]
    return out, metrics, predictions


def test_chebi20(workspace, capsys):
    out, metrics, predictions = _run(workspace, "chebi20", "chebi20.txt", code=1)  # 1: a refusal
    assert metrics["n_items"] == 4 and len(predictions) == 4
    assert metrics["n_refused"] == 1  # the unclosed ring, refused by the model API
    assert predictions[-1]["item_id"] == "999" and "C1CC" in predictions[-1]["error"]
    assert set(metrics["metrics"]["overall"]) == {
        "n",
        "bleu2",
        "bleu4",
        "rouge1",
        "rouge2",
        "rougeL",
        "meteor",
    }
    # The MolT5-format TSV rescored by `evals caption`, joined to ChEBI-20 by SMILES, agrees.
    capsys.readouterr()
    assert main(["caption", "--predictions", str(out / "predictions.tsv"), "--references",
                 str(workspace / "chebi20.txt"), "--vocab", str(workspace / "vocab"), "--json", "--quiet"]) == 0  # fmt: skip
    rescored = json.loads(capsys.readouterr().out)
    for key, value in metrics["metrics"]["overall"].items():
        assert rescored[key] == pytest.approx(value, abs=1e-9)


def test_uniprotqa_reports_each_question_type(workspace):
    _, metrics, predictions = _run(workspace, "uniprotqa", "uniprotqa.json", "--sequences",
                                   str(workspace / "sequences.json"))  # fmt: skip
    assert len(predictions) == 4
    assert set(metrics["metrics"]["by_group"]) == {
        "function",
        "official name",
        "protein family",
        "subcellular location",
    }
    assert all(scores["n"] == 1 for scores in metrics["metrics"]["by_group"].values())


def test_pubmedqa_outputs_are_what_the_model_api_generates(workspace):
    _, metrics, predictions = _run(workspace, "pubmedqa", "pubmedqa")
    overall = metrics["metrics"]["overall"]
    assert metrics["n_items"] == 4 and set(overall) == {
        "n",
        "accuracy",
        "macro_f1",
        "unmatched_rate",
    }
    model = BioMedGPT.from_pretrained(workspace / "model")
    requests = [request_for(item) for item in pubmedqa_items(workspace / "pubmedqa")]
    direct = [r.text for r in model.generate(requests, max_new_tokens=int(MAX_NEW_TOKENS))]
    assert [p["output"] for p in predictions] == direct


def test_pubmedqa_log_likelihood_scoring(workspace):
    _, metrics, predictions = _run(workspace, "pubmedqa", "pubmedqa", "--scoring", "loglik")
    assert metrics["scoring"] == "loglik" and metrics["metrics"]["overall"]["unmatched_rate"] == 0
    assert all(set(p["log_likelihoods"]) == {"yes", "no", "maybe"} for p in predictions)


def test_medmcqa_records_the_cop_base(workspace):
    _, metrics, predictions = _run(workspace, "medmcqa", "medmcqa_dev.json", "--limit", "2")
    assert metrics["notes"] == {"cop_base": "1"}
    assert metrics["n_items"] == 2 and metrics["n_available"] == 3 and len(predictions) == 2


def test_medqa_with_strict_rules(workspace):
    _, metrics, _ = _run(workspace, "usmle", "medqa_test.jsonl", "--rules", "strict")
    assert metrics["task"] == "medqa" and metrics["metrics"]["extraction"]["rules"] == "strict"


def test_report_collects_every_run(workspace):
    # Runs made by the tests above are resumed from their caches, so this costs no generation.
    _run(workspace, "chebi20", "chebi20.txt", code=1)
    _run(workspace, "uniprotqa", "uniprotqa.json", "--sequences", str(workspace / "sequences.json"))
    _run(workspace, "pubmedqa", "pubmedqa")
    _run(workspace, "medmcqa", "medmcqa_dev.json", "--limit", "2")
    assert main(["report", str(workspace / "runs")]) == 0
    text = (workspace / "runs" / "report.md").read_text()
    for heading in ("Table 2", "Table 3: ChEBI-20", "Table 4: UniProtQA"):
        assert heading in text
    assert "subcellular location (n=1)" in text
    for chart in (
        "table2_qa_accuracy.png",
        "chebi20_caption_metrics.png",
        "uniprotqa_caption_metrics.png",
    ):
        assert (workspace / "runs" / chart).read_bytes().startswith(b"\x89PNG")


def test_bad_model_folder_is_one_line(workspace, capsys):
    argv = [
        "run",
        "pubmedqa",
        "--model",
        str(workspace),
        "--data",
        str(workspace / "pubmedqa"),
        "--quiet",
    ]
    assert main(argv) == 2
    assert "config.json" in capsys.readouterr().err


def test_bad_lines_are_reported_in_place_and_the_good_ones_run(workspace, capsys):
    good = json.loads((workspace / "medqa_test.jsonl").read_text().splitlines()[0])
    lines = [
        json.dumps(good | {"id": "q1"}),
        '{"question": "broken"',
        json.dumps({k: v for k, v in good.items() if k != "answer_idx"} | {"id": "q3"}),
        "[1, 2]",
        json.dumps(good | {"id": "q5", "answer_idx": "E"}),
        json.dumps(good | {"id": "q6"}),
    ]
    (workspace / "medqa_mixed.jsonl").write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    _, metrics, predictions = _run(workspace, "medqa", "medqa_mixed.jsonl", code=1)
    captured = capsys.readouterr()
    assert [p["item_id"] for p in predictions] == ["q1", "q6"]  # every good line was asked
    assert [line["line"] for line in metrics["bad_lines"]] == [2, 3, 4, 5]
    messages = [line["message"] for line in metrics["bad_lines"]]
    assert "not valid JSON" in messages[0] and "missing field(s) answer_idx" in messages[1]
    assert "expected a JSON object" in messages[2] and "'E' is not A-D" in messages[3]
    summary = json.loads(captured.out)
    assert [e["error"]["line"] for e in summary["errors"]] == [2, 3, 4, 5]
    assert (
        captured.err.count("error: ") == 4
        and "medqa_mixed.jsonl line 2: not valid JSON" in captured.err
    )


def test_a_data_file_of_only_bad_lines_is_one_clear_error(workspace, capsys):
    (workspace / "medqa_bad.jsonl").write_text("not json\n[1]\n")
    argv = ["run", "medqa", "--model", str(workspace / "model"), "--data",
            str(workspace / "medqa_bad.jsonl"), "--quiet"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no records (every line is bad)" in err and "Traceback" not in err


def test_a_chebi20_row_with_missing_fields_is_reported_and_the_rest_run(workspace, capsys):
    rows = (workspace / "chebi20.txt").read_text().splitlines()
    (workspace / "chebi20_mixed.txt").write_text(
        "\n".join([rows[0], rows[1], "177\tCC=O", rows[3]]) + "\n"
    )
    _, metrics, predictions = _run(
        workspace, "chebi20", "chebi20_mixed.txt", "--limit", "9", code=1
    )  # own run dir
    assert [p["item_id"] for p in predictions] == ["176", "702"]
    assert metrics["bad_lines"] == [
        {"line": 3, "message": "expected 3 tab-separated fields, found 2"}
    ]
