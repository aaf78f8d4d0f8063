"""`python -m agents ask "QUESTION" [--json] [--thread ID]`, `python -m agents chat`, `python -m agents web`.

Configuration is the toolkit's environment (BIOMEDGPT_MODEL, BIOMEDGPT_HOME, BIOMEDGPT_OFFLINE,
...); conversations are kept in $BIOMEDGPT_HOME/agent/threads.sqlite, so `--thread ID` on a
later `ask` continues a conversation. An ambiguous name stops `ask` with the candidates and
the command that continues it (`--choose`); `chat` asks for the choice in place.

While a tool call runs the model, its text is printed as it is generated (`chat`: stdout;
`ask`: stderr, so stdout holds only the cited answer; not with `--json`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

from agents.context import AssistantContext
from agents.errors import InvalidQuestionError
from agents.resolution import InvalidChoiceError


class UsageError(Exception):
    """An expected failure: printed as one line, exit status 2."""


def load_chat_model(spec: str, base_url: str | None = None):
    """`provider:model` (LangChain's init_chat_model) or `MODULE:ATTR`; see agents/chat_models.py."""
    from agents.chat_models import ChatModelLoadError
    from agents.chat_models import load_chat_model as load

    try:
        return load(spec, base_url=base_url)
    except ChatModelLoadError as error:
        raise UsageError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m agents", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--thread", help="conversation id; the same id continues a conversation")
    common.add_argument(
        "--router", choices=("rules", "llm"), help="default: $BIOMEDGPT_ROUTER or rules"
    )
    common.add_argument(
        "--chat-model",
        metavar="PROVIDER:MODEL|MODULE:ATTR",
        help="tool-calling chat model for --router llm: a LangChain init_chat_model string "
        "(openai:gpt-4o-mini, ollama:llama3.1; its provider package must be installed) or a "
        "chat model / class / factory as MODULE:ATTR (default: $BIOMEDGPT_CHAT_MODEL)",
    )
    common.add_argument(
        "--base-url",
        metavar="URL",
        help="with provider:model, an OpenAI-compatible server to use instead of the provider's "
        "(e.g. http://127.0.0.1:8000/v1; default: $BIOMEDGPT_CHAT_BASE_URL)",
    )
    common.add_argument(
        "--threads-db", help="SQLite file for conversations (default under $BIOMEDGPT_HOME)"
    )
    ask = commands.add_parser("ask", parents=[common], help="answer one question")
    ask.add_argument("question", nargs="?", help="the question (omit with --choose)")
    ask.add_argument(
        "--json", action="store_true", help="print answer, tool_calls, entities, sources as JSON"
    )
    ask.add_argument(
        "--choose", help="continue a paused --thread with this candidate (CID, accession or number)"
    )
    ask.add_argument("--steps", action="store_true", help="print each step as it finishes (stderr)")
    commands.add_parser(
        "chat", parents=[common], help="interactive conversation (empty line or Ctrl-D ends)"
    )
    web = commands.add_parser(
        "web", help="the assistant as a web page (offline snapshot unless --online)"
    )
    web.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: loopback only)"
    )
    web.add_argument("--port", type=int, default=8765, help="default 8765; 0 picks a free port")
    web.add_argument(
        "--threads-db", help="SQLite file for conversations (default under $BIOMEDGPT_HOME)"
    )
    web.add_argument(
        "--online", action="store_true", help="ask PubChem/UniProt instead of the bundled snapshot"
    )
    return parser


def make_session(args: argparse.Namespace):
    from agents.graph import open_assistant
    from agents.session import AssistantSession

    context = AssistantContext()
    if args.router:
        context.router = args.router
    spec = args.chat_model or os.environ.get("BIOMEDGPT_CHAT_MODEL")
    base_url = args.base_url or os.environ.get("BIOMEDGPT_CHAT_BASE_URL") or None
    if base_url and not spec:
        raise UsageError("--base-url needs --chat-model provider:model (e.g. openai:NAME) as well")
    if spec:
        context.chat_model = load_chat_model(spec, base_url)
    return AssistantSession(
        thread_id=args.thread, context=context, graph=open_assistant(threads_path=args.threads_db)
    )


def print_steps(event: dict[str, Any]) -> None:
    if event["mode"] == "updates":
        for step in event["payload"]:
            if not step.startswith("__"):
                print(f"[step] {step}", file=sys.stderr, flush=True)


