"""The demo model's data and cache (the full build runs in `make demo-model`, minutes long)."""

from __future__ import annotations

import json

import pytest

from training.demo_facts import IDENTITY_QUESTIONS, demo_records, load_snapshot
from training.demo_model import (
    FINGERPRINT_FILE,
    build_demo_model,
    default_demo_dir,
    recipe_fingerprint,
)


def test_pairs_come_from_the_snapshot_facts():
    molecules, proteins = load_snapshot()
    records = demo_records()
    by_id = {r.id: r for r in records}
    aspirin = next(m for m in molecules if m["name"] == "Aspirin")
    assert by_id[f"demo:cid{aspirin['cid']}:2"].answer == aspirin["formula"]
    assert by_id[f"demo:cid{aspirin['cid']}:3"].answer == f"{aspirin['molecular_weight']:.2f} g/mol"
    assert by_id[f"demo:cid{aspirin['cid']}:0"].molecules == [aspirin["smiles"]]
    insulin = next(p for p in proteins if p["accession"] == "P01308")
    assert by_id["demo:P01308:0"].answer == insulin["protein_name"]
    assert by_id["demo:P01308:0"].proteins == [insulin["sequence"]]
    assert any(r.answer == f"It belongs to the {insulin['family']}." for r in records)
    identity = [r for r in records if r.question in IDENTITY_QUESTIONS]
    assert identity and all("not BioMedGPT-10B" in r.answer and not r.molecules for r in identity)
    # Every pair is answerable: the same (question, input) never maps to two answers.
    keys = [(r.question, tuple(r.molecules), tuple(r.proteins)) for r in records]
    assert len(keys) == len(set(keys))


def test_cached_model_is_reused_without_training(tmp_path, capsys):
    out = tmp_path / "demo"
    out.mkdir()
    text = "".join(r.to_json_line() for r in demo_records())
    (out / "config.json").write_text(json.dumps({}))
    (out / FINGERPRINT_FILE).write_text(recipe_fingerprint(text) + "\n")
    assert build_demo_model(out) == out
    assert "up to date" in capsys.readouterr().out


def test_default_location_follows_biomedgpt_home(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMEDGPT_HOME", str(tmp_path))
    assert default_demo_dir() == tmp_path / "demo-model"


def test_an_existing_folder_it_did_not_write_is_never_replaced(tmp_path):
    """`--out` pointed at, say, a converted BioMedGPT folder must not be deleted."""
    out = tmp_path / "biomedgpt-10b"
    out.mkdir()
    (out / "config.json").write_text("{}")
    with pytest.raises(SystemExit, match="did not write"):
        build_demo_model(out, force=True)
    assert (out / "config.json").read_text() == "{}"
    work = tmp_path / "other-work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match="work folder"):
        build_demo_model(tmp_path / "other", force=True)
    assert (work / "notes.txt").read_text() == "mine"
