"""The module import graph of a source tree, read with `ast` (nothing is imported), and its circles.

Why a static reader: an import hidden inside a function, or under `if TYPE_CHECKING:`, still
ties two modules together (the function import only moves the circle to run time, the
type-checking one keeps the two from being understood or moved apart), so every import
statement anywhere in a file counts.

What counts as an edge from module X (only to modules of the scanned tree; others are ignored):
- `import a.b.c`, `from a.b.c import name`: X -> a.b.c.
- `from a.b import c` where `a/b/c.py` or `a/b/c/` exists: X -> a.b.c (the submodule); if
  some imported name is not a submodule, also X -> a.b (its `__init__` must define the name).
- relative forms (`from . import x`, `from ..y import z`) resolve against X's package first.
- `importlib.import_module("a.b")` with a literal name: X -> a.b (computed names cannot be read).
- the parent packages Python executes on the way (`import a.b.c` runs a/__init__ and
  a/b/__init__): X -> a and X -> a.b, except the packages that contain X. Those have already
  started executing before X's body runs (Python imports a module's parents first), so the edge
  says nothing new; counting it would turn every package whose `__init__` re-exports a
  submodule that imports a sibling by its full name into a false circle. An explicit
  `from a import name` of an enclosing package is still counted (the name must exist by then).
A package's `__init__.py` is the module named after the package.

    python -m tests.architecture.import_graph [ROOT]   # print the circles of the four roots
"""

from __future__ import annotations

import ast
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

# The trees whose modules must not import each other in a circle (issue 14).
CHECKED_PACKAGES = ("biomedgpt_tools", "agents", "training", "evals")


@dataclass(frozen=True)
class SourceModule:
    """One module of the tree: its dotted name, its file, and whether it is a package."""

    name: str
    path: Path
    is_package: bool


@dataclass(frozen=True)
class ImportEdge:
    """`source` imports `target` at `path:line`."""

    source: str
    target: str
    path: Path
    line: int


def find_modules(root: Path, packages: Iterable[str]) -> dict[str, SourceModule]:
    """Every `.py` file under each package folder of `root`, by dotted module name."""
    modules: dict[str, SourceModule] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            modules[name] = SourceModule(name, path, is_package)
    return modules


def _parents(name: str) -> Iterator[str]:
    """'a.b.c' -> 'a', 'a.b' (the packages Python executes before a.b.c)."""
    parts = name.split(".")
    for end in range(1, len(parts)):
        yield ".".join(parts[:end])


def _known_prefix(name: str, modules: Mapping[str, SourceModule]) -> str | None:
    """The longest leading part of `name` that is a module of the tree (None: not ours)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _resolve_relative(module: SourceModule, level: int, name: str | None) -> str | None:
    """The absolute module a `from {'.' * level}{name} import ...` in `module` names."""
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    parts = package.split(".") if package else []
    if level - 1 > len(parts) - 1:
        return None  # beyond the top of the tree (Python raises ImportError)
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, *([name] if name else [])])


def _import_module_target(node: ast.Call, module: SourceModule) -> str | None:
    """The literal module name of `import_module("...")` / `importlib.import_module("...")`."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if called != "import_module" or not node.args:
        return None
    first = node.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    name = first.value
    if not name.startswith("."):
        return name
    level = len(name) - len(name.lstrip("."))
    package_arg = node.args[1] if len(node.args) > 1 else None
    for keyword in node.keywords:
        if keyword.arg == "package":
            package_arg = keyword.value
    if isinstance(package_arg, ast.Name) and package_arg.id in ("__name__", "__package__"):
        if package_arg.id == "__name__" and not module.is_package:
            return None  # import_module('.x', __name__) in a plain module is an error anyway
        return _resolve_relative(module, level, name.lstrip(".") or None)
    return None


def _targets(
    node: ast.AST, module: SourceModule, modules: Mapping[str, SourceModule]
) -> Iterator[tuple[str, bool]]:
    """(module, explicit) pairs one import node makes `module` depend on; explicit=False for a
    parent package executed on the way."""
    named: list[str] = []
    if isinstance(node, ast.Import):
        named = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = _resolve_relative(module, node.level, node.module) if node.level else node.module
        if base is None:
            return
        submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
        # a name that is not a submodule is an attribute of `base`, so `base` itself is needed
        named = submodules if len(submodules) == len(node.names) else [*submodules, base]
    elif isinstance(node, ast.Call):
        target = _import_module_target(node, module)
        named = [target] if target else []
    for name in named:
        known = _known_prefix(name, modules)
        if known is None:
            continue
        yield known, True
        yield from ((parent, False) for parent in _parents(known))


