"""Run a task: ask the model (batched, resumable, cached in the run dir), then score.

Files in the run directory:
  run.json            what was run (task, data, model, prompt version, scoring)
  predictions.jsonl   one model output per item: {"item_id", "output"} or
                      {"item_id", "log_likelihoods": {label: value}}, or
                      {"item_id", "error"} when the model refused the input (bad SMILES...):
                      scored as an empty answer, counted in metrics.json as n_refused;
                      each also carries "question_digest" (evals.tasks.items.question_digest): a
                      cached record whose digest differs from its item's (the data file was
                      edited under the same ids) is asked again, never scored
  details.jsonl       per item: reference/gold, output, extracted answer, correct
  predictions.tsv     ChEBI-20 only: MolT5 format, so `python -m evals caption` can rescore it
  metrics.json        the scores, the task's notes and how many items were scored
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tqdm import tqdm

from evals.metrics.answer_extraction import RuleSet, extract_answer
from evals.metrics.caption import score_captions
from evals.metrics.classification import score_choices
from evals.tasks.items import CaptionItem, ChoiceItem, question_digest
from evals.tasks.model import TaskModel
from evals.tasks.option_likelihood import best_option
from evals.tasks.prompts import PROMPT_VERSION, request_for
from evals.tasks.run_store import METRICS_FILE, append_records, open_run, read_cache, write_json
from evals.tasks.specs import LoadedTask, TaskSpec

Scoring = Literal["generate", "loglik"]
PREDICTIONS_FILE = "predictions.jsonl"
DETAILS_FILE = "details.jsonl"


@dataclass(frozen=True)
class RunOptions:
    batch_size: int = 8
    max_new_tokens: int = 255
    scoring: Scoring = "generate"
    rules: RuleSet = "lmflow"
    system: str | None = None
    vocab: str | None = None  # SciBERT folder for caption metrics
    progress: bool = True
    molecule_input: str = (
        "graph"  # graph | smiles-text | none (see evals.tasks.prompts.request_for)
    )


def run_identity(spec: TaskSpec, data: Path, model_name: str, options: RunOptions) -> dict:
    return {
        "task": spec.name,
        "data": str(Path(data).resolve()),
        "model": model_name,
        "prompt_version": PROMPT_VERSION,
        "system": options.system,
        "scoring": options.scoring if spec.kind == "choice" else "generate",
        "max_new_tokens": options.max_new_tokens,
    } | ({"molecule_input": options.molecule_input} if options.molecule_input != "graph" else {})


def _check_unique_ids(items) -> None:
    seen = set()
    for item in items:
        if item.item_id in seen:
            raise ValueError(f"item id {item.item_id} appears twice; the cache needs unique ids")
        seen.add(item.item_id)


def collect_outputs(
    spec: TaskSpec, items, model: TaskModel, run_dir: Path, options: RunOptions
) -> dict[str, dict]:
    """Model outputs for every item, from the cache where present, else from the model."""
    cache_path = run_dir / PREDICTIONS_FILE
    cached = read_cache(cache_path)
    stale = [item for item in items if _is_stale(cached.get(item.item_id), item)]
    if stale:
        warnings.warn(
            f"{cache_path}: {len(stale)} cached prediction(s) were made for another question under "
            f"the same id (first: item {stale[0].item_id}); the data file changed since, so they are "
            "asked again",
            stacklevel=2,
        )
        for item in stale:
            del cached[item.item_id]
    todo = [item for item in items if item.item_id not in cached]
    use_loglik = spec.kind == "choice" and options.scoring == "loglik"
    bar = tqdm(
        total=len(items), initial=len(items) - len(todo), desc=f"{spec.name} ({options.scoring})",
        unit="item", disable=not options.progress,
    )  # fmt: skip
    for start in range(0, len(todo), options.batch_size):
        batch = todo[start : start + options.batch_size]
        try:
            records = _ask(model, batch, use_loglik, options)
        except ValueError:
            # One bad input (a SMILES RDKit rejects, a non-protein sequence) must not sink
            # the batch: ask one at a time and record the refused items with their error.
            records = []
            for item in batch:
                try:
                    records += _ask(model, [item], use_loglik, options)
                except ValueError as error:
                    records.append({"item_id": item.item_id, "error": str(error)})
        for item, record in zip(batch, records, strict=True):
            record["question_digest"] = question_digest(item)
        append_records(cache_path, records)
        cached.update({record["item_id"]: record for record in records})
        bar.update(len(batch))
    bar.close()
    return cached


def _is_stale(record: dict | None, item) -> bool:
    """A cached record made for another question (records from before digests pass unchecked)."""
    if record is None or "question_digest" not in record:
        return False
    return record["question_digest"] != question_digest(item)


def _ask(model: TaskModel, batch: list, use_loglik: bool, options: RunOptions) -> list[dict]:
    requests = [request_for(item, options.system, options.molecule_input) for item in batch]
    if use_loglik:
        scores = model.option_log_likelihoods(
            requests, [list(item.options.values()) for item in batch], options.batch_size
        )
        return [
            {"item_id": item.item_id, "log_likelihoods": dict(zip(item.options, s, strict=True))}
            for item, s in zip(batch, scores, strict=True)
        ]
    outputs = model.generate(requests, max_new_tokens=options.max_new_tokens)
    if len(outputs) != len(batch):
        raise RuntimeError(f"the model returned {len(outputs)} outputs for {len(batch)} prompts")
    return [
        {"item_id": item.item_id, "output": output}
        for item, output in zip(batch, outputs, strict=True)
    ]


def score_caption_task(items: list[CaptionItem], outputs: dict[str, dict], options: RunOptions):
    from evals.metrics.scibert_tokenizer import default_vocab

    vocab = options.vocab or default_vocab()
    references = [item.reference for item in items]
    predictions = [outputs[item.item_id].get("output", "") for item in items]  # refused: empty
    metrics = {
        "overall": score_captions(references, predictions, vocab, options.progress).as_dict()
    }
    groups = sorted({item.group for item in items if item.group})
    if groups:
        metrics["by_group"] = {}
        for group in groups:
            chosen = [i for i, item in enumerate(items) if item.group == group]
            metrics["by_group"][group] = score_captions(
                [references[i] for i in chosen], [predictions[i] for i in chosen], vocab, False
            ).as_dict()
    details = [
        {"item_id": item.item_id, "group": item.group, "reference": item.reference, "output": p}
        for item, p in zip(items, predictions, strict=True)
    ]
    return metrics, details


def score_choice_task(spec: TaskSpec, items: list[ChoiceItem], outputs, options: RunOptions):
    predicted, details, rules_used = [], [], {"keyed": 0, "bare": 0, "unmatched": 0}
    for item in items:
        record = outputs[item.item_id]
        if "error" in record:
            label, rule = None, "refused"  # the model refused the input: counts as wrong
        elif "log_likelihoods" in record:
            scores = record["log_likelihoods"]
            label, rule = (
                best_option(list(item.options), [scores[k] for k in item.options]),
                "loglik",
            )
        else:
            extraction = extract_answer(record["output"], spec.answer_kind, options.rules)
            label, rule = extraction.label, extraction.rule
            rules_used[rule] += 1
        predicted.append(label)
        details.append(
            {"item_id": item.item_id, "gold": item.answer, "predicted": label, "rule": rule,
             "correct": label == item.answer, "output": record.get("output")}
        )  # fmt: skip
    gold = [item.answer for item in items]
    scores = score_choices(gold, predicted, spec.labels).as_dict()
    metrics = {"overall": scores}
    if options.scoring == "generate":
        metrics["extraction"] = {"rules": options.rules, **rules_used}
    return metrics, details


def write_chebi_tsv(run_dir: Path, items: list[CaptionItem], outputs: dict[str, dict]) -> None:
    """MolT5's unquoted TSV; tabs and newlines in generated text are flattened to spaces."""
    lines = ["SMILES\tground truth\toutput"]
    for item in items:
        output = " ".join(outputs[item.item_id].get("output", "").split())
        lines.append(f"{item.inputs[0].value}\t{item.reference}\t{output}")
    (run_dir / "predictions.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_task(
    spec: TaskSpec,
    loaded: LoadedTask,
    data: Path,
    model: TaskModel,
    run_dir: Path,
    options: RunOptions,
    limit: int | None = None,
) -> dict:
    """Generate (or score options) for the first `limit` items, then write metrics.json."""
    items = loaded.items[:limit] if limit else loaded.items
    if not items:
        raise ValueError(f"{data}: no items to evaluate")
    _check_unique_ids(items)
    open_run(run_dir, run_identity(spec, data, model.name, options))
    outputs = collect_outputs(spec, items, model, run_dir, options)
    if spec.kind == "caption":
        metrics, details = score_caption_task(items, outputs, options)
        if spec.name == "chebi20":
            write_chebi_tsv(run_dir, items, outputs)
    else:
        metrics, details = score_choice_task(spec, items, outputs, options)
    refused = [item.item_id for item in items if "error" in outputs[item.item_id]]
    with (run_dir / DETAILS_FILE).open("w", encoding="utf-8") as handle:
        for record in details:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    result = {
        "task": spec.name,
        "model": model.name,
        "n_items": len(items),
        "n_available": len(loaded.items),
        "scoring": options.scoring if spec.kind == "choice" else "generate",
        "molecule_input": options.molecule_input,
        "n_refused": len(refused),  # inputs the model rejected; scored as empty / wrong
        "refused": [{"item_id": i, "message": outputs[i]["error"]} for i in refused],
        # data lines that were not items at all (malformed records), in file order
        "bad_lines": [e.to_json()["error"] for e in loaded.line_errors],
        "notes": loaded.notes,
        "metrics": metrics,
    }
    write_json(run_dir / METRICS_FILE, result)
    return result
