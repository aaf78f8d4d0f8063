"""Spans of a question that could name a gene, a protein or a chemical, before any lookup.

Nothing here decides that a span *is* an entity: verification.py asks PubChem and UniProt.
This module only keeps the lookups few and sensible, by shape rather than by a list of names:

- gene symbols: human upper case (KRAS, PTGS2), mouse/rat (Kras, Tp53), bacterial (lacZ);
  not an English acronym WordNet knows (MRI, RNA), not one the question spells out
  ("chronic obstructive pulmonary disease (COPD)"), not a plural (NSAIDs);
- protein names: a noun with a protein sense in WordNet or a protein suffix (-in, -ase,
  -globin), or a noun phrase ending in protein, receptor, factor... ("insulin receptor",
  "nucleocapsid protein"), hyphenated prefixes included ("beta-actin");
- chemical names: a noun WordNet files as a drug or compound ("codeine"), an unknown word
  of chemical shape ("dimethylformamide", "5-fluorouracil"), "X acid", "cation anion"
  ("potassium chloride");
- organisms named next to a protein ("human", "in mice", "of SARS-CoV-2", Latin names)
  are attached to it; a question that names one organism attaches it to all its proteins.

What people say *about* a substance is set aside: plurals are classes ("statins", "beta
blockers"), "a kinase" is a kind, "zinc deficiency", "glucose levels", "P53 signalling" and
"ACE inhibitors" are about something else than the structure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.english import (
    acronym_senses,
    first_noun_sense_is_structure,
    has_chemical_sense,
    has_drug_sense,
    has_protein_sense,
    has_substance_sense,
    is_known_word,
    is_ordinary_word,
    is_plural,
    names_a_class,
)
from agents.entities import DRUG_STEMS, ORGANISM_WORDS, looks_like_gene_symbol

MOLECULE = "molecule"
PROTEIN = "protein"

# taxon ids as text, as the resolver's `gene:X organism:N` and `NAME in N` forms take them
ORGANISMS: dict[str, str] = dict(ORGANISM_WORDS) | {
    "humans": "9606", "man": "9606", "rats": "10116", "murine": "10090", "e. coli": "83333",
    "sars-cov-2": "2697049", "sars-cov2": "2697049", "covid-19 virus": "2697049",
    "hiv-1": "11676", "hiv": "11676", "s. cerevisiae": "559292", "saccharomyces": "559292",
    "bacillus subtilis": "224308", "b. subtilis": "224308", "xenopus": "8355", "dog": "9615",
}  # fmt: skip
_ORGANISM_PATTERN = re.compile(
    r"(?<![A-Za-z0-9-])("
    + "|".join(sorted(map(re.escape, ORGANISMS), key=len, reverse=True))
    + r")(?![A-Za-z0-9-])",
    re.IGNORECASE,
)

# Words that carry grammar, not content: never part of a name.
FUNCTION_WORDS = frozenset("""
a an the this that these those it its it's they them their there here what which who whom whose
why how when where whether is are was were be been being am do does did done doing has have had
having can could may might must shall should will would of in on at to for from by with without
about into onto over under between among through during after before against and or nor but not
no yes so than then also too very more most less least much many some any each every all both
either neither other another such same own only just please tell me my we our us you your i
describe explain summarise summarize give show list name compare versus vs role function
""".split())  # fmt: skip

# Heads a protein-name phrase ends in; alone they name a class, so they need a modifier.
PROTEIN_HEADS = frozenset("""
protein receptor factor kinase channel transporter enzyme antigen subunit synthase
reductase oxidase dehydrogenase phosphatase protease hormone globulin glycoprotein
""".split())  # fmt: skip
PROTEIN_SUFFIXES = ("globin", "ase", "in", "ogen", "actin", "ulin")

# A substance followed by one of these is a qualifier of something else
SUBSTANCE_QUALIFIED = frozenset("""
deficiency deficiencies level levels concentration concentrations intake consumption
supplementation supplement supplements status saturation overload poisoning exposure
homeostasis excretion metabolism tolerance dependence abuse withdrawal signalling signaling
pathway pathways inhibitor inhibitors blocker blockers agonist agonists antagonist
antagonists analog analogs analogue analogues derivative derivatives resistance sensitivity
mutation mutations mutant mutants expression polymorphism polymorphisms variant variants
uptake absorption use users craving industry injection injections infusion administration
prescribing
""".split())  # fmt: skip
# after a gene symbol, these make it a pathway or a drug class ("KRAS levels" is the protein)
NOT_THE_PROTEIN = frozenset("""
signalling signaling pathway pathways inhibitor inhibitors blocker blockers agonist agonists
antagonist antagonists
""".split())  # fmt: skip
# ... and one after these is an amount ("lowers cholesterol", "high blood glucose") or a solvent
QUANTITY_BEFORE = re.compile(
    r"\b(?:lower|lowers|lowering|lowered|raise|raises|raising|raised|reduce|reduces|reducing|reduced|"
    r"increase|increases|increasing|increased|decrease|decreases|decreasing|decreased|elevated|"
    r"high|low|serum|plasma|blood|urinary|dietary)\s+(?:(?:blood|serum|plasma)\s+)?$"
    r"|\b(?:soluble|insoluble|dissolved?|dissolves|solubility|solution|diluted)\s+in\s+$",
    re.IGNORECASE,
)

CHEMICAL_SUFFIXES = (
    "ine",
    "ol",
    "ide",
    "ate",
    "ite",
    "one",
    "ene",
    "ane",
    "yne",
    "yl",
    "ium",
    "ose",
    "amide",
    "azole",
    "azine",
    "mycin",
    "cillin",
    "oxacin",
    "amine",
)  # not "-ic": "laparoscopic", "therapeutic" are adjectives
CHEMICAL_PREFIXES = (
    "methyl",
    "ethyl",
    "propyl",
    "butyl",
    "dimethyl",
    "trimethyl",
    "chloro",
    "fluoro",
    "bromo",
    "iodo",
    "hydroxy",
    "amino",
    "acetyl",
    "benz",
    "phen",
    "nitro",
    "cyclo",
    "carb",
    "sulf",
    "thio",
    "dihydro",
    "tetra",
    "penta",
    "hexa",
)
ANION_SUFFIXES = ("ide", "ate", "ite")
LOCANT_NAME = re.compile(
    r"^(?:\d+(?:,\d+)*|[nosc])-[a-z][a-z-]{3,}$"
)  # 5-fluorouracil, N-acetylcysteine
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'-]*[A-Za-z0-9]|[A-Za-z]")
ROMAN_NUMERAL = re.compile(r"^(?=[IVXLC])M*(?:C[MD]|D?C{0,3})(?:X[CL]|L?X{0,3})(?:I[XV]|V?I{0,3})$")
HUMAN_SYMBOL = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
RODENT_SYMBOL = re.compile(
    r"^[A-Z](?:[a-z]{2,4}[0-9]{0,2}|[a-z][0-9]{1,2})[a-z]?$"
)  # Kras, Tp53, Ins1
BACTERIAL_SYMBOL = re.compile(r"^[a-z]{3}[A-Z]$")
GENE_CUE = re.compile(r"^(?:gene|protein)$", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    """A span that may name a structure, with the lookups that would confirm it, in order."""

    text: str
    start: int
    end: int
    lookups: tuple[str, ...]  # MOLECULE and/or PROTEIN, the likelier first
    shape: str  # "gene", "protein_name" or "molecule_name": why it was picked
    organism: str | None = None  # taxon id the question attaches to it
    priority: int = 5  # lower is checked first when the budget cannot check all


@dataclass(frozen=True)
class _Word:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()


def _words(question: str) -> list[_Word]:
    words = []
    for match in WORD.finditer(question):
        text, start = match.group(0), match.start()
        if text.lower().endswith("'s"):
            text = text[:-2]
        words.append(_Word(text, start, start + len(text)))
    return words


def _organism_mentions(question: str) -> list[tuple[int, int, str]]:
    return [
        (m.start(), m.end(), ORGANISMS[m.group(1).lower()])
        for m in _ORGANISM_PATTERN.finditer(question)
    ]


def _attached_organism(question: str, start: int, end: int, mentions) -> str | None:
    """The organism written next to a span ("human X", "X in mice", "X of SARS-CoV-2"), else the
    question's only organism, else None."""
    for o_start, o_end, taxon in mentions:
        if o_end <= start and question[o_end:start].strip() == "":
            return taxon
        if o_start >= end and re.fullmatch(
            r"\s*(?:\(|(?:in|from|of)\s+(?:the\s+)?)?", question[end:o_start], re.I
        ):
            return taxon
    taxa = {taxon for _, _, taxon in mentions}
    return taxa.pop() if len(taxa) == 1 else None


