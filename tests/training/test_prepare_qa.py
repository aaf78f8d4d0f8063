"""Stage-2/3 preparation on small generated inputs in the real formats, filters included."""

from __future__ import annotations

import json

from training.__main__ import main
from training.data.prepare_uniprotqa import question_type
from training.data.qa_records import MOLECULE_SYSTEM, PROTEIN_SYSTEM, read_qa_records


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def test_pubchemqa_filters_and_crops(tmp_path, capsys):
    source = tmp_path / "pubchem.jsonl"
    rows = [
        {"cid": 1, "smiles": "CCO", "description": "Ethanol is a primary alcohol."},
        {"cid": 2, "smiles": "C1CC(", "description": "An unparsable molecule with a description."},
        {"cid": 3, "smiles": "c1ccccc1", "description": "Benzene is aromatic."},  # 3 words
        {"cid": 4, "smiles": "CC(=O)O", "description": words(300)},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "pubchemqa.jsonl"
    assert main(["prepare-pubchemqa", str(source), "--out", str(out)]) == 0
    records = list(read_qa_records(out))
    assert [r.id for r in records] == ["pubchem:1", "pubchem:4"]
    assert (
        records[0].molecules == ["CCO"] and records[0].question == "Please describe the molecule."
    )
    assert records[0].system == MOLECULE_SYSTEM
    assert records[1].answer == words(256)
    printed = capsys.readouterr().out
    assert "dropped_unparsable_smiles 1" in printed and "dropped_short_description 1" in printed
    assert "cropped_long_description 1" in printed
    # Resumable: a finished output is skipped, not rewritten.
    assert main(["prepare-pubchemqa", str(source), "--out", str(out)]) == 0
    assert "already done" in capsys.readouterr().out


def test_pubchemqa_tsv_layout(tmp_path):
    source = tmp_path / "pairs.tsv"
    source.write_text(
        'CID\tSMILES\tdescription\n7\tCCN\tEthylamine is a "primary" aliphatic amine.\n'
    )
    out = tmp_path / "o.jsonl"
    assert main(["prepare-pubchemqa", str(source), "--out", str(out)]) == 0
    (record,) = read_qa_records(out)
    assert record.answer == 'Ethylamine is a "primary" aliphatic amine.'


def test_uniprotqa_split_by_protein_with_four_question_types(tmp_path, capsys):
    sequences = {f"P{i:05d}": "MKT" + "ACDEFGHIKLMNPQRSTVWY"[i % 20] * (5 + i) for i in range(40)}
    sequences["Q99999"] = sequences["P00003"]  # same protein under a second accession
    sequences["BAD01"] = "MKT1X"
    questions = [
        ("What is the function of this protein?", "It binds ATP."),
        ("What is the official name of this protein?", "Kinase A"),
        (
            "What is the protein family that this protein belongs to?",
            "Belongs to the kinase family.",
        ),
        ("What are the subcellular locations of this protein?", "Cytoplasm."),
    ]
    lines = [
        {"protein_accession": [acc], "question": q, "answer": a}
        for acc in sequences
        if acc != "BAD01"
        for q, a in questions
    ]
    lines.append(
        {"protein_accession": ["P00001"], "question": "How tall is this protein?", "answer": "x"}
    )
    lines.append({"protein_accession": "BAD01", "question": questions[0][0], "answer": "y"})
    lines.append({"protein_accession": ["NOSEQ"], "question": questions[0][0], "answer": "z"})
    source = tmp_path / "uniprotqa.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in lines))
    fasta = tmp_path / "seqs.fasta"
    fasta.write_text(
        "".join(
            f">sp|{acc}|NAME_HUMAN desc\n{seq[:4]}\n{seq[4:]}\n" for acc, seq in sequences.items()
        )
    )
    out = tmp_path / "uniprot"
    assert (
        main(["prepare-uniprotqa", str(source), "--sequences", str(fasta), "--out", str(out)]) == 0
    )

    splits = {
        name: list(read_qa_records(out / f"{name}.jsonl")) for name in ("train", "valid", "test")
    }
    proteins = {name: {r.proteins[0] for r in records} for name, records in splits.items()}
    assert not proteins["train"] & proteins["valid"]
    assert not proteins["train"] & proteins["test"]
    assert not proteins["valid"] & proteins["test"]
    assert [len(proteins[n]) for n in ("train", "valid", "test")] == [
        32,
        4,
        4,
    ]  # 40 distinct proteins, 8:1:1
    assert all(r.system == PROTEIN_SYSTEM for records in splits.values() for r in records)
    assert sum(len(r) for r in splits.values()) == 41 * 4
    printed = capsys.readouterr().out
    assert "dropped_other_question_type 1" in printed
    assert "dropped_invalid_sequence 1" in printed and "dropped_no_sequence 1" in printed
    # The split is a function of the seed: the same seed gives the same split.
    again = tmp_path / "again"
    assert (
        main(["prepare-uniprotqa", str(source), "--sequences", str(fasta), "--out", str(again)])
        == 0
    )
    assert (again / "test.jsonl").read_text() == (out / "test.jsonl").read_text()


def test_question_types():
    assert (
        question_type("What is the protein family that this protein belongs to?")
        == "protein_family"
    )
    assert (
        question_type("What are the subcellular locations of this protein?")
        == "subcellular_location"
    )
    assert question_type("What is the official name of this protein?") == "official_name"
    assert question_type("What is the function of this protein?") == "function"
    assert question_type("Is it tasty?") is None


def test_chebi20_quote_none_and_backslash(tmp_path):
    split = tmp_path / "train.txt"
    split.write_text(
        "CID\tSMILES\tdescription\n"
        '1\tC/C=C\\\\C\tThe molecule is a "cis" alkene, (Z)-but-2-ene.\n'
        "2\tCC\tEthane.\n"
    )
    out = tmp_path / "chebi"
    assert main(["prepare-chebi20", str(split), "--out", str(out)]) == 0
    records = list(read_qa_records(out / "train.jsonl"))
    assert [r.molecules for r in records] == [["C/C=C\\C"]]  # one backslash; "Ethane." has 1 word
    assert records[0].answer == 'The molecule is a "cis" alkene, (Z)-but-2-ene.'


def test_chebi20_real_validation_file_parses(tmp_path, shared_data):
    import shutil

    split = tmp_path / "validation.txt"
    shutil.copy(shared_data / "chebi20" / "validation.txt", split)
    out = tmp_path / "chebi"
    assert main(["prepare-chebi20", str(split), "--out", str(out)]) == 0
    records = list(read_qa_records(out / "validation.jsonl"))
    assert 3200 < len(records) <= 3301
    assert not any("\\\\" in r.molecules[0] for r in records)


def test_pubmedqa_records(tmp_path):
    source = tmp_path / "ori_pqaa.json"
    source.write_text(
        json.dumps(
            {
                "111": {
                    "QUESTION": "Does aspirin help?",
                    "CONTEXTS": ["Ctx one.", "Ctx two."],
                    "LABELS": ["A", "B"],
                    "MESHES": [],
                    "final_decision": "yes",
                    "LONG_ANSWER": "It does.",
                },
                "222": {
                    "QUESTION": "Is it safe?",
                    "CONTEXTS": ["Ctx."],
                    "final_decision": "maybe",
                    "LONG_ANSWER": "",
                },
                "333": {"QUESTION": "Excluded?", "CONTEXTS": [], "final_decision": "no"},
            }
        )
    )
    exclude = tmp_path / "test_ground_truth.json"
    exclude.write_text(json.dumps({"333": "no"}))
    out = tmp_path / "pubmedqa.jsonl"
    assert (
        main(["prepare-pubmedqa", str(source), "--out", str(out), "--exclude", str(exclude)]) == 0
    )
    records = list(read_qa_records(out))
    assert [r.answer for r in records] == ["answer: yes. It does.", "answer: maybe."]
    assert records[0].question.startswith(
        "Context: Ctx one. Ctx two.\nQuestion: Does aspirin help?"
    )
    assert records[0].molecules == [] and records[0].proteins == []


def test_medmcqa_cop_base(tmp_path, capsys):
    def item(i, cop):
        return {
            "id": f"q{i}",
            "question": f"Q{i}?",
            "opa": "a",
            "opb": "b",
            "opc": "c",
            "opd": "d",
            "cop": cop,
            "choice_type": "single",
            "exp": "",
            "subject_name": "",
            "topic_name": "",
        }

    one_based = tmp_path / "one.jsonl"
    one_based.write_text("".join(json.dumps(item(i, c)) + "\n" for i, c in enumerate([1, 4, 2])))
    out = tmp_path / "one_out.jsonl"
    assert main(["prepare-medmcqa", str(one_based), "--out", str(out)]) == 0
    assert [r.answer for r in read_qa_records(out)] == [
        "answer: A. a",
        "answer: D. d",
        "answer: B. b",
    ]

    zero_based = tmp_path / "zero.jsonl"
    zero_based.write_text("".join(json.dumps(item(i, c)) + "\n" for i, c in enumerate([0, 3])))
    assert main(["prepare-medmcqa", str(zero_based), "--out", str(tmp_path / "z.jsonl")]) == 0
    assert [r.answer for r in read_qa_records(tmp_path / "z.jsonl")] == [
        "answer: A. a",
        "answer: D. d",
    ]

    ambiguous = tmp_path / "amb.jsonl"
    ambiguous.write_text(json.dumps(item(0, 2)) + "\n")
    assert main(["prepare-medmcqa", str(ambiguous), "--out", str(tmp_path / "a.jsonl")]) == 2
    assert "pass --cop-base 0 or --cop-base 1" in capsys.readouterr().err
    assert (
        main(
            [
                "prepare-medmcqa",
                str(ambiguous),
                "--out",
                str(tmp_path / "a.jsonl"),
                "--cop-base",
                "0",
            ]
        )
        == 0
    )
    (record,) = read_qa_records(tmp_path / "a.jsonl")
    assert record.answer == "answer: C. c"
