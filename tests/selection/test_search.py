"""Grid and random search: the cv_results table, one compilation for a whole grid, errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn.model_selection import ParameterGrid

from jaxdl.nn import MLP
from jaxdl.selection import (
    Distribution,
    choice,
    cross_validate,
    grid_search,
    kfold,
    log_uniform,
    parameter_grid,
    random_search,
    sample_candidates,
    stratified_kfold,
    uniform,
)
from jaxdl.training import create_train_state, fit, make_supervised_loss, set_hyperparams

pytestmark = pytest.mark.standard_dtype_promotion


def _data(num_examples: int = 48):
    x = jax.random.normal(jax.random.key(5), (num_examples, 2))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(jnp.int32)
    return x, y


def _tx():
    return optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)


def test_parameter_grid_matches_sklearn_order():
    grid = {"momentum": [0.0, 0.9], "learning_rate": [0.01, 0.1, 1.0]}
    mine = parameter_grid(grid)
    theirs = list(ParameterGrid(grid))
    assert len(mine["learning_rate"]) == len(theirs) == 6
    for i, row in enumerate(theirs):
        assert mine["learning_rate"][i] == row["learning_rate"]
        assert mine["momentum"][i] == row["momentum"]


def test_sample_candidates_respects_supports(key):
    candidates = sample_candidates(
        key,
        {
            "learning_rate": log_uniform(1e-4, 1.0),
            "momentum": ("uniform", 0.5, 0.9),
            "decay": choice([0.0, 1e-3]),
        },
        2000,
    )
    rate = np.asarray(candidates["learning_rate"])
    assert rate.min() >= 1e-4 and rate.max() <= 1.0
    # log10 of a log-uniform draw is uniform on [-4, 0]: mean -2, sd 4/sqrt(12).
    assert abs(np.log10(rate).mean() + 2) < 5 * (4 / np.sqrt(12)) / np.sqrt(2000)
    momentum = np.asarray(candidates["momentum"])
    assert momentum.min() >= 0.5 and momentum.max() <= 0.9
    assert abs(momentum.mean() - 0.7) < 5 * (0.4 / np.sqrt(12)) / np.sqrt(2000)
    assert set(np.unique(np.asarray(candidates["decay"])).tolist()) <= {0.0, np.float32(1e-3)}
    assert abs(np.mean(np.asarray(candidates["decay"]) == 0.0) - 0.5) < 5 * 0.5 / np.sqrt(2000)


def test_grid_of_eight_learning_rates_compiles_once_and_fills_the_table(key):
    traces = []

    def counted_cross_entropy(logits, labels):
        traces.append(1)
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels)

    x, y = _data()
    folds = kfold(None, 48, 3)
    rates = np.logspace(-3, 0, 8)
    result = grid_search(
        key,
        MLP(features=(4, 2)),
        _tx(),
        (x, y),
        folds,
        {"learning_rate": rates},
        num_epochs=4,
        loss=counted_cross_entropy,
    )
    # one trace of the loss for 8 candidates x 3 folds = 24 members: one compiled program
    assert len(traces) == 1
    table = result.cv_results
    np.testing.assert_allclose(table["param_learning_rate"], rates)
    splits = np.stack([table[f"split{k}_test_score"] for k in range(3)], axis=1)
    np.testing.assert_allclose(table["mean_test_score"], splits.mean(axis=1))
    np.testing.assert_allclose(table["std_test_score"], splits.std(axis=1))
    assert table["rank_test_score"][result.best_index] == 1
    assert result.best_params == {"learning_rate": pytest.approx(rates[result.best_index])}
    assert np.all(table["mean_test_score"] <= result.best_score)
    assert result.fit.history["train_loss"].shape == (24, 4)


@pytest.mark.slow
def test_member_scores_equal_a_separate_fit_on_the_fold():
    x, y = _data()
    model = MLP(features=(4, 2))
    folds = stratified_kfold(None, y, 2, 2)
    rates = [0.05, 0.5]
    result = cross_validate(
        jax.random.key(7),
        model,
        _tx(),
        (x, y),
        folds,
        {"learning_rate": rates},
        num_epochs=3,
        batch_size=None,
    )
    init_key, run_key = jax.random.split(jax.random.key(7))
    fold_keys = jax.random.split(init_key, 2)
    run_keys = jax.random.split(run_key, 4)
    loss_fn = make_supervised_loss(model, metrics=())
    fold_states = [create_train_state(fold_keys[k], model, x[:1], _tx()) for k in range(2)]
    for c, rate in enumerate(rates):
        for k in range(2):
            state = jax.tree.map(jnp.copy, fold_states[k])
            state = state.replace(opt_state=set_hyperparams(state.opt_state, learning_rate=rate))
            weights = folds.train_weights[k]
            single = fit(
                run_keys[c * 2 + k], state, loss_fn, (x, y, weights), num_epochs=3, progress=False
            )
            predicted = jnp.argmax(model.apply({"params": single.state.params}, x), -1)
            test = np.asarray(folds.test_mask[k])
            expected = np.mean(np.asarray(predicted == y)[test])
            assert result.cv_results[f"split{k}_test_score"][c] == pytest.approx(expected)


def test_random_search_runs_and_ranks(key):
    x, y = _data()
    result = random_search(
        key,
        MLP(features=(4, 2)),
        _tx(),
        (x, y),
        kfold(None, 48, 2),
        {"learning_rate": log_uniform(1e-3, 1.0)},
        4,
        num_epochs=3,
    )
    ranks = result.cv_results["rank_test_score"]
    assert sorted(ranks.tolist())[0] == 1 and len(ranks) == 4
    assert np.all(
        (result.cv_results["param_learning_rate"] >= 1e-3)
        & (result.cv_results["param_learning_rate"] <= 1.0)
    )


def test_regression_scoring(key):
    x = jax.random.normal(key, (32, 1))
    y = 2 * x
    result = grid_search(
        jax.random.key(1),
        MLP(features=(1,)),
        _tx(),
        (x, y),
        kfold(None, 32, 2),
        {"learning_rate": [0.0001, 0.3]},
        num_epochs=20,
        loss="mse",
        scoring="neg_mean_squared_error",
    )
    assert result.best_index == 1
    assert np.all(result.cv_results["mean_test_score"] <= 0)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: parameter_grid({}), ValueError, "empty grid"),
        (lambda: parameter_grid({"learning_rate": []}), ValueError, "at least one value"),
        (
            lambda: sample_candidates(jax.random.key(0), {"lr": ("normal", 0, 1)}, 3),
            ValueError,
            "must be one of",
        ),
        (
            lambda: sample_candidates(jax.random.key(0), {"lr": Distribution("gamma")}, 3),
            ValueError,
            "must be one of",
        ),
        (
            lambda: sample_candidates(jax.random.key(0), {"lr": 0.1}, 3),
            TypeError,
            "must be a Distribution",
        ),
        (lambda: sample_candidates(jax.random.key(0), {}, 3), ValueError, "at least one"),
        (lambda: log_uniform(0.0, 1.0), ValueError, "0 < low < high"),
        (lambda: uniform(1.0, 0.0), ValueError, "low < high"),
        (lambda: choice([]), ValueError, "at least one value"),
    ],
)
def test_bad_search_spaces_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_bad_cross_validation_arguments_raise(key):
    x, y = _data()
    model = MLP(features=(4, 2))
    with pytest.raises(ValueError, match="not injected hyperparameters"):
        cross_validate(
            key, model, _tx(), (x, y), kfold(None, 48, 2), {"momentum": [0.9]}, num_epochs=1
        )
    with pytest.raises(ValueError, match=r"masks of shape \(K, 48\)"):
        cross_validate(
            key, model, _tx(), (x, y), kfold(None, 10, 2), {"learning_rate": [0.1]}, num_epochs=1
        )
    with pytest.raises(ValueError, match="scoring must be one of"):
        cross_validate(
            key,
            model,
            _tx(),
            (x, y),
            kfold(None, 48, 2),
            {"learning_rate": [0.1]},
            num_epochs=1,
            scoring="f7",
        )
    with pytest.raises(ValueError, match="candidates must name"):
        cross_validate(key, model, _tx(), (x, y), kfold(None, 48, 2), {}, num_epochs=1)
