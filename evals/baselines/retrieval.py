"""Nearest-neighbour retrieval on ChEBI-20: the caption of the most similar training molecule.

A baseline with no language model at all: Morgan fingerprints (radius 2, 2048 bits) of the
training molecules, and for each test molecule the description of the training molecule
with the highest Tanimoto similarity (ties: the first in file order). Any model that reads
the molecule should at least approach it; a model that does not beat it has learned little
beyond lookup. The run directory has the layout of `evals run` (metrics.json,
details.jsonl, predictions.tsv), so `evals report` and `evals caption` read it unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

from evals.loaders.chebi20 import load_chebi20
from evals.loaders.errors import DataFormatError
from evals.tasks.run_store import METRICS_FILE, RUN_FILE, write_json

MORGAN_RADIUS = 2
MORGAN_BITS = 2048
METHOD = (
    f"retrieval: Tanimoto nearest training molecule (Morgan r{MORGAN_RADIUS}, {MORGAN_BITS} bits)"
)


def fingerprints(smiles: list[str], source: Path) -> list:
    from rdkit import Chem, RDLogger
    from rdkit.Chem import rdFingerprintGenerator

    RDLogger.DisableLog("rdApp.*")
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=MORGAN_RADIUS, fpSize=MORGAN_BITS)
    prints = []
    for text in smiles:
        molecule = Chem.MolFromSmiles(text)
        if molecule is None:
            raise DataFormatError(f"{source}: RDKit cannot parse the SMILES {text}")
        prints.append(generator.GetFingerprint(molecule))
    return prints


def nearest_captions(train_path: Path, test_path: Path) -> list[tuple[str, str, str, float]]:
    """(test SMILES, reference, retrieved caption, similarity) for every test molecule."""
    from rdkit import DataStructs

    train = load_chebi20(train_path)
    test = load_chebi20(test_path)
    if not train:
        raise DataFormatError(f"{train_path}: no training molecules")
    train_prints = fingerprints([r.smiles for r in train], train_path)
    test_prints = fingerprints([r.smiles for r in test], test_path)
    rows = []
    for record, query in zip(test, test_prints, strict=True):
        similarities = DataStructs.BulkTanimotoSimilarity(query, train_prints)
        best = max(range(len(train)), key=lambda i: (similarities[i], -i))
        rows.append(
            (record.smiles, record.description, train[best].description, similarities[best])
        )
    return rows


def run_retrieval(
    train_path: Path, test_path: Path, run_dir: Path, vocab: str, progress: bool = True
) -> dict:
    """Write the run directory and return its metrics.json content."""
    from evals.metrics.caption import score_captions

    rows = nearest_captions(Path(train_path), Path(test_path))
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / RUN_FILE, {"task": "chebi20", "data": str(Path(test_path).resolve()),
                                    "train": str(Path(train_path).resolve()), "model": METHOD})  # fmt: skip
    lines = ["SMILES\tground truth\toutput"]
    lines += [
        f"{smiles}\t{reference}\t{' '.join(caption.split())}"
        for smiles, reference, caption, _ in rows
    ]
    (run_dir / "predictions.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with (run_dir / "details.jsonl").open("w", encoding="utf-8") as handle:
        for smiles, reference, caption, similarity in rows:
            handle.write(json.dumps({"item_id": smiles, "reference": reference, "output": caption,
                                     "tanimoto": round(similarity, 4)}, ensure_ascii=False) + "\n")  # fmt: skip
    scores = score_captions([r[1] for r in rows], [r[2] for r in rows], vocab, progress).as_dict()
    result = {
        "task": "chebi20", "model": METHOD, "n_items": len(rows), "n_available": len(rows),
        "scoring": "retrieval", "n_refused": 0, "refused": [], "bad_lines": [],
        "notes": {"train": str(train_path),
                  "mean_tanimoto": f"{sum(r[3] for r in rows) / len(rows):.3f}"},
        "metrics": {"overall": scores},
    }  # fmt: skip
    write_json(run_dir / METRICS_FILE, result)
    return result
