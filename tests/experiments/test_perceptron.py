"""perceptron smoke run: every run converges within Novikoff's bound."""

from experiments.perceptron.configs import smoke
from experiments.perceptron.train import train_and_evaluate


def test_smoke(tmp_path):
    summary = train_and_evaluate(smoke.get_config(), str(tmp_path))
    assert summary["all_converged"]
    assert summary["within_bound"]
    assert 0 < summary["max_updates"] <= summary["bound"]
    assert summary["margin"] >= smoke.get_config()["margin"] * (1 - 1e-5)
    assert (tmp_path / "perceptron.png").exists()