def _spelled_out_acronyms(question: str) -> set[str]:
    """Acronyms the question defines: "chronic obstructive pulmonary disease (COPD)"."""
    defined = set()
    for match in re.finditer(r"\(([A-Za-z][A-Za-z0-9-]{1,9})\)", question):
        acronym = match.group(1)
        letters = re.sub(r"[^a-z]", "", acronym.lower())
        before = re.findall(r"[A-Za-z][A-Za-z-]*", question[: match.start()])
        for count in range(1, min(len(before), len(letters) + 3) + 1):
            # the last words, run together, start with its first letter and hold its letters in
            # order: "biochemical recurrence (BCR)", "transient tachypnea of the newborn (TTN)"
            text = "".join(before[-count:]).lower()
            remaining = iter(text)
            if letters and text[0] == letters[0] and all(letter in remaining for letter in letters):
                defined.add(acronym)
                break
    for match in re.finditer(r"\b([A-Z][A-Z0-9-]{1,9})\s*\(([a-z][a-z -]{5,})\)", question):
        defined.add(match.group(1))
    return defined


def _shouting(words: list[_Word]) -> bool:
    letters = [w for w in words if w.text.isalpha() and len(w.text) > 1]
    return len(letters) >= 4 and sum(w.text.isupper() for w in letters) * 2 > len(letters)


