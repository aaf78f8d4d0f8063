"""`python -m training demo-model`: a small BioMedGPT trained by the real stages, in minutes.

It runs `align` then `finetune` (configs/demo_*.yaml) on QA pairs generated from the bundled
snapshot's facts (demo_facts.py), checks which training questions it answers exactly, and
writes the model with a model card that says plainly what it is. The result is cached: a
second call with the same facts and recipe returns at once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from biomedgpt_tools.environment import biomedgpt_home
from training.config import load_config
from training.data.finished_outputs import writing
from training.demo_facts import demo_records

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
RECIPE_FILES = ("demo_align.yaml", "demo_finetune.yaml")
FINGERPRINT_FILE = "demo_fingerprint.txt"
WORK_MARKER = "demo_work_folder.txt"


def default_demo_dir() -> Path:
    """$BIOMEDGPT_HOME/demo-model, else the user data folder (where the toolkit looks too)."""
    return biomedgpt_home() / "demo-model"


def recipe_fingerprint(records_text: str) -> str:
    digest = hashlib.sha256(records_text.encode())
    for name in RECIPE_FILES:
        digest.update((CONFIG_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def is_cached(out: Path, fingerprint: str) -> bool:
    marker = out / FINGERPRINT_FILE
    return (
        (out / "config.json").is_file()
        and marker.is_file()
        and marker.read_text().strip() == fingerprint
    )


def exact_answers(model_dir: Path, records) -> list[tuple[str, str, str]]:
    """(question id, expected, generated) for every record, generated greedily."""
    from biomedgpt_tools.model.api import BioMedGPT
    from biomedgpt_tools.model.requests import GenerationRequest
    from training.stages.multimodal import QAData

    model = BioMedGPT.from_pretrained(model_dir, dtype="fp32")
    requests = []
    for record in records:
        conversation = QAData.conversation(record)
        requests.append(
            GenerationRequest(
                question=record.question, inputs=conversation.inputs, system=record.system
            )
        )
    results = model.generate(requests, batch_size=16, max_new_tokens=96)
    return [(r.id, r.answer, out.text) for r, out in zip(records, results, strict=True)]


def model_card(records, answers, minutes: float, fingerprint: str, parameters: int) -> str:
    correct = sum(1 for _, expected, got in answers if expected == got)
    wrong = [(i, e, g) for i, e, g in answers if e != g]
    molecules = len({s for r in records for s in r.molecules})
    proteins = len({p for r in records for p in r.proteins})
    lines = [
        "# BioMedGPT demo model (tiny, trained in minutes; NOT BioMedGPT-10B)",
        "",
        "This is a toy. It exists so the tools, the CLI and the agent can be tried on a laptop",
        "without the 10B checkpoint. It is a BioMedGPT of the same architecture (Llama LM, ESM-2",
        f"protein encoder, GIN molecule encoder, two projections) but only about {parameters:,} weights,",
        "randomly initialised (no pretrained weights at all) and using the offline tiny tokenizer,",
        "then trained by this repository's own `align` and `finetune` stages on "
        f"{len(records)} question/answer pairs generated from the bundled snapshot's facts",
        "(`biomedgpt_tools/resolvers/snapshot_data`: names, formula, molecular weight, protein",
        "name, family, subcellular location, organism, genes).",
        "",
        f"What it can do: repeat those facts for those {molecules} molecules and {proteins} proteins when asked",
        "the training questions with the default system text. What it cannot do: anything",
        "else. It has no biomedical knowledge, no general language ability, and it will answer",
        "any other question with fluent-looking nonsense. Asked who it is, it says so.",
        "",
        f"- training time: {minutes:.1f} min on {os.cpu_count()} CPU cores",
        f"- exact answers on its own training questions: {correct}/{len(answers)}",
        f"- recipe: training/configs/{RECIPE_FILES[0]}, training/configs/{RECIPE_FILES[1]} (fingerprint {fingerprint})",
        "- rebuild: `python -m training demo-model --force`",
    ]
    if wrong:
        lines += ["", "Training questions it gets wrong:", ""]
        lines += [f"- {i}: expected {e!r}, got {g!r}" for i, e, g in wrong[:20]]
    return "\n".join(lines) + "\n"


def _numel(shape) -> int:
    count = 1
    for size in shape:
        count *= int(size)
    return count


def refuse_foreign_folder(folder: Path, what: str) -> None:
    """Replacing `folder` deletes it: only ever delete what this command wrote."""
    if (
        folder.exists()
        and any(folder.iterdir())
        and not (folder / FINGERPRINT_FILE).is_file()
        and not (folder / WORK_MARKER).is_file()
    ):
        raise SystemExit(
            f"{folder} holds files that `python -m training demo-model` did not write; "
            f"give another --out for the {what} (it would be replaced)"
        )


def build_demo_model(out: Path, force: bool = False) -> Path:
    records = demo_records()
    records_text = "".join(r.to_json_line() for r in records)
    fingerprint = recipe_fingerprint(records_text)
    if not force and is_cached(out, fingerprint):
        print(f"demo model is up to date: {out}")
        return out
    from training.engine.process_group import start_process_group, stop_process_group
    from training.stages.run_stage import train_stage

    started = time.perf_counter()
    work = out.with_name(out.name + "-work")
    staged = out.with_name(out.name + ".partial")
    refuse_foreign_folder(out, "demo model")
    refuse_foreign_folder(work, "work folder")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / WORK_MARKER).write_text("scratch space of `python -m training demo-model`\n")
    data = work / "demo_qa.jsonl"
    data.write_text(records_text)
    process = start_process_group()
    try:
        align = load_config(
            CONFIG_DIR / RECIPE_FILES[0],
            [f"data.train=[{data}]", f"output.run_dir={work / 'align'}"],
        )
        train_stage(align, process)
        finetune = load_config(
            CONFIG_DIR / RECIPE_FILES[1],
            [
                f"data.train=[{data}]",
                f"output.run_dir={work / 'finetune'}",
                f"model.path={work / 'align' / 'final_model'}",
            ],
        )
        trained = train_stage(finetune, process)
    finally:
        stop_process_group()
    minutes = (time.perf_counter() - started) / 60
    answers = exact_answers(trained.final_model, records)
    from safetensors import safe_open

    parameters = 0
    for weights in trained.final_model.glob("*.safetensors"):
        with safe_open(str(weights), "pt") as handle:
            parameters += sum(_numel(handle.get_slice(key).get_shape()) for key in handle.keys())
    if staged.exists():
        shutil.rmtree(staged)
    shutil.copytree(trained.final_model, staged)
    shutil.copy(trained.loss_curve_path, staged / "loss_curve_finetune.png")
    (staged / "README.md").write_text(
        model_card(records, answers, minutes, fingerprint, parameters)
    )
    with writing(staged / "demo_answers.jsonl") as handle:
        for question_id, expected, got in answers:
            handle.write(
                json.dumps({"id": question_id, "expected": expected, "generated": got}) + "\n"
            )
    (staged / FINGERPRINT_FILE).write_text(fingerprint + "\n")
    if out.exists():
        shutil.rmtree(out)
    staged.rename(out)
    shutil.rmtree(work, ignore_errors=True)
    correct = sum(1 for _, e, g in answers if e == g)
    print(
        f"demo model written to {out} in {minutes:.1f} min; {correct}/{len(answers)} training questions answered exactly"
    )
    return out


def run(args: argparse.Namespace) -> int:
    out = Path(args.out).expanduser() if args.out else default_demo_dir()
    build_demo_model(out, force=args.force)
    return 0
