"""The MCP tools' parameter types, taken from the LangChain tools' input schemas.

The descriptions the calling LLM reads and the length limits are the LangChain schemas' own
(`tools/schemas.py`), so an MCP client sees the same guidance; only the tool names inside the
texts are changed to the MCP names. What a JSON schema cannot say (a value that is only
whitespace) is still checked by the LangChain schema when the tool runs.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from biomedgpt_tools.tools.schemas import (
    MAX_QUESTION_CHARS,
    BiomedQAInput,
    MoleculeQAInput,
    ProteinQAInput,
)

# LangChain tool name -> MCP tool name (both appear in descriptions the LLM reads)
MCP_NAMES = {
    "MoleculeQA": "molecule_qa",
    "ProteinQA": "protein_qa",
    "BiomedQA": "biomed_qa",
}


def with_mcp_names(text: str) -> str:
    for langchain_name, mcp_name in MCP_NAMES.items():
        text = text.replace(langchain_name, mcp_name)
    return text


def parameter(schema: type[BaseModel], field_name: str, optional: bool = False) -> Any:
    """`Annotated[type, *constraints, Field(description=...)]` for one field of `schema`;
    `optional` makes a required field omittable (None)."""
    info = schema.model_fields[field_name]
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[(annotation, *info.metadata)]
    if optional:
        annotation = annotation | None
    return Annotated[annotation, Field(description=with_mcp_names(info.description or ""))]


Molecule = parameter(MoleculeQAInput, "molecule")
MoleculeQuestion = parameter(MoleculeQAInput, "question")
Protein = parameter(ProteinQAInput, "protein")
ProteinQuestion = parameter(ProteinQAInput, "question")
BiomedQuestion = parameter(BiomedQAInput, "question")
Options = parameter(BiomedQAInput, "options")
Context = parameter(BiomedQAInput, "context")
Fresh = parameter(MoleculeQAInput, "fresh")

OptionalMolecule = parameter(MoleculeQAInput, "molecule", optional=True)
OptionalProtein = parameter(ProteinQAInput, "protein", optional=True)
MemoryQuery = Annotated[
    str | None,
    Field(
        description=(
            "Words to search the stored answers by meaning, e.g. 'inhibits cyclooxygenase' or "
            "'tumour suppressor'. Omit to list what is stored about `molecule` or `protein`."
        ),
        max_length=MAX_QUESTION_CHARS,
    ),
]
MemoryLimit = Annotated[
    int, Field(description="How many stored answers to return (1 to 20).", ge=1, le=20)
]
