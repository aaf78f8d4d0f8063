"""Run-folder metrics survive a kill in the middle of a write."""

from __future__ import annotations

import json

import pytest

from training.run_folder import RunFolder


def test_a_torn_last_metrics_line_is_dropped_on_resume(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.root.mkdir(parents=True, exist_ok=True)
    for step in (1, 2, 3):
        run.log({"step": step, "loss": 1.0 / step})
    with open(run.metrics_path, "a") as handle:
        handle.write('{"step": 4, "lo')  # the process was killed here
    run.drop_metrics_after(2)
    assert [record["step"] for record in run.metrics()] == [1, 2]
    assert all(json.loads(line) for line in run.metrics_path.read_text().splitlines())


def test_a_corrupt_line_in_the_middle_is_an_error(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.root.mkdir(parents=True, exist_ok=True)
    run.metrics_path.write_text('{"step": 1}\nnot json\n{"step": 2}\n')
    with pytest.raises(json.JSONDecodeError):
        run.metrics()
