"""Every entry of ``tests/slow_tests.txt`` names a test that exists.

A renamed or deleted test would otherwise leave a stale line behind, and a moved slow test
would silently run in the fast suite again.
"""

from __future__ import annotations

import pathlib
import re

from tests.conftest import _slow_ids

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_slow_entry_names_an_existing_test():
    stale = []
    for entry in _slow_ids():
        path, _, node = entry.partition("::")
        file = ROOT / path
        if not file.is_file():
            stale.append(entry)
            continue
        if node:
            function = re.sub(r"\[.*\]$", "", node.split("::")[-1])
            if not re.search(rf"^\s*(async )?def {re.escape(function)}\(", file.read_text(), re.M):
                stale.append(entry)
    assert not stale, f"tests/slow_tests.txt names tests that do not exist: {stale}"


def test_the_slow_list_is_read():
    assert len(_slow_ids()) > 10
    assert all(entry.startswith("tests/") for entry in _slow_ids())
