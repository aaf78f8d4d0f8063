"""`biomedgpt resolve`: the JSON keys and exit codes the issue promises, against the test server."""

from __future__ import annotations

import json

import pytest

from biomedgpt_tools.cli import main

MOLECULE_KEYS = {"cid", "name", "smiles", "inchikey", "formula", "molecular_weight"}
PROTEIN_KEYS = {"accession", "entry_name", "protein_name", "organism", "sequence"}


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["resolve", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_molecule_json(server_env, capsys):
    code, out, _ = _run(capsys, "molecule", "aspirin", "--json")
    assert code == 0
    record = json.loads(out)
    assert MOLECULE_KEYS <= set(record)
    assert record["cid"] == 2244 and record["smiles"] == "CC(=O)OC1=CC=CC=C1C(=O)O"
    assert isinstance(record["molecular_weight"], float)


def test_protein_json_with_redirect(server_env, capsys):
    code, out, _ = _run(capsys, "protein", "Q15086", "--json")
    assert code == 0
    record = json.loads(out)
    assert PROTEIN_KEYS <= set(record)
    assert record["accession"] == "P04637" and record["requested_accession"] == "Q15086"


def test_text_output(server_env, capsys):
    code, out, _ = _run(capsys, "protein", "TP53 human")
    assert code == 0 and "P04637" in out and "Homo sapiens" in out


@pytest.mark.parametrize(
    ("kind", "query", "error_kind"),
    [
        ("molecule", "unobtainium-7", "not_found"),
        ("molecule", "alanine", "ambiguous"),
        ("molecule", "C1CC(=O", "invalid"),
        ("protein", "Q99999", "not_found"),
        ("protein", "TP53", "ambiguous"),
        ("protein", "Q9ZZZ9", "obsolete"),
        ("protein", "Q9ZZZ0", "obsolete"),
    ],
)
def test_failures_exit_1_with_error_json(server_env, capsys, kind, query, error_kind):
    code, out, err = _run(capsys, kind, query, "--json")
    assert code == 1
    error = json.loads(out)["error"]
    assert error["kind"] == error_kind
    assert error["message"] and isinstance(error["candidates"], list)
    if error_kind == "ambiguous":
        assert len(error["candidates"]) >= 2
    assert "Traceback" not in err


def test_unavailable_exit_1(server_env, capsys, monkeypatch):
    from biomedgpt_tools.resolvers.settings import ResolverSettings
    from biomedgpt_tools.testing.resolver_server import Fault

    from_env = ResolverSettings.from_env.__func__
    fast = {"max_retries": 1, "backoff_base_s": 0.01}
    monkeypatch.setattr(
        ResolverSettings, "from_env", classmethod(lambda cls, **kw: from_env(cls, **{**kw, **fast}))
    )
    not_in_snapshot = next(
        m["cid"] for m in server_env.entities.raw["molecules"] if not m["in_snapshot"]
    )
    server_env.inject("pubchem", Fault.status(503, html=True), Fault.status(503, html=True))
    code, out, _ = _run(capsys, "molecule", f"CID {not_in_snapshot}", "--json")
    assert code == 1 and json.loads(out)["error"]["kind"] == "unavailable"


def test_text_mode_failure_is_one_line_plus_candidates(server_env, capsys):
    code, out, err = _run(capsys, "molecule", "alanine")
    assert code == 1 and out == ""
    assert "ambiguous" in err and "candidate: cid=5950, name=L-Alanine" in err
    assert "Traceback" not in err


def test_offline_flag(capsys, monkeypatch):
    monkeypatch.setenv("BIOMEDGPT_PUBCHEM_URL", "http://192.0.2.1/rest/pug")
    code, out, _ = _run(capsys, "molecule", "caffeine", "--json", "--offline")
    assert code == 0 and json.loads(out)["cid"] == 2519
    code, out, _ = _run(capsys, "molecule", "unobtainium-7", "--json", "--offline")
    assert code == 1 and json.loads(out)["error"]["kind"] == "unavailable"
