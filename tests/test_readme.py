"""The README's quick example runs as written."""

from __future__ import annotations

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.standard_dtype_promotion
def test_quick_example_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2
    code = "\n".join(blocks[:2]).replace('"/tmp/ckpt"', repr(str(tmp_path / "ckpt")))
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)  # noqa: S102
    printed = float(capsys.readouterr().out.strip().splitlines()[0])
    assert printed < 0.3  # the quick example's final training loss
    assert namespace["result"].history[-1]["val_accuracy"] > 0.9
