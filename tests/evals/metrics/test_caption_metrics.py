"""Caption metrics reproduce the MolT5 protocol's reference values, and refuse silent traps."""

from __future__ import annotations

import json
import random

import pytest

from evals.__main__ import main
from evals.metrics.caption import score_captions, wordpieces
from evals.metrics.caption_scoring import read_predictions, score_predictions_file
from evals.metrics.scibert_tokenizer import TokenizerUnavailableError, load_scibert_tokenizer
from evals.metrics.wordnet_check import WordNetMissingError, require_wordnet

# eval-protocols.md: SciBERT uncased vocab, WordNet 3.0.
FULL_REFERENCE = {"bleu2": 0.587693, "bleu4": 0.502264, "rouge1": 0.652891,
                  "rouge2": 0.508429, "rougeL": 0.592880, "meteor": 0.614188}  # fmt: skip
EXAMPLE_REFERENCE = {"bleu2": 0.603700, "bleu4": 0.530564, "rouge1": 0.653018,
                     "rouge2": 0.519526, "rougeL": 0.579545, "meteor": 0.632919}  # fmt: skip


@pytest.fixture
def vocab(shared_data):
    return str(shared_data / "scibert_scivocab_uncased")


def _assert_close(scores: dict, reference: dict) -> None:
    for key, value in reference.items():
        assert scores[key] == pytest.approx(value, abs=1e-4), key


@pytest.mark.needs_shared_data
def test_full_molt5_large_file_reproduces_reference_values(shared_data, vocab, capsys):
    path = shared_data / "molt5-predictions" / "molt5-large-smiles2caption.txt"
    assert main(["caption", "--predictions", str(path), "--vocab", vocab, "--json", "--quiet"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["n"] == 3300
    assert set(scores) == {"n", "bleu2", "bleu4", "rouge1", "rouge2", "rougeL", "meteor"}
    _assert_close(scores, FULL_REFERENCE)


@pytest.mark.needs_shared_data
def test_ten_row_example_reproduces_reference_values(shared_data, vocab):
    path = shared_data / "molt5-predictions" / "smiles2caption_example.txt"
    scores = score_predictions_file(path, vocab, progress=False).as_dict()
    assert scores["n"] == 10
    _assert_close(scores, EXAMPLE_REFERENCE)


@pytest.mark.needs_shared_data
def test_shuffled_predictions_joined_to_chebi20_by_smiles(shared_data, vocab, tmp_path):
    """Row order must not matter: references come from ChEBI-20 test by SMILES."""
    lines = (
        (shared_data / "molt5-predictions" / "smiles2caption_example.txt").read_text().splitlines()
    )
    header, rows = lines[0], lines[1:]
    random.Random(7).shuffle(rows)
    # Blank the file's own ground truth: the numbers can only come out right through the join.
    rows = ["\t".join([row.split("\t")[0], "unrelated text", row.split("\t")[2]]) for row in rows]
    shuffled = tmp_path / "shuffled.tsv"
    shuffled.write_text("\n".join([header, *rows]) + "\n")
    scores = score_predictions_file(
        shuffled, vocab, references_path=shared_data / "chebi20" / "test.txt", progress=False
    ).as_dict()
    _assert_close(scores, EXAMPLE_REFERENCE)


@pytest.mark.needs_shared_data
def test_leading_cls_is_stripped_from_outputs(shared_data, vocab, tmp_path):
    lines = (
        (shared_data / "molt5-predictions" / "smiles2caption_example.txt").read_text().splitlines()
    )
    prefixed = [lines[0]] + [
        "\t".join([*row.split("\t")[:2], "[CLS] " + row.split("\t")[2]]) for row in lines[1:]
    ]
    path = tmp_path / "cls.tsv"
    path.write_text("\n".join(prefixed) + "\n")
    assert all(not p.output.startswith("[CLS]") for p in read_predictions(path))
    _assert_close(score_predictions_file(path, vocab, progress=False).as_dict(), EXAMPLE_REFERENCE)


@pytest.mark.needs_shared_data
def test_wordpieces_are_real_scibert_pieces(vocab):
    tokenizer = load_scibert_tokenizer(vocab)
    pieces = wordpieces(tokenizer, "[CLS] The molecule is a quinolinemonocarboxylate.")
    assert pieces[:4] == ["the", "molecule", "is", "a"]
    assert "[CLS]" not in pieces and "[UNK]" not in pieces
    assert len(wordpieces(tokenizer, "acid " * 2000)) == 512  # truncated to 512 wordpieces


@pytest.mark.needs_shared_data
def test_bare_vocab_file_is_refused(vocab):
    with pytest.raises(TokenizerUnavailableError, match="pass the folder"):
        load_scibert_tokenizer(vocab + "/vocab.txt")


def test_vocab_that_maps_everything_to_unk_is_refused(tmp_path):
    folder = tmp_path / "bad_vocab"
    folder.mkdir()
    (folder / "vocab.txt").write_text(
        "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]) + "\n"
    )
    with pytest.raises(TokenizerUnavailableError, match=r"\[UNK\]"):
        load_scibert_tokenizer(str(folder))


def test_hub_name_offline_says_how_to_get_a_vocab(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(TokenizerUnavailableError, match="--vocab DIR"):
        load_scibert_tokenizer("allenai/scibert_scivocab_uncased")


def test_missing_wordnet_says_run_make_setup(monkeypatch, tmp_path):
    import nltk.data

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    require_wordnet.cache_clear()
    try:
        with pytest.raises(WordNetMissingError, match="make setup"):
            require_wordnet()
    finally:
        require_wordnet.cache_clear()


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="pair up"):
        score_captions(["a"], ["a", "b"], vocab="unused")


def test_cli_reports_bad_input_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("smiles\tdescription\nC\tmethane\n")
    assert main(["caption", "--predictions", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "SMILES<TAB>ground truth<TAB>output" in err
    assert "Traceback" not in err
