"""Decide what kind of identifier a user typed, before any request is made.

Molecules: PubChem CID (`2244`, `CID 2244`, `cid:2244`), CAS Registry Number (`50-78-2`,
check digit validated), InChIKey, InChI, SMILES, or a name.
Proteins: UniProt accession (optionally with an isoform suffix), entry name (`CKL10_ARATH`),
gene plus organism on either side (`TP53 human`, `TP53 in human`, `mouse Kras`, `E. coli
lacZ`, `gene:TP53 organism:9606`), a bare gene symbol (`TP53`), a protein name (optionally
with an organism: `human insulin`, `insulin (human)`), or a raw amino-acid sequence (FASTA).
An explicit prefix (`name:`, `smiles:`, `cid:`, `cas:`, `inchikey:`, `accession:`, `entry:`,
`gene:`, `protein:`, `sequence:`) always wins over guessing; guessing is documented in each
function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from biomedgpt_tools.resolvers.cache_keys import molecule_key, protein_key
from biomedgpt_tools.resolvers.outcomes import InvalidQueryError
from biomedgpt_tools.resolvers.smiles import canonical_smiles, parse_smiles, smiles_of

# UniProt's accession grammar (apis.md), anchored and grouped; isoform suffix `-N` optional.
ACCESSION_RE = re.compile(
    r"^(?P<accession>(?:[OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9](?:[A-Z][A-Z0-9]{2}[0-9]){1,2}))"
    r"(?:-(?P<isoform>[0-9]{1,3}))?$"
)
ENTRY_NAME_RE = re.compile(r"^[A-Z0-9]{1,10}_[A-Z0-9]{1,5}$")
INCHIKEY_RE = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")
CID_RE = re.compile(r"^(?:(?:pubchem\s*)?cid\s*[:#=]?\s*)?(?P<cid>[0-9]{1,12})$", re.IGNORECASE)
# Gene symbols as people type them: TP53, BRCA1, HLA-A, CKL10 (upper case, digits, - or .).
GENE_SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9]*(?:[-.][A-Z0-9]+)*$")
GENE_SYMBOL_LOOSE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*$")
# CAS Registry Number: 2-7 digits, 2 digits, 1 check digit (`50-78-2`), optionally after `CAS`.
CAS_RE = re.compile(
    r"^(?:cas(?:\s*(?:rn|no\.?|number|registry\s+number))?\s*[:#]?\s*)?"
    r"(?P<first>[0-9]{2,7})-(?P<second>[0-9]{2})-(?P<check>[0-9])$",
    re.IGNORECASE,
)
AMINO_ACIDS = set("ACDEFGHIKLMNPQRSTVWYBZXUO")
MIN_BARE_SEQUENCE_LENGTH = 20
# Tokens a SMILES may contain outside brackets: organic-subset atoms, digits, bonds, branches.
_SMILES_SHAPE_RE = re.compile(
    r"^(?:Cl|Br|[BCNOPSFI]|[bcnops]|\[[^\]\s]+\]|[0-9%=#$()/\\.:~*@+\-])+$"
)
_SMILES_SYNTAX_CHARS = set("=#$()[]@/\\%0123456789")

# Common organism words -> NCBI taxon id (the ids UniProt's reviewed entries carry).
ORGANISM_TAXA: dict[str, int] = {
    "human": 9606,
    "humans": 9606,
    "homo sapiens": 9606,
    "h. sapiens": 9606,
    "hs": 9606,
    "mouse": 10090,
    "mice": 10090,
    "mus musculus": 10090,
    "m. musculus": 10090,
    "rat": 10116,
    "rattus norvegicus": 10116,
    "yeast": 559292,
    "budding yeast": 559292,
    "saccharomyces cerevisiae": 559292,
    "s. cerevisiae": 559292,
    "fission yeast": 284812,
    "schizosaccharomyces pombe": 284812,
    "e. coli": 83333,
    "ecoli": 83333,
    "escherichia coli": 83333,
    "arabidopsis": 3702,
    "arabidopsis thaliana": 3702,
    "a. thaliana": 3702,
    "thale cress": 3702,
    "zebrafish": 7955,
    "danio rerio": 7955,
    "fly": 7227,
    "fruit fly": 7227,
    "drosophila": 7227,
    "drosophila melanogaster": 7227,
    "worm": 6239,
    "c. elegans": 6239,
    "caenorhabditis elegans": 6239,
    "cow": 9913,
    "bovine": 9913,
    "bos taurus": 9913,
    "chicken": 9031,
    "gallus gallus": 9031,
    "pig": 9823,
    "sus scrofa": 9823,
    "dog": 9615,
    "canis familiaris": 9615,
    "rice": 39947,
    "oryza sativa": 39947,
    "xenopus": 8355,
    "xenopus laevis": 8355,
    "african clawed frog": 8355,
    "norway rat": 10116,
    "house mouse": 10090,
    "r. norvegicus": 10116,
    "d. melanogaster": 7227,
    "d. rerio": 7955,
    "s. pombe": 284812,
    "e.coli": 83333,
    "escherichia coli k-12": 83333,
    "cattle": 9913,
}

MoleculeKind = Literal["cid", "cas", "inchikey", "inchi", "smiles", "name"]
ProteinKind = Literal["accession", "entry_name", "gene", "protein_name", "sequence"]


@dataclass(frozen=True)
class MoleculeQuery:
    """A molecule query after detection; `value` is normalised (canonical SMILES, int CID text)."""

    kind: MoleculeKind
    value: str
    text: str  # what the user typed

    @property
    def key_value(self) -> str:
        """The value as cached: names ignore case (PubChem's name search does)."""
        return self.value.casefold() if self.kind == "name" else self.value

    @property
    def cache_key(self) -> str:
        """Where a negative answer to this query is cached (records add a detail level)."""
        return molecule_key(self.kind, self.key_value)

    @property
    def described(self) -> str:
        """How messages name the query kind: 'name', 'CAS number', 'SMILES', ..."""
        return {
            "cas": "CAS number",
            "smiles": "SMILES",
            "inchi": "InChI",
            "inchikey": "InChIKey",
        }.get(self.kind, self.kind)


@dataclass(frozen=True)
class ProteinQuery:
    """A protein query after detection. Gene queries may carry an organism (taxon id or name)."""

    kind: ProteinKind
    value: str
    text: str
    isoform: str | None = None  # full isoform accession, e.g. "P04637-2"
    taxon_id: int | None = None
    organism_name: str | None = None  # used when the organism is not in ORGANISM_TAXA
    # a gene query from a word that may also be a protein name (`insulin human`, `mouse kras`):
    # when no gene has that symbol, the word is searched as a protein name in the organism
    name_fallback: bool = False

    @property
    def cache_key(self) -> str:
        """Where this query's answer is cached: the value normalised as UniProt compares it."""
        if self.kind == "sequence":
            return protein_key("sequence", self.value)
        organism = self.taxon_id if self.taxon_id is not None else (self.organism_name or "")
        value = self.isoform or self.value
        if self.kind == "protein_name":
            value = " ".join(value.casefold().split())
        elif self.kind == "gene":  # UniProt's gene field ignores case (Kras = KRAS = kras)
            value = value.casefold() + (":or-name" if self.name_fallback else "")
        return protein_key(self.kind, value, str(organism).casefold())


def _strip_prefix(text: str, prefixes: tuple[str, ...]) -> tuple[str | None, str]:
    lowered = text.lower()
    for prefix in prefixes:
        if lowered.startswith(prefix + ":"):
            return prefix, text[len(prefix) + 1 :].strip()
    return None, text


def cas_check_digit(first: str, second: str) -> int:
    """CAS check digit: digits before it, from the right, weighted 1, 2, 3, ..., summed mod 10."""
    digits = (first + second)[::-1]
    return sum(weight * int(digit) for weight, digit in enumerate(digits, 1)) % 10


def _cas_query(match: re.Match[str], raw: str) -> MoleculeQuery:
    first, second, check = match.group("first"), match.group("second"), match.group("check")
    first = first.lstrip("0") or "0"
    number = f"{first}-{second}-{check}"
    expected = cas_check_digit(first, second)
    if int(check) != expected:
        raise InvalidQueryError(
            f"{raw!r} is not a valid CAS Registry Number: its check digit is {check} but "
            f"{first}-{second} needs {expected}; check the number (a typo?) or give a name, CID "
            "or SMILES",
            query=raw,
        )
    return MoleculeQuery("cas", number, raw)


def _looks_like_smiles(text: str) -> bool:
    """SMILES-shaped: only organic-subset atoms, bracket atoms, digits and bond/branch symbols."""
    return bool(_SMILES_SHAPE_RE.match(text))


def detect_molecule_query(text: str) -> MoleculeQuery:
    """Classify a molecule query.

    Order: explicit prefix; CID (digits, optionally after `CID`); CAS Registry Number
    (`50-78-2`, `CAS 50-78-2`: a wrong check digit is an InvalidQueryError, not a name or a
    SMILES error; looked up as a PubChem name, since PubChem lists CAS numbers among a
    compound's synonyms); InChI (`InChI=`); InChIKey
    (27-character pattern); SMILES (no whitespace, SMILES-shaped and parsed by RDKit); else a
    name. A SMILES-shaped string with SMILES syntax (ring digits, `=`, brackets...) that RDKit
    rejects raises InvalidQueryError instead of being sent as a name. Short strings that are
    both a name and a SMILES (`NO`, `CO`) are taken as SMILES; write `name:NO` for the name.
    """
    raw = (text or "").strip()
    if not raw:
        raise InvalidQueryError("empty molecule query; give a name, CID, SMILES, InChI or InChIKey")
    prefix, body = _strip_prefix(raw, ("name", "smiles", "cid", "cas", "inchikey", "inchi"))
    if prefix is not None and not body:
        raise InvalidQueryError(f"{raw!r} has a {prefix}: prefix but nothing after it", query=raw)
    if prefix == "name":
        return MoleculeQuery("name", " ".join(body.split()), raw)
    if prefix == "smiles":
        return MoleculeQuery("smiles", canonical_smiles(body), raw)
    if prefix == "inchikey":
        key = body.upper()
        if not INCHIKEY_RE.match(key):
            raise InvalidQueryError(
                f"{body!r} is not an InChIKey (expected 14-10-1 upper-case letters, e.g. "
                "BSYNRYMUTXBXSQ-UHFFFAOYSA-N)",
                query=raw,
            )
        return MoleculeQuery("inchikey", key, raw)
    if prefix == "inchi":
        inchi = body if body.startswith("InChI=") else f"InChI={body}"
        return MoleculeQuery("inchi", inchi, raw)
    if prefix == "cas":
        cas_match = CAS_RE.match(body)
        if not cas_match:
            raise InvalidQueryError(
                f"{body!r} is not a CAS Registry Number (digits-2 digits-check digit, e.g. 50-78-2)",
                query=raw,
            )
        return _cas_query(cas_match, raw)
    if prefix == "cid":
        body = f"CID {body}"
    cid_match = CID_RE.match(body)
    if cid_match:
        cid = int(cid_match.group("cid"))
        if cid <= 0:
            raise InvalidQueryError(f"{raw!r}: PubChem CIDs start at 1", query=raw)
        return MoleculeQuery("cid", str(cid), raw)
    if prefix == "cid":
        raise InvalidQueryError(f"{raw!r} is not a PubChem CID (a positive integer)", query=raw)
    cas_match = CAS_RE.match(body)
    if cas_match:
        return _cas_query(cas_match, raw)
    if body.startswith("InChI="):
        return MoleculeQuery("inchi", body, raw)
    if INCHIKEY_RE.match(body):
        return MoleculeQuery("inchikey", body, raw)
    if not any(ch.isspace() for ch in body) and _looks_like_smiles(body):
        mol = parse_smiles(body)
        if mol is not None:
            return MoleculeQuery("smiles", smiles_of(mol), raw)
        if any(ch in _SMILES_SYNTAX_CHARS for ch in body):
            canonical_smiles(body)  # raises InvalidQueryError with the RDKit verdict
    return MoleculeQuery("name", " ".join(body.split()), raw)


def _parse_sequence(text: str) -> str | None:
    """Residues of a raw or FASTA sequence, or None when the text is not one."""
    lines = text.strip().splitlines()
    if lines and lines[0].startswith(">"):
        lines = lines[1:]
    residues = "".join("".join(line.split()) for line in lines).upper().rstrip("*")
    if residues and set(residues) <= AMINO_ACIDS:
        return residues
    return None


def _split_gene_and_organism(text: str) -> tuple[str, str] | None:
    """`TP53 human`, `TP53 in human`, `TP53 (Homo sapiens)`, `TP53 9606` -> (gene, organism)."""
    match = re.match(
        r"^(?P<gene>\S+)\s+(?:in\s+|from\s+|of\s+)?\(?(?P<org>[^()]+?)\)?$", text, re.I
    )
    if not match:
        return None
    gene, organism = match.group("gene"), match.group("org").strip()
    if not GENE_SYMBOL_LOOSE_RE.match(gene):
        return None
    has_connector = re.match(r"^\S+\s+(?:in|from|of)\s+", text, re.I) is not None
    known = organism.lower() in ORGANISM_TAXA or organism.isdigit()
    if known or (has_connector and GENE_SYMBOL_RE.match(gene)):
        return gene, organism
    return None


def _organism_fields(organism: str) -> tuple[int | None, str | None]:
    org = organism.strip()
    if org.isdigit():
        return int(org), None
    taxon = ORGANISM_TAXA.get(org.lower())
    return (taxon, None) if taxon is not None else (None, org)


def detect_protein_query(text: str) -> ProteinQuery:
    """Classify a protein query.

    Order: explicit prefix (`accession:`, `entry:`/`id:`, `gene:` with optional
    `organism:`, `protein:`/`name:`, `sequence:`); FASTA or a run of >= 20 amino-acid letters
    (a sequence, no lookup); UniProt accession (anchored pattern, `-N` isoform allowed, case
    folded); entry name (`CKL10_ARATH`); a word plus a known organism, on either side
    (`TP53 human`, `TP53 in human`, `insulin (human)`, `human insulin`, `mouse Kras`,
    `E. coli lacZ`): an upper-case word is a gene, another single word a gene that falls back
    to a protein name (see `_word_in_organism`), several words a protein name in that organism;
    a bare upper-case gene symbol (`TP53`); anything else is a protein name (a trailing
    organism, `hemoglobin subunit alpha mouse`, still filters it).
    """
    raw = (text or "").strip()
    if not raw:
        raise InvalidQueryError(
            "empty protein query; give a UniProt accession, entry name, gene (and organism), "
            "protein name or sequence"
        )
    if raw.lower().startswith("gene:"):
        match = re.match(
            r"^gene:\s*(?P<gene>\S+)(?:\s+(?:organism|organism_id|taxon):\s*(?P<org>.+))?$",
            raw,
            re.I,
        )
        if not match:
            raise InvalidQueryError(
                f"{raw!r}: write gene:SYMBOL [organism:NAME_OR_TAXON]", query=raw
            )
        taxon, name = _organism_fields(match.group("org")) if match.group("org") else (None, None)
        # as typed: UniProt's gene field ignores case, and `Kras` reads as the mouse symbol
        return ProteinQuery("gene", match.group("gene"), raw, taxon_id=taxon, organism_name=name)
    prefix, body = _strip_prefix(raw, ("accession", "entry", "id", "protein", "name", "sequence"))
    if prefix is not None and not body:
        raise InvalidQueryError(f"{raw!r} has a {prefix}: prefix but nothing after it", query=raw)
    if prefix == "sequence":
        residues = _parse_sequence(body)
        if residues is None:
            raise InvalidQueryError(
                f"{raw[:40]!r} is not an amino-acid sequence (letters {''.join(sorted(AMINO_ACIDS))})",
                query=raw,
            )
        return ProteinQuery("sequence", residues, raw)
    if prefix in ("protein", "name"):
        return ProteinQuery("protein_name", " ".join(body.split()), raw)
    upper = body.upper()
    if prefix == "accession":
        match = ACCESSION_RE.match(upper)
        if not match:
            raise InvalidQueryError(
                f"{body!r} is not a UniProt accession (e.g. P04637 or P04637-2)", query=raw
            )
        return _accession_query(match, raw)
    if prefix in ("entry", "id"):
        if not ENTRY_NAME_RE.match(upper):
            raise InvalidQueryError(
                f"{body!r} is not a UniProt entry name (e.g. P53_HUMAN)", query=raw
            )
        return ProteinQuery("entry_name", upper, raw)

    if body.startswith(">"):
        residues = _parse_sequence(body)
        if residues is None:
            raise InvalidQueryError(
                "the FASTA record holds letters that are not amino acids", query=raw
            )
        return ProteinQuery("sequence", residues, raw)
    match = ACCESSION_RE.match(upper)
    if match and " " not in body:
        return _accession_query(match, raw)
    if ENTRY_NAME_RE.match(upper) and " " not in body:
        return ProteinQuery("entry_name", upper, raw)
    residues = _parse_sequence(body)
    if residues is not None and len(residues) >= MIN_BARE_SEQUENCE_LENGTH and body.upper() == body:
        return ProteinQuery("sequence", residues, raw)
    split = _split_gene_and_organism(body) or _split_leading_organism(body)
    if split is not None:
        word, organism = split
        return _word_in_organism(word, organism, raw)
    if GENE_SYMBOL_RE.match(body) and len(body) <= 12:
        return ProteinQuery("gene", body, raw)
    name, organism = _split_trailing_organism(" ".join(body.split()))
    if organism is not None:
        taxon, organism_name = _organism_fields(organism)
        return ProteinQuery("protein_name", name, raw, taxon_id=taxon, organism_name=organism_name)
    return ProteinQuery("protein_name", name, raw)


def _word_in_organism(word: str, organism: str, raw: str) -> ProteinQuery:
    """A name given with an organism: an upper-case symbol is a gene (`TP53 human`); another
    single word (`Kras`, `lacZ`, `insulin`) is searched as a gene first, since mouse, rat and
    bacterial symbols are not upper case, then as a protein name; several words are a name."""
    taxon, name = _organism_fields(organism)
    if GENE_SYMBOL_RE.match(word):
        return ProteinQuery("gene", word, raw, taxon_id=taxon, organism_name=name)
    if GENE_SYMBOL_LOOSE_RE.match(word):
        return ProteinQuery(
            "gene", word, raw, taxon_id=taxon, organism_name=name, name_fallback=True
        )
    return ProteinQuery("protein_name", word, raw, taxon_id=taxon, organism_name=name)


_LEADING_ORGANISM_WORDS = 3  # "Escherichia coli K-12 lacZ" at most


def _split_leading_organism(text: str) -> tuple[str, str] | None:
    """`human insulin`, `mouse Kras`, `E. coli lacZ`, `Homo sapiens TP53` -> (name, organism)."""
    words = text.split()
    for size in range(min(_LEADING_ORGANISM_WORDS, len(words) - 1), 0, -1):
        organism = " ".join(words[:size])
        if organism.lower() in ORGANISM_TAXA:
            return " ".join(words[size:]), organism
    return None


def _split_trailing_organism(text: str) -> tuple[str, str | None]:
    """`casein kinase in human`, `insulin (Homo sapiens)`, `hemoglobin subunit alpha mouse`."""
    match = re.match(r"^(?P<name>.+?)\s+(?:in|from|of)\s+(?P<org>[^()]+)$", text, re.I) or re.match(
        r"^(?P<name>.+?)\s*\((?P<org>[^()]+)\)$", text
    )
    if match and (match.group("org").lower() in ORGANISM_TAXA or match.group("org").isdigit()):
        return match.group("name"), match.group("org")
    words = text.split(" ")
    for size in (2, 1):
        if len(words) > size and " ".join(words[-size:]).lower() in ORGANISM_TAXA:
            return " ".join(words[:-size]), " ".join(words[-size:])
    return text, None


def _accession_query(match: re.Match[str], raw: str) -> ProteinQuery:
    accession = match.group("accession")
    isoform = f"{accession}-{match.group('isoform')}" if match.group("isoform") else None
    return ProteinQuery("accession", accession, raw, isoform=isoform)