def _after_article(question: str, start: int) -> bool:
    return re.search(r"\b(?:a|an)\s+$", question[:start], re.IGNORECASE) is not None


def said_about_something_else(question: str, start: int, end: int) -> bool:
    """The words around a substance make it a kind, an amount or a qualifier of something
    else: "a kinase", "zinc deficiency", "lowers cholesterol", "soluble in water"."""
    following = re.match(r"[\s-]*([A-Za-z]+)", question[end:])
    if following and following.group(1).lower() in SUBSTANCE_QUALIFIED:
        return True
    return _after_article(question, start) or QUANTITY_BEFORE.search(question[:start]) is not None


def _is_function(word: str) -> bool:
    return word.lower() in FUNCTION_WORDS


def _title_case(words: list[_Word]) -> bool:
    """A headline ("Are Biochemical Markers of Bone Turnover ..."): capitals say nothing."""
    long_words = [w for w in words if len(w.text) > 3 and w.text.isalpha()]
    return (
        len(long_words) >= 4
        and sum(w.text[0].isupper() for w in long_words) * 3 > len(long_words) * 2
    )


def gene_symbol_candidate(word: str, defined: set[str]) -> bool:
    """KRAS, PTGS2, Kras, Tp53, lacZ; not MRI (English), COPD spelled out, IV, NSAIDs."""
    if word in defined or ROMAN_NUMERAL.match(word) or _is_function(word):
        return False
    if HUMAN_SYMBOL.match(word):
        letters = sum(ch.isalpha() for ch in word)
        if letters < 2 or (len(word) < 3):
            return False
        # an acronym English knows (MRI, ICU, AIDS) is prose, unless WordNet files it as a
        # substance or body part (TNF, CFTR, RNA: the lookup decides); a lower-case English
        # word written in capitals (ALB, ACHE) reads as a symbol
        files = acronym_senses(word)
        return files is None or files <= {"noun.substance", "noun.body"}
    if RODENT_SYMBOL.match(word) or BACTERIAL_SYMBOL.match(word):
        return looks_like_gene_symbol(word) and not is_known_word(word, exact=True)
    return False


def _protein_word(word: str) -> bool:
    """A single word that reads as a protein: WordNet says so, or an unknown word with a protein suffix."""
    lowered = word.lower()
    if len(lowered) < 5 or not re.fullmatch(r"[a-z][a-z0-9-]*", lowered) or _class_word(lowered):
        return False
    if has_protein_sense(lowered):
        return not _class_word(lowered)
    core = lowered.rsplit("-", 1)[-1]
    if core.endswith(PROTEIN_SUFFIXES) and (has_substance_sense(core) or has_chemical_sense(core)):
        return not core.endswith(DRUG_STEMS) and not has_drug_sense(
            core
        )  # "rhodopsin", "insulin": a protein-shaped substance
    if is_known_word(core) and not has_protein_sense(core):
        return False
    return (
        not is_known_word(lowered)
        and core.endswith(PROTEIN_SUFFIXES)
        and not core.endswith(DRUG_STEMS)
    )


def _class_word(lowered: str) -> bool:
    """A word that names a kind rather than one structure: "kinase", "enzyme", "protein", "drug"."""
    return lowered in PROTEIN_HEADS or lowered in {
        "drug",
        "compound",
        "chemical",
        "molecule",
        "substance",
        "acid",
        "salt",
        "base",
        "medicine",
        "vitamin",
        "mineral",
        "toxin",
        "metal",
        "element",
    }


