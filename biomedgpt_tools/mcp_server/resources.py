"""The MCP resources: stored answers (`memory://annotations/{id}`) and molecule depictions.

`resources/list` names the newest stored answers (up to LISTED_ANNOTATIONS); any stored
answer can be read by its id through the template. A depiction is drawn from the molecule
the query resolves to (`molecule://depiction/{molecule}`: a CID, name, InChIKey or a
percent-encoded SMILES), so it needs no image from PubChem.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp_types import Resource

from biomedgpt_tools.mcp_server.depiction import smiles_to_svg
from biomedgpt_tools.mcp_server.outputs import annotation_uri, stored_answer_text
from biomedgpt_tools.resolvers.outcomes import ResolverError
from biomedgpt_tools.tools.errors import tool_error_from_resolver
from biomedgpt_tools.tools.quoting import quote_inline

if TYPE_CHECKING:
    from biomedgpt_tools.services.biomedgpt_services import BioMedGPTServices

logger = logging.getLogger(__name__)

ANNOTATION_TEMPLATE = "memory://annotations/{annotation_id}"
DEPICTION_TEMPLATE = "molecule://depiction/{molecule}"
LISTED_ANNOTATIONS = 100


class BioMedGPTResources:
    """Resource functions bound to one set of services (their resolvers and memory)."""

    def __init__(self, services: BioMedGPTServices):
        self.services = services

    async def annotation(self, annotation_id: str) -> str:
        """One stored answer with its provenance, as JSON."""
        store = await asyncio.to_thread(self.services.memory.open)
        if store is None:
            raise ResourceError(f"no memory to read: {memory_unavailable_reason(self.services)}")
        from biomedgpt_tools.store.errors import StoreError

        try:
            record = await asyncio.to_thread(store.get, annotation_id)
        except StoreError as error:
            raise ResourceError(f"the memory could not be read: {error}") from error
        if record is None:
            raise ResourceNotFoundError(f"no stored answer has the id {annotation_id!r}")
        data = record.to_dict()
        data["answer"] = stored_answer_text(record)
        data["display_name"] = quote_inline(record.display_name, 120)
        return json.dumps(data, indent=2)

    async def depiction(self, molecule: str) -> str:
        """The molecule's structure as SVG."""
        try:
            record, _ = await self.services.aresolve_molecule(molecule)
        except ResolverError as error:
            raise ResourceError(str(tool_error_from_resolver(error, "molecule"))) from error
        smiles = record.smiles or record.connectivity_smiles
        if not smiles:
            raise ResourceError(f"no structure is known for {molecule!r}")
        try:
            return await asyncio.to_thread(smiles_to_svg, smiles)
        except ValueError as error:
            raise ResourceError(str(error)) from error

    def recent_annotations(self) -> list[Resource]:
        """The newest stored answers as listed resources (none when the memory is off)."""
        store = self.services.memory.open()
        if store is None:
            return []
        from biomedgpt_tools.store.errors import StoreError

        try:
            records = store.newest(LISTED_ANNOTATIONS)
        except StoreError as error:  # a listing cannot carry an error: say it on the server's log
            logger.warning("resources/list: the stored answers could not be listed: %s", error)
            return []
        return [
            Resource(
                uri=annotation_uri(record.id),
                name=f"annotation-{record.id}",
                title=f"{quote_inline(record.display_name or record.key, 60)}: "
                f"{quote_inline(record.question, 80)}",
                description=f"{record.kind} answer by {record.model_id} "
                f"({record.created_at:%Y-%m-%d %H:%M} UTC)",
                mime_type="application/json",
            )
            for record in records
        ]


def memory_unavailable_reason(services: BioMedGPTServices) -> str:
    """Why `services.memory.open()` gave no store: memory switched off, or the error that the
    store gave when it was opened."""
    if not services.settings.memory:
        return "memory is off (BIOMEDGPT_MEMORY=0)"
    reason = services.memory.error
    return (
        f"the annotation store could not be opened: {reason}"
        if reason
        else ("the annotation store could not be opened")
    )
