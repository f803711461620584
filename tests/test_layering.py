"""The rooms of jaxdl import one way only, down the declared order (CONTRIBUTING.md).

Every module under ``jaxdl/`` is parsed with :mod:`ast`; every import (top level,
inside functions, inside ``if TYPE_CHECKING``) that names another room must name a
room of a lower layer. Rooms of one layer do not import each other. A second test
imports ``jaxdl.nn`` in a fresh interpreter and checks that it loads no probabilistic
model, no training engine and no Gibbs sampler.
"""

from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "jaxdl"

# The declared order, lowest layer first. A room imports only rooms of earlier layers.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("typing",),
    ("_checks", "_numerics"),
    ("sampling",),
    ("data", "metrics"),
    ("losses",),
    ("nn",),
    ("graphs", "pretraining"),
    ("probabilistic",),
    ("optim",),
    ("training",),
    ("selection", "adversarial"),
    ("testing",),
    ("experiment",),
    ("cli",),
)
LEVEL = {room: level for level, rooms in enumerate(LAYERS) for room in rooms}


def _room(module: str) -> str | None:
    """``jaxdl.nn.mlp`` -> ``nn``; ``jaxdl`` itself (the package root) -> None."""
    parts = module.split(".")
    if parts[0] != "jaxdl" or len(parts) == 1:
        return None
    return parts[1]


def _module_name(path: pathlib.Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every ``jaxdl...`` module an import statement names, with its line."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "jaxdl":
                # ``from jaxdl import nn``: the names are rooms.
                found.extend((node.lineno, f"jaxdl.{alias.name}") for alias in node.names)
            else:
                found.append((node.lineno, target))
    return [(line, name) for line, name in found if name.split(".")[0] == "jaxdl"]


def _modules() -> list[pathlib.Path]:
    return sorted(PACKAGE.rglob("*.py"))


def layering_violations() -> list[str]:
    violations = []
    for path in _modules():
        module = _module_name(path)
        source_room = _room(module)
        if source_room is None:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, target in _imported_modules(tree, module, path.name == "__init__.py"):
            target_room = _room(target)
            if target_room is None or target_room == source_room:
                continue
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            if source_room not in LEVEL:
                violations.append(f"{where}: room {source_room!r} is not in the declared order")
            elif target_room not in LEVEL:
                violations.append(f"{where}: imports {target}, an undeclared room")
            elif LEVEL[target_room] >= LEVEL[source_room]:
                relation = (
                    "the same layer as"
                    if LEVEL[target_room] == LEVEL[source_room]
                    else ("a layer above")
                )
                violations.append(
                    f"{where}: {module} imports {target} ({target_room} is {relation} "
                    f"{source_room})"
                )
    return violations


def test_every_room_is_declared():
    rooms = {_room(_module_name(path)) for path in _modules()} - {None}
    assert rooms <= set(LEVEL), f"rooms missing from LAYERS: {sorted(rooms - set(LEVEL))}"


def test_imports_follow_the_declared_order():
    violations = layering_violations()
    assert not violations, "imports against the declared order:\n" + "\n".join(violations)


def test_the_checker_sees_lazy_and_relative_imports():
    source = (
        "import jaxdl.training\n"
        "from . import mlp\n"
        "from jaxdl import probabilistic\n"
        "def f():\n"
        "    from jaxdl.sampling import gibbs\n"
    )
    names = [name for _, name in _imported_modules(ast.parse(source), "jaxdl.nn.x", False)]
    assert names == ["jaxdl.training", "jaxdl.nn", "jaxdl.probabilistic", "jaxdl.sampling"]


@pytest.mark.parametrize(
    ("root", "forbidden"),
    [
        ("jaxdl.nn", ("jaxdl.probabilistic", "jaxdl.training", "jaxdl.graphs")),
        ("jaxdl.losses", ("jaxdl.nn", "jaxdl.probabilistic", "jaxdl.training")),
        ("jaxdl.sampling", ("jaxdl.nn", "jaxdl.probabilistic", "jaxdl.training")),
        ("jaxdl.data", ("jaxdl.nn", "jaxdl.probabilistic", "jaxdl.training")),
        ("jaxdl.metrics", ("jaxdl.nn", "jaxdl.probabilistic", "jaxdl.training")),
        ("jaxdl.optim", ("jaxdl.training",)),
    ],
)
def test_importing_a_room_loads_no_room_above_it(root, forbidden):
    code = (
        "import json, sys\n"
        f"import {root}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('jaxdl'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    offending = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden)]
    assert not offending, f"import {root} loads {offending}"
