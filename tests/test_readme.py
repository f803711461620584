"""The README's quick examples run as written, quickly, and write nowhere fixed.

The code blocks are executed exactly as the README shows them (no text substitution):
the first trains with a jitted, donating step and prints its final loss; the second
trains with ``fit`` on a train / val split and checkpoints into ``tempfile.mkdtemp()``,
which this test points at its own temporary directory. A fixed checkpoint directory
would make a second run of the block resume the finished first one (or fail) instead of
training afresh: the blocks may name no absolute path.
"""

from __future__ import annotations

import pathlib
import re
import tempfile

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def quick_example_blocks() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Quick example") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_quick_examples_write_nowhere_fixed():
    blocks = quick_example_blocks()
    assert len(blocks) == 2
    for block in blocks:
        assert not re.search(r"""["'](/|~|[A-Za-z]:\\)""", block), "a fixed absolute path"
    assert "tempfile.mkdtemp(" in blocks[1]


@pytest.mark.standard_dtype_promotion
@pytest.mark.slow
def test_quick_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # mkdtemp() lands in tmp_path
    monkeypatch.chdir(tmp_path)
    first, second = quick_example_blocks()
    namespace: dict = {}
    exec(compile(first, str(README), "exec"), namespace)  # noqa: S102
    printed = float(capsys.readouterr().out.strip().splitlines()[0])
    assert printed < 0.3  # the first example's final training loss

    exec(compile(second, str(README), "exec"), namespace)  # noqa: S102
    history = namespace["result"].history
    assert len(history) > 1
    assert history[-1]["val_accuracy"] > 0.9
    (checkpoint_dir,) = tmp_path.glob("jaxdl-quick-*")  # the checkpoints went to mkdtemp()
    assert any(checkpoint_dir.iterdir())
