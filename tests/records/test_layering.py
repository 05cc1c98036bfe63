"""`records/` is layered like the rest: each module imports only from its own layer or below.

The imports are read from the source (ast), so an import placed inside a function to get around a
cycle is seen too: inside a function, an import of `records` is refused outright.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

# records/ from the bottom up; a module may import its own layer and the layers below it.
RECORDS_LAYERS: tuple[tuple[str, ...], ...] = (
    ("reference",),  # the directory, calendar, policy and plans the deployment reads
    ("snapshots", "events"),  # the event log and the spelling of the rows it carries
    ("service", "registry", "dispatches", "review", "scans", "ingest", "users"),  # writers
    (
        "chain",
        "holdings",
        "progress",
        "views",
        "pages",
        "dashboard",
        "search",
        "inbox",
        "digests",
        "registers",
    ),  # read models
    ("audit",),  # replays the log through the writers
)
# The project's packages from the bottom up: models <- routing <- records/visualize <- flows <- cli/app.
PACKAGE_LAYERS: tuple[tuple[str, ...], ...] = (
    ("models",),
    ("routing",),
    ("records", "visualize"),
    ("flows",),
    ("cli", "app"),
)

_RECORDS = ROOT / "records"


def _layer_of(name: str, layers: tuple[tuple[str, ...], ...]) -> int | None:
    return next((i for i, layer in enumerate(layers) if name in layer), None)


def _imports(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(module imported, line, inside a function) for every import in the file, at any depth."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno, in_function
            elif isinstance(child, ast.ImportFrom):
                if child.level:  # relative: resolved against the file's own package
                    base = ".".join(path.relative_to(ROOT).with_suffix("").parts[: -child.level])
                    module = f"{base}.{child.module}" if child.module else base
                else:
                    module = child.module or ""
                yield module, child.lineno, in_function
                for alias in child.names:  # `from records import progress` imports records.progress
                    yield f"{module}.{alias.name}", child.lineno, in_function
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from walk(child, inner)

    yield from walk(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)


def _records_module(imported: str) -> str | None:
    """`records.x` (or anything inside it) -> `x`, when records/x.py exists."""
    parts = imported.split(".")
    if len(parts) < 2 or parts[0] != "records" or not (_RECORDS / f"{parts[1]}.py").exists():
        return None
    return parts[1]


def _records_modules() -> list[Path]:
    return sorted(p for p in _RECORDS.glob("*.py") if p.stem != "__init__")


def _records_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in _records_modules():
        targets = {_records_module(m) for m, _, _ in _imports(path)}
        graph[path.stem] = {t for t in targets if t is not None and t != path.stem}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph, as a path that starts and ends at the same node, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_every_records_module_has_a_layer() -> None:
    undeclared = [p.stem for p in _records_modules() if _layer_of(p.stem, RECORDS_LAYERS) is None]
    assert not undeclared, f"records modules missing from RECORDS_LAYERS: {undeclared}"


@pytest.mark.parametrize("path", _records_modules(), ids=lambda p: p.stem)
def test_records_module_imports_records_at_top_only(path: Path) -> None:
    inside = sorted(
        {f"line {line}: {module}" for module, line, in_function in _imports(path)
         if in_function and module.split(".")[0] == "records"}
    )  # fmt: skip
    assert not inside, (
        f"records/{path.name} imports records inside a function (move the code to its owner): {inside}"
    )


@pytest.mark.parametrize("path", _records_modules(), ids=lambda p: p.stem)
def test_records_module_imports_only_down_the_layers(path: Path) -> None:
    own = _layer_of(path.stem, RECORDS_LAYERS)
    if own is None:
        pytest.skip("not declared (see test_every_records_module_has_a_layer)")
    upward = set()
    for module, line, _ in _imports(path):
        target = _records_module(module)
        layer = None if target is None else _layer_of(target, RECORDS_LAYERS)
        if layer is not None and layer > own:
            upward.add(f"line {line}: records.{target}")
    assert not upward, f"records/{path.name} imports from a layer above its own: {sorted(upward)}"


def test_records_modules_import_no_cycle() -> None:
    assert _cycle(_records_graph()) is None, (
        f"import cycle in records: {' -> '.join(_cycle(_records_graph()) or [])}"
    )


def _package_graph() -> dict[str, set[str]]:
    packages = [name for layer in PACKAGE_LAYERS for name in layer]
    graph: dict[str, set[str]] = {name: set() for name in packages}
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            for module, _, _ in _imports(path):
                top = module.split(".")[0]
                if top in graph and top != package:
                    graph[package].add(top)
    return graph


def test_project_packages_import_no_cycle() -> None:
    graph = _package_graph()
    assert _cycle(graph) is None, f"import cycle among packages: {' -> '.join(_cycle(graph) or [])}"


def test_project_packages_import_only_down_the_layers() -> None:
    upward = sorted(
        f"{package} -> {target}"
        for package, targets in _package_graph().items()
        for target in targets
        if (_layer_of(target, PACKAGE_LAYERS) or 0) > (_layer_of(package, PACKAGE_LAYERS) or 0)
    )
    assert not upward, f"packages importing from a layer above their own: {upward}"


def test_the_checker_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    """The reader itself: an import in a function body is found and marked as such."""
    source = tmp_path / "m.py"
    source.write_text("import os\n\ndef f():\n    from records.progress import directory\n", encoding="utf-8")
    found = {(m, inside) for m, _, inside in _imports(source)}
    assert ("os", False) in found and ("records.progress", True) in found
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


# What the interfaces may take from SQLAlchemy and SQLModel: the engine and session types and the
# driver's exceptions, to pass a session along or report a failure; never a query-building name.
_INTERFACE_SQL_ALLOWED = {"sqlalchemy.engine", "sqlalchemy.engine.Engine", "sqlalchemy.exc"}


def _interface_modules() -> list[Path]:
    return sorted(p for package in ("app", "cli") for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _interface_modules(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_interfaces_hold_no_sql(path: Path) -> None:
    """`app/` and `cli/` ask `records/`; they build no query of their own."""
    found = set()
    for module, line, _ in _imports(path):
        root = module.split(".")[0]
        if root == "sqlalchemy" and not any(
            module == allowed or module.startswith(allowed + ".") for allowed in _INTERFACE_SQL_ALLOWED
        ):
            found.add(f"line {line}: {module}")
        if root == "sqlmodel" and module not in ("sqlmodel", "sqlmodel.Session"):
            found.add(f"line {line}: {module}")
    assert not found, f"{path.relative_to(ROOT)} builds SQL (move it into records/): {sorted(found)}"
