"""The rnn-vs-transformer experiment's smoke config runs end to end (fit_many populations)."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_trains_each_population(tmp_path):
    summary = run_smoke("rnn-vs-transformer", tmp_path)
    for name in ("gru", "transformer"):
        result = summary[name]
        # 30 steps: the course-form GRU's loss falls by about 5 %, the Transformer's by 30 %
        assert result["final_train_loss_per_token"] < 0.97 * result["first_train_loss_per_token"]
        assert len(result["test_exact_match_per_seed"]) == 2  # one per population member
        assert result["test_token_accuracy_mean"] > 1 / 4  # better than chance over 4 symbols
        assert result["population_wall_seconds"] > 0
    for name in ("config.json", "metrics.jsonl", "summary.json", "loss.png"):
        assert (tmp_path / name).exists(), name
