"""The bundled snapshot: common molecules and well-known proteins that answer offline.

Files: `snapshot_data/molecules.json` and `snapshot_data/proteins.json` (lists of objects,
facts entered by hand, see that folder). Loaded lazily once per process; lookups follow the
same rules as online ones (exact names, canonical SMILES, secondary accessions reported).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from biomedgpt_tools.resolvers.identifiers import MoleculeQuery, ProteinQuery
from biomedgpt_tools.resolvers.outcomes import AmbiguousError
from biomedgpt_tools.resolvers.records import (
    MoleculeCandidate,
    MoleculeRecord,
    ProteinCandidate,
    ProteinRecord,
)
from biomedgpt_tools.resolvers.smiles import canonical_smiles, parse_smiles

HUMAN_TAXON = 9606


@dataclass
class Snapshot:
    molecules: list[MoleculeRecord] = field(default_factory=list)
    proteins: list[ProteinRecord] = field(default_factory=list)

    # --- molecules -------------------------------------------------------------------------
    def find_molecule(self, query: MoleculeQuery) -> MoleculeRecord | None:
        """The snapshot's record for the query, None if absent; AmbiguousError for shared names."""
        matches: list[MoleculeRecord]
        if query.kind == "cid":
            matches = [m for m in self.molecules if m.cid == int(query.value)]
        elif query.kind == "inchikey":
            matches = [m for m in self.molecules if (m.inchikey or "").upper() == query.value]
        elif query.kind == "inchi":
            matches = [m for m in self.molecules if m.inchi == query.value]
        elif query.kind == "smiles":
            matches = [m for m in self.molecules if self._canonical(m) == query.value]
        else:
            wanted = query.value.casefold()
            by_title = [m for m in self.molecules if (m.name or "").casefold() == wanted]
            matches = by_title or [
                m for m in self.molecules if wanted in (s.casefold() for s in m.synonyms)
            ]
        if not matches:
            return None
        if len(matches) > 1:
            raise AmbiguousError(
                f"the {query.kind} {query.value!r} matches {len(matches)} molecules in the bundled "
                "snapshot; pick one by CID",
                [MoleculeCandidate(cid=m.cid or 0, name=m.name) for m in matches],
                query=query.text,
            )
        return matches[0].model_copy(update={"query": query.text})

    def _canonical(self, record: MoleculeRecord) -> str | None:
        return _canonical_smiles_cached(record.smiles)

    # --- proteins --------------------------------------------------------------------------
    def find_protein(self, query: ProteinQuery) -> ProteinRecord | None:
        if query.kind == "accession":
            if query.isoform:
                return None  # the snapshot holds canonical sequences only
            for protein in self.proteins:
                if protein.accession == query.value:
                    return protein.model_copy(update={"query": query.text})
            for protein in self.proteins:
                if query.value in protein.secondary_accessions:
                    return protein.model_copy(
                        update={
                            "query": query.text,
                            "requested_accession": query.value,
                            "note": (
                                f"UniProt accession {query.value} is secondary: it was merged "
                                f"into {protein.accession}, which is returned (bundled snapshot)"
                            ),
                        }
                    )
            return None
        if query.kind == "entry_name":
            matches = [p for p in self.proteins if (p.entry_name or "").upper() == query.value]
        elif query.kind in ("gene", "protein_name"):
            wanted = query.value.casefold()
            if query.kind == "gene":
                matches = [
                    p for p in self.proteins if wanted in (g.casefold() for g in p.gene_names)
                ]
                if not matches and query.name_fallback:  # `insulin human`: a name after all
                    matches = [
                        p for p in self.proteins if (p.protein_name or "").casefold() == wanted
                    ]
            else:
                matches = [p for p in self.proteins if (p.protein_name or "").casefold() == wanted]
            if query.taxon_id is not None:
                matches = [p for p in matches if p.taxon_id == query.taxon_id]
            elif query.organism_name:
                matches = [
                    p
                    for p in matches
                    if (p.organism or "").casefold() == query.organism_name.casefold()
                ]
        else:
            return None
        if not matches:
            return None
        if len(matches) > 1:
            ranked = sorted(
                matches, key=lambda p: (p.reviewed is not True, p.taxon_id != HUMAN_TAXON)
            )
            raise AmbiguousError(
                f"{query.value!r} matches {len(matches)} proteins in the bundled snapshot; pick one "
                "by accession or add the organism",
                [
                    ProteinCandidate(
                        accession=p.accession or "",
                        entry_name=p.entry_name,
                        organism=p.organism,
                        taxon_id=p.taxon_id,
                        reviewed=p.reviewed,
                        protein_name=p.protein_name,
                        gene_names=p.gene_names,
                    )
                    for p in ranked
                ],
                query=query.text,
            )
        return matches[0].model_copy(update={"query": query.text})


@lru_cache(maxsize=4096)
def _canonical_smiles_cached(smiles: str | None) -> str | None:
    if not smiles or parse_smiles(smiles) is None:
        return None
    return canonical_smiles(smiles)


def _molecule_from_json(item: dict[str, Any]) -> MoleculeRecord:
    weight = item.get("molecular_weight")
    return MoleculeRecord(
        cid=item.get("cid"),
        name=item.get("name"),
        smiles=item.get("smiles"),
        connectivity_smiles=item.get("connectivity_smiles"),
        inchi=item.get("inchi"),
        inchikey=item.get("inchikey"),
        formula=item.get("formula"),
        molecular_weight=float(weight) if weight not in (None, "") else None,
        iupac_name=item.get("iupac_name"),
        synonyms=list(item.get("synonyms") or []),
        source="snapshot",
        source_url=None,
    )


def _protein_from_json(item: dict[str, Any]) -> ProteinRecord:
    sequence = str(item.get("sequence") or "")
    return ProteinRecord(
        accession=item.get("accession"),
        entry_name=item.get("entry_name"),
        reviewed=item.get("reviewed"),
        protein_name=item.get("protein_name"),
        gene_names=list(item.get("gene_names") or []),
        organism=item.get("organism"),
        taxon_id=item.get("taxon_id"),
        sequence=sequence,
        length=int(item.get("length") or len(sequence)),
        subcellular_locations=list(item.get("subcellular_locations") or []),
        family=item.get("family"),
        ec_numbers=list(item.get("ec_numbers") or []),
        secondary_accessions=list(item.get("secondary_accessions") or []),
        source="snapshot",
        source_url=None,
    )


def load_snapshot(directory: Path | None = None) -> Snapshot:
    """Read the snapshot files (the packaged ones unless `directory` is given)."""
    if directory is None:
        root = resources.files("biomedgpt_tools.resolvers") / "snapshot_data"
        molecules_text = _read_optional(root / "molecules.json")
        proteins_text = _read_optional(root / "proteins.json")
    else:
        molecules_text = _read_optional(Path(directory) / "molecules.json")
        proteins_text = _read_optional(Path(directory) / "proteins.json")
    molecules = [_molecule_from_json(item) for item in json.loads(molecules_text or "[]")]
    proteins = [_protein_from_json(item) for item in json.loads(proteins_text or "[]")]
    return Snapshot(molecules=molecules, proteins=proteins)


def _read_optional(path: Any) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None


@lru_cache(maxsize=1)
def bundled_snapshot() -> Snapshot:
    return load_snapshot()
