"""Dependencies point one way: the library never imports the apps (agents/, training/, evals/)
or the test suite, and the apps, benchmarks and scripts never import the test suite (what they
share with the tests lives in biomedgpt_tools.testing); inside the library, model code imports
no LangChain and resolvers and the inference boundary no torch. Function-level imports count."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
APPS = ("agents", "training", "evals")
FORBIDDEN = {
    "biomedgpt_tools": (*APPS, "tests"),
    "agents": ("tests",),
    "training": ("tests",),
    "evals": ("tests",),
    "benchmarks": ("tests",),
    "scripts": ("tests",),
    # inside the library (docs/architecture.md): the model never needs LangChain, resolvers and
    # the inference boundary never need torch, the services sit below the LangChain tools
    "biomedgpt_tools/model": ("langchain", "langchain_core", "langgraph"),
    "biomedgpt_tools/resolvers": ("torch", "transformers"),
    "biomedgpt_tools/inference": ("torch", "transformers", "langchain", "langchain_core"),
    "biomedgpt_tools/services": ("langchain", "langchain_core", "langgraph"),
}


def imported_top_levels(path: Path) -> list[tuple[int, str]]:
    """(line, first dotted part) of every absolute import in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def forbidden_imports(folder: str) -> list[str]:
    banned = FORBIDDEN[folder]
    return [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {top}"
        for path in sorted((REPO_ROOT / folder).rglob("*.py"))
        for line, top in imported_top_levels(path)
        if top in banned
    ]


@pytest.mark.parametrize("folder", list(FORBIDDEN))
def test_imports_point_one_way(folder):
    assert (REPO_ROOT / folder).is_dir()
    offending = forbidden_imports(folder)
    assert not offending, f"{folder}/ imports what it must not:\n" + "\n".join(offending)


def test_the_check_sees_a_function_level_import(tmp_path):
    module = tmp_path / "late.py"
    module.write_text(
        "def f():\n    from tests.resolver_server import X\n    import agents.graph\n"
    )
    assert imported_top_levels(module) == [(2, "tests"), (3, "agents")]
