"""The `biomedgpt` console script.

Each subcommand lives in its own module exposing `register(subparsers)`; handlers import
their heavy dependencies lazily so `biomedgpt --help` and `biomedgpt resolve` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# module name -> registers one or more subcommands
SUBCOMMAND_MODULES = ("generate", "convert", "resolve", "store", "annotate", "mcp", "serve")


class CommandError(Exception):
    """An expected failure: printed as one line on stderr, exit code `exit_code`."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="biomedgpt",
        description="BioMedGPT-10B: ask about molecules and proteins; resolve names; manage annotations.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"biomedgpt_tools.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"biomedgpt_tools.cli.{name}":
                continue  # subcommand not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from biomedgpt_tools.environment import SettingsError

    from .input_errors import INPUT_ERRORS, describe_input_error, shorten

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except CommandError as error:
        print(f"biomedgpt {args.command}: error: {shorten(error)}", file=sys.stderr)
        return error.exit_code
    except SettingsError as error:  # BIOMEDGPT_ON_TOO_LONG=cut, BIOMEDGPT_OFFLINE=maybe, ...
        print(f"biomedgpt {args.command}: error: {shorten(error)}", file=sys.stderr)
        return 2
    except INPUT_ERRORS as error:  # a binary file, a folder, a dangling link, ...
        print(f"biomedgpt {args.command}: error: {describe_input_error(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
