"""ProteinQA: ask BioMedGPT about one protein given by accession, entry name, gene or sequence."""

from __future__ import annotations

import time
from typing import Any, Literal

from langchain_core.tools import ToolException
from pydantic import BaseModel

from biomedgpt_tools.model.prompt import Protein
from biomedgpt_tools.model.protein_sequence import ESM_MAX_RESIDUES, truncation_note
from biomedgpt_tools.model.requests import GenerationRequest
from biomedgpt_tools.resolvers.outcomes import ResolverError
from biomedgpt_tools.resolvers.records import ProteinRecord
from biomedgpt_tools.services.entity_names import display_name, memory_key
from biomedgpt_tools.tools.errors import tool_error_from_resolver
from biomedgpt_tools.tools.qa_tool import BioMedGPTQATool, PreparedQuestion
from biomedgpt_tools.tools.quoting import quote_inline
from biomedgpt_tools.tools.schemas import DEFAULT_PROTEIN_QUESTION, ProteinQAInput

SOURCE_NAMES = {"uniprot": "UniProt", "snapshot": "the bundled UniProt snapshot"}


def describe_protein(record: ProteinRecord, query: str) -> str:
    """One line naming the resolved protein and where it came from."""
    facts = []
    accession = record.isoform or record.accession
    if accession:
        facts.append(f"UniProt {quote_inline(accession, 20)}")
    if record.entry_name:
        facts.append(quote_inline(record.entry_name, 30))
    if record.reviewed is not None:
        facts.append("reviewed" if record.reviewed else "unreviewed")
    if record.gene_names:
        facts.append("gene " + quote_inline(record.gene_names[0], 30))
    if record.organism:
        facts.append(quote_inline(record.organism, 60))
    facts.append(f"{record.length} residues")
    name = quote_inline(record.protein_name, 100) or "unnamed protein"
    if record.source == "sequence":
        return f"Protein: {name} ({', '.join(facts)}); the sequence was used as given, without a database lookup."
    source = SOURCE_NAMES.get(record.source, record.source)
    return f"Protein: {name} ({', '.join(facts)}); resolved from {quote_inline(query, 40)!r} via {source}."


def record_summary(record: ProteinRecord) -> str | None:
    """The UniProt annotation text that can stand in when no model answers."""
    parts = []
    if record.function:
        parts.append(f"Function: {record.function}")
    if record.subcellular_locations:
        parts.append("Subcellular location: " + "; ".join(record.subcellular_locations))
    if record.family:
        parts.append(f"Family: {record.family}")
    return "\n".join(parts) or None


class ProteinQA(BioMedGPTQATool):
    """Answers a question about one protein with BioMedGPT, which reads the protein's sequence."""

    name: str = "ProteinQA"
    description: str = (
        "Ask BioMedGPT, a biomedical model that reads protein sequences, a question about ONE "
        "protein. Give the protein by UniProt accession, UniProt entry name, gene symbol plus "
        "organism, or amino-acid sequence; it is looked up in UniProt and its sequence is shown "
        "to the model. Use it for a protein's function, name, family or subcellular location. "
        "Returns the answer, the resolved identity (accession, name, organism) and whether the "
        "answer was computed now or remembered. For small molecules use MoleculeQA."
    )
    args_schema: type[BaseModel] = ProteinQAInput
    # None: the services' setting (ToolkitSettings.on_too_long, "truncate" by default)
    on_too_long: Literal["error", "truncate"] | None = None

    def prepare(
        self, protein: str, question: str = DEFAULT_PROTEIN_QUESTION, fresh: bool = False, **_: Any
    ) -> PreparedQuestion:
        started = time.perf_counter()
        try:
            record = self.services.resolve_protein(protein)
        except ResolverError as error:
            raise tool_error_from_resolver(error, "protein") from error
        return self._prepared(record, protein, question, fresh, time.perf_counter() - started)

    async def aprepare(
        self, protein: str, question: str = DEFAULT_PROTEIN_QUESTION, fresh: bool = False, **_: Any
    ) -> PreparedQuestion:
        started = time.perf_counter()
        try:
            record = await self.services.aresolve_protein(protein)
        except ResolverError as error:
            raise tool_error_from_resolver(error, "protein") from error
        return self._prepared(record, protein, question, fresh, time.perf_counter() - started)

    def _prepared(
        self, record: ProteinRecord, query: str, question: str, fresh: bool, resolve_s: float
    ) -> PreparedQuestion:
        if not record.sequence:
            raise ToolException(
                f"UniProt has no sequence for {query!r}, so BioMedGPT cannot read it. Pass another "
                "accession or the amino-acid sequence."
            )
        notes = []
        if record.note and record.source != "sequence":
            notes.append(quote_inline(record.note, 300))
        sequence = record.sequence
        on_too_long = self.on_too_long or self.services.settings.on_too_long
        if len(sequence) > ESM_MAX_RESIDUES and on_too_long == "error":
            raise ToolException(
                f"{quote_inline(query, 40)!r} has {len(sequence)} residues, more than the "
                f"{ESM_MAX_RESIDUES} BioMedGPT's protein encoder reads, and this tool is set "
                "to refuse such proteins (on_too_long='error'); ask about one domain's sequence, "
                "or set on_too_long='truncate' to read the first "
                f"{ESM_MAX_RESIDUES} residues as the released model did."
            )
        if len(sequence) > ESM_MAX_RESIDUES:
            # as the reference does: ESM-2 positions stop at 1024 (<cls> + 1022 + <eos>)
            sequence = sequence[:ESM_MAX_RESIDUES]
            notes.append(truncation_note(len(record.sequence)))
        key = memory_key(record)  # the record has a sequence: never fails
        return PreparedQuestion(
            kind="protein",
            key=key,
            question=question,
            model_question=GenerationRequest(
                question=question,
                inputs=[Protein(sequence)],
                max_new_tokens=self.services.settings.max_new_tokens,
            ),
            fresh=fresh,
            display_name=quote_inline(display_name(record), 120) or key,
            record=record,
            identity_line=describe_protein(record, query),
            record_text=record_summary(record),
            record_source=None if record.source == "sequence" else "UniProt",
            resolve_s=resolve_s,
            notes=notes,
        )
