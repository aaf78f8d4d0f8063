"""`python -m training reproduce-mini`: the paper's ChEBI-20 table (Table 3) in miniature.

One resumable command runs the whole protocol on real data with this repository's own code:

1. data: ChEBI-20's training split is not available here, so the 3,301-molecule
   validation split is the training set and the full 3,300-molecule test split the test set;
2. a SentencePiece tokenizer (Llama settings) and stage 1 (`lm`): a small Llama from
   scratch on the text we have (the training molecules' captions + PubMedQA contexts);
3. `assemble`: that LM + a fresh GIN + a tiny fresh ESM-2 + fresh projections;
4. stage 2 (`align`, LM frozen) and stage 3 (`finetune`) as two variants, LM frozen
   (`graph-frozen-lm`, the paper's ChEBI-20 setting) and LM trained (`graph-trained-lm`);
5. baselines in the same run: the same stage-1 LM fine-tuned with the SMILES as text
   (`smiles-text`) and with no molecule at all (`no-molecule`, the captions' prior), and
   Tanimoto nearest-neighbour retrieval (`retrieval`);
6. `python -m evals run` (greedy) / `python -m evals retrieval` on the test split, and
   `python -m evals report` beside the paper's numbers, plus this run's own report.

Every step is skipped when its output is complete, and the training stages resume from
their newest checkpoint, so rerunning the same command continues an interrupted run.
Evaluation runs as `python -m evals` subprocesses (training never imports evals).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from training.config import ConfigError, load_config
from training.data.finished_outputs import write_json, writing

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
REPO_ROOT = Path(__file__).resolve().parents[1]
LM_CONFIG, ALIGN_CONFIG, FINETUNE_CONFIG = (
    "repro_mini_lm.yaml",
    "repro_mini_align.yaml",
    "repro_mini_finetune.yaml",
)
DONE = "DONE"
GRAPH_VARIANTS = ("graph-frozen-lm", "graph-trained-lm")
TEXT_VARIANTS = (
    "no-molecule",
    "smiles-text",
)  # the prior first: every graph row is read against it
VARIANTS = GRAPH_VARIANTS + TEXT_VARIANTS + ("retrieval",)
MOLECULE_INPUT = {"graph-frozen-lm": "graph", "graph-trained-lm": "graph", "smiles-text": "smiles-text",
                  "no-molecule": "none"}  # fmt: skip


@dataclass(frozen=True)
class Size:
    """How big the run is: model sizes, steps, and how much of the data it reads."""

    vocab_size: int
    block_size: int
    lm: list[str] = field(default_factory=list)  # overrides of each stage's config
    align: list[str] = field(default_factory=list)
    finetune: list[str] = field(default_factory=list)
    gin_layers: int = 5
    gin_hidden: int = 300
    train_limit: int | None = None  # first N training molecules (None: all)
    test_limit: int | None = None  # first N test molecules
    text_limit: int | None = None  # first N PubMedQA contexts
    max_new_tokens: int = 128
    eval_batch_size: int = 32
    swap_records: int = 128  # test molecules for the molecule-swap test


# every toy stage: three steps of four blocks, one thread
_TOY_STEPS = [
    "train.max_steps=3",
    "train.epochs=null",
    "batch.global_batch_size=4",
    "batch.micro_batch_size=2",
    "train.log_every=1",
    "runtime.num_threads=1",
]
SIZES = {
    # The real run: sized for ~60 min on 2 quiet CPU cores (see docs/training.md).
    "mini": Size(
        vocab_size=2000,
        block_size=512,
        gin_layers=5,
        gin_hidden=128,
        max_new_tokens=128,
        swap_records=64,
        eval_batch_size=32,
    ),
    # The CI test: the same pipeline, a handful of steps per stage and a few molecules.
    "toy": Size(
        vocab_size=400,
        block_size=64,
        train_limit=24,
        test_limit=6,
        text_limit=20,
        max_new_tokens=8,
        swap_records=4,
        eval_batch_size=6,
        gin_layers=2,
        gin_hidden=16,
        lm=[
            "model.llm_config.hidden_size=32",
            "model.llm_config.intermediate_size=64",
            "model.llm_config.num_hidden_layers=2",
            "model.llm_config.max_position_embeddings=1024",
            *_TOY_STEPS,
        ],
        align=[*_TOY_STEPS],
        finetune=[*_TOY_STEPS],
    ),  # fmt: skip
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/reproduce-mini"),
        help="run folder (resumed if it exists; default runs/reproduce-mini)",
    )
    parser.add_argument(
        "--size",
        choices=sorted(SIZES),
        default="mini",
        help="mini: the real run (~1 h on 2 cores); toy: seconds, for tests",
    )
    parser.add_argument(
        "--data",
        type=Path,
        help="shared data folder with chebi20/ and pubmedqa/ (default: $BIOMEDGPT_SHARED_DIR/data or ../shared/data)",
    )
    parser.add_argument(
        "--max-new-tokens", type=int, help="greedy decoding limit (default: the size's)"
    )
    parser.add_argument(
        "--test-limit", type=int, help="only the first N test molecules (default: all)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads for training and evaluation (default: the configs' 1, and 1 for evaluation)",
    )
    parser.add_argument(
        "--publish",
        type=Path,
        help="also copy the report, metrics and prediction files (not weights) there, e.g. evals/results/chebi20-mini",
    )


def default_data_dir() -> Path:
    shared = os.environ.get("BIOMEDGPT_SHARED_DIR")
    return (Path(shared) if shared else REPO_ROOT.parent / "shared") / "data"


def _say(message: str) -> None:
    print(f"[reproduce-mini {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _done(folder: Path) -> bool:
    return (folder / DONE).is_file()


def _mark_done(folder: Path, seconds: float) -> None:
    (folder / DONE).write_text(f"{seconds:.1f} s\n")


# -- data -------------------------------------------------------------------------------------


def prepare_records(data: Path, out: Path, size: Size) -> dict[str, Path]:
    """QA records of the training molecules, one file per way of showing the molecule."""
    from collections import Counter

    from biomedgpt_tools.model.prompt import question_with_smiles_text
    from training.data.prepare_chebi20 import read_chebi20
    from training.data.prepare_pubchemqa import DESCRIBE_QUESTION, molecule_records

    paths = {"graph": out / "train.jsonl", "smiles-text": out / "train-smiles-text.jsonl",
             "none": out / "train-no-molecule.jsonl"}  # fmt: skip
    if all(p.is_file() for p in paths.values()):
        return paths
    counts: Counter = Counter()
    source = data / "chebi20" / "validation.txt"
    records = list(
        molecule_records(read_chebi20(source), counts, "chebi20-validation", DESCRIBE_QUESTION)
    )
    if size.train_limit:
        records = records[: size.train_limit]
    out.mkdir(parents=True, exist_ok=True)
    with (
        writing(paths["graph"]) as graph,
        writing(paths["smiles-text"]) as text,
        writing(paths["none"]) as none,
    ):
        for record in records:
            graph.write(record.to_json_line())
            smiles = record.molecules[0]
            text.write(type(record)(**{**record.__dict__, "molecules": [],
                                       "question": question_with_smiles_text(smiles, record.question)}).to_json_line())  # fmt: skip
            none.write(type(record)(**{**record.__dict__, "molecules": []}).to_json_line())
    _say(f"training records from {source}: {len(records)} kept; {dict(counts)}")
    return paths


def stage1_texts(data: Path, records_path: Path, size: Size) -> list[str]:
    """The stage-1 documents: the training molecules' captions, then the PubMedQA contexts."""
    from training.data.qa_records import read_qa_records

    texts = [r.answer for r in read_qa_records(records_path)]
    pubmedqa = json.loads((data / "pubmedqa" / "ori_pqal.json").read_text())
    contexts = [" ".join(item["CONTEXTS"]) for item in pubmedqa.values()]
    return texts + contexts[: size.text_limit]


