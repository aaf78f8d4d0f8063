"""Expected tool failures as `ToolException`s whose message tells the calling LLM what to do next.

An agent sees only the message (the tools set `handle_tool_error`), so each message names
the input, what went wrong and the way out. Candidate names come from PubChem/UniProt and are
shown as defused one-line data.
"""

from __future__ import annotations

from langchain_core.tools import ToolException

from biomedgpt_tools.inference.backend import ModelUnavailableError
from biomedgpt_tools.resolvers.outcomes import (
    AmbiguousError,
    InvalidQueryError,
    ObsoleteError,
    ResolverError,
    UnavailableError,
)
from biomedgpt_tools.resolvers.records import MoleculeCandidate, ProteinCandidate
from biomedgpt_tools.tools.quoting import quote_inline

MAX_CANDIDATES_SHOWN = 8
__all__ = ["ModelUnavailableError", "tool_error_from_resolver"]


def _describe_candidate(candidate: MoleculeCandidate | ProteinCandidate) -> str:
    if isinstance(candidate, MoleculeCandidate):
        name = quote_inline(candidate.name, 80)
        return f"CID {candidate.cid}" + (f" ({name})" if name else "")
    details = [
        quote_inline(candidate.entry_name, 30),
        quote_inline(candidate.protein_name, 80),
        quote_inline(candidate.organism, 60),
    ]
    if candidate.reviewed is not None:
        details.append("reviewed" if candidate.reviewed else "unreviewed")
    shown = ", ".join(d for d in details if d)
    return candidate.accession + (f" ({shown})" if shown else "")


def tool_error_from_resolver(error: ResolverError, entity: str) -> ToolException:
    """Turn a resolver outcome into the message an agent can act on.

    `entity` is "molecule" or "protein": the tool argument the agent should change.
    """
    message = error.message.rstrip(".")  # resolver messages already name the way out
    if isinstance(error, AmbiguousError):
        shown = error.candidates[:MAX_CANDIDATES_SHOWN]
        listing = "; ".join(_describe_candidate(c) for c in shown)
        more = len(error.candidates) - len(shown)
        if more > 0:
            listing += f"; and {more} more"
        key = "a CID or SMILES" if entity == "molecule" else "one UniProt accession"
        return ToolException(
            f"{message}. Candidates: {listing}. Call the tool again with `{entity}` set to {key} "
            "from this list, or ask the user which one they mean."
        )
    if isinstance(error, ObsoleteError) and error.replacements:
        return ToolException(
            f"{message}. Call the tool again with `{entity}` set to one of: "
            f"{', '.join(error.replacements)}."
        )
    if isinstance(error, InvalidQueryError):
        return ToolException(f"{message}. Fix `{entity}` and call the tool again.")
    if isinstance(error, UnavailableError):  # OfflineError included
        if entity == "protein":
            advice = "pass the amino-acid sequence instead, which needs no lookup"
        else:
            advice = "pass a SMILES string instead, which BioMedGPT can read without PubChem"
        return ToolException(f"{message}. The lookup service cannot be used now; {advice}.")
    return ToolException(f"{message}.")