class ModelTextPrinter:
    """Prints each tool call's model text as it arrives, one call at a time.

    Calls run in parallel; their pieces are tagged with the call's index. One call is shown
    live, under a `[name (tool)]` header; the text of others is held until it ends.
    """

    def __init__(self, out: TextIO):
        self.out = out
        self.names: list[str | None] = []  # per call: the resolved entity, from the resolve step
        self.tools: dict[int, str] = {}
        self.held: dict[int, str] = {}
        self.ended: set[int] = set()
        self.live: int | None = None

    def __call__(self, event: dict[str, Any]) -> None:
        payload = event["payload"]
        if event["mode"] != "custom" or not isinstance(payload, dict):
            return
        if payload.get("step") == "resolve":
            self.names = list(payload.get("resolved") or [])
        elif payload.get("type") == "token":
            self._token(payload)
        elif payload.get("step") == "tool" and "call" in payload:
            self.ended.add(payload["call"])
            if payload["call"] == self.live:
                self._close()

    def finish(self) -> None:
        """Print whatever is still held (the turn is over)."""
        self.ended.update(self.held)
        if self.live is not None:
            self._close()

    def _token(self, payload: dict[str, Any]) -> None:
        call = payload["call"]
        self.tools[call] = payload["tool"]
        if self.live is None:
            self._open(call, "")
        if call == self.live:
            self._write(payload["text"])
        else:
            self.held[call] = self.held.get(call, "") + payload["text"]

    def _open(self, call: int, text: str) -> None:
        name = self.names[call] if call < len(self.names) else None
        label = f"{name} ({self.tools[call]})" if name else self.tools[call]
        self.live = call
        self._write(f"[{label}] {text}")

    def _close(self) -> None:
        """End the live call's line; show the next call that has text (finished ones whole)."""
        self._write("\n")
        self.live = None
        while self.held:
            call = min(self.held)
            self._open(call, self.held.pop(call))
            if call not in self.ended:
                return
            self._write("\n")
            self.live = None

    def _write(self, text: str) -> None:
        print(text, end="", file=self.out, flush=True)


def describe_interrupt(payload: dict[str, Any]) -> str:
    lines = [f"{payload['message']}", "Candidates:"]
    for number, candidate in enumerate(payload["candidates"], start=1):
        details = ", ".join(
            str(candidate[k])
            for k in ("name", "entry_name", "protein_name", "organism")
            if candidate.get(k)
        )
        lines.append(f"  {number}. {candidate['choice']}" + (f" ({details})" if details else ""))
    return "\n".join(lines)


def run_ask(args: argparse.Namespace) -> int:
    if not args.question and not args.choose:
        raise UsageError(
            "ask needs a QUESTION (or --thread ID --choose CHOICE to continue a paused one)"
        )
    if args.choose and not args.thread:
        raise UsageError("--choose continues a paused conversation: pass its --thread ID too")
    session = make_session(args)
    printer = None if args.json else ModelTextPrinter(sys.stderr)

    def on_event(event: dict[str, Any]) -> None:
        if args.steps:
            print_steps(event)
        if printer is not None:
            printer(event)

    if args.choose:
        outcome = session.resume(args.choose, on_event)
    else:
        if session.pending_interrupt() is not None:
            raise UsageError(
                f"thread {session.thread_id} waits for a choice; answer it with --choose"
            )
        outcome = session.ask(args.question, on_event)
    if printer is not None:
        printer.finish()
    if args.json:
        print(json.dumps(outcome.to_json(), indent=2, default=str))
    elif outcome.interrupt is not None:
        print(describe_interrupt(outcome.interrupt))
        print(
            f"Continue with: python -m agents ask --thread {session.thread_id} --choose NUMBER_OR_ID"
        )
    else:
        print(outcome.answer)
        print(f"(thread {session.thread_id}; router: {outcome.router})", file=sys.stderr)
    return 0


def run_chat(args: argparse.Namespace) -> int:
    session = make_session(args)
    print(f"BioMedGPT assistant, thread {session.thread_id}. Empty line or Ctrl-D ends.")

    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            break
        if not question:
            break
        printer = ModelTextPrinter(sys.stdout)
        outcome = session.ask(question, printer)
        while outcome.interrupt is not None:
            print(describe_interrupt(outcome.interrupt))
            try:
                choice = input("which one? ").strip()
            except EOFError:
                return 0
            try:
                outcome = session.resume(choice, printer)
            except InvalidChoiceError as error:
                print(error)
        printer.finish()
        if printer.tools:
            print()  # a blank line between the model's live text and the cited answer
        print(outcome.answer)
    return 0


def main(argv: list[str] | None = None) -> int:
    from biomedgpt_tools.cli.input_errors import INPUT_ERRORS, describe_input_error, shorten
    from biomedgpt_tools.environment import SettingsError

    args = build_parser().parse_args(argv)
    try:
        if args.command == "web":
            from agents.web import serve

            try:
                return serve.serve(args.host, args.port, args.threads_db, args.online)
            except serve.UsageError as error:
                raise UsageError(str(error)) from error
        return run_ask(args) if args.command == "ask" else run_chat(args)
    except (UsageError, InvalidChoiceError, InvalidQuestionError, SettingsError) as error:
        print(f"error: {shorten(error)}", file=sys.stderr)
        return 2
    except INPUT_ERRORS as error:  # --threads-db is a folder or not a database, ...
        print(f"error: {describe_input_error(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
