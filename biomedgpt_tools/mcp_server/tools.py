"""The six MCP tools: the three LangChain QA tools, the two resolvers and the memory search.

Each QA tool calls the LangChain tool's `ainvoke` with a tool call, so resolution, memory
recall, the model answer and every error message are the LangChain tools' own; the text
content is the LangChain tool's text and the structured content is built from its artifact.
Expected failures come back as `isError` results carrying the LangChain message.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel

from biomedgpt_tools.mcp_server import inputs
from biomedgpt_tools.mcp_server.outputs import (
    MemorySearchResult,
    MoleculeResolution,
    ProteinResolution,
    QAResult,
    memory_hit,
    molecule_resolution,
    protein_resolution,
    qa_result,
    quoted_candidates,
)
from biomedgpt_tools.mcp_server.progress import (
    CallProgress,
    GenerationProgress,
    ModelLoadWatch,
)
from biomedgpt_tools.mcp_server.resources import memory_unavailable_reason
from biomedgpt_tools.resolvers.outcomes import AmbiguousError, ResolverError
from biomedgpt_tools.services.entity_names import memory_key
from biomedgpt_tools.services.errors import NoStructureKeyError
from biomedgpt_tools.tools.errors import tool_error_from_resolver
from biomedgpt_tools.tools.quoting import shorten_keeping_quotes
from biomedgpt_tools.tools.schemas import DEFAULT_MOLECULE_QUESTION, DEFAULT_PROTEIN_QUESTION

if TYPE_CHECKING:
    from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit

RESOLVE_MOLECULE_DESCRIPTION = (
    "Look up ONE molecule in PubChem without asking the model: returns its identifiers (CID, "
    "InChIKey, SMILES, formula, weight), synonyms, PubChem's description as quoted data and a "
    "depiction resource; when a name matches several compounds, the candidates to choose from."
)
RESOLVE_PROTEIN_DESCRIPTION = (
    "Look up ONE protein in UniProt without asking the model: returns its accession, names, "
    "organism, sequence, function text as quoted data, location and family; candidates when the "
    "query matches several entries, and a note when an accession was merged into another."
)
SEARCH_MEMORY_DESCRIPTION = (
    "Search the answers BioMedGPT gave before (its memory): everything stored about one "
    "molecule or protein, or the stored answers closest in meaning to some words, or both. "
    "Cheap, needs no model; each hit names the model and checkpoint that answered."
)


MEMORY_ANSWER_CHARS = 300  # of each hit's answer in the text content (the structured one is whole)

EMPTY_ARGUMENT = "Invalid arguments: `{name}` is empty; pass a non-empty value. Fix them and call the tool again."


def error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def structured_result(text: str, result: BaseModel) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=result.model_dump(mode="json"),
    )


class BioMedGPTTools:
    """The tool functions, bound to one toolkit: its LangChain tools, and its services (one
    model, resolvers and store) for resolution and memory search."""

    def __init__(self, toolkit: BioMedGPTToolkit):
        self.services = toolkit.services
        molecule_qa, protein_qa, biomed_qa = toolkit.get_tools()
        self._langchain = {
            "molecule_qa": molecule_qa,
            "protein_qa": protein_qa,
            "biomed_qa": biomed_qa,
        }

    def description(self, name: str) -> str:
        if name in self._langchain:
            return inputs.with_mcp_names(self._langchain[name].description)
        return {
            "resolve_molecule": RESOLVE_MOLECULE_DESCRIPTION,
            "resolve_protein": RESOLVE_PROTEIN_DESCRIPTION,
            "search_memory": SEARCH_MEMORY_DESCRIPTION,
        }[name]

    def functions(self) -> dict[str, Any]:
        return {
            "molecule_qa": self.molecule_qa,
            "protein_qa": self.protein_qa,
            "biomed_qa": self.biomed_qa,
            "resolve_molecule": self.resolve_molecule,
            "resolve_protein": self.resolve_protein,
            "search_memory": self.search_memory,
        }

    # -- the QA tools ----------------------------------------------------------------------------
    async def molecule_qa(
        self,
        molecule: inputs.Molecule,
        ctx: Context,
        question: inputs.MoleculeQuestion = DEFAULT_MOLECULE_QUESTION,
        fresh: inputs.Fresh = False,
    ) -> Annotated[CallToolResult, QAResult]:
        return await self._ask(
            "molecule_qa", ctx, {"molecule": molecule, "question": question, "fresh": fresh}
        )

    async def protein_qa(
        self,
        protein: inputs.Protein,
        ctx: Context,
        question: inputs.ProteinQuestion = DEFAULT_PROTEIN_QUESTION,
        fresh: inputs.Fresh = False,
    ) -> Annotated[CallToolResult, QAResult]:
        return await self._ask(
            "protein_qa", ctx, {"protein": protein, "question": question, "fresh": fresh}
        )

    async def biomed_qa(
        self,
        question: inputs.BiomedQuestion,
        ctx: Context,
        options: inputs.Options = None,
        context: inputs.Context = None,
        fresh: inputs.Fresh = False,
    ) -> Annotated[CallToolResult, QAResult]:
        arguments: dict[str, Any] = {"question": question, "fresh": fresh}
        if options is not None:
            arguments["options"] = options
        if context is not None:
            arguments["context"] = context
        return await self._ask("biomed_qa", ctx, arguments)

    async def _ask(self, name: str, ctx: Context, arguments: dict[str, Any]) -> CallToolResult:
        """Run the LangChain tool as a tool call: its text, its artifact as structured content."""
        tool = self._langchain[name]
        progress = CallProgress(ctx)
        first_step = "checking memory" if name == "biomed_qa" else "resolving and checking memory"
        await progress.report(f"{name}: {first_step}")
        load_watch = ModelLoadWatch(self.services.backend, progress)
        generation = GenerationProgress(progress, load_watch)
        call = {
            "type": "tool_call",
            "id": f"mcp-{uuid.uuid4().hex[:12]}",
            "name": tool.name,
            "args": arguments,
        }
        work = asyncio.ensure_future(tool.ainvoke(call, {"callbacks": [generation]}))
        watcher = asyncio.ensure_future(load_watch.watch(work)) if load_watch.needed else None
        try:
            message = await work
        except asyncio.CancelledError:
            generation.cancelled.set()  # the worker thread stops at the next token
            raise
        finally:
            if watcher is not None:
                watcher.cancel()
        await generation.flush()  # the last count, if throttling held it back
        if message.status == "error" or message.artifact is None:
            return error_result(str(message.content))
        result = qa_result(name, message.artifact)
        await progress.report(f"{name}: answered by {result.answered_by}")
        return structured_result(str(message.content), result)

    # -- resolution ------------------------------------------------------------------------------
    async def resolve_molecule(
        self, molecule: inputs.Molecule
    ) -> Annotated[CallToolResult, MoleculeResolution]:
        query = molecule.strip()
        if not query:
            return error_result(EMPTY_ARGUMENT.format(name="molecule"))
        try:
            record, notes = await self.services.aresolve_molecule(query)
        except ResolverError as cause:
            error = tool_error_from_resolver(cause, "molecule")
            if isinstance(cause, AmbiguousError):
                candidates = quoted_candidates(cause.candidates)
                return structured_result(
                    str(error),
                    MoleculeResolution(status="ambiguous", query=query, candidates=candidates),
                )
            return error_result(str(error))
        result = molecule_resolution(query, record, notes)
        return structured_result(_molecule_text(result), result)

    async def resolve_protein(
        self, protein: inputs.Protein
    ) -> Annotated[CallToolResult, ProteinResolution]:
        query = protein.strip()
        if not query:
            return error_result(EMPTY_ARGUMENT.format(name="protein"))
        try:
            record = await self.services.aresolve_protein(query)
        except ResolverError as cause:
            error = tool_error_from_resolver(cause, "protein")
            if isinstance(cause, AmbiguousError):
                candidates = quoted_candidates(cause.candidates)
                return structured_result(
                    str(error),
                    ProteinResolution(status="ambiguous", query=query, candidates=candidates),
                )
            return error_result(str(error))
        result = protein_resolution(query, record)
        return structured_result(_protein_text(result), result)

    # -- memory ----------------------------------------------------------------------------------
    async def search_memory(
        self,
        query: inputs.MemoryQuery = None,
        molecule: inputs.OptionalMolecule = None,
        protein: inputs.OptionalProtein = None,
        limit: inputs.MemoryLimit = 5,
    ) -> Annotated[CallToolResult, MemorySearchResult]:
        query = query.strip() if query and query.strip() else None
        molecule = molecule.strip() if molecule and molecule.strip() else None
        protein = protein.strip() if protein and protein.strip() else None
        if molecule and protein:
            return error_result(
                "Pass `molecule` or `protein`, not both; call search_memory once for each."
            )
        if not (query or molecule or protein):
            return error_result(
                "Nothing to search for: pass `query` (words), `molecule` or `protein`."
            )
        kind = key = None
        try:
            if molecule:
                record, _ = await self.services.aresolve_molecule(molecule)
                kind = "molecule"
                key = memory_key(record)  # the key MoleculeQA stores answers under
            elif protein:
                record = await self.services.aresolve_protein(protein)
                kind = "protein"
                key = memory_key(record)
        except ResolverError as error:
            entity = "molecule" if molecule else "protein"
            return error_result(str(tool_error_from_resolver(error, entity)))
        except NoStructureKeyError as error:
            return error_result(str(error))
        store = await asyncio.to_thread(self.services.memory.open)
        if store is None:
            return error_result(f"No memory to search: {memory_unavailable_reason(self.services)}.")
        from biomedgpt_tools.store.errors import StoreError

        try:
            if query:
                hits = await asyncio.to_thread(store.search, query, k=limit, kind=kind, key=key)
                found = [(hit.record, hit.distance) for hit in hits]
            else:
                records = await asyncio.to_thread(store.find, kind, key, limit=limit)
                found = [(record, None) for record in records]
        except StoreError as error:
            return error_result(f"The memory could not be searched: {error}.")
        result = MemorySearchResult(
            query=query, entity_key=key, hits=[memory_hit(r, d) for r, d in found]
        )
        return structured_result(_memory_text(result), result)


def _molecule_text(result: MoleculeResolution) -> str:
    molecule = result.molecule
    assert molecule is not None
    facts = [f"PubChem CID {molecule.cid}" if molecule.cid is not None else "not in PubChem"]
    facts += [
        f"{label} {value}"
        for label, value in (
            ("InChIKey", molecule.inchikey),
            ("formula", molecule.formula),
            ("SMILES", molecule.smiles),
        )
        if value
    ]
    lines = [f"Molecule: {molecule.name or 'unnamed molecule'} ({', '.join(facts)})."]
    if result.description:
        lines.append(result.description)
    lines.extend(f"Note: {note}" for note in result.notes)
    return "\n".join(lines)


def _protein_text(result: ProteinResolution) -> str:
    protein = result.protein
    assert protein is not None
    facts = [f"UniProt {protein.accession}" if protein.accession else "sequence as given"]
    facts += [value for value in (protein.entry_name, protein.organism) if value]
    facts.append(f"{protein.length} residues")
    lines = [f"Protein: {protein.protein_name or 'unnamed protein'} ({', '.join(facts)})."]
    if result.function:
        lines.append(result.function)
    lines.extend(f"Note: {note}" for note in result.notes)
    return "\n".join(lines)


def _memory_text(result: MemorySearchResult) -> str:
    if not result.hits:
        return "No stored answer matches."
    lines = [f"{len(result.hits)} stored answer(s):"]
    for hit in result.hits:
        name = hit.display_name or hit.key
        lines.append(
            f"- {name}: {hit.question} -> {shorten_keeping_quotes(hit.answer, MEMORY_ANSWER_CHARS)} "
            f"({hit.model_id}, {hit.uri})"
        )
    return "\n".join(lines)
