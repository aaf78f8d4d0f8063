"""`python -m training COMMAND`: data preparation, the three stages, assembly, the miniature reproduction, the demo model.

Run from the repository root. Expected failures (a missing file, a malformed record, an
invalid config) print one line naming the input and exit 2; anything else is a bug.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# command -> (module, help)
PREPARATION_COMMANDS = {
    "prepare-corpus": ("training.data.prepare_corpus", "stage 1: S2ORC JSON lines -> token blocks"),
    "prepare-pubchemqa": (
        "training.data.prepare_pubchemqa",
        "stage 2: PubChemQA pairs -> QA records",
    ),
    "prepare-uniprotqa": (
        "training.data.prepare_uniprotqa",
        "stage 2: UniProtQA -> train/valid/test split by protein",
    ),
    "prepare-chebi20": ("training.data.prepare_chebi20", "stage 3a: ChEBI-20 TSV -> QA records"),
    "prepare-pubmedqa": ("training.data.prepare_pubmedqa", "stage 3b: PubMedQA JSON -> QA records"),
    "prepare-medmcqa": (
        "training.data.prepare_medmcqa",
        "stage 3b: MedMCQA JSON lines -> QA records",
    ),
}
# commands over whole models, each a module with add_arguments(parser) and run(args)
MODEL_COMMANDS = {
    "assemble": (
        "training.assemble",
        "stage-2 starting folder from an LM folder, a GIN state dict and ESM-2",
    ),
    "reproduce-mini": (
        "training.reproduce_mini",
        "the paper's ChEBI-20 table in miniature: 3 stages, baselines, report",
    ),
}
STAGE_COMMANDS = {
    "lm": "stage 1: continued causal-LM training of the Llama model",
    "align": "stage 2: LM frozen, projections (and optionally encoders / ESM LoRA) trained",
    "finetune": "stage 3: molecule QA (LM frozen) or biomedical QA (LM trained)",
}


def _add_module_command(commands, name: str, module: str, help_text: str) -> None:
    """A subcommand whose module declares its own arguments and runs them."""
    sub = commands.add_parser(name, help=help_text, description=help_text)
    importlib.import_module(module).add_arguments(sub)
    sub.set_defaults(module=module)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in PREPARATION_COMMANDS.items():
        _add_module_command(commands, name, module, help_text)
    for name, help_text in STAGE_COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--config", required=True, help="YAML config (see training/configs/)")
        sub.add_argument(
            "overrides",
            nargs="*",
            metavar="KEY=VALUE",
            help="e.g. optim.lr=1e-4 train.max_steps=10",
        )
        sub.set_defaults(module="training.stages.run_stage")
    for name, (module, help_text) in MODEL_COMMANDS.items():
        _add_module_command(commands, name, module, help_text)
    demo = commands.add_parser("demo-model", help="train (or reuse) the small demo model")
    demo.add_argument("--out", help="model folder (default: the cache's demo-model folder)")
    demo.add_argument("--force", action="store_true", help="retrain even if a cached model exists")
    demo.set_defaults(module="training.demo_model")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from biomedgpt_tools.cli.input_errors import INPUT_ERRORS, describe_input_error, shorten
    from biomedgpt_tools.environment import SettingsError
    from training.config import ConfigError
    from training.data.input_files import DataFormatError

    try:
        return int(importlib.import_module(args.module).run(args) or 0)
    except (ConfigError, DataFormatError, SettingsError) as error:
        print(f"python -m training {args.command}: error: {shorten(error)}", file=sys.stderr)
        return 2
    except INPUT_ERRORS as error:  # a binary file, a folder, a dangling link, ...
        print(
            f"python -m training {args.command}: error: {describe_input_error(error)}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