def build_tokenizer(texts: list[str], records_path: Path, out: Path, vocab_size: int) -> Path:
    """A Llama-style SentencePiece BPE trained on the stage-1 text, the prompts and the SMILES."""
    if (out / "tokenizer.model").is_file():
        return out
    from biomedgpt_tools.model.prompt import (
        SYSTEM_TEXT,
        TRAINING_SYSTEM_TEXT_MOLECULE,
        render_prompt,
    )
    from biomedgpt_tools.model.tiny import train_llama_style_sentencepiece
    from training.data.qa_records import read_qa_records
    from training.stages.multimodal import QAData

    lines = [
        line for text in texts for line in text.replace(". ", ".\n").splitlines() if line.strip()
    ]
    records = list(read_qa_records(records_path))
    lines += [render_prompt(QAData.conversation(r)) for r in records[:50]]
    lines += [r.molecules[0] for r in records] + [SYSTEM_TEXT, TRAINING_SYSTEM_TEXT_MOLECULE]
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokenizer.model").write_bytes(train_llama_style_sentencepiece(lines, vocab_size))
    return out


def write_blocks(texts: list[str], tokenizer_dir: Path, out: Path, block_size: int) -> Path:
    """Stage-1 token blocks (the `prepare-corpus` format): BOS text EOS, packed, tail dropped."""
    if (out / "index.json").is_file():
        return out
    from training.data.token_blocks import BlockPacker, token_dtype
    from training.text_tokenizer import load_text_tokenizer

    tokenizer = load_text_tokenizer(str(tokenizer_dir))
    dtype = token_dtype(len(tokenizer))
    packer = BlockPacker(block_size)
    out.mkdir(parents=True, exist_ok=True)
    n_blocks = tokens = 0
    with writing(out / "part-00000.bin", "wb") as handle:
        for text in texts:
            ids = (
                [tokenizer.bos_token_id]
                + tokenizer.encode(text, add_special_tokens=False)
                + [tokenizer.eos_token_id]
            )
            tokens += len(ids)
            for block in packer.add(ids):
                block.astype(dtype).tofile(handle)
                n_blocks += 1
    part = {"file": "part-00000.bin", "source": "reproduce-mini stage-1 text", "n_blocks": n_blocks,
            "tokens_dropped_at_end": packer.leftover, "tokens": tokens, "documents": len(texts)}  # fmt: skip
    write_json(out / "part-00000.json", part)
    write_json(out / "index.json", {"block_size": block_size, "dtype": dtype.str, "tokenizer": str(tokenizer_dir),
                                    "n_blocks": n_blocks, "parts": [part]})  # fmt: skip
    _say(
        f"stage-1 corpus: {len(texts)} documents, {tokens} tokens, {n_blocks} blocks of {block_size}"
    )
    return out


