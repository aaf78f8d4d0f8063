"""Find the molecules and proteins a user's question names.

Detectors are deliberately conservative: a word like "CO", "I", "NO" or "ACE" is valid
SMILES or looks like a gene symbol, but in prose it is almost never a structure. A
structure-looking token becomes an entity only when its shape is unambiguous (SMILES
punctuation, ring closures, an InChIKey's fixed layout, a UniProt accession) or the words
around it say so ("the molecule CCO", "gene TP53", "CID 2244").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from agents.records import EntityRecord, Modality
from biomedgpt_tools.resolvers.identifiers import ORGANISM_TAXA, cas_check_digit

# kinds, in the order a resolver needs them
MOLECULE_KINDS = ("smiles", "inchikey", "inchi", "cid", "cas", "molecule_name")
PROTEIN_KINDS = ("uniprot_accession", "entry_name", "sequence", "gene", "protein_name")


@dataclass(frozen=True)
class Entity:
    """A span of the question that names one molecule or protein."""

    kind: str  # one of MOLECULE_KINDS or PROTEIN_KINDS
    text: str  # the identifier as the resolver should receive it
    start: int
    end: int
    organism: str | None = None  # for genes: "human", "9606", ...
    query: str | None = None  # the resolver query that confirmed it (verification.py), if any

    @property
    def modality(self) -> Modality:
        return "molecule" if self.kind in MOLECULE_KINDS else "protein"

    def as_dict(self) -> EntityRecord:
        data = EntityRecord(kind=self.kind, text=self.text, modality=self.modality)
        if self.organism:
            data["organism"] = self.organism
        if self.query:
            data["query"] = self.query
        return data

    @classmethod
    def from_dict(cls, data: EntityRecord) -> Entity:
        """Back from as_dict() (the state keeps records; spans are not kept)."""
        return cls(
            data["kind"],
            data["text"],
            -1,
            -1,
            organism=data.get("organism"),
            query=data.get("query"),
        )


# UniProt's documented accession pattern (apis.md), anchored by word boundaries, + isoform.
UNIPROT_ACCESSION = re.compile(
    r"(?<![A-Za-z0-9_-])((?:[OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9](?:[A-Z][A-Z0-9]{2}[0-9]){1,2})(?:-[0-9]+)?)(?![A-Za-z0-9_])"
)
ENTRY_NAME = re.compile(r"(?<![A-Za-z0-9_])([A-Z0-9]{1,10}_[A-Z0-9]{1,5})(?![A-Za-z0-9_])")
INCHIKEY = re.compile(r"(?<![A-Z])([A-Z]{14}-[A-Z]{10}-[A-Z])(?![A-Z])")
INCHI = re.compile(r"(InChI=1S?/[^\s]+)")
CID = re.compile(r"\b(?:PubChem\s+)?CID[\s:#]*([0-9]{1,10})\b", re.IGNORECASE)
# CAS Registry Numbers: taken with a valid check digit, or after a "CAS" cue (then a wrong
# check digit reaches the resolver, whose error says so, instead of vanishing)
CAS_NUMBER = re.compile(
    r"(?P<cue>\bCAS(?:\s*(?:RN|No\.?|number|registry\s+number))?[\s:#]*)?"
    r"(?<![\d-])(?P<number>[0-9]{2,7}-[0-9]{2}-[0-9])(?![\d-])",
    re.IGNORECASE,
)
# 20+ residues of the 20 standard amino acids (+ X, U, O, B, Z): no English word qualifies.
SEQUENCE = re.compile(r"(?<![A-Za-z])([ACDEFGHIKLMNPQRSTVWYXUOBZ]{20,})(?![A-Za-z])")
TOKEN = re.compile(r"[^\s,;]+")
SMILES_PUNCTUATION = re.compile(r"[()\[\]=#@/\\+]|[a-zA-Z]\d|%\d\d")
PLAIN_SMILES_LETTERS = re.compile(r"^(?:Cl|Br|[BCNOSPFI]|[cnosp])+$")

# Gene symbols only count next to a cue word or an organism: "TP53" alone could be prose.
GENE_WITH_CUE = re.compile(
    r"\b(?:gene|protein)\s+([A-Z][A-Z0-9-]{1,9})\b|\b([A-Z][A-Z0-9]{1,9})\s+(?:gene|protein)\b"
)
# the resolvers' organism words (one table): "mouse" -> "10090"
ORGANISM_WORDS = {word: str(taxon) for word, taxon in ORGANISM_TAXA.items()}
_ORGANISM_ALTERNATION = "|".join(sorted(map(re.escape, ORGANISM_WORDS), key=len, reverse=True))
GENE_IN_ORGANISM = re.compile(
    r"\b([A-Za-z][A-Za-z0-9]{1,9})\s+(?:in|from|of)\s+(" + _ORGANISM_ALTERNATION + r")\b",
    re.IGNORECASE,
)
# "mouse Kras", "human TP53", "E. coli lacZ": the organism first, as people write it
ORGANISM_THEN_GENE = re.compile(
    r"(?<![A-Za-z])(" + _ORGANISM_ALTERNATION + r")\s+([A-Za-z][A-Za-z0-9]{1,9})\b", re.IGNORECASE
)
# Symbols in the nomenclatures people use: human TP53, mouse/rat Kras and Tp53, bacterial lacZ
GENE_SYMBOL_SHAPES = re.compile(r"^(?:[A-Z][A-Z0-9]+|[A-Z][a-z]{1,3}[0-9]*[a-z]?|[a-z]{3}[A-Z])$")
ORGANISM_ID_FORM = re.compile(r"gene:([A-Za-z0-9-]+)\s+organism:([0-9]+|[A-Za-z .]+?)(?=$|[\s?,;])")

# Name cues: the word after these is the entity's name.
MOLECULE_CUE = re.compile(
    r"\b(?:molecule|compound|drug|chemical|small molecule|ligand|inhibitor)\s+(?:called\s+|named\s+)?([A-Za-z][A-Za-z0-9-]{2,40})",
    re.IGNORECASE,
)
# International Nonproprietary Name stems: "lisinopril", "ibuprofen", "atorvastatin". Generic
# chemistry endings (-ine, -ol, -ate) are left out on purpose: too many English words share them.
# Other names are found through cue words or the caller's known names.
DRUG_STEMS = (
    "pril",
    "sartan",
    "olol",
    "statin",
    "profen",
    "cillin",
    "mycin",
    "cycline",
    "floxacin",
    "conazole",
    "prazole",
    "tinib",
    "ciclib",
    "parin",
    "dipine",
    "afil",
    "oxetine",
    "triptan",
    "semide",
    "thiazide",
    "azepam",
    "barbital",
    "setron",
    "gliptin",
    "glitazone",
    "lukast",
    "vastatin",
    "platin",
    "rubicin",
    "taxel",
    "dronate",
    "tidine",
    "oxacin",
    "navir",
    "previr",
    "buvir",
    "ciclovir",
    "amivir",
    "mab",
    "grel",
    "parib",
    "zomib",
    "fenib",
    "gatran",
    "xaban",
    "gliflozin",
    "glinide",
    "coxib",
    "caine",
    "azosin",
    "terol",
    "vudine",
    "dopa",
)  # WHO INN stems
STOP_NAMES = {
    "molecule",
    "compound",
    "drug",
    "protein",
    "this",
    "that",
    "it",
    "its",
    "the",
    "a",
    "an",
}


@lru_cache(maxsize=4096)
def parses_as_smiles(text: str) -> bool:
    """RDKit's verdict, with its error noise silenced."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    try:
        return Chem.MolFromSmiles(text) is not None
    finally:
        RDLogger.EnableLog("rdApp.*")


