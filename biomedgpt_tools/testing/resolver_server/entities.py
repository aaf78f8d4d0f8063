"""The facts the test server serves, loaded from entities.json and indexed for lookups.

entities.json holds hand-entered test data (see its ``_about``); this module adds what the
real services compute themselves: PubChem's descriptor columns (from RDKit) and UniProt's
sequence checksums and mass. Entries without a verified sequence get a deterministic
placeholder so that the server still answers with a realistic shape.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from rdkit import Chem, RDLogger
from rdkit.Chem import Descriptors, rdMolDescriptors

RDLogger.DisableLog("rdApp.*")

ENTITIES_PATH = Path(__file__).with_name("entities.json")
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"

# Average residue masses (Da) as used for UniProt's sequence.molWeight; plus one water.
_RESIDUE_MASS = {
    "A": 71.0788,
    "R": 156.1875,
    "N": 114.1038,
    "D": 115.0886,
    "C": 103.1388,
    "E": 129.1155,
    "Q": 128.1307,
    "G": 57.0519,
    "H": 137.1411,
    "I": 113.1594,
    "L": 113.1594,
    "K": 128.1741,
    "M": 131.1926,
    "F": 147.1766,
    "P": 97.1167,
    "S": 87.0782,
    "T": 101.1051,
    "W": 186.2132,
    "Y": 163.1760,
    "V": 99.1326,
}
_WATER = 18.01524


def _crc64_table() -> list[int]:
    poly = 0xD800000000000000  # CRC-64-ISO, the SWISS-PROT checksum
    table = []
    for i in range(256):
        part = i
        for _ in range(8):
            part = (part >> 1) ^ poly if part & 1 else part >> 1
        table.append(part)
    return table


_CRC64 = _crc64_table()


def crc64(sequence: str) -> str:
    """UniProt's sequence.crc64: CRC-64-ISO as 16 upper-case hex digits."""
    crc = 0
    for byte in sequence.encode("ascii"):
        crc = _CRC64[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return f"{crc:016X}"


def average_mass(sequence: str) -> int:
    """UniProt's sequence.molWeight: average mass in Da, rounded to an integer."""
    return round(sum(_RESIDUE_MASS[aa] for aa in sequence) + _WATER)


def placeholder_sequence(accession: str, length: int) -> str:
    """A made-up sequence, the same on every run, for entries whose real sequence is not on file."""
    rng = random.Random(hashlib.sha256(accession.encode()).digest())
    return "M" + "".join(rng.choice(AMINO_ACIDS) for _ in range(length - 1))


@dataclass
class Molecule:
    """One PubChem compound: hand-entered facts plus the descriptors PubChem would compute."""

    cid: int
    title: str
    smiles: str
    connectivity_smiles: str
    inchi: str
    inchikey: str
    formula: str
    molecular_weight: str
    iupac_name: str
    synonyms: list[str]
    description: str
    in_snapshot: bool
    xlogp: float | None = None
    test_aliases: list[str] = field(default_factory=list)
    computed: dict = field(default_factory=dict)  # TPSA, counts, ExactMass ... (RDKit)
    canonical_smiles: str = ""  # RDKit canonical isomeric SMILES, for structure lookups

    @property
    def names(self) -> list[str]:
        """Every name that finds this compound in the name namespace."""
        return [self.title, *self.synonyms, *self.test_aliases]


@dataclass
class Protein:
    """One UniProtKB entry (active)."""

    accession: str
    secondary_accessions: list[str]
    entry_name: str
    reviewed: bool
    protein_name: str
    gene_names: list[str]
    organism: str
    organism_common_name: str
    taxon_id: int
    sequence: str
    length: int
    sequence_is_placeholder: bool
    function: str
    subcellular_locations: list[str]
    family: str
    ec_numbers: list[str]
    in_snapshot: bool
    gene_synonyms: list[str] = field(default_factory=list)
    alternative_names: list[str] = field(default_factory=list)  # "Beta-actin" for ACTB
    synthetic: bool = False
    facts_unverified: bool = False


@dataclass
class InactiveProtein:
    """An obsolete accession: DEMERGED (with replacements) or DELETED (with a reason)."""

    accession: str
    entry_name: str
    reason: str
    merge_demerge_to: list[str] = field(default_factory=list)
    deleted_reason: str = ""
    synthetic: bool = False


def canonical_smiles(smiles: str) -> str | None:
    """RDKit canonical isomeric SMILES, or None when RDKit cannot parse the input."""
    mol = Chem.MolFromSmiles(smiles)
    return None if mol is None else Chem.MolToSmiles(mol)


@functools.lru_cache(maxsize=256)
def _structure_facts(smiles: str) -> tuple[str, str, str, str, str]:
    """InChI, InChIKey, formula, weight and canonical SMILES, cached for synthetic compounds."""
    mol = Chem.MolFromSmiles(smiles)
    return (
        Chem.MolToInchi(mol),
        Chem.MolToInchiKey(mol),
        rdMolDescriptors.CalcMolFormula(mol),
        f"{Descriptors.MolWt(mol):.2f}",
        Chem.MolToSmiles(mol),
    )


@functools.lru_cache(maxsize=256)
def _computed_properties(smiles: str) -> dict:
    mol = Chem.MolFromSmiles(smiles)
    return {
        "TPSA": round(rdMolDescriptors.CalcTPSA(mol), 1),
        "Charge": Chem.GetFormalCharge(mol),
        "HBondDonorCount": rdMolDescriptors.CalcNumHBD(mol),
        "HBondAcceptorCount": rdMolDescriptors.CalcNumHBA(mol),
        "HeavyAtomCount": mol.GetNumHeavyAtoms(),
        "RotatableBondCount": rdMolDescriptors.CalcNumRotatableBonds(mol),
        "ExactMass": f"{Descriptors.ExactMolWt(mol):.9g}",
        "MonoisotopicMass": f"{Descriptors.ExactMolWt(mol):.9g}",
    }


class EntityCatalog:
    """All entities with the indexes the two protocols look things up by."""

    def __init__(self, raw: dict):
        self.raw = raw
        self.molecules: list[Molecule] = []
        for item in raw["molecules"]:
            fields = {k: v for k, v in item.items() if k in Molecule.__dataclass_fields__}
            molecule = Molecule(**fields)
            molecule.computed = _computed_properties(molecule.smiles)
            molecule.canonical_smiles = canonical_smiles(molecule.smiles) or ""
            self.molecules.append(molecule)
        self.by_cid = {m.cid: m for m in self.molecules}
        self._synthetic: dict[int, Molecule] = {}
        self.by_inchikey = {m.inchikey: m for m in self.molecules}
        self.by_inchi = {m.inchi: m for m in self.molecules}
        self.by_canonical_smiles: dict[str, list[Molecule]] = {}
        for m in self.molecules:
            self.by_canonical_smiles.setdefault(m.canonical_smiles, []).append(m)
        self.by_name: dict[str, list[int]] = {}
        for m in self.molecules:
            for name in m.names:
                cids = self.by_name.setdefault(name.casefold(), [])
                if m.cid not in cids:
                    cids.append(m.cid)
        for name, cids in raw.get("ambiguous_names", {}).items():
            self.by_name[name.casefold()] = list(cids)

        self.proteins: list[Protein] = []
        for item in raw["proteins"]:
            fields = {k: v for k, v in item.items() if k in Protein.__dataclass_fields__}
            if fields.get("sequence") is None:
                fields["sequence"] = placeholder_sequence(fields["accession"], fields["length"])
            self.proteins.append(Protein(**fields))
        self.by_accession = {p.accession: p for p in self.proteins}
        self.by_entry_name = {p.entry_name: p for p in self.proteins}
        self.secondary_to_primary = {
            secondary: p.accession for p in self.proteins for secondary in p.secondary_accessions
        }
        self.inactive = {
            item["accession"]: InactiveProtein(**item) for item in raw.get("inactive_proteins", [])
        }

    @classmethod
    def load(cls, path: Path = ENTITIES_PATH) -> EntityCatalog:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def __getitem__(self, key: str):
        """The raw JSON sections too: catalog["molecules"], catalog["proteins"], ..."""
        return self.raw[key]

    def synthetic_molecule(self, cid: int) -> Molecule:
        """A made-up compound for a CID the catalog lacks (benchmarks ask for 1,000 CIDs).

        A linear alcohol whose chain length follows the CID; titled so nobody mistakes it
        for a PubChem fact. Cached so repeated requests cost nothing.
        """
        cached = self._synthetic.get(cid)
        if cached is not None:
            return cached
        smiles = "C" * (cid % 12 + 1) + "O"
        inchi, inchikey, formula, weight, canonical = _structure_facts(smiles)
        molecule = Molecule(
            cid=cid,
            title=f"Synthetic test compound {cid}",
            smiles=smiles,
            connectivity_smiles=smiles,
            inchi=inchi,
            inchikey=inchikey,
            formula=formula,
            molecular_weight=weight,
            iupac_name="",
            synonyms=[f"synthetic test compound {cid}"],
            description="Test data: a made-up compound served for benchmark CIDs.",
            in_snapshot=False,
        )
        molecule.computed = _computed_properties(smiles)
        molecule.canonical_smiles = canonical
        self._synthetic[cid] = molecule
        return molecule

    def cids_for_name(self, name: str) -> list[int]:
        """PubChem name lookup: case-insensitive, whole name (name_type=complete)."""
        return list(self.by_name.get(name.strip().casefold(), []))