# -- training ---------------------------------------------------------------------------------


def _train(config_name: str, overrides: list[str], run_dir: Path, process) -> Path:
    from training.stages.run_stage import train_stage

    if _done(run_dir):
        _say(f"{run_dir.name}: already trained, skipped")
        return run_dir / "final_model"
    started = time.perf_counter()
    config = load_config(CONFIG_DIR / config_name, [*overrides, f"output.run_dir={run_dir}"])
    _say(f"{run_dir.name}: training ({config.stage}, {config.train.max_steps or config.train.epochs} "
         f"{'steps' if config.train.max_steps else 'epochs'})")  # fmt: skip
    folder = train_stage(config, process)
    _mark_done(run_dir, time.perf_counter() - started)
    _say(f"{run_dir.name}: done in {(time.perf_counter() - started) / 60:.1f} min")
    return folder.final_model


def _assemble(lm_dir: Path, out: Path, size: Size) -> Path:
    from training.assemble import Parts, assemble

    if (out / "config.json").is_file():
        return out
    staged = out.with_name(out.name + ".partial")
    if staged.exists():
        shutil.rmtree(staged)
    assemble(
        Parts(lm=lm_dir, gin_layers=size.gin_layers, gin_hidden=size.gin_hidden, seed=0), staged
    )
    staged.rename(out)
    _say(
        f"assembled {out}: stage-1 LM + fresh GIN ({size.gin_layers}x{size.gin_hidden}) + tiny fresh ESM-2"
    )
    return out