def looks_like_smiles(token: str) -> bool:
    """A token is SMILES when RDKit parses it and its shape rules out prose.

    Shape: SMILES punctuation or ring-closure digits ("CC(=O)O", "c1ccccc1"), or a run of
    three or more organic-subset atoms with at least two carbons ("CCO", "CCN"). "CO", "NO",
    "I", "CNS", "ACE" and "CO2" are never taken.
    """
    token = token.strip(".,;:!?\"'")
    if len(token) < 2 or token.isdigit():
        return False
    if token.isalpha() and token.lower() == token and len(token) > 3 and "1" not in token:
        return False  # plain lowercase word
    if SMILES_PUNCTUATION.search(token):
        if re.fullmatch(r"[A-Za-z]+\d+", token) and not re.search(r"[a-z]\d.*\d", token):
            return False  # "CO2", "H2O", "IL6", "TP53": formulas and symbols, not SMILES
        return parses_as_smiles(token)
    if PLAIN_SMILES_LETTERS.match(token) and len(token) >= 3 and token.count("C") >= 2:
        return parses_as_smiles(token)
    return False


def looks_like_chemical_name(word: str) -> bool:
    lowered = word.lower()
    if len(lowered) < 6 or not lowered.isalpha():
        return False
    return lowered.endswith(DRUG_STEMS)


