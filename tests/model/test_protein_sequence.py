"""Protein input cleaning and ESM-2 token ids, checked against fair-esm and transformers."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from biomedgpt_tools.model.protein_sequence import (
    AMINO_ACID_LETTERS,
    ESM_MAX_RESIDUES,
    ESM_VOCAB,
    InvalidProteinError,
    ProteinTruncatedWarning,
    normalize_protein_sequence,
    protein_token_ids,
    write_esm_vocab,
)

SPEC_VOCAB = (
    "<cls> <pad> <eos> <unk> L A G V S E R T I D P K Q N F Y M H W C X B U Z O . - <null_1> <mask>"
)
UBIQUITIN = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"


def test_vocab_order_matches_the_spec_and_fair_esm():
    assert " ".join(ESM_VOCAB) == SPEC_VOCAB
    esm = pytest.importorskip("esm")
    assert list(ESM_VOCAB) == esm.data.Alphabet.from_architecture("ESM-1b").all_toks
    assert "".join(sorted(AMINO_ACID_LETTERS)) == "ABCDEFGHIKLMNOPQRSTUVWXYZ"


def test_lowercase_and_whitespace_are_normalised():
    assert normalize_protein_sequence("mqifv ktltg\nKTITL\tev\r\n") == "MQIFVKTLTGKTITLEV"


def test_fasta_header_and_one_trailing_stop_are_dropped():
    record = f">sp|P0CG48|UBC_HUMAN Polyubiquitin-C\n{UBIQUITIN[:40]}\n{UBIQUITIN[40:]}*\n"
    assert normalize_protein_sequence(record) == UBIQUITIN
    assert normalize_protein_sequence("  >header only line\nMKV") == "MKV"


def test_two_fasta_records_are_an_error():
    with pytest.raises(InvalidProteinError, match="more than one FASTA record.*'>b'"):
        normalize_protein_sequence(">a\nMKV\n>b\nMKV")


@pytest.mark.parametrize(
    "text, listed",
    [
        ("MKJV", "'J' at 3"),
        ("MK-V.A", "'-' at 3, '.' at 5"),
        ("MK*V", "'*' at 3"),
        ("MKV**", "'*' at 4"),  # only one trailing stop is dropped
        ("1 MKVL 5 AG", "'1' at 1, '5' at 6"),
        ("MKV\u00e9", "'\u00c9' at 4"),  # upper-cased before checking
    ],
)
def test_characters_that_are_not_amino_acids_are_named_with_positions(text, listed):
    with pytest.raises(InvalidProteinError) as info:
        normalize_protein_sequence(text)
    assert listed in str(info.value)
    assert "not amino-acid letters" in str(info.value)


def test_many_bad_characters_are_summarised():
    with pytest.raises(InvalidProteinError, match=r"and 5 more"):
        normalize_protein_sequence("M" + "1" * 15)


@pytest.mark.parametrize("text", ["", "   \n\t", ">only a header\n", "*"])
def test_empty_input(text):
    with pytest.raises(InvalidProteinError, match="empty"):
        normalize_protein_sequence(text)


@pytest.mark.parametrize("value", [None, 42, b"MKV", ["MKV"]])
def test_non_string(value):
    with pytest.raises(InvalidProteinError, match="expected a protein sequence string"):
        normalize_protein_sequence(value)


def test_nucleotide_sequences_are_rejected_but_homopolymers_are_not():
    with pytest.raises(InvalidProteinError, match="DNA or RNA"):
        normalize_protein_sequence("ATGGCCATTGTAATGGGCCGCTGAAAGGGTGCCCGA")
    assert normalize_protein_sequence("A" * 40) == "A" * 40
    assert normalize_protein_sequence("ACGT") == "ACGT"  # short: could be a peptide


def test_too_long_is_an_error_naming_the_length_and_the_way_out():
    assert len(normalize_protein_sequence("M" * ESM_MAX_RESIDUES)) == ESM_MAX_RESIDUES
    with pytest.raises(InvalidProteinError) as info:
        normalize_protein_sequence("M" * 1500)
    message = str(info.value)
    assert "1500 residues" in message and "1022" in message and "on_too_long='truncate'" in message


def test_truncation_keeps_the_first_residues_and_warns():
    sequence = "MK" * 600  # 1200 residues
    with pytest.warns(ProteinTruncatedWarning, match="1200 residues.*first 1022.*dropped 178"):
        kept = normalize_protein_sequence(sequence, on_too_long="truncate")
    assert kept == sequence[:1022]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert normalize_protein_sequence("MKV", on_too_long="truncate") == "MKV"  # no warning
    with pytest.warns(ProteinTruncatedWarning, match="5 residues; kept the first 3"):
        assert normalize_protein_sequence("MKVLA", max_residues=3, on_too_long="truncate") == "MKV"


@pytest.mark.parametrize("kwargs", [{"on_too_long": "drop"}, {"max_residues": 0}])
def test_bad_options_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        normalize_protein_sequence("MKV", **kwargs)


def test_token_ids_are_cls_residues_eos():
    assert protein_token_ids("mka") == [0, 20, 15, 5, 2]


def test_token_ids_equal_esm_tokenizer_from_the_written_vocab(tmp_path):
    from transformers import AutoTokenizer, EsmTokenizer

    vocab_path = write_esm_vocab(tmp_path / "esm")
    assert vocab_path.read_text().split() == list(ESM_VOCAB)
    tokenizers = [EsmTokenizer(str(vocab_path)), AutoTokenizer.from_pretrained(tmp_path / "esm")]
    assert isinstance(tokenizers[1], EsmTokenizer)
    every_letter = "".join(sorted(AMINO_ACID_LETTERS))
    for raw in [UBIQUITIN, every_letter, "M", ">x\nmkv\nlaa*"]:
        expected_ids = protein_token_ids(raw)
        for tokenizer in tokenizers:
            assert tokenizer(normalize_protein_sequence(raw))["input_ids"] == expected_ids
    # The reference's raw path: a lowercase run becomes one <unk>; normalising avoids it.
    assert tokenizers[0]("mkv")["input_ids"] == [0, 3, 2]
    assert protein_token_ids("mkv") == [0, 20, 15, 7, 2]


def test_write_esm_vocab_keeps_an_existing_tokenizer_config(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text('{"model_max_length": 7}')
    write_esm_vocab(tmp_path)
    assert (tmp_path / "tokenizer_config.json").read_text() == '{"model_max_length": 7}'


def test_validation_does_not_import_torch_or_transformers():
    code = (
        "import sys\n"
        "from biomedgpt_tools.model.protein_sequence import protein_token_ids\n"
        "assert protein_token_ids('MKV') == [0, 20, 15, 7, 2]\n"
        "assert not {'torch', 'transformers'} & set(sys.modules), 'heavy import'\n"
    )
    repo_root = Path(__file__).resolve().parents[2]  # importable even without an install
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_root
    )
    assert result.returncode == 0, result.stderr