def train_all(run: Path, data: Path, size: Size, threads: int | None) -> dict[str, Path]:
    """Every training step; returns the model folder of each model variant."""
    from training.engine.process_group import start_process_group, stop_process_group

    thread_overrides = [f"runtime.num_threads={threads}"] if threads else []
    records = prepare_records(data, run / "data", size)
    texts = stage1_texts(data, records["graph"], size)
    tokenizer_dir = build_tokenizer(texts, records["graph"], run / "tokenizer", size.vocab_size)
    blocks = write_blocks(texts, tokenizer_dir, run / "data" / "lm_blocks", size.block_size)
    from training.text_tokenizer import load_text_tokenizer

    vocab = len(load_text_tokenizer(str(tokenizer_dir)))
    process = start_process_group()
    try:
        lm_dir = _train(LM_CONFIG, [f"model.llm_config.vocab_size={vocab}", f"model.tokenizer={tokenizer_dir}",
                                    f"data.train=[{blocks}]", *size.lm, *thread_overrides], run / "lm", process)  # fmt: skip
        init = _assemble(lm_dir, run / "init", size)
        common = [*thread_overrides]
        aligned = _train(ALIGN_CONFIG, [f"model.path={init}", f"data.train=[{records['graph']}]", *size.align, *common],
                         run / "align", process)  # fmt: skip
        models = {}
        for variant in GRAPH_VARIANTS:
            llm = "true" if variant == "graph-trained-lm" else "false"
            models[variant] = _train(FINETUNE_CONFIG, [f"model.path={aligned}", f"data.train=[{records['graph']}]",
                                                       f"model.trainable.llm={llm}", *size.finetune, *common],
                                     run / f"finetune-{variant}", process)  # fmt: skip
        for variant in TEXT_VARIANTS:
            # The same stage-1 LM, fine-tuned as a text-only model: no soft tokens at all.
            models[variant] = _train(FINETUNE_CONFIG, [f"model.path={init}", f"data.train=[{records[MOLECULE_INPUT[variant]]}]",
                                                       "model.trainable.llm=true", "model.trainable.proj_mol=false",
                                                       "model.trainable.mol_encoder=false", *size.finetune, *common],
                                     run / f"finetune-{variant}", process)  # fmt: skip
    finally:
        stop_process_group()
    return models


# -- evaluation -------------------------------------------------------------------------------


def _evals(args: list[str], threads: int | None) -> None:
    env = dict(os.environ)
    # One thread unless told: on a shared or oversubscribed CPU a second OpenMP thread's
    # spin-waiting made decoding this small model many times slower (see docs/training.md).
    env["OMP_NUM_THREADS"] = str(threads or 1)
    command = [sys.executable, "-m", "evals", *args]
    _say("$ " + " ".join(command[1:]))
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"`python {' '.join(command[1:])}` failed with status {completed.returncode}"
        )


def evaluate(run: Path, data: Path, models: dict[str, Path], size: Size, max_new_tokens: int,
             test_limit: int | None, threads: int | None) -> Path:  # fmt: skip
    """One evals run directory per variant under RUN/evals, and the predictions TSV of each."""
    from biomedgpt_tools.model.prompt import TRAINING_SYSTEM_TEXT_MOLECULE

    test = data / "chebi20" / "test.txt"
    evals_dir, predictions = run / "evals", run / "predictions"
    predictions.mkdir(parents=True, exist_ok=True)
    limit = test_limit or size.test_limit
    order = [
        "no-molecule",
        *GRAPH_VARIANTS,
        "smiles-text",
    ]  # the cheap prior first, then the graph rows
    for variant, model in sorted(models.items(), key=lambda pair: order.index(pair[0])):
        out = evals_dir / variant
        if _done(out):
            continue
        started = time.perf_counter()
        _evals(["run", "chebi20", "--model", str(model), "--data", str(test), "--out", str(out),
                "--batch-size", str(size.eval_batch_size), "--max-new-tokens", str(max_new_tokens),
                "--system", TRAINING_SYSTEM_TEXT_MOLECULE, "--molecule-input", MOLECULE_INPUT[variant],
                *(["--limit", str(limit)] if limit else [])], threads)  # fmt: skip
        _mark_done(out, time.perf_counter() - started)
    out = evals_dir / "retrieval"
    if not _done(out):
        train_tsv = retrieval_train_tsv(
            run / "data" / "train.jsonl", run / "data" / "retrieval-train.txt"
        )
        if limit:
            lines = test.read_text(encoding="utf-8").splitlines()
            test = run / "data" / "retrieval-test.txt"
            test.write_text("\n".join(lines[: 1 + limit]) + "\n", encoding="utf-8")
        started = time.perf_counter()
        _evals(
            ["retrieval", "--train", str(train_tsv), "--data", str(test), "--out", str(out)],
            threads,
        )
        _mark_done(out, time.perf_counter() - started)
    for variant in VARIANTS:
        shutil.copy(evals_dir / variant / "predictions.tsv", predictions / f"{variant}.tsv")
    _evals(["report", str(evals_dir)], threads)
    return evals_dir


