"""`AnnotationStore.as_retriever()`: past answers as LangChain Documents for RAG chains.

This module is the only part of the store that imports LangChain (langchain-core), and only
when `as_retriever()` is called, so the store works without LangChain installed.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from biomedgpt_tools.store.results import AnnotationHit


class AnnotationRetriever(BaseRetriever):
    """Finds stored annotations similar to the query; one Document per annotation.

    page_content reads "<name> | <question>\\n<answer>"; metadata carries the full provenance
    (record fields plus `distance`), so a chain can cite which model and checkpoint said it.
    The text is a stored model or database answer: treat it as data, not instructions.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Any = Field(description="the AnnotationStore to search")
    k: int = Field(default=4, ge=1, description="how many annotations to return")
    kind: str | None = Field(default=None, description="molecule, protein or text; None for all")
    key: str | None = Field(default=None, description="restrict to one entity (needs kind)")
    model_id: str | None = Field(default=None, description="restrict to answers of one model")
    max_distance: float | None = Field(
        default=None, description="drop hits farther than this cosine distance (0..2)"
    )

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.store.search(
            query, k=self.k, kind=self.kind, key=self.key, model_id=self.model_id
        )
        return [
            _document(hit)
            for hit in hits
            if self.max_distance is None or hit.distance <= self.max_distance
        ]


def _document(hit: AnnotationHit) -> Document:
    record = hit.record
    name = record.display_name or record.key or record.kind
    metadata = record.to_dict()
    metadata["extra"] = dict(record.extra)
    metadata["distance"] = hit.distance
    return Document(
        page_content=f"{name} | {record.question}\n{record.answer}", metadata=metadata, id=record.id
    )
