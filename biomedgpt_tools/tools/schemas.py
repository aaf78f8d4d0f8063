"""Input schemas of the three tools.

The field descriptions are read by the calling LLM when it decides what to pass, so they
say what one value looks like, with examples, and what not to pass.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

DEFAULT_MOLECULE_QUESTION = "Please describe this molecule."
DEFAULT_PROTEIN_QUESTION = "What is the function of this protein?"

MAX_QUESTION_CHARS = 4000
MAX_CONTEXT_CHARS = 20000
MAX_MOLECULE_CHARS = 4000
MAX_PROTEIN_CHARS = 40000
MAX_OPTIONS = 10

FRESH_DESCRIPTION = (
    "Leave false. Set true only when the user explicitly asks for a new answer instead of "
    "the one BioMedGPT gave to the same question about the same entity before."
)


def _strip_non_empty(value: str, field_name: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError(f"`{field_name}` is empty; pass a non-empty value")
    return stripped


class MoleculeQAInput(BaseModel):
    """Arguments of MoleculeQA: one molecule and one question about it."""

    molecule: str = Field(
        description=(
            "Exactly one molecule, as a single identifier and nothing else: a name "
            "('aspirin', 'acetylsalicylic acid'), a PubChem CID ('2244'), a SMILES string "
            "('CC(=O)OC1=CC=CC=C1C(=O)O') or an InChIKey ('BSYNRYMUTXBXSQ-UHFFFAOYSA-N'). "
            "Prefer a SMILES or CID when you have one; a name may match several compounds. "
            "Do not pass sentences, mixtures or several molecules."
        ),
        min_length=1,
        max_length=MAX_MOLECULE_CHARS,
    )
    question: str = Field(
        default=DEFAULT_MOLECULE_QUESTION,
        description=(
            "One question about this molecule in plain English, e.g. 'Please describe this "
            "molecule.', 'What is its mechanism of action?', 'Is it toxic?'. Do not repeat "
            "the identifier here; the tool attaches the molecule's structure itself."
        ),
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
    )
    fresh: bool = Field(default=False, description=FRESH_DESCRIPTION)

    @field_validator("molecule", "question")
    @classmethod
    def _not_blank(cls, value: str, info) -> str:
        return _strip_non_empty(value, info.field_name)


class ProteinQAInput(BaseModel):
    """Arguments of ProteinQA: one protein and one question about it."""

    protein: str = Field(
        description=(
            "Exactly one protein, as one of: a UniProt accession ('P04637'), a UniProt entry "
            "name ('P53_HUMAN'), a gene symbol plus organism ('TP53 human', 'TP53 Homo "
            "sapiens') or a raw amino-acid sequence in one-letter code ('MEEPQSDPSV...'). "
            "An accession is the most precise; a bare gene symbol without organism may be "
            "ambiguous. Do not pass FASTA headers, sentences or several proteins."
        ),
        min_length=1,
        max_length=MAX_PROTEIN_CHARS,
    )
    question: str = Field(
        default=DEFAULT_PROTEIN_QUESTION,
        description=(
            "One question about this protein in plain English, e.g. 'What is the function of "
            "this protein?', 'Where is it located in the cell?', 'Which family does it "
            "belong to?'. Do not repeat the identifier or sequence here."
        ),
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
    )
    fresh: bool = Field(default=False, description=FRESH_DESCRIPTION)

    @field_validator("protein", "question")
    @classmethod
    def _not_blank(cls, value: str, info) -> str:
        return _strip_non_empty(value, info.field_name)


class BiomedQAInput(BaseModel):
    """Arguments of BiomedQA: a biomedical question, optionally multiple choice or with a passage."""

    question: str = Field(
        description=(
            "A self-contained biomedical or clinical question in plain English, e.g. 'Which "
            "enzyme does aspirin inhibit?'. For questions about one specific molecule or "
            "protein structure use MoleculeQA or ProteinQA instead."
        ),
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
    )
    options: list[str] | None = Field(
        default=None,
        description=(
            "For a multiple-choice question: the answer options as plain strings, without "
            "letters or numbering, e.g. ['COX-1', 'COX-2', 'both', 'neither'] (2 to 10 "
            "options). The answer names the chosen option. Omit for open questions."
        ),
    )
    context: str | None = Field(
        default=None,
        description=(
            "Optional passage the answer must be based on, e.g. a PubMed abstract for a "
            "yes/no/maybe question. Omit when there is none."
        ),
        max_length=MAX_CONTEXT_CHARS,
    )
    fresh: bool = Field(default=False, description=FRESH_DESCRIPTION)

    @field_validator("question")
    @classmethod
    def _question_not_blank(cls, value: str) -> str:
        return _strip_non_empty(value, "question")

    @field_validator("options")
    @classmethod
    def _options_well_formed(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        options = [option.strip() for option in value]
        if not options:
            return None
        if any(not option for option in options):
            raise ValueError("`options` contains an empty option; pass non-empty strings")
        if not 2 <= len(options) <= MAX_OPTIONS:
            raise ValueError(
                f"`options` has {len(options)} entries; pass 2 to {MAX_OPTIONS} options or omit it"
            )
        return options

    @field_validator("context")
    @classmethod
    def _context_blank_is_none(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None