def retrieval_train_tsv(records_path: Path, out: Path) -> Path:
    """The training molecules as a ChEBI-20 TSV: retrieval reads exactly what the models trained on."""
    from training.data.qa_records import read_qa_records

    lines = ["CID\tSMILES\tdescription"]
    lines += [
        f"{r.id.split(':')[-1]}\t{r.molecules[0]}\t{r.answer}"
        for r in read_qa_records(records_path)
    ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def swap_diagnostics(run: Path, data: Path, size: Size) -> dict:
    """The molecule-swap test (training/molecule_swap.py) on test molecules, per graph model."""
    from collections import Counter

    from training.data.prepare_chebi20 import read_chebi20
    from training.data.prepare_pubchemqa import DESCRIBE_QUESTION, molecule_records
    from training.molecule_swap import molecule_swap

    path = run / "diagnostics.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    sample = run / "data" / "test-sample.jsonl"
    if not sample.is_file():
        records = list(molecule_records(read_chebi20(data / "chebi20" / "test.txt"), Counter(), "chebi20-test",
                                        DESCRIBE_QUESTION))[: size.swap_records]  # fmt: skip
        with writing(sample) as handle:
            handle.writelines(r.to_json_line() for r in records)
    models = {"assembled (before stage 2)": run / "init", "after stage 2 (align)": run / "align" / "final_model",
              **{v: run / f"finetune-{v}" / "final_model" for v in GRAPH_VARIANTS}}  # fmt: skip
    for name, folder in models.items():
        if name not in results and (folder / "config.json").is_file():
            results[name] = molecule_swap(folder, sample, count=size.swap_records)
            _say(f"molecule swap, {name}: {results[name]}")
            write_json(path, results)
    return results


# -- report -----------------------------------------------------------------------------------


def read_metrics(evals_dir: Path) -> dict[str, dict]:
    return {v: json.loads((evals_dir / v / "metrics.json").read_text()) for v in VARIANTS
            if (evals_dir / v / "metrics.json").is_file()}  # fmt: skip


def stage_summary(run: Path) -> list[str]:
    """One line per training step: steps, final training loss, minutes."""
    lines = []
    for folder in ["lm", "align", *(f"finetune-{v}" for v in GRAPH_VARIANTS + TEXT_VARIANTS)]:
        metrics_path = run / folder / "metrics.jsonl"
        if not metrics_path.is_file():
            continue
        rows = [json.loads(line) for line in metrics_path.read_text().splitlines() if line.strip()]
        steps = [r for r in rows if "loss" in r and "step" in r]
        minutes = (
            (run / folder / DONE).read_text().split()[0] if _done(run / folder) else "unfinished"
        )
        if steps:
            first, last = steps[0], steps[-1]
            lines.append(f"| {folder} | {last['step']} | {first['loss']:.3f} | {last['loss']:.3f} | "
                         f"{float(minutes) / 60:.1f} |" if minutes != "unfinished" else f"| {folder} | {last['step']} | "
                         f"{first['loss']:.3f} | {last['loss']:.3f} | unfinished |")  # fmt: skip
    return lines


CAPTION_METRICS = ("bleu2", "bleu4", "rouge1", "rouge2", "rougeL", "meteor")
METRIC_NAMES = ("BLEU-2", "BLEU-4", "ROUGE-1", "ROUGE-2", "ROUGE-L", "METEOR")
VARIANT_MEANING = {
    "graph-frozen-lm": "GIN soft tokens, LM frozen in stages 2 and 3 (the paper's ChEBI-20 setting)",
    "graph-trained-lm": "GIN soft tokens, LM frozen in stage 2 and trained in stage 3",
    "smiles-text": "the same stage-1 LM fine-tuned with the SMILES written into the prompt (no soft tokens)",
    "no-molecule": "the same stage-1 LM fine-tuned with no molecule at all: the captions' prior",
    "retrieval": "no model: the caption of the Tanimoto-nearest training molecule (Morgan r2, 2048 bits)",
}
TARGET_MARGIN = 0.05  # BLEU-2 the GIN tokens must add over the no-molecule prior


def machine_description() -> str:
    import torch

    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores (shared), "
            f"Python {platform.python_version()}, torch {torch.__version__}, no GPU")  # fmt: skip


def model_sizes(run: Path) -> str:
    config_path = run / "init" / "config.json"
    if not config_path.is_file():
        return "not assembled yet"
    config = json.loads(config_path.read_text())
    text, molecule = config["text_config"], config["molecule_config"]
    return (f"Llama {text['num_hidden_layers']} layers x {text['hidden_size']} (vocabulary {text['vocab_size']}), "
            f"GIN {molecule['num_layers']} layers x {molecule['hidden_size']}")  # fmt: skip


