"""`from biomedgpt_tools import BioMedGPTToolkit, MoleculeQA, ProteinQA, BiomedQA` (issue 16),
lazily: checked in fresh interpreters, since this test process has imported everything."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "transformers", "langchain", "langchain_core", "langgraph", "chromadb", "rdkit")


def _fresh(code: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_import_biomedgpt_tools_imports_neither_torch_nor_langchain():
    loaded = _fresh(
        "import json, sys, biomedgpt_tools\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    assert loaded == []


def test_the_first_import_people_type_works():
    result = _fresh(
        "import json, sys\n"
        "from biomedgpt_tools import BioMedGPTToolkit, MoleculeQA, ProteinQA, BiomedQA\n"
        "import biomedgpt_tools.tools as tools\n"
        "same = [BioMedGPTToolkit is tools.BioMedGPTToolkit, MoleculeQA is tools.MoleculeQA,\n"
        "        ProteinQA is tools.ProteinQA, BiomedQA is tools.BiomedQA]\n"
        "print(json.dumps({'same': same, 'names': [MoleculeQA.model_fields['name'].default,\n"
        "                  ProteinQA.model_fields['name'].default, BiomedQA.model_fields['name'].default]}))"
    )
    assert result == {"same": [True] * 4, "names": ["MoleculeQA", "ProteinQA", "BiomedQA"]}


def test_unknown_names_and_dir():
    import biomedgpt_tools

    assert {"BioMedGPTToolkit", "MoleculeQA", "ProteinQA", "BiomedQA"} <= set(dir(biomedgpt_tools))
    try:
        biomedgpt_tools.NoSuchThing  # noqa: B018
    except AttributeError as error:
        assert "no attribute 'NoSuchThing'" in str(error)
    else:
        raise AssertionError("an unknown name must raise AttributeError")


def test_installed_version_is_the_one_in_version_py():
    """pyproject reads the version from biomedgpt_tools/version.py, so the two cannot drift."""
    from importlib.metadata import version

    from biomedgpt_tools.version import __version__

    assert version("biomedgpt-tools") == __version__
