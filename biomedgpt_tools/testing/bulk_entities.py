"""A resolver-server catalog of 200 accessions for the bulk-annotation tests.

The shipped catalog (biomedgpt_tools/testing/resolver_server/entities.json) has 54 active and 2 inactive
entries; this adds made-up active entries (marked synthetic, deterministic sequences) so a
run of 200 exercises batching, and lists accessions the server does not know.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from biomedgpt_tools.testing.resolver_server.entities import ENTITIES_PATH

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"


def synthetic_protein(number: int) -> dict:
    rng = random.Random(number)
    sequence = "M" + "".join(rng.choice(AMINO_ACIDS) for _ in range(rng.randint(20, 60)))
    accession = f"Q9T{number:03d}"
    return {
        "accession": accession,
        "secondary_accessions": [],
        "entry_name": f"{accession}_TEST",
        "reviewed": False,
        "protein_name": f"Synthetic test protein {number}",
        "gene_names": [],
        "organism": "Homo sapiens",
        "organism_common_name": "Human",
        "taxon_id": 9606,
        "sequence": sequence,
        "length": len(sequence),
        "sequence_is_placeholder": False,
        "function": f"Test data: synthetic protein {number}.",
        "subcellular_locations": ["Cytoplasm"],
        "family": "Belongs to the synthetic test family.",
        "ec_numbers": [],
        "in_snapshot": False,
        "synthetic": True,
    }


def write_catalog(folder: Path, synthetic: int) -> Path:
    catalog = json.loads(ENTITIES_PATH.read_text())
    catalog["proteins"] = catalog["proteins"] + [synthetic_protein(n) for n in range(synthetic)]
    path = folder / "entities.json"
    path.write_text(json.dumps(catalog))
    return path


def accession_list(synthetic: int, unknown: int) -> list[str]:
    """Real entries, synthetic ones, the inactive ones (obsolete) and unknown ones (not found)."""
    catalog = json.loads(ENTITIES_PATH.read_text())
    real = [p["accession"] for p in catalog["proteins"]]
    inactive = [p["accession"] for p in catalog["inactive_proteins"]]
    made_up = [f"Q9T{n:03d}" for n in range(synthetic)]
    missing = [f"Q8U{n:03d}" for n in range(unknown)]
    mixed = real + made_up + inactive + missing
    random.Random(7).shuffle(mixed)
    return mixed
