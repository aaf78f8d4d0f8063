"""Every environment setting with a value it cannot take (issue 16): one line naming the
variable and the values it takes, exit status 2, never a traceback."""

from __future__ import annotations

import pytest

BAD_SETTINGS = {
    "BIOMEDGPT_ON_TOO_LONG": ("cut", "error or truncate"),
    "BIOMEDGPT_MEMORY": ("perhaps", "0, false, no, off"),
    "BIOMEDGPT_OFFLINE": ("maybe", "1, true, yes, on"),
    "BIOMEDGPT_DEVICE": ("gpu", "cpu, cuda, cuda:N"),
    "BIOMEDGPT_CHROMA_URL": ("localhost:8000", "http://"),
    "BIOMEDGPT_PUBCHEM_URL": ("ftp://pubchem", "http://"),
    "BIOMEDGPT_UNIPROT_URL": ("rest.uniprot.org", "http://"),
    "BIOMEDGPT_SERVER_URL": ("127.0.0.1:8000", "http://"),
    "BIOMEDGPT_HOME": (None, "not a folder"),  # a file where a folder should be
    "BIOMEDGPT_CACHE_DIR": (None, "not a folder"),
    "BIOMEDGPT_MODEL": (None, "not a folder"),
}


def _annotate(tmp_path):
    from biomedgpt_tools.cli import main

    listing = tmp_path / "accessions.txt"
    listing.write_text("P04637\n")
    return main(["annotate", str(listing), "--out", str(tmp_path / "out.jsonl")])


def _ask(tmp_path):
    from agents.__main__ import main

    return main(["ask", "Describe aspirin.", "--threads-db", str(tmp_path / "threads.sqlite")])


def _mcp(tmp_path):
    from biomedgpt_tools.cli import main

    return main(["mcp", "--transport", "streamable-http", "--port", "1"])  # refused before serving


ENTRY_POINTS = {"biomedgpt annotate": _annotate, "agents ask": _ask, "biomedgpt mcp": _mcp}


def test_an_unknown_router_is_one_line_naming_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BIOMEDGPT_ROUTER", "llms")  # read by the assistant only
    code = _ask(tmp_path)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "BIOMEDGPT_ROUTER='llms'" in err and "rules or llm" in err, err


@pytest.mark.parametrize("entry_point", list(ENTRY_POINTS))
@pytest.mark.parametrize("variable", list(BAD_SETTINGS))
def test_a_bad_setting_is_one_line_naming_it(variable, entry_point, tmp_path, capsys, monkeypatch):
    value, allowed = BAD_SETTINGS[variable]
    if value is None:
        value = str(tmp_path / "a-file")
        (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv(variable, value)
    code = ENTRY_POINTS[entry_point](tmp_path)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert f"{variable}={value!r}" in err and allowed in err, err
