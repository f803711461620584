"""Experiments stand alone: none imports another, and none selects a matplotlib backend.

Every ``.py`` file under ``experiments/<name>/`` is parsed with :mod:`ast`; an import of
``experiments.<other>`` (absolute, or relative beyond its own folder) would make one
experiment's results depend on another's code, so code shared by two experiments belongs
in jaxdl. ``matplotlib.use`` belongs to the CLI, which owns the run.
"""

from __future__ import annotations

import ast
import pathlib

EXPERIMENTS = pathlib.Path(__file__).resolve().parents[2] / "experiments"


def experiment_files():
    for folder in sorted(p for p in EXPERIMENTS.iterdir() if p.is_dir()):
        if not folder.name.startswith(("_", ".")):
            for path in sorted(folder.rglob("*.py")):
                yield folder.name, path


def imported_experiments(tree: ast.AST, path: pathlib.Path) -> set[str]:
    """Folders under experiments/ named by the imports of ``tree`` (a file at ``path``)."""
    found = set()
    depth = len(path.relative_to(EXPERIMENTS).parts) - 1  # package depth below experiments/
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                if node.level > depth:
                    found.add("<above its folder>")
                    continue
                package = path.relative_to(EXPERIMENTS).parts[: depth - node.level + 1]
                names = [".".join(("experiments", *package, node.module or ""))]
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "experiments" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_no_experiment_imports_another():
    offenders = []
    for name, path in experiment_files():
        tree = ast.parse(path.read_text(), str(path))
        for other in imported_experiments(tree, path) - {name}:
            offenders.append(f"{path.relative_to(EXPERIMENTS.parent)} imports {other}")
    assert not offenders, offenders


def test_no_experiment_selects_a_matplotlib_backend():
    for _, path in experiment_files():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr != "use" or not _is_matplotlib(node.func.value), path


def _is_matplotlib(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id in ("matplotlib", "mpl")


def test_the_checker_sees_absolute_and_relative_imports():
    path = EXPERIMENTS / "demo" / "configs" / "smoke.py"
    source = (
        "import experiments.gan_ring.train\n"
        "from experiments.markov_chain import train\n"
        "from .. import train\n"
        "from ...optimizers import train\n"
        "from experiments.demo.configs import default\n"
    )
    found = imported_experiments(ast.parse(source), path)
    assert found == {"gan_ring", "markov_chain", "demo", "<above its folder>"}
