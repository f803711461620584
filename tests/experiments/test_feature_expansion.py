"""feature-expansion smoke run: fixed features explain part of the variance."""

from tests.experiments import run_smoke


def test_smoke(tmp_path):
    summary = run_smoke("feature-expansion", tmp_path)
    for name in ("polynomial", "sigmoid"):
        assert summary[f"{name}_train_rmse_g"] < summary["target_std_g"]
    rmse = summary["rmse_by_degree_g"]
    assert all(b <= a + 1e-3 for a, b in zip(rmse, rmse[1:], strict=False))  # nested models
    for name in ("fits.png", "rmse_by_degree.png", "summary.json"):
        assert (tmp_path / name).exists(), name
