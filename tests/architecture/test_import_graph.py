"""The import-circle checker on small packages written to tmp_path: it must find a circle hidden
in a function, name it as a chain, follow relative and submodule imports, and pass clean code."""

from __future__ import annotations

from pathlib import Path

from tests.architecture.import_graph import build_graph, find_circles, strongly_connected_components


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_circle_through_a_function_level_import_is_found_and_named(tmp_path):
    root = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg.b import helper\n",
        "pkg/b.py": "def helper():\n    from pkg import a\n    return a\n",
    })  # fmt: skip
    circles = find_circles(build_graph(root, ["pkg"]))
    assert [circle.members for circle in circles] == [("pkg.a", "pkg.b")]
    text = circles[0].describe(root)
    assert "pkg.a -> pkg.b -> pkg.a" in text
    assert "pkg/b.py:2 imports pkg.a" in text and "pkg/a.py:1 imports pkg.b" in text


def test_type_checking_and_relative_imports_count(tmp_path):
    root = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/sub/__init__.py": "",
        "pkg/sub/x.py": "from ..y import thing\n",
        "pkg/y.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub import x\n",
    })  # fmt: skip
    graph = build_graph(root, ["pkg"])
    assert set(graph["pkg.sub.x"]) == {"pkg.y"}
    # pkg/sub/__init__ runs on the way to pkg.sub.x, and pkg.y is not inside pkg.sub
    assert set(graph["pkg.y"]) == {"pkg.sub", "pkg.sub.x"}
    assert [c.members for c in find_circles(graph)] == [("pkg.sub.x", "pkg.y")]


def test_an_init_that_reexports_is_in_a_circle_only_when_a_name_comes_from_it(tmp_path):
    files = {
        "pkg/__init__.py": "from pkg.server import serve\nVERSION = '1'\n",
        "pkg/server.py": "from pkg import inputs\nimport pkg.inputs\nserve = 1\n",
        "pkg/inputs.py": "",
    }
    clean = build_graph(_write(tmp_path / "clean", files), ["pkg"])
    assert set(clean["pkg.server"]) == {"pkg.inputs"}
    assert find_circles(clean) == []
    files["pkg/server.py"] = "from pkg import VERSION\nserve = 1\n"  # needs pkg/__init__ itself
    tied = build_graph(_write(tmp_path / "tied", files), ["pkg"])
    assert [c.members for c in find_circles(tied)] == [("pkg", "pkg.server")]


def test_parents_of_a_dotted_import_outside_the_importer_count(tmp_path):
    root = _write(tmp_path, {
        "lib/__init__.py": "from lib.core import run\n",
        "lib/core.py": "run = 1\n",
        "lib/extra/__init__.py": "",
        "app/__init__.py": "",
        "app/main.py": "import lib.extra\nfrom importlib import import_module\nimport_module('lib.core')\n",
    })  # fmt: skip
    graph = build_graph(root, ["lib", "app"])
    assert set(graph["app.main"]) == {"lib", "lib.extra", "lib.core"}
    assert find_circles(graph) == []


def test_a_clean_package_passes(tmp_path):
    root = _write(tmp_path, {
        "pkg/__init__.py": "from pkg.top import main\n",
        "pkg/top.py": "from pkg.low import value\nimport json\n\ndef main():\n    from pkg import low\n",
        "pkg/low.py": "import os\nvalue = 1\n",
    })  # fmt: skip
    assert find_circles(build_graph(root, ["pkg"])) == []


def test_components_of_a_long_chain_without_recursion():
    chain = {str(i): {str(i + 1)} for i in range(5000)} | {"5000": {"0"}}
    components = strongly_connected_components(chain)
    assert len(components) == 1 and len(components[0]) == 5001
