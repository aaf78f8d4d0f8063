"""The paired bootstrap behind `python -m evals compare`, and the command on real files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evals.__main__ import main
from evals.metrics.caption import MEAN_METRICS, METRICS
from evals.metrics.paired_bootstrap import paired_bootstrap
from tests.evals.metrics.test_caption_counts import items_from_tokens, random_corpus


def test_identical_systems_differ_by_exactly_zero():
    items = items_from_tokens(*random_corpus(3))
    for row in paired_bootstrap(items, items, samples=50):
        assert row.difference == row.low == row.high == 0.0
        assert row.not_better == 1.0  # never strictly better than itself


def test_a_system_better_on_every_item_has_an_interval_above_zero():
    references, hypotheses = random_corpus(4)
    worse = items_from_tokens(references, [h[: len(h) // 2] for h in hypotheses])
    better = items_from_tokens(references, references)  # the reference itself
    better.per_item.update({name: worse.per_item[name] + 0.1 for name in MEAN_METRICS})
    rows = {row.metric: row for row in paired_bootstrap(worse, better, samples=200, seed=7)}
    assert set(rows) == set(METRICS)
    for row in rows.values():
        assert row.low > 0 and row.not_better == 0.0
        assert row.low <= row.difference <= row.high
    assert rows["meteor"].difference == pytest.approx(0.1)
    again = {row.metric: row for row in paired_bootstrap(worse, better, samples=200, seed=7)}
    assert again == rows  # the seed fixes the resamples


def test_unpaired_inputs_and_bad_settings_are_refused():
    a = items_from_tokens(*random_corpus(5, n=10))
    b = items_from_tokens(*random_corpus(6, n=12))
    with pytest.raises(ValueError, match="same items"):
        paired_bootstrap(a, b)
    with pytest.raises(ValueError, match="samples"):
        paired_bootstrap(a, a, samples=0)


def test_the_interval_is_the_quantiles_of_differences_on_shared_resamples():
    references, hypotheses = random_corpus(8)
    a = items_from_tokens(references, hypotheses)
    b = items_from_tokens(references, [h[: len(h) * 2 // 3] for h in hypotheses])
    rows = {row.metric: row for row in paired_bootstrap(a, b, samples=300, seed=5)}
    rng = np.random.default_rng(5)
    diffs = {metric: [] for metric in METRICS}
    for _ in range(300):
        resample = rng.integers(0, len(references), size=len(references))
        sa, sb = a.scores(resample).as_dict(), b.scores(resample).as_dict()
        for metric in METRICS:
            diffs[metric].append(sb[metric] - sa[metric])
    for metric, values in diffs.items():
        assert rows[metric].low == pytest.approx(np.quantile(values, 0.025), rel=1e-12)
        assert rows[metric].high == pytest.approx(np.quantile(values, 0.975), rel=1e-12)
        assert rows[metric].not_better == np.mean(np.array(values) <= 0)


# -- the CLI on real files: SciBERT wordpieces and WordNet, as `evals caption` ----------------------

TRUTH = [(f"C{'C' * i}O", f"The molecule is an alcohol with {i + 2} carbons and a hydroxy group.")
         for i in range(12)]  # fmt: skip


def _write_tsv(path, rows, header="SMILES\tground truth\toutput"):
    path.write_text("\n".join([header, *("\t".join(row) for row in rows)]) + "\n", encoding="utf-8")
    return path


def _compare(vocab, *args):
    return main(["compare", *args, "--vocab", vocab, "--quiet"])


@pytest.mark.needs_shared_data
def test_compare_joins_by_smiles_and_reports_the_difference(shared_data, tmp_path, capsys):
    vocab = str(shared_data / "scibert_scivocab_uncased")
    baseline = _write_tsv(
        tmp_path / "base.tsv", [(s, t, "The molecule is an acid.") for s, t in TRUTH]
    )
    rows = [(s, t, t if i % 2 else "The molecule is an alcohol.") for i, (s, t) in enumerate(TRUTH)]
    better = _write_tsv(tmp_path / "better.tsv", rows[::-1])  # another row order: joined by SMILES
    args = ["--baseline", str(baseline), "--predictions", str(better), "--samples", "100"]
    assert _compare(vocab, *args, "--json") == 0
    report = json.loads(capsys.readouterr().out)
    by_metric = {row["metric"]: row for row in report["metrics"]}
    assert report["samples"] == 100 and set(by_metric) == set(METRICS)
    assert (
        main(["caption", "--predictions", str(better), "--vocab", vocab, "--json", "--quiet"]) == 0
    )
    scores = json.loads(capsys.readouterr().out)
    for metric, row in by_metric.items():
        assert row["candidate"] == pytest.approx(scores[metric], abs=1e-12)
        assert row["difference"] > 0 and row["low"] > 0 and row["not_better"] == 0.0

    assert _compare(vocab, *args) == 0  # the table
    table = capsys.readouterr().out
    assert "bleu2" in table and "95% interval" in table


@pytest.mark.needs_shared_data
def test_compare_takes_the_ground_truth_from_the_split_with_references(
    shared_data, tmp_path, capsys
):
    vocab = str(shared_data / "scibert_scivocab_uncased")
    split = _write_tsv(tmp_path / "split.txt", [(str(i), s, t) for i, (s, t) in enumerate(TRUTH)],
                       header="CID\tSMILES\tdescription")  # fmt: skip
    # the files' own ground-truth column is wrong: with --references it must not be read
    baseline = _write_tsv(
        tmp_path / "a.tsv", [(s, "junk", "The molecule is an acid.") for s, _ in TRUTH]
    )
    exact = _write_tsv(tmp_path / "b.tsv", [(s, "other junk", t) for s, t in TRUTH])
    args = ["--baseline", str(baseline), "--predictions", str(exact), "--samples", "50", "--json"]
    assert _compare(vocab, *args) == 2  # the two files disagree on the ground truth
    assert "different ground truths" in capsys.readouterr().err
    assert _compare(vocab, *args, "--references", str(split)) == 0
    rows = {row["metric"]: row for row in json.loads(capsys.readouterr().out)["metrics"]}
    assert rows["rougeL"]["candidate"] == pytest.approx(1.0)  # every output is its split's truth
    assert rows["bleu4"]["candidate"] == pytest.approx(1.0)

    stray = _write_tsv(tmp_path / "c.tsv", [("CCCCCCCCCCCCCCCCCCCO", "x", "y")])
    assert (
        _compare(
            vocab, "--baseline", str(stray), "--predictions", str(exact), "--references", str(split)
        )
        == 2
    )
    error = capsys.readouterr().err
    assert str(stray) in error and f"not in {split}" in error


@pytest.mark.needs_shared_data
def test_compare_refuses_unpaired_files_and_bad_settings(shared_data, tmp_path, capsys):
    vocab = str(shared_data / "scibert_scivocab_uncased")
    a = _write_tsv(
        tmp_path / "a.tsv", [("CCO", "An alcohol.", "An alcohol."), ("CC", "Ethane.", "Ethane.")]
    )
    b = _write_tsv(
        tmp_path / "b.tsv", [("CCO", "An alcohol.", "An acid."), ("CCC", "Propane.", "Propane.")]
    )
    twice = _write_tsv(
        tmp_path / "t.tsv", [("CCO", "An alcohol.", "x"), ("CCO", "An alcohol.", "y")]
    )
    assert _compare(vocab, "--baseline", str(a), "--predictions", str(b)) == 2
    error = capsys.readouterr().err
    assert "same molecules: 1 SMILES only in the first, 1 only in the second" in error
    assert f"CC only in {a}" in error and f"CCC only in {b}" in error
    assert _compare(vocab, "--baseline", str(twice), "--predictions", str(a)) == 2
    assert f"{twice}: SMILES CCO is predicted twice" in capsys.readouterr().err
    for bad, message in ((["--samples", "0"], "--samples 0"), (["--seed", "-1"], "--seed -1")):
        assert _compare(vocab, "--baseline", str(a), "--predictions", str(a), *bad) == 2
        assert message in capsys.readouterr().err
