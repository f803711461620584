"""Run the docstring examples (``>>>``) of the finished modules as tests.

Each module's examples run through :func:`doctest.testmod` with ``ELLIPSIS`` and
``NORMALIZE_WHITESPACE``. Every module of the covered packages is found automatically;
all but the few listed in ``MODULES_WITHOUT_EXAMPLES`` must actually run examples, so
examples cannot silently disappear and a new module comes with its own.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

pytestmark = pytest.mark.standard_dtype_promotion

# Every module of these packages is covered.
PACKAGES = (
    "jaxdl.testing",
    "jaxdl.metrics",
    "jaxdl.optim",
    "jaxdl.training",
    "jaxdl.sampling",
)

# Single modules covered as well.
MODULES = (
    "jaxdl.data.datasets",
    "jaxdl.data.toy",
    "jaxdl.data.preprocessing",
    "jaxdl._checks",
    "jaxdl.typing",
    "jaxdl.cli",
    "jaxdl.nn.dropout",
    "jaxdl.nn.autoencoders",
    "jaxdl.probabilistic.bayesnet",
    "jaxdl.probabilistic.undirected",
    "jaxdl.probabilistic.vae",
    "jaxdl.probabilistic.gan",
    "jaxdl.probabilistic.ising",
    "jaxdl.probabilistic.rbm",
    "jaxdl.probabilistic.rbm.model",
    "jaxdl.probabilistic.rbm.gibbs",
    "jaxdl.probabilistic.rbm.training",
    "jaxdl.probabilistic.rbm.partition",
)

# Covered modules that define nothing with an example (re-exporting packages, type aliases).
MODULES_WITHOUT_EXAMPLES = frozenset(PACKAGES) | {"jaxdl.typing"}

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names() -> list[str]:
    names = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        names.append(package_name)
        names.extend(
            info.name for info in pkgutil.iter_modules(package.__path__, package_name + ".")
        )
    return sorted(names) + list(MODULES)


@pytest.fixture
def doctest_env(monkeypatch, tmp_path):
    """Headless matplotlib, and a scratch working directory for anything written to cwd."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("name", _module_names())
def test_docstring_examples(name, doctest_env):
    module = importlib.import_module(name)
    results = doctest.testmod(module, optionflags=FLAGS, verbose=False, report=True)
    assert results.failed == 0, f"{results.failed} failing example(s) in {name} (see stdout)"
    if name not in MODULES_WITHOUT_EXAMPLES:
        assert results.attempted > 0, (
            f"{name} runs no docstring example: add one, or list the module in "
            f"MODULES_WITHOUT_EXAMPLES"
        )


def test_modules_without_examples_are_covered():
    assert MODULES_WITHOUT_EXAMPLES <= set(_module_names())
