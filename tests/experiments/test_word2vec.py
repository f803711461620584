"""The word2vec experiment's smoke config runs end to end and learns (both kinds)."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_and_answers_queries(tmp_path):
    summary = run_smoke("word2vec", tmp_path)
    for kind in ("skipgram", "cbow"):
        result = summary[kind]
        assert result["final_train_loss"] < 0.95 * result["first_train_loss"], kind
        assert result["neighbours"] and all(len(v) == 5 for v in result["neighbours"].values())
        assert result["num_analogies"] > 0
    for name in ("config.json", "metrics.jsonl", "summary.json", "loss.png"):
        assert (tmp_path / name).exists(), name