# capitalised words that follow an organism in prose ("the Mouse Model", "Human Cell lines")
_TITLE_WORDS = {"Model", "Models", "Gene", "Genes", "Cell", "Cells", "Type", "Data", "Study",
                "Line", "Lines", "Liver", "Brain", "Blood", "Heart", "Skin", "Lung", "Host"}  # fmt: skip


def looks_like_gene_symbol(word: str) -> bool:
    """TP53, BRCA1 (human); Kras, Tp53, Ins1 (mouse, rat); lacZ, recA (bacteria).
    A lower-case word ("insulin", "liver") is not one: it reads as prose."""
    if not GENE_SYMBOL_SHAPES.match(word):
        return False
    if word.isalpha() and word.istitle():  # mouse style: short, and not an English word
        return len(word) <= 5 and word not in _TITLE_WORDS
    return True


def _add(found: list[Entity], entity: Entity) -> None:
    """Keep the first entity for any span; later, overlapping detections lose."""
    for other in found:
        if entity.start < other.end and other.start < entity.end:
            return
    found.append(entity)


def _add_smiles(found: list[Entity], question: str) -> None:
    """Every whitespace-separated token that reads as SMILES, its punctuation stripped."""
    for match in TOKEN.finditer(question):
        token = match.group(0)
        stripped = token.rstrip(".,;:!?\"')").lstrip("\"'(")
        if stripped and looks_like_smiles(stripped):
            start = match.start() + token.index(stripped)
            _add(found, Entity("smiles", stripped, start, start + len(stripped)))


def find_entities(
    question: str, known_names: frozenset[str] = frozenset(), *, names: bool = True
) -> list[Entity]:
    """All molecules and proteins the question names, in order of appearance.

    known_names: lower-cased names the caller already knows are molecules (e.g. the
    bundled snapshot's names and synonyms); they are found without a suffix guess.
    names=False keeps only what its shape proves (accessions, entry names, InChI/InChIKeys,
    CIDs, CAS numbers, SMILES, sequences, `gene:X organism:N`): names are then left to
    verification.py, which asks the knowledge bases.
    """
    found: list[Entity] = []
    for match in INCHI.finditer(question):
        _add(found, Entity("inchi", match.group(1), *match.span(1)))
    for match in INCHIKEY.finditer(question):
        _add(found, Entity("inchikey", match.group(1), *match.span(1)))
    for match in CID.finditer(question):
        _add(found, Entity("cid", match.group(1), *match.span()))
    for match in CAS_NUMBER.finditer(question):
        number = match.group("number")
        first, second, check = number.split("-")
        if match.group("cue") or cas_check_digit(first, second) == int(check):
            _add(found, Entity("cas", number, *match.span()))
    for match in ORGANISM_ID_FORM.finditer(question):
        _add(found, Entity("gene", match.group(1), *match.span(), organism=match.group(2).strip()))
    for match in SEQUENCE.finditer(question):
        _add(found, Entity("sequence", match.group(1), *match.span(1)))
    for match in UNIPROT_ACCESSION.finditer(question):
        _add(found, Entity("uniprot_accession", match.group(1), *match.span(1)))
    for match in ENTRY_NAME.finditer(question):
        _add(found, Entity("entry_name", match.group(1), *match.span(1)))
    if not names:
        _add_smiles(found, question)
        return sorted(found, key=lambda entity: entity.start)
    for match in GENE_IN_ORGANISM.finditer(question):
        symbol = match.group(1)
        if looks_like_gene_symbol(symbol):
            organism = ORGANISM_WORDS[match.group(2).lower()]
            _add(found, Entity("gene", symbol, *match.span(1), organism=organism))
    for match in ORGANISM_THEN_GENE.finditer(question):
        symbol = match.group(2)
        if looks_like_gene_symbol(symbol):
            organism = ORGANISM_WORDS[match.group(1).lower()]
            _add(found, Entity("gene", symbol, *match.span(2), organism=organism))
    for match in GENE_WITH_CUE.finditer(question):
        group = 1 if match.group(1) else 2
        _add(found, Entity("gene", match.group(group), *match.span(group)))
    _add_smiles(found, question)
    for match in MOLECULE_CUE.finditer(question):
        name = match.group(1)
        if name.lower() not in STOP_NAMES and not looks_like_smiles(name):
            _add(found, Entity("molecule_name", name, *match.span(1)))
    for match in re.finditer(r"[A-Za-z][A-Za-z0-9-]+", question):
        word = match.group(0)
        if word.lower() in known_names or looks_like_chemical_name(word):
            _add(found, Entity("molecule_name", word, *match.span()))
    return sorted(found, key=lambda entity: entity.start)
