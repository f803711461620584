"""Every module of ``jaxdl/`` has its mirrored test file.

The convention (STYLE.md section 6, "tests/ mirrors jaxdl/"): the module
``jaxdl/<path>/<name>.py`` is tested in ``tests/<path>/test_<name>.py``; a module
``jaxdl/<name>.py`` at the top level in ``tests/test_<name>.py``; a module of a
sub-package ``jaxdl/<path>/<package>/<name>.py`` in ``tests/<path>/<package>/test_<name>.py``.

Not required to have a file of their own:

- ``__init__.py`` files: they only re-export; what they export is tested where it is
  defined (and its examples run in ``tests/test_doctests.py``);
- private modules (a name starting with ``_``, such as ``jaxdl/_checks.py``): they are
  implementation details, tested through the public functions that use them. A private
  module may still have a test file; nothing requires it.
"""

from __future__ import annotations

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "jaxdl"
TESTS = ROOT / "tests"


def public_modules() -> list[pathlib.Path]:
    """Every ``jaxdl/**/*.py`` except ``__init__.py`` and private ``_*.py`` modules."""
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if any(part.startswith("_") for part in relative.parts):
            continue  # __init__.py, private modules, private packages, __pycache__
        modules.append(relative)
    return modules


def mirrored_test(module: pathlib.Path) -> pathlib.Path:
    """``nn/mlp.py`` -> ``tests/nn/test_mlp.py``."""
    return TESTS / module.parent / f"test_{module.name}"


def test_the_walk_finds_the_modules():
    modules = public_modules()
    assert pathlib.Path("nn/mlp.py") in modules
    assert pathlib.Path("typing.py") in modules
    assert not any(m.name == "__init__.py" or m.name.startswith("_") for m in modules)
    assert mirrored_test(pathlib.Path("nn/mlp.py")) == TESTS / "nn" / "test_mlp.py"
    assert mirrored_test(pathlib.Path("cli.py")) == TESTS / "test_cli.py"


def test_every_public_module_has_its_mirrored_test_file():
    missing = [
        f"jaxdl/{module} -> {mirrored_test(module).relative_to(ROOT)}"
        for module in public_modules()
        if not mirrored_test(module).is_file()
    ]
    assert not missing, "modules without their mirrored test file:\n" + "\n".join(missing)


def test_mirrored_test_directories_are_packages():
    """Each tests/ sub-directory has an ``__init__.py`` so equal file names never clash."""
    missing = [
        str(directory.relative_to(ROOT))
        for directory in {mirrored_test(module).parent for module in public_modules()}
        if directory != TESTS and directory.is_dir() and not (directory / "__init__.py").exists()
    ]
    assert not missing, f"test directories without __init__.py: {sorted(missing)}"
