"""`python -m evals caption|compare|pubmedqa|run|retrieval|report|routing|resolvers|memory|assistant|tasks`: the harness CLI (run from the repo root)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from biomedgpt_tools.model.placement import DTYPE_CHOICES
from biomedgpt_tools.model.prompt import MOLECULE_INPUT_MODES
from evals.metrics.answer_extraction import RULE_SETS


class UsageError(Exception):
    """An expected failure: printed as one line, exit code 2."""


def _caption(args) -> int:
    from evals.metrics.caption_scoring import score_predictions_file
    from evals.metrics.scibert_tokenizer import default_vocab

    scores = score_predictions_file(
        args.predictions, args.vocab or default_vocab(), args.references, progress=not args.quiet
    ).as_dict()
    if args.json:
        print(json.dumps(scores))
    else:
        print(f"{args.predictions}: {scores['n']} pairs")
        for key, value in scores.items():
            if key != "n":
                print(f"  {key:7s} {value:.6f}")
    return 0


def _compare(args) -> int:
    from evals.metrics.caption_scoring import compare_predictions_files
    from evals.metrics.scibert_tokenizer import default_vocab

    if args.samples < 1:
        raise UsageError(f"--samples {args.samples}: give a positive number of resamples")
    if args.seed < 0:
        raise UsageError(f"--seed {args.seed}: give a non-negative integer")
    rows = compare_predictions_files(
        args.baseline, args.predictions, args.vocab or default_vocab(), args.references,
        samples=args.samples, seed=args.seed, progress=not args.quiet,
    )  # fmt: skip
    if args.json:
        print(json.dumps({"samples": args.samples, "seed": args.seed, "confidence": 0.95,
                          "metrics": [row.as_dict() for row in rows]}))  # fmt: skip
        return 0
    print(f"{args.predictions} minus {args.baseline}: paired bootstrap, {args.samples} resamples, "
          "95% interval")  # fmt: skip
    print(f"  {'metric':7s} {'baseline':>8s} {'candidate':>9s} {'difference':>10s}  "
          f"{'95% interval':19s} not better")  # fmt: skip
    for row in rows:
        interval = f"[{row.low:+.4f}, {row.high:+.4f}]"
        print(f"  {row.metric:7s} {row.baseline:8.4f} {row.candidate:9.4f} {row.difference:+10.4f}  "
              f"{interval:19s} {row.not_better:.3f}")  # fmt: skip
    return 0


def _pubmedqa(args) -> int:
    from evals.metrics.pubmedqa_scoring import score_pubmedqa_predictions

    data = args.data or str(Path(default_shared_data()) / "pubmedqa")
    scores = score_pubmedqa_predictions(args.predictions, data).as_dict()
    if args.json:
        print(json.dumps(scores))
    else:
        print(f"{args.predictions}: {scores['n']} PMIDs  accuracy {scores['accuracy']:.4f}  "
              f"macro-F1 {scores['macro_f1']:.4f}")  # fmt: skip
    return 0


def default_shared_data() -> Path:
    import os

    return (
        Path(os.environ.get("BIOMEDGPT_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
        / "data"
    )


def _run(args) -> int:
    from evals.tasks.model import load_task_model
    from evals.tasks.runner import RunOptions, run_task
    from evals.tasks.specs import task_spec

    spec = task_spec(args.task)
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: give a positive number of items")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size {args.batch_size}: give a positive batch size")
    loaded = spec.load(Path(args.data), Path(args.sequences) if args.sequences else None)
    server = args.server or (None if args.model else os.environ.get("BIOMEDGPT_SERVER_URL"))
    if bool(server) == bool(args.model):
        raise UsageError(
            "give --model DIR or --server URL (or set BIOMEDGPT_SERVER_URL), one of them"
        )
    try:
        if server:
            from biomedgpt_tools.inference.backend import ModelUnavailableError
            from evals.tasks.model import RemoteTaskModel

            try:
                model = RemoteTaskModel(server, concurrency=args.batch_size)
            except ModelUnavailableError as error:
                raise UsageError(str(error)) from None
        else:
            model = load_task_model(args.model, args.batch_size, args.dtype, args.device)
    except ValueError as error:  # the model API's clear errors (no config.json, bad dtype)
        raise UsageError(f"--model {args.model or server}: {error}") from None
    scoring = args.scoring
    if server and scoring == "loglik":
        raise UsageError("--scoring loglik needs the model in this process; use --model DIR")
    label = Path(args.model).name if args.model else model.name.split("@")[0]
    out = Path(args.out) if args.out else Path("runs") / "evals" / f"{spec.name}-{label}-{scoring}"
    options = RunOptions(
        batch_size=args.batch_size, max_new_tokens=args.max_new_tokens, scoring=scoring,
        rules=args.rules, system=args.system, vocab=args.vocab, progress=not args.quiet,
        molecule_input=args.molecule_input,
    )  # fmt: skip
    try:
        result = run_task(spec, loaded, Path(args.data), model, out, options, limit=args.limit)
    except ValueError as error:  # no items, duplicate ids: the runner's clear messages
        raise UsageError(str(error)) from None
    # every good item was run; each bad line / refused item is reported, and the status says so
    errors = [{"error": line} for line in result["bad_lines"]]
    errors += [{"error": refused} for refused in result["refused"]]
    for line in result["bad_lines"]:
        print(f"error: {args.data} line {line['line']}: {line['message']}", file=sys.stderr)
    for refused in result["refused"]:
        print(f"error: item {refused['item_id']}: {refused['message']}", file=sys.stderr)
    summary = {"run_dir": str(out), **result["metrics"]["overall"]}
    if errors:
        summary["errors"] = errors
    print(json.dumps(summary))
    return 1 if errors else 0


def _retrieval(args) -> int:
    from evals.baselines.retrieval import run_retrieval
    from evals.metrics.scibert_tokenizer import default_vocab

    result = run_retrieval(Path(args.train), Path(args.data), Path(args.out), args.vocab or default_vocab(),
                           progress=not args.quiet)  # fmt: skip
    print(json.dumps({"run_dir": args.out, **result["metrics"]["overall"]}))
    return 0


def _report(args) -> int:
    from evals.reporting.report import write_report

    root = Path(args.run_dir)
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory; pass a run directory (or a folder of them)")
    try:
        print(write_report(root))
    except ValueError as error:  # no metrics.json under it, a damaged one: the report's message
        raise UsageError(str(error)) from None
    return 0


def _routing(args) -> int:
    from agents.verification import EntityVerifier
    from evals.assistant.routing_accuracy import load_routing_set, rule_router, score_routing

    verifier = EntityVerifier.from_env()
    try:
        scores = score_routing(load_routing_set(args.set), rule_router(verifier)).as_dict()
    finally:
        verifier.close()
    scores["names_checked"] = "offline (cache + bundled snapshot)" if verifier.offline else "online"
    if args.json:
        print(json.dumps(scores))
    else:
        print(
            f"{args.set}: {scores['n']} questions, rule router, names checked {scores['names_checked']}"
        )
        for key in ("exact", "tools_exact", "tool_precision", "tool_recall"):
            print(f"  {key:15s} {scores[key]:.3f}")
        for split, value in scores["by_split"].items():
            print(f"  exact ({split}) {value:.3f}")
        for miss in scores["misses"]:
            print(f"  miss: {miss['question']!r} expected {miss['expected']} got {miss['got']}")
    return 0


def _resolvers(args) -> int:
    from biomedgpt_tools.resolvers import Resolver, ResolverSettings
    from evals.assistant.resolver_accuracy import load_gold_set, resolve_function, score_resolver

    cases = load_gold_set(args.gold)
    settings = ResolverSettings.from_env()
    with Resolver(settings) as resolver:
        scores = score_resolver(cases, resolve_function(resolver)).as_dict()
    if args.json:
        print(json.dumps(scores))
    else:
        print(
            f"{args.gold}: {scores['n']} queries against {settings.pubchem_url} and {settings.uniprot_url}"
        )
        print(f"  accuracy {scores['accuracy']:.3f}  wrong {scores['wrong']}  not found "
              f"{scores['not_found']}  errors {scores['errors']}  by kind {scores['by_kind']}")  # fmt: skip
        for failure in scores["failures"]:
            print(f"  {failure['outcome']}: {failure['kind']} {failure['query']!r} expected "
                  f"{failure['expected']} got {failure['got']}")  # fmt: skip
    return 0


def _memory(args) -> int:
    from evals.assistant.memory_workload import evaluate_memory, load_memory_workload

    workload = load_memory_workload(args.workload)
    try:
        scores = evaluate_memory(args.model, workload, max_new_tokens=args.max_new_tokens)
    except ValueError as error:  # a folder that is not a model, two models with one revision
        raise UsageError(str(error)) from None
    if args.json:
        print(json.dumps(scores))
        return 0
    first, second, switch = scores["first_pass"], scores["second_pass"], scores["revision_switch"]
    print(f"{args.workload}: {scores['n_questions']} questions ({scores['n_unique']} distinct), "
          f"model {scores['model']['id']} rev {scores['model']['revision']}, {scores['seconds']:.1f} s")  # fmt: skip
    for name, run in (("first pass ", first), ("second pass", second)):
        relations = "  ".join(f"{k} {v:.3f}" for k, v in run["by_relation"].items())
        print(
            f"  {name}: hit rate {run['hit_rate']:.3f}  model calls {run['model_calls']}  ({relations})"
        )
    print(f"  second pass replayed on the store: hit rate {second['store_replay']['hit_rate']:.3f}, "
          f"stale (> 180 days) {second['store_replay']['stale_rate']:.3f}")  # fmt: skip
    print(f"  switched to {scores['second_model']['id']} rev {scores['second_model']['revision']}: "
          f"replayed hit rate {switch['replay_hit_rate']:.3f}, model calls {switch['model_calls']}, "
          f"stale recalled {switch['stale_recalled_share']:.3f}, stale among listed earlier answers "
          f"{switch['listed_stale_share']:.3f} of {switch['listed_answers']}")  # fmt: skip
    for error in first["errors"] + second["errors"] + switch["errors"]:
        print(f"  error: {error}")
    return 0


def _assistant(args) -> int:
    from evals.assistant.run import evaluate_assistant
    from evals.assistant.scoring import load_assistant_set

    gold = load_assistant_set(args.set)
    try:
        scores = evaluate_assistant(args.model, gold, max_new_tokens=args.max_new_tokens)
    except ValueError as error:  # a folder that is not a model
        raise UsageError(str(error)) from None
    if args.json:
        print(json.dumps(scores))
        return 0
    model = scores["model"]
    print(f"{args.set}: {scores['n']} turns, rule router, "
          f"model {model['id'] + ' rev ' + model['revision'] if model else 'none'}, {scores['seconds']:.1f} s")  # fmt: skip
    for key in ("tool_call_match", "source_recall", "all_sources_cited", "answered_rate", "model_answered_rate",
                "no_model_stated_rate", "latency_p50_s", "latency_p95_s"):  # fmt: skip
        if scores[key] is not None:
            print(f"  {key:20s} {scores[key]:.3f}")
    for miss in scores["misses"]:
        print(f"  miss {miss['id']}: {miss['question']!r} calls {miss['got_calls']} (expected "
              f"{miss['expected_calls']}) missing {miss['missing_sources']} {miss['error'] or ''} "
              f"{'; '.join(miss['tool_errors'])}")  # fmt: skip
    return 0


def _tasks(_args) -> int:
    from evals.tasks.specs import TASKS

    for spec in TASKS.values():
        print(f"{spec.name:10s} {spec.description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    caption = sub.add_parser("caption", help="BLEU/ROUGE/METEOR of a MolT5-format predictions TSV")
    caption.add_argument("--predictions", required=True, help="TSV: SMILES, ground truth, output")
    caption.add_argument("--vocab", help="SciBERT folder with vocab.txt (default: ../shared/data/"
                         "scibert_scivocab_uncased if present, else the Hub name, online only)")  # fmt: skip
    caption.add_argument(
        "--references", help="ChEBI-20 split: take ground truth from it, joined by SMILES"
    )
    caption.add_argument("--json", action="store_true", help="print one JSON object")
    caption.add_argument("--quiet", action="store_true", help="no progress bar")
    caption.set_defaults(handler=_caption)

    compare = sub.add_parser(
        "compare",
        help="caption metrics of two predictions TSVs on the same molecules: the difference "
        "and its paired bootstrap interval",
    )
    compare.add_argument("--baseline", required=True, help="TSV of the system compared against")
    compare.add_argument("--predictions", required=True, help="TSV of the system under test")
    compare.add_argument("--vocab", help="SciBERT folder with vocab.txt (as for `caption`)")
    compare.add_argument(
        "--references", help="ChEBI-20 split: take ground truth from it, joined by SMILES"
    )
    compare.add_argument("--samples", type=int, default=1000, help="bootstrap resamples")
    compare.add_argument("--seed", type=int, default=0, help="seed of the resampling")
    compare.add_argument("--json", action="store_true", help="print one JSON object")
    compare.add_argument("--quiet", action="store_true", help="no progress bar")
    compare.set_defaults(handler=_compare)

    pubmedqa = sub.add_parser(
        "pubmedqa", help="accuracy and macro-F1 of a {PMID: label} predictions file"
    )
    pubmedqa.add_argument("--predictions", required=True, help="JSON object PMID -> yes|no|maybe")
    pubmedqa.add_argument("--data", help="PubMedQA folder (default: ../shared/data/pubmedqa)")
    pubmedqa.add_argument("--json", action="store_true")
    pubmedqa.set_defaults(handler=_pubmedqa)

    run = sub.add_parser("run", help="generate with a model on a task, then score")
    run.add_argument("task", help="chebi20, uniprotqa, pubmedqa, medmcqa or medqa (usmle)")
    run.add_argument("--model", help="a BioMedGPT folder (save_pretrained format)")
    run.add_argument(
        "--server",
        help="a `biomedgpt serve` URL instead of --model (default: "
        "$BIOMEDGPT_SERVER_URL when --model is not given); --batch-size requests in flight",
    )
    run.add_argument("--data", required=True, help="the task's data file or folder (see `tasks`)")
    run.add_argument(
        "--sequences", help="uniprotqa: accession -> sequence map (JSON, FASTA or TSV)"
    )
    run.add_argument("--limit", type=int, help="only the first N items")
    run.add_argument("--out", help="run directory (resumed if it exists); default runs/evals/...")
    run.add_argument("--batch-size", type=int, default=8)
    run.add_argument(
        "--dtype", choices=DTYPE_CHOICES, help="default: fp16 on a GPU, fp32 on the CPU"
    )
    run.add_argument(
        "--device",
        help="e.g. cuda, cuda:1, cpu or auto (default: the GPU when torch sees one, else cpu)",
    )
    run.add_argument("--max-new-tokens", type=int, default=255)
    run.add_argument("--scoring", choices=("generate", "loglik"), default="generate",
                     help="closed questions: extract from generated text, or pick the likeliest option")  # fmt: skip
    run.add_argument("--rules", choices=RULE_SETS, default="lmflow", help="answer extraction rules")
    run.add_argument("--system", help="system text (default: the model's released one)")
    run.add_argument(
        "--molecule-input",
        choices=MOLECULE_INPUT_MODES,
        default="graph",
        help="how a molecule is shown: soft tokens (graph), its SMILES as text, or not at all",
    )
    run.add_argument("--vocab", help="SciBERT folder for caption metrics")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.set_defaults(handler=_run)

    retrieval = sub.add_parser(
        "retrieval", help="ChEBI-20 baseline: caption of the Tanimoto-nearest training molecule"
    )
    retrieval.add_argument("--train", required=True, help="ChEBI-20 split TSV to retrieve from")
    retrieval.add_argument(
        "--data", required=True, help="ChEBI-20 split TSV to caption (e.g. test.txt)"
    )
    retrieval.add_argument("--out", required=True, help="run directory (evals run layout)")
    retrieval.add_argument("--vocab", help="SciBERT folder for caption metrics")
    retrieval.add_argument("--quiet", action="store_true", help="no progress bars")
    retrieval.set_defaults(handler=_retrieval)

    report = sub.add_parser(
        "report", help="Markdown report and PNG charts beside the paper's tables"
    )
    report.add_argument("run_dir")
    report.set_defaults(handler=_report)

    from evals.assistant.routing_accuracy import ROUTING_SET

    routing = sub.add_parser("routing", help="routing accuracy of the agent's rule router")
    routing.add_argument("--set", default=str(ROUTING_SET), help="routing set (JSON lines)")
    routing.add_argument("--json", action="store_true")
    routing.set_defaults(handler=_routing)

    from evals.assistant.resolver_accuracy import GOLD_SET

    resolvers = sub.add_parser(
        "resolvers", help="resolver accuracy on a gold set (endpoints from BIOMEDGPT_*_URL)"
    )
    resolvers.add_argument("--gold", default=str(GOLD_SET), help="gold set (JSON lines)")
    resolvers.add_argument("--json", action="store_true")
    resolvers.set_defaults(handler=_resolvers)

    from evals.assistant.memory_workload import MEMORY_WORKLOAD

    memory = sub.add_parser(
        "memory", help="memory hit rate and staleness on a workload run through the tools"
    )
    memory.add_argument("--model", help="model folder (default: a tiny model built on the fly)")
    memory.add_argument("--workload", default=str(MEMORY_WORKLOAD), help="workload (JSON lines)")
    memory.add_argument("--max-new-tokens", type=int, default=16)
    memory.add_argument("--json", action="store_true")
    memory.set_defaults(handler=_memory)

    from evals.assistant.scoring import ASSISTANT_SET

    assistant = sub.add_parser(
        "assistant", help="end-to-end offline run of the assistant on a gold set"
    )
    assistant.add_argument("--model", help="model folder (default: none; answers must say so)")
    assistant.add_argument("--set", default=str(ASSISTANT_SET), help="gold set (JSON lines)")
    assistant.add_argument("--max-new-tokens", type=int, default=32)
    assistant.add_argument("--json", action="store_true")
    assistant.set_defaults(handler=_assistant)

    tasks = sub.add_parser("tasks", help="list the tasks and what --data each expects")
    tasks.set_defaults(handler=_tasks)
    return parser


def main(argv: list[str] | None = None) -> int:
    from evals.loaders.errors import DataFormatError
    from evals.metrics.scibert_tokenizer import TokenizerUnavailableError
    from evals.metrics.wordnet_check import WordNetMissingError
    from evals.tasks.run_store import RunDirectoryError

    args = build_parser().parse_args(argv)
    from biomedgpt_tools.environment import SettingsError

    expected = (UsageError, DataFormatError, RunDirectoryError, TokenizerUnavailableError,
                WordNetMissingError, KeyError, FileNotFoundError, SettingsError)  # fmt: skip
    from biomedgpt_tools.cli.input_errors import INPUT_ERRORS, describe_input_error, shorten

    try:
        return args.handler(args)
    except expected as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {shorten(message)}", file=sys.stderr)
        return 2
    except INPUT_ERRORS as error:  # a binary file, a folder, a dangling link, ...
        print(f"error: {describe_input_error(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
