"""Every assistant gold set reads through one reader: a missing file, a line that is not
JSON, and blank lines behave the same in all four loaders."""

from __future__ import annotations

import pytest

from evals.assistant.memory_workload import load_memory_workload
from evals.assistant.resolver_accuracy import load_gold_set
from evals.assistant.routing_accuracy import load_routing_set
from evals.assistant.scoring import load_assistant_set
from evals.loaders.errors import DataFormatError

LOADERS = [load_memory_workload, load_gold_set, load_routing_set, load_assistant_set]


@pytest.mark.parametrize("load", LOADERS)
def test_a_line_that_is_not_json_is_named(tmp_path, load):
    path = tmp_path / "set.jsonl"
    path.write_text('\n{"question": \n')
    with pytest.raises(DataFormatError, match=r"set\.jsonl:2: not valid JSON"):
        load(path)


@pytest.mark.parametrize("load", LOADERS)
def test_a_missing_file_says_not_found(tmp_path, load):
    with pytest.raises(DataFormatError, match=r"absent\.jsonl: .* not found"):
        load(tmp_path / "absent.jsonl")
