"""QA pairs for the demo model, generated from the bundled snapshot's structured facts.

Every answer is a fact from `biomedgpt_tools/resolvers/snapshot_data/{molecules,proteins}.json`
(names, formula, weight, protein family, location, organism, genes), phrased the same way
each time, plus a few questions about the model itself that it answers honestly.
"""

from __future__ import annotations

import json
from pathlib import Path

from training.data.qa_records import QARecord

SNAPSHOT_DIR = (
    Path(__file__).resolve().parents[1] / "biomedgpt_tools" / "resolvers" / "snapshot_data"
)
IDENTITY_ANSWER = (
    "I am a small demonstration model, not BioMedGPT-10B. I was trained in minutes on a few "
    "facts about {molecules} molecules and {proteins} proteins, and my answers about anything "
    "else are unreliable."
)
IDENTITY_QUESTIONS = ("Who are you?", "What are you?", "Can I trust your answers?")


def _system_text() -> str:
    # The inference default: `biomedgpt generate` and the tools use it unless told otherwise.
    from biomedgpt_tools.model.prompt import SYSTEM_TEXT

    return SYSTEM_TEXT


def load_snapshot(snapshot_dir: Path = SNAPSHOT_DIR) -> tuple[list[dict], list[dict]]:
    molecules_path, proteins_path = snapshot_dir / "molecules.json", snapshot_dir / "proteins.json"
    for path in (molecules_path, proteins_path):
        if not path.is_file():
            raise FileNotFoundError(
                f"snapshot file {path} is missing; the demo model is built from it"
            )
    return json.loads(molecules_path.read_text()), json.loads(proteins_path.read_text())


def molecule_pairs(molecule: dict) -> list[tuple[str, str]]:
    name, formula = molecule["name"], molecule["formula"]
    weight = f"{float(molecule['molecular_weight']):.2f} g/mol"
    description = f"The molecule is {name} ({molecule['iupac_name']}), formula {formula}, molecular weight {weight}."
    return [
        ("Please describe the molecule.", description),
        ("What is the name of this molecule?", name),
        ("What is the molecular formula of this molecule?", formula),
        ("What is the molecular weight of this molecule?", weight),
        # The research assistant passes the user's whole question, entity mention included,
        # and follow-ups as asked: teach those phrasings too (the demo asks them).
        (f"Please describe the molecule {molecule['smiles']}.", description),
        (f"What is the molecular formula of {name.lower()}?", formula),
        (f"What is the molecular weight of {name.lower()}?", weight),
        ("and what is its molecular weight?", weight),
    ]


def protein_pairs(protein: dict) -> list[tuple[str, str]]:
    pairs = [
        ("What is the official name of this protein?", protein["protein_name"]),
        ("Which organism does this protein come from?", protein["organism"]),
    ]
    if protein.get("family"):
        pairs.append(
            (
                "What is the protein family that this protein belongs to?",
                f"It belongs to the {protein['family']}.",
            )
        )
    if protein.get("subcellular_locations"):
        location = ", ".join(protein["subcellular_locations"]) + "."
        pairs.append(("What is the subcellular location of this protein?", location))
        pairs.append((f"What is the subcellular location of {protein['accession']}?", location))
    if protein.get("gene_names"):
        pairs.append(("What is the gene name of this protein?", ", ".join(protein["gene_names"])))
    return pairs


def _qa_records(id_prefix: str, pairs, system: str, **structures: list[str]) -> list[QARecord]:
    """One record per (question, answer) pair about one molecule or protein, numbered in order."""
    return [
        QARecord(
            id=f"{id_prefix}:{number}",
            question=question,
            answer=answer,
            system=system,
            **structures,
        )
        for number, (question, answer) in enumerate(pairs)
    ]


def demo_records(snapshot_dir: Path = SNAPSHOT_DIR) -> list[QARecord]:
    molecules, proteins = load_snapshot(snapshot_dir)
    system = _system_text()
    records = []
    for molecule in molecules:
        records += _qa_records(
            f"demo:cid{molecule['cid']}",
            molecule_pairs(molecule),
            system,
            molecules=[molecule["smiles"]],
        )
    for protein in proteins:
        records += _qa_records(
            f"demo:{protein['accession']}",
            protein_pairs(protein),
            system,
            proteins=[protein["sequence"]],
        )
    identity = IDENTITY_ANSWER.format(molecules=len(molecules), proteins=len(proteins))
    for number, question in enumerate(IDENTITY_QUESTIONS):
        records.append(
            QARecord(
                id=f"demo:identity:{number}", question=question, answer=identity, system=system
            )
        )
    return records
