"""Bulk annotation of proteins by UniProt accession (`biomedgpt annotate`).

    from biomedgpt_tools.annotation import BulkAnnotator
    services = BioMedGPTServices.from_env()  # biomedgpt_tools.services; no LangChain needed
    summary = BulkAnnotator(services, ["function", "name"]).run(accessions, Path("results.jsonl"))

Batch resolution, batched generation, results appended as they complete, resumable, every
answer stored; under torchrun the accessions are sharded across ranks (distributed.py).
"""

from biomedgpt_tools.annotation.bulk import BulkAnnotator
from biomedgpt_tools.annotation.questions import QUESTION_TYPES, parse_question_types
from biomedgpt_tools.annotation.results import AnnotationResult, RunSummary, read_accessions

__all__ = [
    "QUESTION_TYPES",
    "AnnotationResult",
    "BulkAnnotator",
    "RunSummary",
    "parse_question_types",
    "read_accessions",
]