def imports_of(module: SourceModule, modules: Mapping[str, SourceModule]) -> list[ImportEdge]:
    """Every edge from `module` to another module of the tree, first line of each, any depth."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
    enclosing = {module.name, *_parents(module.name)}
    first_line: dict[str, int] = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom, ast.Call)):
            continue
        for target, explicit in _targets(node, module, modules):
            if target == module.name or (not explicit and target in enclosing):
                continue
            line = node.lineno
            first_line[target] = min(line, first_line.get(target, line))
    return [
        ImportEdge(module.name, target, module.path, line)
        for target, line in sorted(first_line.items())
    ]


ImportGraph = dict[str, dict[str, ImportEdge]]


def build_graph(root: Path, packages: Iterable[str] = CHECKED_PACKAGES) -> ImportGraph:
    """module -> {imported module -> the edge}, for every module of `packages` under `root`."""
    modules = find_modules(root, packages)
    return {
        name: {edge.target: edge for edge in imports_of(module, modules)}
        for name, module in sorted(modules.items())
    }


def strongly_connected_components(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit on deep trees); each component sorted."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    successors = {node: sorted(targets) for node, targets in graph.items()}
    for start in sorted(successors):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(successors[start]))]
        index[start] = lowlink[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in successors:
                    continue
                if child not in index:
                    index[child] = lowlink[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors[child])))
                elif child in on_stack:
                    lowlink[node] = min(lowlink[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
            if lowlink[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _shortest_cycle(graph: ImportGraph, start: str, members: set[str]) -> list[str]:
    """The shortest chain start -> ... -> start inside one component (breadth first)."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node]):
            if child not in members:
                continue
            if child == start:
                chain = [node]
                while chain[-1] != start:
                    chain.append(previous[chain[-1]])
                return [*reversed(chain), start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    raise AssertionError(f"{start} is in a component but on no cycle")  # not reachable


@dataclass(frozen=True)
class ImportCircle:
    """Modules that import each other, directly or around a chain, and chains that show it."""

    members: tuple[str, ...]
    chains: tuple[tuple[str, ...], ...]
    graph_edges: tuple[ImportEdge, ...]

    def describe(self, root: Path | None = None) -> str:
        """'a -> b -> a', one line per chain, and the import line behind each arrow."""
        lines = [f"circle of {len(self.members)} modules: {', '.join(self.members)}"]
        lines += ["  " + " -> ".join(chain) for chain in self.chains]
        for edge in self.graph_edges:
            path = edge.path.relative_to(root) if root else edge.path
            lines.append(f"    {path}:{edge.line} imports {edge.target}")
        return "\n".join(lines)


def find_circles(graph: ImportGraph) -> list[ImportCircle]:
    """Every component of more than one module, with shortest chains covering all its members."""
    circles = []
    for component in strongly_connected_components(graph):
        if len(component) < 2:
            continue  # a module's import of itself is skipped when the graph is built
        members = set(component)
        chains: list[tuple[str, ...]] = []
        covered: set[str] = set()
        for member in component:
            if member not in covered:
                chain = _shortest_cycle(graph, member, members)
                chains.append(tuple(chain))
                covered.update(chain)
        edges = {(a, b) for chain in chains for a, b in pairwise(chain)}
        circles.append(
            ImportCircle(
                tuple(component),
                tuple(chains),
                tuple(sorted((graph[a][b] for a, b in edges), key=lambda e: (e.path, e.line))),
            )
        )
    return circles


def main(argv: Sequence[str] | None = None) -> int:
    """Print the circles of the checked packages under ROOT (default: this repository)."""
    args = list(sys.argv[1:] if argv is None else argv)
    root = Path(args[0]) if args else Path(__file__).resolve().parents[2]
    circles = find_circles(build_graph(root))
    for circle in circles:
        print(circle.describe(root), end="\n\n")
    print(f"{len(circles)} import circle(s) in {', '.join(CHECKED_PACKAGES)}")
    return 1 if circles else 0


if __name__ == "__main__":
    raise SystemExit(main())
