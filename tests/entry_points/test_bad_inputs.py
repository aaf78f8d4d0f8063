"""Every entry point with unreadable, empty, binary and enormous inputs (issue 16).

Each command is given one bad file where it expects data and must answer with a short error
message and a non-zero status: never a traceback, never a hang, never silence. Run in process
(the commands' own `main`), so a traceback shows up as an exception here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENORMOUS_BYTES = 24 * 2**20  # one 24 MiB line with no newline: no parser should choke on it


def _bad_input(kind: str, folder: Path) -> Path:
    path = folder / f"input-{kind}"
    if kind == "unreadable":  # root reads any file: a folder, or a dangling link, is what fails
        path.mkdir()
    elif kind == "dangling":
        os.symlink(folder / "nowhere", path)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 64)
    elif kind == "enormous":
        path.write_bytes(b"x" * ENORMOUS_BYTES)
    return path


def _model_folder(folder: Path) -> Path:
    model = folder / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    return model


def _biomedgpt(argv):
    from biomedgpt_tools.cli import main

    return main(argv)


def _evals(argv):
    from evals.__main__ import main

    return main(argv)


def _training(argv):
    from training.__main__ import main

    return main(argv)


def _agents(argv):
    from agents.__main__ import main

    return main(argv)


COMMANDS = {
    "generate --batch": lambda f, t: _biomedgpt(["generate", "--model", str(_model_folder(t)), "--batch", str(f)]),
    "generate --model": lambda f, t: _biomedgpt(["generate", "--model", str(f), "--question", "q"]),
    "convert --official": lambda f, t: _biomedgpt(["convert", "--official", str(f), "--llm-dir", str(t),
                                                   "--esm-dir", str(t), "--out", str(t / "out")]),
    "annotate": lambda f, t: _biomedgpt(["annotate", str(f), "--out", str(t / "out.jsonl")]),
    "store import": lambda f, t: _biomedgpt(["store", "import", str(f)]),
    "evals caption": lambda f, t: _evals(["caption", "--predictions", str(f), "--vocab", str(t), "--quiet"]),
    "evals pubmedqa": lambda f, t: _evals(["pubmedqa", "--predictions", str(f), "--data", str(t)]),
    "evals run": lambda f, t: _evals(["run", "medqa", "--model", str(_model_folder(t)), "--data", str(f), "--quiet"]),
    "evals routing": lambda f, t: _evals(["routing", "--set", str(f)]),
    "evals resolvers": lambda f, t: _evals(["resolvers", "--gold", str(f)]),
    "evals memory": lambda f, t: _evals(["memory", "--workload", str(f)]),
    "evals assistant": lambda f, t: _evals(["assistant", "--set", str(f)]),
    "training prepare-medmcqa": lambda f, t: _training(["prepare-medmcqa", str(f), "--out", str(t / "o.jsonl")]),
    "training prepare-pubchemqa": lambda f, t: _training(["prepare-pubchemqa", str(f), "--out", str(t / "o.jsonl")]),
    "training prepare-chebi20": lambda f, t: _training(["prepare-chebi20", str(f), "--out", str(t / "o")]),
    "training lm --config": lambda f, t: _training(["lm", "--config", str(f)]),
    "agents ask --threads-db": lambda f, t: _agents(["ask", "Describe aspirin.", "--threads-db", str(f)]),
}  # fmt: skip
KINDS = ("unreadable", "dangling", "empty", "binary", "enormous")
# an empty file is a valid new SQLite database, and SQLite creates a link's missing target
ACCEPTED = {("agents ask --threads-db", "empty"), ("agents ask --threads-db", "dangling")}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_bad_input_is_a_short_clear_error(command, kind, tmp_path, capsys, resolver_env, monkeypatch):
    monkeypatch.setenv("BIOMEDGPT_MEMORY", "0")
    monkeypatch.setenv("BIOMEDGPT_OFFLINE", "1")
    bad = _bad_input(kind, tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    code = COMMANDS[command](bad, work)
    err = capsys.readouterr().err
    if (command, kind) in ACCEPTED:
        assert code == 0 and "Traceback" not in err, err
        return
    assert code not in (0, None), f"{command} accepted a {kind} input: {err}"
    assert "error" in err.lower(), err
    assert "Traceback" not in err
    assert len(err) < 2000 and len(err.strip().splitlines()) <= 3, err[:2000]
