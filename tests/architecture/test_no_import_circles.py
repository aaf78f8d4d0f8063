"""Issue 14: no import circle inside biomedgpt_tools/, agents/, training/ or evals/, counting
function-level and TYPE_CHECKING imports (tests/architecture/import_graph.py says what counts)."""

from __future__ import annotations

from pathlib import Path

from tests.architecture.import_graph import CHECKED_PACKAGES, build_graph, find_circles

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_tree_has_no_import_circle():
    graph = build_graph(REPO_ROOT, CHECKED_PACKAGES)
    assert len(graph) > 100, "the scan found too few modules; is REPO_ROOT right?"
    circles = find_circles(graph)
    report = "\n\n".join(circle.describe(REPO_ROOT) for circle in circles)
    assert not circles, f"{len(circles)} import circle(s):\n{report}"