def chemical_word(word: str) -> bool:
    """A single word that reads as one compound: a drug name stem, a WordNet drug or compound
    that is not a protein, or an unknown word of chemical shape."""
    lowered = word.lower()
    if len(lowered) < 4 or _class_word(lowered) or _is_function(lowered):
        return False
    if LOCANT_NAME.match(lowered):  # "5-fluorouracil", not "1-year", "23-hour", "c-Kit-dependent"
        return not is_ordinary_word(lowered.rsplit("-", 1)[1])
    if not re.fullmatch(r"[a-z][a-z-]*[a-z]", lowered):
        return False
    if "-" in lowered:  # "cisplatin-induced", "alcohol-related": an adjective
        return False
    if len(lowered) >= 6 and lowered.endswith(DRUG_STEMS):
        return True
    if has_chemical_sense(lowered):
        return (
            not has_protein_sense(lowered)
            and first_noun_sense_is_structure(lowered)
            and not names_a_class(lowered)
        )
    if is_known_word(lowered):
        return False
    return lowered.endswith(CHEMICAL_SUFFIXES) or lowered.startswith(CHEMICAL_PREFIXES)


def _cation(word: str) -> bool:
    lowered = word.lower()
    return lowered.endswith(("ium", "yl", "ic", "ous")) or (
        has_chemical_sense(lowered) and not is_plural(lowered)
    )


def _anion(word: str) -> bool:
    lowered = word.lower()
    return (
        lowered.endswith(ANION_SUFFIXES)
        and lowered.isalpha()
        and len(lowered) >= 5
        and not is_plural(lowered)
    )


def _overlaps(found: list[Candidate], start: int, end: int) -> bool:
    return any(start < c.end and c.start < end for c in found)


