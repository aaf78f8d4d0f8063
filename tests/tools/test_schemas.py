"""Input schemas: defaults, stripping, and the validation messages an agent gets back."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from biomedgpt_tools.tools.schemas import (
    DEFAULT_MOLECULE_QUESTION,
    DEFAULT_PROTEIN_QUESTION,
    BiomedQAInput,
    MoleculeQAInput,
    ProteinQAInput,
)


def test_defaults_and_stripping():
    molecule = MoleculeQAInput(molecule="  aspirin ")
    assert molecule.molecule == "aspirin"
    assert molecule.question == DEFAULT_MOLECULE_QUESTION
    assert molecule.fresh is False
    assert ProteinQAInput(protein="P04637").question == DEFAULT_PROTEIN_QUESTION


@pytest.mark.parametrize(
    "schema, arguments, fragment",
    [
        (MoleculeQAInput, {"molecule": "   "}, "`molecule` is empty"),
        (ProteinQAInput, {"protein": "P04637", "question": " "}, "`question` is empty"),
        (BiomedQAInput, {"question": "q", "options": ["only one"]}, "pass 2 to 10 options"),
        (BiomedQAInput, {"question": "q", "options": ["a", " "]}, "empty option"),
    ],
)
def test_bad_arguments_name_the_field(schema, arguments, fragment):
    with pytest.raises(ValidationError) as caught:
        schema(**arguments)
    assert fragment in str(caught.value)


def test_biomed_options_and_context_normalised():
    parsed = BiomedQAInput(question="Which?", options=[" COX-1 ", "COX-2"], context="  ")
    assert parsed.options == ["COX-1", "COX-2"]
    assert parsed.context is None
    assert BiomedQAInput(question="Which?", options=[]).options is None


def test_descriptions_teach_the_caller():
    schema = MoleculeQAInput.model_json_schema()["properties"]
    assert "SMILES" in schema["molecule"]["description"]
    assert "InChIKey" in schema["molecule"]["description"]
    protein = ProteinQAInput.model_json_schema()["properties"]["protein"]["description"]
    assert "accession" in protein and "sequence" in protein
