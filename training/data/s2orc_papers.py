"""Stage-1 paper selection and cleaning for S2ORC-format JSON lines.

One record per line, S2ORC's metadata and pdf-parse fields together (joined on `paper_id`;
the parse may also sit under a `pdf_parse` key): `paper_id`, `pmc_id`, `pubmed_id`,
`title`, `abstract` (string or paragraph list), `body_text` ([{section, text, cite_spans,
ref_spans}]), plus `authors`, `bib_entries`, `ref_entries` which are never emitted. The
paper (section 3) keeps papers selected by PMC/PubMed IDs, drops those without full text or
with duplicate IDs, and removes author information, reference lists and figure/table text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# Sections that hold author information, reference lists or captions, not paper prose.
_DROPPED_SECTION = re.compile(
    r"^\s*(\d+(\.\d+)*\.?\s*)?("
    r"references?|bibliography|literature cited|"
    r"authors?'?s?'? (contributions?|information)|author details|contributors|"
    r"acknowledge?ments?|funding|competing interests?|conflicts? of interests?|"
    r"(supplementary )?(figure|fig\.?|table)s?\b.*"
    r")\s*$",
    re.IGNORECASE,
)
# A split after ., ! or ? followed by space and an upper-case letter, digit or bracket.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")
# "et al." and single-letter initials should not end a sentence.
_NOT_AN_END = re.compile(
    r"(\bet al\.|\b[A-Z]\.|\b(e\.g|i\.e|Fig|Figs|Eq|Eqs|No|vs|Dr|Mr|Mrs|Ms|Prof|approx|ca|cf)\.)$"
)


@dataclass
class SelectedPaper:
    paper_id: str
    ids: list[str]  # every identifier that marks a duplicate: s2, pmc and pubmed ids
    paragraphs: list[str]  # title, abstract, body, cleaned


def paper_identifiers(record: dict) -> tuple[str | None, str | None]:
    """(PMC id as 'PMC123', PubMed id as digits) or None for each one missing."""
    pmc = record.get("pmc_id") or record.get("pmcid")
    pubmed = record.get("pubmed_id") or record.get("pmid")
    pmc = str(pmc).strip() if pmc not in (None, "") else None
    if pmc and not pmc.upper().startswith("PMC"):
        pmc = "PMC" + pmc
    pubmed = str(pubmed).strip() if pubmed not in (None, "") else None
    return (pmc.upper() if pmc else None), pubmed


def read_id_list(lines: Iterable[str]) -> set[str]:
    """PMC ids ('PMC123' or 'pmc:123') and PubMed ids (digits), one per line."""
    ids = set()
    for line in lines:
        value = line.strip()
        if not value or value.startswith("#"):
            continue
        if value.lower().startswith("pmc:"):
            value = "PMC" + value[4:]
        ids.add(value.upper() if value.upper().startswith("PMC") else value)
    return ids


def _paragraph_text(paragraph: dict) -> str:
    """The paragraph with citation markers ('[12]', '(Smith et al., 2019)') cut out."""
    text = str(paragraph.get("text") or "")
    spans = sorted(
        paragraph.get("cite_spans") or [], key=lambda span: span.get("start", 0), reverse=True
    )
    for span in spans:
        start, end = span.get("start"), span.get("end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(text):
            text = text[:start] + text[end:]
    text = re.sub(
        r"\s+([.,;:])", r"\1", text
    )  # the space a removed marker leaves before punctuation
    return re.sub(r"\s{2,}", " ", text).strip()


def clean_paragraphs(record: dict) -> list[str]:
    """Title, abstract and body paragraphs without authors, references or captions."""
    parse = record.get("pdf_parse") if isinstance(record.get("pdf_parse"), dict) else record
    paragraphs = []
    title = record.get("title")
    if isinstance(title, str) and title.strip():
        paragraphs.append(title.strip())
    abstract = parse.get("abstract") or record.get("abstract")
    if isinstance(abstract, str):
        abstract = [{"text": abstract}]
    for paragraph in list(abstract or []) + list(parse.get("body_text") or []):
        if not isinstance(paragraph, dict):
            continue
        if _DROPPED_SECTION.match(str(paragraph.get("section") or "")):
            continue
        text = _paragraph_text(paragraph)
        if text:
            paragraphs.append(text)
    return paragraphs


def has_full_text(record: dict) -> bool:
    parse = record.get("pdf_parse") if isinstance(record.get("pdf_parse"), dict) else record
    return any(
        isinstance(p, dict) and str(p.get("text") or "").strip()
        for p in parse.get("body_text") or []
    )


def select_papers(
    records: Iterable[dict], wanted_ids: set[str] | None, seen_ids: set[str], counts: Counter
) -> Iterator[SelectedPaper]:
    """Papers that pass the paper's filters; `seen_ids` grows so duplicates across shards drop too.

    Without `wanted_ids`, every paper that has a PMC or PubMed id counts as biomedical.
    `counts` records why each paper was dropped.
    """
    for record in records:
        counts["read"] += 1
        pmc, pubmed = paper_identifiers(record)
        if not pmc and not pubmed:
            counts["dropped_no_pmc_or_pubmed_id"] += 1
            continue
        if wanted_ids is not None and pmc not in wanted_ids and pubmed not in wanted_ids:
            counts["dropped_not_in_id_list"] += 1
            continue
        if not has_full_text(record):
            counts["dropped_no_full_text"] += 1
            continue
        ids = [f"pmc:{pmc}" if pmc else None, f"pubmed:{pubmed}" if pubmed else None]
        if record.get("paper_id") not in (None, ""):
            ids.append(f"s2:{record['paper_id']}")
        ids = [i for i in ids if i]
        if any(i in seen_ids for i in ids):
            counts["dropped_duplicate_id"] += 1
            continue
        seen_ids.update(ids)
        paragraphs = clean_paragraphs(record)
        counts["kept"] += 1
        yield SelectedPaper(str(record.get("paper_id") or pmc or pubmed), ids, paragraphs)


def split_sentences(paragraph: str) -> list[str]:
    """Rule-based sentence split; good enough to keep chunk boundaries between sentences."""
    pieces = _SENTENCE_END.split(paragraph)
    sentences: list[str] = []
    for piece in pieces:
        if sentences and _NOT_AN_END.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return [s.strip() for s in sentences if s.strip()]
