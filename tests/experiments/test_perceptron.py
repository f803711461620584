"""perceptron smoke run: every run converges within Novikoff's bound."""

from experiments.perceptron.configs import smoke
from tests.experiments import run_smoke


def test_smoke(tmp_path):
    summary = run_smoke("perceptron", tmp_path)
    assert summary["all_converged"]
    assert summary["within_bound"]
    assert 0 < summary["max_updates"] <= summary["bound"]
    assert summary["margin"] >= smoke.get_config()["margin"] * (1 - 1e-5)
    assert (tmp_path / "perceptron.png").exists()
