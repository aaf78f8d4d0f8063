"""The task runner's caching, resumption and scoring, with a scripted stand-in model."""

from __future__ import annotations

import json

import pytest

from evals.reporting.report import write_report
from evals.tasks.items import ChoiceItem
from evals.tasks.run_store import RunDirectoryError
from evals.tasks.runner import RunOptions, run_task
from evals.tasks.specs import LoadedTask, task_spec


class ScriptedModel:
    """Answers each question from a script; counts what it was asked, can fail on demand."""

    def __init__(self, answers: dict[str, str], name: str = "scripted", fail_after: int | None = None,
                 refuse: str | None = None):  # fmt: skip
        self.answers, self.name, self.fail_after, self.refuse = answers, name, fail_after, refuse
        self.asked: list[str] = []

    def generate(self, requests, max_new_tokens):
        if self.fail_after is not None and len(self.asked) >= self.fail_after:
            raise KeyboardInterrupt  # an interrupted run
        if self.refuse and any(self.refuse in r.question for r in requests):
            raise ValueError(f"request 0: cannot parse {self.refuse}")  # as BioMedGPT.generate does
        keys = [self._key(r) for r in requests]
        self.asked += keys
        return [self.answers[key] for key in keys]

    def _key(self, request) -> str:
        return next(k for k in self.answers if k in request.question)

    def option_log_likelihoods(self, requests, options, batch_size):
        self.asked += [self._key(r) for r in requests]
        # Prefers the option whose text is the scripted answer.
        return [[0.0 if text == self.answers[next(k for k in self.answers if k in r.question)] else -5.0
                 for text in texts] for r, texts in zip(requests, options, strict=True)]  # fmt: skip


def _items(n: int) -> list[ChoiceItem]:
    labels = ["yes", "no", "maybe"]
    return [
        ChoiceItem(
            f"pmid{i}",
            f"Question number {i}?",
            {k: k for k in labels},
            labels[i % 3],
            context="ctx",
        )
        for i in range(n)
    ]


ANSWERS = {f"Question number {i}?": ["Answer: yes", "No.", "hmm"][i % 3] for i in range(6)}


def _run(tmp_path, model, options=None, limit=None, data="data.json"):
    spec = task_spec("pubmedqa")
    return run_task(spec, LoadedTask(_items(6)), tmp_path / data, model, tmp_path / "run",
                    options or RunOptions(batch_size=2, progress=False), limit=limit)  # fmt: skip


def test_scores_from_extracted_answers(tmp_path):
    result = _run(tmp_path, ScriptedModel(ANSWERS))
    overall = result["metrics"]["overall"]
    # items 0, 3: gold yes, answer yes; items 1, 4: gold no, "No." -> no; items 2, 5: "hmm" unmatched.
    assert overall["accuracy"] == pytest.approx(4 / 6)
    assert overall["unmatched_rate"] == pytest.approx(2 / 6)
    assert result["metrics"]["extraction"] == {
        "rules": "lmflow",
        "keyed": 2,
        "bare": 2,
        "unmatched": 2,
    }
    details = [
        json.loads(line) for line in (tmp_path / "run" / "details.jsonl").read_text().splitlines()
    ]
    assert [d["predicted"] for d in details] == ["yes", "no", None] * 2


def test_interrupted_run_resumes_without_asking_again(tmp_path):
    interrupted = ScriptedModel(ANSWERS, fail_after=4)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, interrupted)
    assert len((tmp_path / "run" / "predictions.jsonl").read_text().splitlines()) == 4
    resumed = ScriptedModel(ANSWERS)
    result = _run(tmp_path, resumed)
    assert resumed.asked == ["Question number 4?", "Question number 5?"]
    assert result["n_items"] == 6
    assert len((tmp_path / "run" / "predictions.jsonl").read_text().splitlines()) == 6


