"""MoleculeQA: ask BioMedGPT about one molecule given by name, CID, SMILES or InChIKey."""

from __future__ import annotations

import time
from typing import Any

from langchain_core.tools import ToolException
from pydantic import BaseModel

from biomedgpt_tools.model.prompt import Molecule
from biomedgpt_tools.model.requests import GenerationRequest
from biomedgpt_tools.resolvers.outcomes import ResolverError
from biomedgpt_tools.resolvers.records import MoleculeRecord
from biomedgpt_tools.services.entity_names import display_name, memory_key
from biomedgpt_tools.services.errors import NoStructureKeyError
from biomedgpt_tools.tools.errors import tool_error_from_resolver
from biomedgpt_tools.tools.qa_tool import BioMedGPTQATool, PreparedQuestion
from biomedgpt_tools.tools.quoting import quote_inline
from biomedgpt_tools.tools.schemas import DEFAULT_MOLECULE_QUESTION, MoleculeQAInput

SOURCE_NAMES = {"pubchem": "PubChem", "snapshot": "the bundled PubChem snapshot"}


def describe_molecule(record: MoleculeRecord, query: str) -> str:
    """One line naming the resolved molecule, its identifiers and where they came from."""
    name = (
        quote_inline(record.name, 80) or quote_inline(record.iupac_name, 80) or "unnamed molecule"
    )
    facts = []
    if record.cid is not None:
        facts.append(f"PubChem CID {record.cid}")
    if record.inchikey:
        facts.append(f"InChIKey {quote_inline(record.inchikey, 40)}")
    if record.formula:
        facts.append(f"formula {quote_inline(record.formula, 40)}")
    smiles = record.smiles or record.connectivity_smiles
    if smiles:
        facts.append(f"SMILES {quote_inline(smiles, 120)}")
    if record.source == "local":  # built locally from a SMILES, see services/resolution.py
        return f"Molecule: {name} ({', '.join(facts)}); identifiers computed with RDKit from the SMILES given."
    source = SOURCE_NAMES.get(record.source, record.source)
    return f"Molecule: {name} ({', '.join(facts)}); resolved from {quote_inline(query, 80)!r} via {source}."


def _source_label(description_source: str | None) -> str:
    """ "PubChem", or "PubChem (depositor)" when PubChem names who wrote the description."""
    depositor = quote_inline(description_source, 60)
    return f"PubChem ({depositor})" if depositor else "PubChem"


def _memory_key_or_tool_error(record: MoleculeRecord) -> str:
    """The molecule's memory key (services.entity_names), its failure as the tool's error."""
    try:
        return memory_key(record)
    except NoStructureKeyError as error:
        raise ToolException(str(error)) from error


class MoleculeQA(BioMedGPTQATool):
    """Answers a question about one molecule with BioMedGPT, which reads the molecule's structure."""

    name: str = "MoleculeQA"
    description: str = (
        "Ask BioMedGPT, a biomedical model that reads molecular structures, a question about ONE "
        "molecule (drug, metabolite, natural product). Give the molecule by name, PubChem CID, "
        "SMILES or InChIKey; it is looked up in PubChem and its structure is shown to the model. "
        "Use it to describe a molecule, its properties, uses, mechanism or safety. Returns the "
        "answer, the resolved identity (CID, InChIKey, SMILES) and whether the answer was "
        "computed now or remembered. For proteins use ProteinQA; for general questions BiomedQA."
    )
    args_schema: type[BaseModel] = MoleculeQAInput

    def prepare(
        self,
        molecule: str,
        question: str = DEFAULT_MOLECULE_QUESTION,
        fresh: bool = False,
        **_: Any,
    ) -> PreparedQuestion:
        started = time.perf_counter()
        try:
            record, notes = self.services.resolve_molecule(molecule)
        except ResolverError as error:
            raise tool_error_from_resolver(error, "molecule") from error
        return self._prepared(
            record, notes, molecule, question, fresh, time.perf_counter() - started
        )

    async def aprepare(
        self,
        molecule: str,
        question: str = DEFAULT_MOLECULE_QUESTION,
        fresh: bool = False,
        **_: Any,
    ) -> PreparedQuestion:
        started = time.perf_counter()
        try:
            record, notes = await self.services.aresolve_molecule(molecule)
        except ResolverError as error:
            raise tool_error_from_resolver(error, "molecule") from error
        return self._prepared(
            record, notes, molecule, question, fresh, time.perf_counter() - started
        )

    def _prepared(
        self,
        record: MoleculeRecord,
        notes: list[str],
        query: str,
        question: str,
        fresh: bool,
        resolve_s: float,
    ) -> PreparedQuestion:
        smiles = record.smiles or record.connectivity_smiles
        if not smiles:
            raise ToolException(
                f"The molecule {query!r} was found (CID {record.cid}) but PubChem gives no structure "
                "for it, so BioMedGPT cannot read it. Pass a SMILES string instead."
            )
        key = _memory_key_or_tool_error(record)
        source = record.description_source
        return PreparedQuestion(
            kind="molecule",
            key=key,
            question=question,
            model_question=GenerationRequest(
                question=question,
                inputs=[Molecule(smiles)],
                max_new_tokens=self.services.settings.max_new_tokens,
            ),
            fresh=fresh,
            display_name=quote_inline(display_name(record), 120) or key,
            record=record,
            identity_line=describe_molecule(record, query),
            record_text=record.description,
            record_source=None if record.source == "local" else _source_label(source),
            resolve_s=resolve_s,
            notes=notes,
        )
