"""The one QA record format every stage-2/3 preparation step writes and the trainer reads.

A record is one JSON line: `{"id", "molecules": [smiles], "proteins": [sequence],
"question", "answer", "system"}`. It maps one-to-one onto a single-turn
`biomedgpt_tools.model.prompt.Conversation`, so training renders exactly the prompt that
inference renders.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from biomedgpt_tools.model.prompt import TRAINING_SYSTEM_TEXT_MOLECULE, TRAINING_SYSTEM_TEXT_PROTEIN
from training.data.input_files import DataFormatError, open_text

# The paper's training prompts (Table 1): one system text per modality, kept in the model's
# prompt module so training and inference share one copy.
MOLECULE_SYSTEM = TRAINING_SYSTEM_TEXT_MOLECULE
PROTEIN_SYSTEM = TRAINING_SYSTEM_TEXT_PROTEIN
# Text-only biomedical QA (stage 3b) has no structure input; the paper gives no system text.
BIOMEDICAL_SYSTEM = (
    "You are working as an excellent assistant in biomedicine. "
    "Below a human asks a biomedical question. Answer it."
)


@dataclass
class QARecord:
    id: str
    question: str
    answer: str
    system: str
    molecules: list[str] = field(default_factory=list)
    proteins: list[str] = field(default_factory=list)

    def to_json_line(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False) + "\n"


def read_qa_records(path: Path) -> Iterator[QARecord]:
    """Records of a prepared QA file; a record missing a field names the file and line."""
    with open_text(path) as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                yield QARecord(
                    id=str(raw["id"]),
                    question=str(raw["question"]),
                    answer=str(raw["answer"]),
                    system=str(raw["system"]),
                    molecules=list(raw.get("molecules", [])),
                    proteins=list(raw.get("proteins", [])),
                )
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise DataFormatError(
                    f"{path}:{line_number}: not a QA record ({error!r}); prepare it with "
                    "`python -m training prepare-...` first"
                ) from None