def find_candidates(question: str, taken: list[tuple[int, int]] = ()) -> list[Candidate]:
    """Every span worth a lookup, in question order; `taken` spans (identifiers already found)
    are left alone."""
    words = _words(question)
    mentions = _organism_mentions(question)
    organism_spans = [(s, e) for s, e, _ in mentions]
    defined = _spelled_out_acronyms(question)
    shouting = _shouting(words)
    headline = _title_case(words)
    found: list[Candidate] = []
    blocked = list(taken) + organism_spans

    def free(start: int, end: int) -> bool:
        return not any(start < e and s < end for s, e in blocked) and not _overlaps(
            found, start, end
        )

    def add(candidate: Candidate) -> None:
        if free(candidate.start, candidate.end):
            found.append(candidate)

    # 1. multi-word protein names ending in a protein head: "insulin receptor", "spike protein"
    for index, word in enumerate(words):
        if word.lower not in PROTEIN_HEADS or index == 0:
            continue
        first = index
        while first > 0 and index - first < 3:
            previous = words[first - 1]
            if _is_function(previous.text) or not free(previous.start, previous.end):
                break
            if question[previous.end : words[first].start].strip():  # punctuation between
                break
            if (
                previous.text[0].isupper()
                and not HUMAN_SYMBOL.match(previous.text)
                and first - 1 == 0
            ):
                break  # a capitalised sentence start ("Describe", "Which")
            if (
                previous.lower.endswith("ing")
                and is_known_word(previous.lower)
                and not has_substance_sense(previous.lower)
            ):
                break  # a verb ("Using Somatostatin Receptor")
            first -= 1
        if first == index or said_about_something_else(question, words[first].start, word.end):
            continue
        if (
            index - first == 1
            and word.lower in ("protein", "gene")
            and gene_symbol_candidate(words[first].text, defined)
        ):
            continue  # "the KRAS protein": the symbol with a cue, below
        start, end = words[first].start, word.end
        text = question[start:end]
        add(
            Candidate(
                text,
                start,
                end,
                (PROTEIN,),
                "protein_name",
                _attached_organism(question, start, end, mentions),
                priority=2,
            )
        )

    # 2. multi-word chemical names: "acetic acid", "potassium chloride", "hydrogen peroxide"
    for index in range(len(words) - 1):
        left, right = words[index], words[index + 1]
        if question[left.end : right.start] != " " or not left.text[:1].isalpha():
            continue
        if (
            left.text.isupper()
            or right.text.isupper()
            or _is_function(left.text)
            or _is_function(right.text)
        ):
            continue
        if len(left.text) < 4 or len(right.text) < 4:
            continue
        pair_ok = (
            (right.lower == "acid" and (left.lower.endswith("ic") or chemical_word(left.text)))
            or (
                _cation(left.text)
                and _anion(right.text)
                and (left.lower.endswith(("ium", "yl")) or not is_ordinary_word(left.lower))
            )
            or (
                chemical_word(left.text)
                and has_substance_sense(right.lower)
                and not is_plural(right.lower)
            )
        )
        if (
            not pair_ok
            or right.lower in SUBSTANCE_QUALIFIED
            or said_about_something_else(question, left.start, right.end)
        ):
            continue
        add(
            Candidate(
                question[left.start : right.end],
                left.start,
                right.end,
                (MOLECULE,),
                "molecule_name",
                priority=3,
            )
        )

    # 3. single words
    for index, word in enumerate(words):
        text = word.text
        if not free(word.start, word.end) or _is_function(text):
            continue
        cue_before = index > 0 and GENE_CUE.match(words[index - 1].text) is not None
        cue_after = index + 1 < len(words) and GENE_CUE.match(words[index + 1].text) is not None
        qualified = said_about_something_else(question, word.start, word.end)
        rodent_form = RODENT_SYMBOL.match(text) is not None and not text.isupper()
        if rodent_form and not (cue_before or cue_after or any(ch.isdigit() for ch in text)):
            # "Kras", "Myc" without a digit: only next to an organism, outside headlines, and
            # not an English word's plural ("Doses", "Women")
            attached = _attached_organism(question, word.start, word.end, mentions) is not None
            followed_by_name = (
                re.match(r"\s+[A-Z][a-z]", question[word.end :]) is not None
            )  # "Los Angeles"
            if not attached and (headline or followed_by_name or is_known_word(text)):
                rodent_form = None
        if not shouting and rodent_form is not None and gene_symbol_candidate(text, defined):
            following = words[index + 1].lower if index + 1 < len(words) else ""
            if following in NOT_THE_PROTEIN and not cue_before:
                continue  # "P53 signalling", "ACE inhibitors": a pathway or a drug class
            organism = _attached_organism(question, word.start, word.end, mentions)
            priority = 1 if (organism or cue_before or cue_after) else 4
            add(Candidate(text, word.start, word.end, (PROTEIN,), "gene", organism, priority))
            continue
        if qualified or is_plural(text):
            continue
        if text.isupper() and len(text) > 1:
            continue  # acronyms are gene symbols or prose, never compound names here
        if (
            text[0].isupper()
            and index > 0
            and not text.isupper()
            and not _sentence_start(question, word.start)
        ):
            if is_known_word(text) and not has_chemical_sense(text):
                continue  # a proper noun in running text
        if _protein_word(text):
            lookups = (PROTEIN,) if has_protein_sense(text) else (PROTEIN, MOLECULE)
            add(
                Candidate(
                    text,
                    word.start,
                    word.end,
                    lookups,
                    "protein_name",
                    _attached_organism(question, word.start, word.end, mentions),
                    priority=3,
                )
            )
        elif chemical_word(text):
            stem = len(text) >= 6 and text.lower().endswith(DRUG_STEMS)
            add(
                Candidate(
                    text,
                    word.start,
                    word.end,
                    (MOLECULE,),
                    "molecule_name",
                    priority=2 if stem or has_chemical_sense(text) else 5,
                )
            )

    # 4. an unknown word coordinated with a chemical candidate: "warfarin and clopidogrel"
    for index, word in enumerate(words):
        if (
            index < 2
            or not free(word.start, word.end)
            or words[index - 1].lower not in COORDINATORS
        ):
            continue
        partner = next(
            (c for c in found if c.end == words[index - 2].end and MOLECULE in c.lookups), None
        )
        lowered = word.lower
        if partner and re.fullmatch(r"[a-z][a-z-]{5,}", lowered) and not is_known_word(lowered):
            if not said_about_something_else(question, word.start, word.end):
                add(
                    Candidate(
                        word.text, word.start, word.end, (MOLECULE,), "molecule_name", priority=5
                    )
                )
    for index, word in enumerate(words[:-1]):
        lowered = word.lower
        if (
            words[index + 1].lower in DRUG_ACTIONS
            and free(word.start, word.end)
            and not _is_function(lowered)
        ):
            if re.fullmatch(r"[a-z][a-z-]{5,}", lowered) and not is_known_word(lowered):
                add(
                    Candidate(
                        word.text, word.start, word.end, (MOLECULE,), "molecule_name", priority=5
                    )
                )
    return sorted(found, key=lambda c: c.start)


COORDINATORS = frozenset({"and", "or", "with", "versus", "vs", "plus"})
# what a drug does: an unknown word doing it is probably a drug ("Does donepezil inhibit ...")
DRUG_ACTIONS = frozenset("""
inhibit inhibits block blocks bind binds activate activates target targets treat treats
antagonize antagonizes interact interacts induce induces prevent prevents cure cures
""".split())  # fmt: skip


def _sentence_start(question: str, start: int) -> bool:
    return question[:start].strip() == "" or question[:start].rstrip().endswith(
        (".", "?", "!", ":")
    )
