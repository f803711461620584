"""Model-based search: the GP against NumPy, EI against its closed form, the unit-cube
maps, and the search on a function with a known optimum."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import norm

from jaxdl.selection import (
    continuous,
    expected_improvement,
    from_unit,
    gp_fit,
    gp_predict,
    integer,
    log_scaled,
    model_based_search,
    to_unit,
)
from jaxdl.testing import assert_grads_close


def _numpy_gp(x, y, x_new, length_scale, noise):
    def k(a, b):
        return np.exp(-0.5 * ((a[:, None] - b[None]) ** 2).sum(-1) / length_scale**2)

    mu, sd = y.mean(), y.std()
    z = (y - mu) / sd
    kxx = k(x, x) + noise * np.eye(len(x))
    ks = k(x, x_new)
    mean = ks.T @ np.linalg.solve(kxx, z)
    var = 1.0 - np.einsum("ij,ij->j", ks, np.linalg.solve(kxx, ks))
    return mu + sd * mean, sd * np.sqrt(np.maximum(var, 1e-12))


def test_gp_matches_numpy_and_ignores_masked_slots(key):
    x = np.asarray(jax.random.uniform(key, (7, 2)), np.float64)
    y = np.sin(3 * x[:, 0]) + x[:, 1] ** 2
    x_new = np.array([[0.2, 0.3], [0.8, 0.5], [0.5, 0.9]])
    gp = gp_fit(x, y)
    mean, std = gp_predict(gp, x_new)
    ref_mean, ref_std = _numpy_gp(x, y, x_new, float(gp.length_scale), 1e-4)
    np.testing.assert_allclose(mean, ref_mean, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(std, ref_std, rtol=2e-2, atol=2e-3)
    at_data, spread = gp_predict(gp, x)  # interpolates its observations
    np.testing.assert_allclose(at_data, y, atol=0.02)
    assert float(spread.max()) < 0.05 * y.std()
    # Three garbage slots masked out: the same posterior (and the same compiled shapes).
    padded_x = np.concatenate([x, np.full((3, 2), 0.5)])
    padded_y = np.concatenate([y, [100.0, -50.0, 7.0]])
    mask = np.arange(10) < 7
    masked = gp_predict(gp_fit(padded_x, padded_y, mask), x_new)
    np.testing.assert_allclose(masked[0], mean, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(masked[1], std, rtol=1e-3, atol=1e-4)


def test_expected_improvement_closed_form_and_gradients():
    mean = jnp.array([0.0, 0.5, -1.0, 2.0])
    std = jnp.array([1.0, 0.2, 0.5, 0.1])
    best, xi = 0.3, 0.05
    gap = np.asarray(mean) - best - xi
    z = gap / np.asarray(std)
    expected = gap * norm.cdf(z) + np.asarray(std) * norm.pdf(z)
    np.testing.assert_allclose(expected_improvement(mean, std, best, xi), expected, rtol=1e-5)
    assert_grads_close(
        lambda p: expected_improvement(p["mean"], p["std"], best, xi).sum(),
        {"mean": mean, "std": std},
    )


def test_unit_cube_maps_round_trip():
    space = {"lr": log_scaled(1e-4, 1.0), "momentum": continuous(0.0, 0.9), "k": integer(2, 5)}
    values = {
        "k": np.array([2.0, 5.0, 3.0]),
        "lr": np.array([1e-4, 1e-2, 1.0]),
        "momentum": np.array([0.0, 0.45, 0.9]),
    }
    u = to_unit(space, values)
    np.testing.assert_allclose(u[:, 1], [0.0, 0.5, 1.0], atol=1e-12)  # lr, log scale
    back = from_unit(space, u)
    for name in space:
        np.testing.assert_allclose(back[name], values[name], rtol=1e-9, atol=1e-12)
    # Every integer gets an equal share of [0, 1].
    sweep = np.stack([np.linspace(0, 1, 400), np.full(400, 0.5), np.full(400, 0.5)], 1)
    cells = from_unit(space, sweep)["k"]  # columns in sorted name order: k, lr, momentum
    assert np.bincount(cells.astype(int))[2:].tolist() == [100, 100, 100, 100]
    with pytest.raises(ValueError, match="log_scaled needs 0 < low < high"):
        log_scaled(0.0, 1.0)
    with pytest.raises(ValueError, match="integer needs integers"):
        integer(1.5, 3)


def _objective(p):
    """Known optimum: lr = 1e-2, momentum = 0.3, k = 3, score 0."""
    return (
        -((np.log10(p["lr"]) + 2.0) ** 2) - 4 * (p["momentum"] - 0.3) ** 2 - 0.1 * (p["k"] - 3) ** 2
    )


def test_model_based_search_finds_a_known_optimum_better_than_random(key):
    space = {"lr": log_scaled(1e-4, 1.0), "momentum": continuous(0.0, 0.9), "k": integer(1, 6)}
    budget = dict(num_initial=5, num_rounds=5, batch_size=3)
    model_based, random = [], []
    for seed_key in jax.random.split(key, 3):
        result = model_based_search(seed_key, _objective, space, **budget)
        assert len(result.params) == 20 and result.rounds.tolist()[:6] == [0] * 5 + [1]
        assert np.all(np.diff(result.best_so_far) >= 0)
        model_based.append(result.best_score)
        draws = from_unit(
            space, np.asarray(jax.random.uniform(jax.random.fold_in(seed_key, 7), (20, 3)))
        )
        random.append(float(np.max(_objective(draws))))
    assert np.mean(model_based) > -0.15  # near the optimum 0 ...
    assert np.mean(model_based) > np.mean(random)  # ... and better than random on 20 trials
    best = result.best_params
    assert abs(np.log10(best["lr"]) + 2) < 0.5 and best["k"] in (2.0, 3.0, 4.0)