def margin_lines(metrics: dict[str, dict]) -> list[str]:
    """The question the run exists for: do the graph tokens beat the prior, and by how much."""

    def bleu2(variant):
        return metrics[variant]["metrics"]["overall"]["bleu2"] if variant in metrics else None

    prior = bleu2("no-molecule")
    lines = []
    for variant in GRAPH_VARIANTS:
        ours = bleu2(variant)
        if ours is None or prior is None:
            continue
        margin = ours - prior
        verdict = "meets" if margin >= TARGET_MARGIN else "does NOT meet"
        lines.append(f"- `{variant}` BLEU-2 {ours:.3f} vs the no-molecule prior {prior:.3f}: "
                     f"{margin:+.3f}, which {verdict} the +{TARGET_MARGIN:.2f} target.")  # fmt: skip
        for other in ("smiles-text", "retrieval"):
            if bleu2(other) is not None:
                lines.append(
                    f"  - against `{other}` ({bleu2(other):.3f}): {ours - bleu2(other):+.3f}"
                )
    return lines


def example_lines(evals_dir: Path, count: int = 3) -> list[str]:
    lines = []
    tables = {}
    for variant in VARIANTS:
        path = evals_dir / variant / "predictions.tsv"
        if path.is_file():
            tables[variant] = path.read_text(encoding="utf-8").splitlines()[1 : 1 + count]
    if not tables:
        return lines
    first = next(iter(tables.values()))
    for index, row in enumerate(first):
        smiles, reference, _ = row.split("\t")
        lines += [f"**{smiles}**", "", f"- reference: {reference}"]
        for variant, rows in tables.items():
            if index < len(rows):
                lines.append(f"- {variant}: {rows[index].split(chr(9))[2]}")
        lines.append("")
    return lines


def write_run_report(run: Path, evals_dir: Path, command: str, size_name: str, max_new_tokens: int,
                     minutes: float) -> Path:  # fmt: skip
    """RUN/report.md: what was run, our five rows, the margins, the stages, and evals' report."""
    metrics = read_metrics(evals_dir)
    n_test = next((m["n_items"] for m in metrics.values()), 0)
    train_path = run / "data" / "train.jsonl"
    n_train = (
        sum(1 for line in train_path.read_text().splitlines() if line.strip())
        if train_path.is_file()
        else 0
    )
    lines = [
        "# ChEBI-20 molecule QA in miniature (paper Table 3), our three stages on real data",
        "",
        f"**Data: trained on ChEBI-20's validation split ({n_train:,} of its 3,301 molecules; the "
        f"others fail the GIN featurization; the train split is not available here), tested on "
        f"{n_test:,} molecules of the test split.** Stage 1 read only the "
        "training molecules' captions and the PubMedQA contexts. The model is small and random-start "
        "(no BioMedGPT-LM-7B, no GraphMVP weights), so compare the rows with each other, not with the paper.",
        "",
        f"- command: `{command}`",
        f"- machine: {machine_description()}",
        f"- size: {size_name}; {model_sizes(run)}; greedy decoding, at most {max_new_tokens} new tokens",
        f"- wall time of this invocation: {minutes:.1f} min (a resumed run counts only its own part)",
        "",
        "## Results (test split)",
        "",
        "| variant | " + " | ".join(METRIC_NAMES) + " | what it is |",
        "|---" * (len(METRIC_NAMES) + 2) + "|",
    ]
    for variant in VARIANTS:
        if variant in metrics:
            overall = metrics[variant]["metrics"]["overall"]
            lines.append(f"| {variant} | " + " | ".join(f"{overall[m]:.3f}" for m in CAPTION_METRICS)
                         + f" | {VARIANT_MEANING[variant]} |")  # fmt: skip
        else:
            lines.append(
                f"| {variant} | "
                + " | ".join("not run" for _ in CAPTION_METRICS)
                + f" | {VARIANT_MEANING[variant]} |"
            )
    lines += [
        "",
        "## Do the GIN soft tokens carry information the LM uses?",
        "",
        *margin_lines(metrics),
        "",
    ]
    swaps = (
        json.loads((run / "diagnostics.json").read_text())
        if (run / "diagnostics.json").is_file()
        else {}
    )
    if swaps:
        lines += ["Molecule-swap test (`training/molecule_swap.py`): the answer loss (nats per token) on "
                  f"{next(iter(swaps.values()))['records']} test molecules with each one's own graph, and with "
                  "the next molecule's graph in its place. Equal losses mean the model does not use the graph.", "",
                  "| model | own molecule | another molecule | gap |", "|---|---|---|---|"]  # fmt: skip
        lines += [
            f"| {name} | {r['own']:.4f} | {r['other']:.4f} | {r['gap']:+.4f} |"
            for name, r in swaps.items()
        ]
        lines.append("")
    lines += [
        "## Training",
        "",
        "| step | optimizer steps | first loss | last loss | minutes |",
        "|---|---|---|---|---|",
    ]
    lines += stage_summary(run)
    lines += [
        "",
        "Loss curves: " + ", ".join(f"[{f}](curves/{f}.png)" for f in _stage_folders(run)),
        "",
    ]
    lines += ["## Examples (first test molecules)", "", *example_lines(evals_dir)]
    evals_report = evals_dir / "report.md"
    if evals_report.is_file():
        lines += ["## `python -m evals report` (beside the paper's numbers)", ""]
        lines += [line.replace("](", "](evals/") if line.startswith("![") else line
                  for line in evals_report.read_text().splitlines()[2:]]  # fmt: skip
    curves = run / "curves"
    curves.mkdir(exist_ok=True)
    for folder in _stage_folders(run):
        shutil.copy(run / folder / "loss_curve.png", curves / f"{folder}.png")
    path = run / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _stage_folders(run: Path) -> list[str]:
    names = ["lm", "align", *(f"finetune-{v}" for v in GRAPH_VARIANTS + TEXT_VARIANTS)]
    return [n for n in names if (run / n / "loss_curve.png").is_file()]


