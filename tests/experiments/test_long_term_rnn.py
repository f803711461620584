"""The long-term-rnn experiment's smoke config runs end to end and learns."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_and_plots_gradient_norms(tmp_path):
    summary = run_smoke("long-term-rnn", tmp_path)
    models = summary["models"]
    assert set(models) == {"lstm"}
    assert models["lstm"]["final_train_loss"] < models["lstm"]["first_train_loss"]
    assert models["lstm"]["grad_norm_first_over_last"] > 0.0
    for name in ("val_loss.png", "gradient_norms.png", "metrics.jsonl"):
        assert (tmp_path / name).exists(), name
