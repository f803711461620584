"""Run the docstring examples (``>>>``) of the finished modules as tests.

Each module's examples run through :func:`doctest.testmod` with ``ELLIPSIS`` and
``NORMALIZE_WHITESPACE``; a module listed with examples must actually run some, so that
examples cannot silently disappear.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

pytestmark = pytest.mark.standard_dtype_promotion

# Modules whose docstrings carry examples.
MODULES_WITH_EXAMPLES = (
    "jaxdl.testing.gradcheck",
    "jaxdl.testing.invariants",
    "jaxdl.testing.strategies",
    "jaxdl.data.datasets",
    "jaxdl.data.toy",
    "jaxdl.data.preprocessing",
    "jaxdl.metrics.classification",
    "jaxdl.metrics.coverage",
    "jaxdl.metrics.ranking",
    "jaxdl.metrics.regression",
    "jaxdl.metrics.states",
    "jaxdl.optim.alias",
    "jaxdl.optim.constraints",
    "jaxdl.optim.diagnostics",
    "jaxdl.optim.function_optimizers",
    "jaxdl.optim.schedules",
    "jaxdl.optim.second_order",
    "jaxdl.optim.transforms",
    "jaxdl.training.hyperparams",
    "jaxdl.training.logging",
    "jaxdl.training.loop",
    "jaxdl.training.objectives",
    "jaxdl.training.sharding",
    "jaxdl.training.state",
    "jaxdl.training.transfer",
)

# Modules covered too, but without examples yet: any example added later runs here.
MODULES_WITHOUT_EXAMPLES = (
    "jaxdl.testing",
    "jaxdl.metrics",
    "jaxdl.optim",
    "jaxdl.training",
    "jaxdl.training.checkpoints",
    "jaxdl.training.early_stopping",
    "jaxdl._checks",
    "jaxdl.typing",
    "jaxdl.cli",
)

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.fixture
def doctest_env(monkeypatch, tmp_path):
    """Headless matplotlib, and a scratch working directory for anything written to cwd."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)


def _run(name: str) -> doctest.TestResults:
    module = importlib.import_module(name)
    return doctest.testmod(module, optionflags=FLAGS, verbose=False, report=True)


@pytest.mark.parametrize("name", MODULES_WITH_EXAMPLES)
def test_docstring_examples(name, doctest_env):
    results = _run(name)
    assert results.failed == 0, f"{results.failed} failing example(s) in {name} (see stdout)"
    assert results.attempted > 0, f"{name} is listed with examples but none ran"


@pytest.mark.parametrize("name", MODULES_WITHOUT_EXAMPLES)
def test_docstring_examples_of_modules_without_examples(name, doctest_env):
    results = _run(name)
    assert results.failed == 0, f"{results.failed} failing example(s) in {name} (see stdout)"
