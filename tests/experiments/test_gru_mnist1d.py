"""The gru-mnist1d experiment's smoke config runs end to end and learns."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_and_writes_its_plots(tmp_path):
    summary = run_smoke("gru-mnist1d", tmp_path)
    assert summary["final_train_loss"] < 0.97 * summary["first_train_loss"]
    assert 0.0 <= summary["test_accuracy"] <= 1.0
    for name in ("summary.json", "metrics.jsonl", "loss.png", "accuracy.png"):
        assert (tmp_path / name).exists(), name


def test_the_shuffled_control_is_the_default_with_the_time_steps_permuted():
    from experiments.gru_mnist1d.configs import default, shuffled

    ordered, control = default.get_config(), shuffled.get_config()
    assert control["shuffle_time"] and not ordered["shuffle_time"]
    assert {k: v for k, v in control.items() if k != "shuffle_time"} == {
        k: v for k, v in ordered.items() if k != "shuffle_time"
    }