def test_a_cached_prediction_for_another_question_is_asked_again(tmp_path):
    """The data file changed under the same ids (a line removed): the cache must not answer."""
    _run(tmp_path, ScriptedModel(ANSWERS))
    shifted = [
        ChoiceItem(item.item_id, f"Question number {(int(item.item_id[4:]) + 1) % 6}?", item.options,
                   item.answer, context=item.context)
        for item in _items(6)
    ]  # fmt: skip
    resumed = ScriptedModel(ANSWERS)
    with pytest.warns(UserWarning, match="6 cached prediction"):
        run_task(task_spec("pubmedqa"), LoadedTask(shifted), tmp_path / "data.json", resumed,
                 tmp_path / "run", RunOptions(batch_size=2, progress=False))  # fmt: skip
    assert sorted(resumed.asked) == sorted(ANSWERS)  # every item asked about its new question
    details = [
        json.loads(line) for line in (tmp_path / "run" / "details.jsonl").read_text().splitlines()
    ]
    # pmid0 now asks question 1, whose scripted answer is "No."
    assert details[0]["output"] == "No."
    unchanged = ScriptedModel(ANSWERS)
    run_task(task_spec("pubmedqa"), LoadedTask(shifted), tmp_path / "data.json", unchanged,
             tmp_path / "run", RunOptions(batch_size=2, progress=False))  # fmt: skip
    assert unchanged.asked == []  # the re-asked predictions are the cache now


def test_limit_then_full_run_reuses_the_cache(tmp_path):
    first = ScriptedModel(ANSWERS)
    assert _run(tmp_path, first, limit=2)["n_items"] == 2
    second = ScriptedModel(ANSWERS)
    _run(tmp_path, second)
    assert len(second.asked) == 4


def test_torn_last_line_is_regenerated(tmp_path):
    _run(tmp_path, ScriptedModel(ANSWERS), limit=2)
    cache = tmp_path / "run" / "predictions.jsonl"
    cache.write_text(cache.read_text() + '{"item_id": "pmid2", "outp')
    again = ScriptedModel(ANSWERS)
    _run(tmp_path, again, limit=3)
    assert again.asked == ["Question number 2?"]


def test_a_refused_input_does_not_sink_its_batch(tmp_path):
    model = ScriptedModel(ANSWERS, refuse="Question number 1?")
    result = _run(tmp_path, model)
    assert result["n_refused"] == 1
    # Items 0 and 1 share a batch: 0 is answered one at a time after the batch was refused.
    assert result["metrics"]["overall"]["accuracy"] == pytest.approx(3 / 6)
    cache = [
        json.loads(line)
        for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()
    ]
    refused = {"item_id": "pmid1", "error": "request 0: cannot parse Question number 1?"}
    assert refused in [{k: v for k, v in r.items() if k != "question_digest"} for r in cache]
    details = {
        d["item_id"]: d
        for d in map(json.loads, (tmp_path / "run" / "details.jsonl").read_text().splitlines())
    }
    assert details["pmid1"]["rule"] == "refused" and details["pmid0"]["predicted"] == "yes"
    assert "1 refused" in write_report(tmp_path / "run").read_text()


def test_run_directory_of_another_model_is_refused(tmp_path):
    _run(tmp_path, ScriptedModel(ANSWERS), limit=1)
    with pytest.raises(RunDirectoryError, match="model: 'scripted' there, 'other' now"):
        _run(tmp_path, ScriptedModel(ANSWERS, name="other"))


def test_loglik_scoring_picks_the_likeliest_option(tmp_path):
    answers = {f"Question number {i}?": ["yes", "no", "no"][i % 3] for i in range(6)}
    result = _run(tmp_path, ScriptedModel(answers), RunOptions(scoring="loglik", progress=False))
    assert result["metrics"]["overall"]["accuracy"] == pytest.approx(4 / 6)
    assert result["metrics"]["overall"]["unmatched_rate"] == 0
    assert "extraction" not in result["metrics"]


def test_report_sets_runs_beside_the_paper(tmp_path):
    _run(tmp_path, ScriptedModel(ANSWERS))
    path = write_report(tmp_path)
    text = path.read_text()
    assert "| paper | 51.4 | 76.1 | 50.4 |" in text
    assert "66.7" in text  # our PubMedQA accuracy in %
    assert "lmflow: 2 keyed, 2 bare, 2 unmatched" in text
    png = (tmp_path / "table2_qa_accuracy.png").read_bytes()
    assert png.startswith(b"\x89PNG")


def test_report_without_runs_says_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="python -m evals run"):
        write_report(tmp_path)
