"""Run the docstring examples (``>>>``) of every module of :mod:`jaxdl` as tests.

Every module and package under ``jaxdl/`` is found with :func:`pkgutil.walk_packages`, so a
new module is covered without editing a list. Each runs through :func:`doctest.testmod`
with ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``, one test per module (``pytest -n`` spreads
them over workers). Every module that defines something public must actually run examples;
only packages (``__init__`` re-exports) and the modules in ``MODULES_WITHOUT_EXAMPLES`` may
have none, so examples cannot silently disappear.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import jaxdl

pytestmark = pytest.mark.standard_dtype_promotion

# Modules that define nothing an example would show (type aliases only).
MODULES_WITHOUT_EXAMPLES = frozenset({"jaxdl.typing"})

# Modules whose examples compile whole training runs (over 60 s each in the 2-worker
# baseline on a loaded 2-core machine): marked ``slow``, still run in CI.
SLOW_MODULES = frozenset(
    {
        "jaxdl.data.toy",
        "jaxdl.probabilistic.gan",
        "jaxdl.probabilistic.vae",
        "jaxdl.training.loop",
        "jaxdl.training.transfer",
    }
)

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_infos() -> list[pkgutil.ModuleInfo]:
    infos = [pkgutil.ModuleInfo(None, "jaxdl", True)]
    infos += pkgutil.walk_packages(jaxdl.__path__, "jaxdl.")
    return sorted(infos, key=lambda info: info.name)


MODULES = {info.name: info.ispkg for info in _module_infos()}


@pytest.fixture
def doctest_env(monkeypatch, tmp_path):
    """Headless matplotlib, and a scratch working directory for anything written to cwd."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.slow) if name in SLOW_MODULES else name
        for name in sorted(MODULES)
    ],
)
def test_docstring_examples(name, doctest_env):
    module = importlib.import_module(name)
    results = doctest.testmod(module, optionflags=FLAGS, verbose=False, report=True)
    assert results.failed == 0, f"{results.failed} failing example(s) in {name} (see stdout)"
    if not MODULES[name] and name not in MODULES_WITHOUT_EXAMPLES:
        assert results.attempted > 0, (
            f"{name} runs no docstring example: add one, or list the module in "
            f"MODULES_WITHOUT_EXAMPLES"
        )


def test_every_module_is_found():
    """The discovery really walks the whole package (subpackages included)."""
    assert "jaxdl.training.loop" in MODULES
    assert "jaxdl.nn.mlp" in MODULES
    assert MODULES_WITHOUT_EXAMPLES <= set(MODULES)
    assert SLOW_MODULES <= set(MODULES), sorted(SLOW_MODULES - set(MODULES))
