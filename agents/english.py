"""Ordinary English words, set aside before anything is looked up, through the installed WordNet.

A researcher's question is mostly English: "blood", "pressure", "therapy", "brain" must never
cost a PubChem or UniProt lookup. WordNet 3.0 (installed for METEOR by `make setup`, see
scripts/install_wordnet.py) knows those words, and also knows which of its nouns are
substances: "codeine" is a drug, "myoglobin" a protein, "zinc" an element. So a word is
*ordinary* when WordNet knows it and none of its noun senses is a chemical, drug or protein.

Without WordNet the finder still works, on shapes and suffixes alone, and says so once in the
log (more candidates are then checked against the knowledge bases).
"""

from __future__ import annotations

import functools
import logging
import warnings

logger = logging.getLogger(__name__)

# Hypernyms that make a noun sense a structure someone could ask BioMedGPT about.
CHEMICAL_HYPERNYMS = frozenset({
    "drug.n.01", "medicine.n.02", "chemical.n.01", "compound.n.02", "chemical_element.n.01",
    "hormone.n.01", "neurotransmitter.n.01", "toxin.n.01", "vitamin.n.01", "acid.n.01",
    "alcohol.n.02", "organic_compound.n.01", "chemical_irritant.n.01", "sugar.n.01", "lipid.n.01", "alkaloid.n.01", "steroid.n.01",
})  # fmt: skip
PROTEIN_HYPERNYMS = frozenset({"protein.n.01", "enzyme.n.01"})

SETUP_HINT = (
    "WordNet 3.0 was not found by nltk, so ordinary English words are not set aside; run "
    "`make setup`, or `.venv/bin/python scripts/install_wordnet.py --dest .venv/nltk_data/corpora/wordnet`"
)


@functools.cache
def _wordnet():
    """nltk's WordNet reader, loaded once (about 5 s); None when nltk or WordNet is absent."""
    try:
        import nltk.data
        from nltk.corpus import wordnet
    except ImportError:
        logger.warning(SETUP_HINT)
        return None
    try:
        nltk.data.find("corpora/wordnet")
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="The multilingual functions are not available"
            )
            wordnet.ensure_loaded()
    except (LookupError, OSError):
        logger.warning(SETUP_HINT)
        return None
    return wordnet


def wordnet_available() -> bool:
    return _wordnet() is not None


@functools.lru_cache(maxsize=65536)
def _senses(word: str) -> tuple[bool, frozenset[str]]:
    """(WordNet knows the word in any part of speech, the structure hypernyms of its nouns)."""
    wordnet = _wordnet()
    if wordnet is None:
        return False, frozenset()
    lowered = word.lower()
    synsets = wordnet.synsets(lowered)
    if not synsets:
        return False, frozenset()
    wanted = CHEMICAL_HYPERNYMS | PROTEIN_HYPERNYMS
    found: set[str] = set()
    for synset in synsets:
        if synset.pos() != "n":
            continue
        closure = {
            s.name() for s in synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms())
        }
        found |= (closure | {synset.name()}) & wanted
    return True, frozenset(found)


@functools.lru_cache(maxsize=65536)
def has_substance_sense(word: str) -> bool:
    """WordNet files some noun sense among its substances ("rhodopsin", "TNF"), whatever
    its hypernyms: a weaker sign than has_chemical_sense, used with a shape."""
    wordnet = _wordnet()
    if wordnet is None:
        return False
    return any(s.lexname() == "noun.substance" for s in wordnet.synsets(word.lower(), pos="n"))


@functools.lru_cache(maxsize=65536)
def acronym_senses(word: str) -> frozenset[str] | None:
    """WordNet's lexicographer files for the word written exactly so ("MRI": {"noun.act"}),
    None when WordNet has no lemma in that case ("ALB" is only the vestment "alb")."""
    wordnet = _wordnet()
    if wordnet is None:
        return None
    files = {
        s.lexname()
        for s in wordnet.synsets(word.lower())
        for lemma in s.lemmas()
        if lemma.name() == word
    }
    return frozenset(files) or None


def is_known_word(word: str, *, exact: bool = False) -> bool:
    """WordNet lists the word (plural and inflected forms included unless `exact`: "KRAS" is
    not the plural of "kra" for a gene-symbol check)."""
    if not exact:
        return _senses(word)[0]
    return _exact_lemma(word.lower())


@functools.lru_cache(maxsize=65536)
def _exact_lemma(lowered: str) -> bool:
    wordnet = _wordnet()
    if wordnet is None:
        return False
    return any(
        lemma.lower() == lowered for s in wordnet.synsets(lowered) for lemma in s.lemma_names()
    )


def is_ordinary_word(word: str) -> bool:
    """WordNet knows the word and none of its noun senses is a chemical, drug or protein."""
    known, structures = _senses(word)
    return known and not structures


def has_chemical_sense(word: str) -> bool:
    """Some noun sense of the word is a drug, compound, element, hormone...: "codeine", "zinc"."""
    return bool(_senses(word)[1] & CHEMICAL_HYPERNYMS)


def has_drug_sense(word: str) -> bool:
    """Some noun sense of the word is a drug or medicine: "warfarin", "codeine"."""
    return bool(_senses(word)[1] & {"drug.n.01", "medicine.n.02"})


def has_protein_sense(word: str) -> bool:
    """Some noun sense of the word is a protein or an enzyme: "myoglobin", "lysozyme"."""
    return bool(_senses(word)[1] & PROTEIN_HYPERNYMS)


CLASS_HYPONYMS = 5  # "medication" (84 kinds), "antidepressant" (7); "aspirin" has 3 brands


@functools.lru_cache(maxsize=65536)
def names_a_class(word: str) -> bool:
    """The word's first noun sense has many kinds under it, or the word is also an adjective:
    "antidepressant", "medication", "water" (15), "therapeutic", "palliative" are not one structure."""
    wordnet = _wordnet()
    if wordnet is None:
        return False
    lowered = word.lower()
    if wordnet.synsets(lowered, pos="a") or wordnet.synsets(lowered, pos="s"):
        return True
    nouns = wordnet.synsets(lowered, pos="n")
    return (
        bool(nouns)
        and len(nouns[0].hyponyms()) + len(nouns[0].instance_hyponyms()) >= CLASS_HYPONYMS
    )


@functools.lru_cache(maxsize=65536)
def first_noun_sense_is_structure(word: str) -> bool:
    """The word's most frequent noun sense is a structure: "iron" yes, "lead" (a position) no."""
    wordnet = _wordnet()
    if wordnet is None:
        return True
    nouns = wordnet.synsets(word.lower(), pos="n")
    if not nouns:
        return False
    names = {s.name() for s in nouns[0].closure(lambda s: s.hypernyms() + s.instance_hypernyms())}
    return bool((names | {nouns[0].name()}) & (CHEMICAL_HYPERNYMS | PROTEIN_HYPERNYMS))


@functools.lru_cache(maxsize=65536)
def is_plural(word: str) -> bool:
    """WordNet reads the word as the plural of another noun: "statins", "opioids", "NSAIDs"."""
    wordnet = _wordnet()
    lowered = word.lower()
    if wordnet is None:
        return lowered.endswith("s") and not lowered.endswith(("ss", "us", "is"))
    base = wordnet.morphy(lowered, wordnet.NOUN)
    if base is not None:
        return base != lowered
    return lowered.endswith("s") and not lowered.endswith(("ss", "us", "is", "ous"))
