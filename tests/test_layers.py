"""The package's layering, read from the source: imports point down (cli -> tasks -> data -> nn),
never up, and no two modules import each other at load time."""

from __future__ import annotations

import ast
import pathlib

import pytest

import lstmkit

ROOT = pathlib.Path(lstmkit.__file__).parent
# Lower ranks are lower layers; a subpackage imports only from lower ranks (and from itself).
# Ranks 0 and 1: the errors and the small helpers every layer may use.
RANK = {
    "errors": 0,
    "_checks": 1,
    "_files": 1,
    "_lazy": 1,
    "_machine": 1,
    "_table": 1,
    "_version": 1,
    "nn": 2,
    "viz": 2,
    "data": 3,
    "train": 3,
    # export writes networks (nn) to files and knows the tasks by duck typing, below them, so
    # that a task's export() method can call it
    "export": 3,
    "tasks": 4,
    "bench": 5,
    "experiments": 5,
    "serve": 5,
    "cli": 6,
}


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(("lstmkit", *parts)).removesuffix(".__init__")
        out[name] = path
    return out


def _imports(path: pathlib.Path, *, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {name for name in found if name.startswith("lstmkit.")}


MODULES = _modules()


def test_every_subpackage_has_a_rank():
    tops = {name.split(".")[1] for name in MODULES if name.count(".") >= 1}
    assert tops <= set(RANK), sorted(tops - set(RANK))


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "lstmkit"))
def test_no_upward_import(name):
    own = name.split(".")[1]
    upward = sorted(
        target
        for target in _imports(MODULES[name], top_level_only=False)
        if (top := target.split(".")[1]) != own and RANK[top] >= RANK[own]
    )
    assert not upward, f"{name} (layer {own}) imports {upward}"


def test_no_import_cycle_at_load_time():
    graph = {
        name: {t for t in _imports(path, top_level_only=True) if t in MODULES and t != name}
        for name, path in MODULES.items()
    }
    # A package's __init__ re-exporting its own modules is not a cycle a reader trips on;
    # a module importing its parent package is: drop only parent -> child edges.
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not t.startswith(name + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == [], "import cycles: " + "; ".join(cycles)