def publish(run: Path, target: Path) -> Path:
    """Copy what a reader needs (no weights): report, metrics, predictions, configs, curves."""
    evals_dir = run / "evals"
    for sub in ("metrics", "predictions", "configs", "curves", "evals"):
        (target / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(run / "report.md", target / "report.md")
    for variant in read_metrics(evals_dir):
        shutil.copy(evals_dir / variant / "metrics.json", target / "metrics" / f"{variant}.json")
        shutil.copy(
            evals_dir / variant / "predictions.tsv", target / "predictions" / f"{variant}.tsv"
        )
    for name in ("report.md", "chebi20_caption_metrics.png"):
        if (evals_dir / name).is_file():
            shutil.copy(evals_dir / name, target / "evals" / name)
    for folder in _stage_folders(run):
        shutil.copy(run / folder / "config.yaml", target / "configs" / f"{folder}.yaml")
        shutil.copy(run / "curves" / f"{folder}.png", target / "curves" / f"{folder}.png")
    _say(f"published report, metrics and predictions to {target}")
    return target


def run(args: argparse.Namespace) -> int:
    size = SIZES[args.size]
    data = args.data or default_data_dir()
    for needed in (
        data / "chebi20" / "validation.txt",
        data / "chebi20" / "test.txt",
        data / "pubmedqa" / "ori_pqal.json",
    ):
        if not needed.is_file():
            raise ConfigError(
                f"{needed} not found; pass --data with the shared data folder (chebi20/, pubmedqa/)"
            )
    run_dir: Path = args.out
    run_dir.mkdir(parents=True, exist_ok=True)
    max_new_tokens = args.max_new_tokens or size.max_new_tokens
    started = time.perf_counter()
    _say(
        f"run folder {run_dir} (size {args.size}); train on ChEBI-20 validation, test on ChEBI-20 test"
    )
    models = train_all(run_dir, data, size, args.threads)
    evals_dir = evaluate(run_dir, data, models, size, max_new_tokens, args.test_limit, args.threads)
    swap_diagnostics(run_dir, data, size)
    command = (
        "python -m training reproduce-mini " + " ".join(sys.argv[2:])
        if sys.argv[1:2] == ["reproduce-mini"]
        else "python -m training reproduce-mini"
    )
    report = write_run_report(
        run_dir, evals_dir, command, args.size, max_new_tokens, (time.perf_counter() - started) / 60
    )
    if args.publish:
        publish(run_dir, args.publish)
    _say(f"report: {report}")
    return 0
