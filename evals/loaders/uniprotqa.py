"""UniProtQA-format protein QA (Hugging Face `PharMolix/UniProtQA`; not available offline).

The records are believed to be `{"protein_accession": [...], "question", "answer"}` with a
separate accession -> sequence map. The format is unconfirmed, so the reader is tolerant:
records may be a JSON list, JSON lines, or an object holding the list (under "data",
"test", "records" or "instances"); the accession may be a string or a list; a record may
carry its own sequence; the map may be a JSON object, a FASTA file or a two-column TSV.
Question types (function, official name, protein family, subcellular location) come from a
type field when present, else from the question's wording.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from evals.loaders.errors import DataFormatError
from evals.loaders.jsonl import read_jsonl
from evals.tasks.items import CaptionItem, ModalityInput

QUESTION_TYPES = ("function", "official name", "protein family", "subcellular location")
OTHER_TYPE = "other"
_ACCESSION_FIELDS = ("protein_accession", "accession", "protein_accessions", "uniprot_id")
_SEQUENCE_FIELDS = ("sequence", "protein_sequence", "protein")
_QUESTION_FIELDS = ("question", "instruction", "query")
_ANSWER_FIELDS = ("answer", "output", "response")
_TYPE_FIELDS = ("question_type", "type", "task")
_LIST_KEYS = ("data", "test", "records", "instances")
# First match wins: "family" before "name" ("What family name...") and "location" before "function".
_TYPE_RULES = (
    ("subcellular location", re.compile(r"subcellular|locali[sz]|locat|compartment", re.I)),
    ("protein family", re.compile(r"\bfamil", re.I)),
    ("official name", re.compile(r"\bname\b|\bcalled\b", re.I)),
    ("function", re.compile(r"\bfunction|\brole\b|\bdoes\b.*\bdo\b", re.I)),
)


def question_type(question: str, declared: str | None = None) -> str:
    """One of QUESTION_TYPES, or "other"; a declared type wins when it names one."""
    if declared:
        normalized = declared.strip().lower().replace("_", " ")
        for name in QUESTION_TYPES:
            if normalized == name or normalized.replace(" ", "") == name.replace(" ", ""):
                return name
        for name, pattern in _TYPE_RULES:
            if pattern.search(normalized):
                return name
    for name, pattern in _TYPE_RULES:
        if pattern.search(question):
            return name
    return OTHER_TYPE


def _first(record: dict, names: tuple[str, ...]):
    for name in names:
        if record.get(name) not in (None, "", []):
            return record[name]
    return None


def read_records(path: str | Path) -> list[dict]:
    """A JSON list, an object holding the list, or JSON lines (one record per line)."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: file not found")
    text = path.read_text(encoding="utf-8").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        if text.startswith("["):
            raise DataFormatError(f"{path}: not valid JSON ({error.msg})") from None
        return read_jsonl(path)  # several lines, one object each
    if isinstance(data, dict):
        lists = [data[key] for key in _LIST_KEYS if isinstance(data.get(key), list)]
        if lists:
            data = lists[0]
        elif _first(data, _QUESTION_FIELDS) is not None:
            data = [data]  # JSON lines with a single record
        else:
            raise DataFormatError(
                f"{path}: a JSON object that is neither a record nor holds a record list under "
                f"{', '.join(_LIST_KEYS)}"
            )
    if not isinstance(data, list) or not all(isinstance(record, dict) for record in data):
        raise DataFormatError(f"{path}: expected a list of JSON objects")
    return data


def read_sequence_map(path: str | Path) -> dict[str, str]:
    """Accession -> sequence from a JSON object, a FASTA file or an `accession<TAB>sequence` TSV."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: sequence map not found")
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise DataFormatError(f"{path}: not valid JSON ({error.msg})") from None
        return {str(k): str(v).strip() for k, v in data.items()}
    sequences: dict[str, str] = {}
    if stripped.startswith(">"):
        accession = None
        for line in text.splitlines():
            if line.startswith(">"):
                header = line[1:].split()[0] if line[1:].split() else ""
                # UniProt FASTA headers look like sp|P69905|HBA_HUMAN.
                parts = header.split("|")
                accession = parts[1] if len(parts) >= 3 else header
                sequences[accession] = ""
            elif accession is not None:
                sequences[accession] += line.strip()
        return sequences
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) != 2:
            raise DataFormatError(
                f"{path}:{line_number}: expected `accession<TAB>sequence`, a FASTA file or a JSON object"
            )
        sequences[fields[0].strip()] = fields[1].strip()
    return sequences


def uniprotqa_items(
    records_path: str | Path, sequences_path: str | Path | None = None
) -> list[CaptionItem]:
    records = read_records(records_path)
    sequences = read_sequence_map(sequences_path) if sequences_path else {}
    items = []
    for index, record in enumerate(records):
        where = f"{records_path} record {index + 1}"
        question, answer = _first(record, _QUESTION_FIELDS), _first(record, _ANSWER_FIELDS)
        if not isinstance(question, str) or not isinstance(answer, str):
            raise DataFormatError(f"{where}: needs a question and an answer string")
        inline = _first(record, _SEQUENCE_FIELDS)
        accessions = _first(record, _ACCESSION_FIELDS)
        if isinstance(accessions, str):
            accessions = [accessions]
        if inline is not None:
            protein_sequences = [inline] if isinstance(inline, str) else list(inline)
        elif accessions:
            missing = [a for a in accessions if a not in sequences]
            if missing:
                hint = (
                    "pass --sequences MAP" if not sequences_path else f"add it to {sequences_path}"
                )
                raise DataFormatError(f"{where}: no sequence for accession {missing[0]}; {hint}")
            protein_sequences = [sequences[a] for a in accessions]
        else:
            raise DataFormatError(f"{where}: neither a protein_accession nor a sequence")
        identifier = record.get("id") or "+".join(accessions or []) or str(index + 1)
        items.append(
            CaptionItem(
                item_id=f"{identifier}#{index + 1}",
                question=question.strip(),
                reference=answer.strip(),
                inputs=tuple(ModalityInput("protein", s) for s in protein_sequences),
                group=question_type(question, _first(record, _TYPE_FIELDS)),
            )
        )
    if not items:
        raise DataFormatError(f"{records_path}: no records")
    return items
