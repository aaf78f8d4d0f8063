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


def _accessions(folder: Path) -> Path:
    path = folder / "accessions.txt"
    path.write_text("P04637\n")
    return path


def _uniprotqa(folder: Path) -> Path:
    path = folder / "uniprotqa.json"
    path.write_text(
        '[{"accession": "P04637", "question": "What does it do?", "answer": "It binds DNA."}]'
    )
    return path


def _corpus(folder: Path) -> Path:
    path = folder / "papers.jsonl"
    path.write_text('{"paperId": "1", "title": "A paper", "abstract": "Aspirin binds COX-1."}\n')
    return path


def _with_stdin(text: str, command, argv):
    """`command(argv)` reading `text` as its standard input (an interactive chat that ends)."""
    import io
    import sys

    saved, sys.stdin = sys.stdin, io.StringIO(text)
    try:
        return command(argv)
    finally:
        sys.stdin = saved


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
    # the entry points the first sweep left out
    "generate --official": lambda f, t: _biomedgpt(["generate", "--official", str(f), "--llm-dir", str(t),
                                                    "--esm-dir", str(t), "--question", "q"]),
    "annotate --out (resumed)": lambda f, t: _biomedgpt(["annotate", str(_accessions(t)), "--out", str(f)]),
    "annotate --questions": lambda f, t: _biomedgpt(["annotate", str(_accessions(t)), "--out",
                                                     str(t / "out.jsonl"), "--questions", str(f)]),
    "evals run pubmedqa": lambda f, t: _evals(["run", "pubmedqa", "--model", str(_model_folder(t)), "--data",
                                               str(f), "--quiet"]),
    "evals run medmcqa": lambda f, t: _evals(["run", "medmcqa", "--model", str(_model_folder(t)), "--data",
                                              str(f), "--quiet"]),
    "evals run chebi20": lambda f, t: _evals(["run", "chebi20", "--model", str(_model_folder(t)), "--data",
                                              str(f), "--quiet"]),
    "evals run uniprotqa --sequences": lambda f, t: _evals(["run", "uniprotqa", "--model", str(_model_folder(t)),
                                                            "--data", str(_uniprotqa(t)), "--sequences", str(f),
                                                            "--quiet"]),
    "evals report": lambda f, t: _evals(["report", str(f)]),
    "training prepare-corpus": lambda f, t: _training(["prepare-corpus", str(f), "--out", str(t / "o"),
                                                       "--tokenizer", "tiny"]),
    "training prepare-corpus --tokenizer": lambda f, t: _training(["prepare-corpus", str(_corpus(t)), "--out",
                                                                   str(t / "o"), "--tokenizer", str(f)]),
    "training prepare-uniprotqa": lambda f, t: _training(["prepare-uniprotqa", str(f), "--sequences", str(f),
                                                          "--out", str(t / "o")]),
    "training prepare-pubmedqa": lambda f, t: _training(["prepare-pubmedqa", str(f), "--out", str(t / "o.jsonl")]),
    "training align --config": lambda f, t: _training(["align", "--config", str(f)]),
    "training finetune --config": lambda f, t: _training(["finetune", "--config", str(f)]),
    "agents chat --threads-db": lambda f, t: _with_stdin("Describe aspirin.\n", _agents,
                                                                   ["chat", "--threads-db", str(f)]),
}  # fmt: skip
KINDS = ("unreadable", "dangling", "empty", "binary", "enormous")
# an empty file is a valid new SQLite database, and SQLite creates a link's missing target
ACCEPTED = {
    ("agents ask --threads-db", "empty"),
    ("agents ask --threads-db", "dangling"),
    ("agents chat --threads-db", "empty"),
    ("agents chat --threads-db", "dangling"),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_bad_input_is_a_short_clear_error(
    command, kind, tmp_path, capsys, resolver_env, monkeypatch
):
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
