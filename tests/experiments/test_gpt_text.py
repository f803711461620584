"""The gpt-text experiment's smoke config runs end to end and learns."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_and_samples(tmp_path):
    summary = run_smoke("gpt-text", tmp_path)
    assert summary["final_train_loss"] < 0.9 * summary["first_train_loss"]
    assert summary["test_perplexity"] < 256  # better than uniform over bytes
    assert len(summary["samples"]) == 2
    for name in ("config.json", "metrics.jsonl", "summary.json", "loss.png", "samples.txt"):
        assert (tmp_path / name).exists(), name
