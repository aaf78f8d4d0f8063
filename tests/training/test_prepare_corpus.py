"""Stage-1 preparation on generated S2ORC-format shards: filters, cleaning, packing, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

from training.__main__ import main
from training.data.s2orc_papers import clean_paragraphs, split_sentences
from training.data.token_blocks import TokenBlocks, sentence_chunks


def paper(paper_id, pmc=None, pubmed=None, body=True, text="Aspirin inhibits cyclooxygenase."):
    record = {
        "paper_id": paper_id,
        "pmc_id": pmc,
        "pubmed_id": pubmed,
        "title": f"Title {paper_id}",
        "authors": [
            {"first": "Ada", "last": "Lovelace", "affiliation": {"institution": "AUTHOR-INSTITUTE"}}
        ],
        "abstract": [
            {"section": "Abstract", "text": "We study drugs. Results are shown.", "cite_spans": []}
        ],
        "body_text": [],
        "bib_entries": {"BIBREF0": {"title": "REFERENCE-TITLE"}},
        "ref_entries": {
            "FIGREF0": {"text": "FIGURE-CAPTION text", "type": "figure"},
            "TABREF0": {"text": "TABLE-CONTENT", "type": "table"},
        },
    }
    if body:
        record["body_text"] = [
            {
                "section": "Introduction",
                "text": f"{text} It was shown before [1]. Dr. Smith et al. agreed.",
                "cite_spans": [
                    {
                        "start": len(text) + 21,
                        "end": len(text) + 24,
                        "text": "[1]",
                        "ref_id": "BIBREF0",
                    }
                ],
            },
            {"section": "References", "text": "REFERENCE-LIST 1. Smith J. Nature 2001."},
            {"section": "Author contributions", "text": "AUTHOR-CONTRIB wrote the paper."},
            {"section": "Figure 1", "text": "FIGURE-PARAGRAPH caption."},
        ]
    return record


def write_shard(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_cleaning_removes_authors_references_captions_and_citation_marks():
    text = " ".join(clean_paragraphs(paper("p1", pmc="PMC1")))
    assert "Aspirin inhibits cyclooxygenase. It was shown before. Dr. Smith et al. agreed." in text
    for removed in ("[1]", "REFERENCE", "AUTHOR", "FIGURE", "TABLE", "Lovelace"):
        assert removed not in text


def test_sentences_and_chunks_break_between_sentences():
    assert split_sentences("Dr. Smith et al. found it. Fig. 2 shows more. (A) is new.") == [
        "Dr. Smith et al. found it.",
        "Fig. 2 shows more.",
        "(A) is new.",
    ]
    chunks = list(sentence_chunks([[1] * 3, [2] * 3, [3] * 5, [4] * 9], max_tokens=6))
    assert chunks == [[1] * 3 + [2] * 3, [3] * 5, [4] * 6, [4] * 3]


def test_prepare_corpus_filters_packs_and_resumes(tmp_path, capsys):
    shard1 = write_shard(
        tmp_path / "s1.jsonl",
        [
            paper("a", pmc="PMC1"),
            paper("b", pubmed="22", text="Insulin lowers blood glucose."),
            paper("c"),  # no PMC/PubMed id
            paper("d", pmc="PMC4", body=False),  # no full text
            paper("e", pmc="PMC1"),  # duplicate PMC id
            paper("f", pmc="PMC9", text="Hemoglobin carries oxygen."),
        ],
    )
    shard2 = write_shard(
        tmp_path / "s2.jsonl",
        [
            paper("g", pubmed="22"),  # duplicate across shards
            paper("h", pubmed="33", text="Caffeine is a stimulant."),
        ],
    )
    ids = tmp_path / "ids.txt"
    ids.write_text("PMC1\npmc:4\n22\n33\n# PMC9 is not selected\n")
    out = tmp_path / "corpus"
    args = [
        "prepare-corpus",
        str(shard1),
        str(shard2),
        "--out",
        str(out),
        "--tokenizer",
        "tiny",
        "--ids",
        str(ids),
        "--block-size",
        "16",
    ]
    assert main(args) == 0
    part1 = json.loads((out / "part-00000.json").read_text())
    assert part1["kept"] == 2
    assert part1["dropped_no_pmc_or_pubmed_id"] == 1
    assert part1["dropped_no_full_text"] == 1
    assert part1["dropped_duplicate_id"] == 1
    assert part1["dropped_not_in_id_list"] == 1
    part2 = json.loads((out / "part-00001.json").read_text())
    assert part2["kept"] == 1 and part2["dropped_duplicate_id"] == 1

    blocks = TokenBlocks(out)
    index = json.loads((out / "index.json").read_text())
    assert len(blocks) == index["n_blocks"] == part1["n_blocks"] + part2["n_blocks"] > 0
    assert blocks.block_size == 16 and blocks[0].shape == (16,)
    assert blocks[0][0] == 1  # a block starts at a chunk's BOS
    # Each part holds every kept token but the tail that did not fill a block.
    assert part1["n_blocks"] * 16 + part1["tokens_dropped_at_end"] == part1["tokens"]

    from biomedgpt_tools.model.tiny import build_tiny_model  # noqa: F401  (the tokenizer's home)
    from training.text_tokenizer import load_text_tokenizer

    tokenizer = load_text_tokenizer("tiny")
    decoded = tokenizer.decode(
        np.concatenate([blocks[i] for i in range(part1["n_blocks"])]).tolist()
    )
    assert "Insulin lowers blood glucose" in decoded and "Hemoglobin" not in decoded

    capsys.readouterr()
    (out / "part-00001.json").unlink()  # as if the run was killed during shard 2
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "s1.jsonl: already done" in printed
    assert (
        json.loads((out / "part-00001.json").read_text())["dropped_duplicate_id"] == 1
    )  # seen ids reloaded


def test_bad_json_names_file_and_line(tmp_path, capsys):
    shard = tmp_path / "bad.jsonl"
    shard.write_text(json.dumps(paper("a", pmc="PMC1")) + "\n{not json\n")
    code = main(["prepare-corpus", str(shard), "--out", str(tmp_path / "o"), "--tokenizer", "tiny"])
    assert code == 2
    assert f"{shard}:2: not valid JSON" in capsys.readouterr().err
    assert not (
        tmp_path / "o" / "part-00000.bin"
    ).exists()  # no half-written output under the final name


@pytest.mark.parametrize("value", ["nope", "/does/not/exist"])
def test_unknown_tokenizer_is_a_clear_error(tmp_path, capsys, value):
    shard = write_shard(tmp_path / "s.jsonl", [paper("a", pmc="PMC1")])
    assert (
        main(["prepare-corpus", str(shard), "--out", str(tmp_path / "o"), "--tokenizer", value])
        == 2
    )
    assert "is neither `tiny` nor a folder" in capsys.readouterr().err
