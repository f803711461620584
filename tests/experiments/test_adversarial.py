"""Smoke run of experiments/adversarial: losses fall, attacks hurt, files exist."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_adversarial_smoke(tmp_path):
    summary = run_smoke("adversarial", tmp_path)
    for name in ("standard", "adversarial"):
        assert summary[f"final_train_loss_{name}"] < summary[f"first_train_loss_{name}"]
        clean, attacked = summary[f"fgsm_accuracy_{name}"]
        assert clean == pytest.approx(summary[f"clean_accuracy_{name}"])
        assert attacked < clean
    for name in ("config.json", "metrics.jsonl", "summary.json", "loss.png", "robust_accuracy.png"):
        assert (tmp_path / name).exists(), name
