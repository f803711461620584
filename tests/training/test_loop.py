"""The compiled training loop: correctness, determinism, resume, errors."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.testing import assert_bitwise_equal, assert_pytrees_allclose
from jaxdl.training import (
    EarlyStopping,
    NonFiniteLossError,
    RunLogger,
    create_train_state,
    fit,
    make_supervised_loss,
)
from tests._fixtures import Interrupt, TinyNet, classification_data, count_traces, stop_at_epoch

pytestmark = pytest.mark.standard_dtype_promotion


class _BatchNormNet(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool = False):
        x = nn.Dense(8)(x)
        x = nn.BatchNorm(use_running_average=not train, momentum=0.5)(x)
        return nn.Dense(2)(nn.relu(x))


def _state(model, x, tx, seed=1):
    return create_train_state(jax.random.key(seed), model, x[:2], tx)


def test_fit_learns_and_reports_history():
    x, y = classification_data()
    model = TinyNet()
    result = fit(
        jax.random.key(2),
        _state(model, x, optax.adam(1e-2)),
        make_supervised_loss(model, "cross_entropy", ("accuracy",)),
        (x, y),
        num_epochs=30,
        batch_size=16,
        val_data=(x, y),
        progress=False,
    )
    history = result.history
    assert len(history) == 30
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    assert history[-1]["val_accuracy"] > 0.9
    assert history[-1]["step"] == 30 * (96 // 16)
    assert {"epoch", "step", "train_loss", "train_accuracy", "val_loss"} <= set(history[-1])


def test_full_batch_gd_equals_manual_gradient_descent():
    x, y = classification_data()
    model = TinyNet()
    loss_fn = make_supervised_loss(model, "cross_entropy", ())
    state = _state(model, x, optax.sgd(0.3))
    result = fit(jax.random.key(3), state, loss_fn, (x, y), num_epochs=5, progress=False)

    params = state.params
    for _ in range(5):
        grads = jax.grad(lambda p: loss_fn(p, {}, (x, y), jax.random.key(0))[0])(params)
        params = jax.tree.map(lambda p, g: p - 0.3 * g, params, grads)
    assert int(result.state.step) == 5
    assert_pytrees_allclose(result.state.params, params, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("batch_size", "steps_per_epoch"), [(1, 96), (10, 9), (None, 1)])
def test_steps_per_epoch_for_online_minibatch_and_full_batch(batch_size, steps_per_epoch):
    x, y = classification_data()
    model = TinyNet()
    result = fit(
        jax.random.key(4),
        _state(model, x, optax.sgd(0.01)),
        make_supervised_loss(model),
        (x, y),
        num_epochs=2,
        batch_size=batch_size,
        progress=False,
    )
    assert int(result.state.step) == 2 * steps_per_epoch


def test_same_key_gives_bitwise_identical_parameters():
    x, y = classification_data()
    model = TinyNet(dropout=0.2)

    def params_after_training(seed):
        return fit(
            jax.random.key(seed),
            _state(model, x, optax.adam(1e-2)),
            make_supervised_loss(model),
            (x, y),
            num_epochs=3,
            batch_size=8,
            progress=False,
        ).state.params

    first, again, other = (params_after_training(seed) for seed in (5, 5, 6))
    assert_bitwise_equal(first, again)
    with pytest.raises(AssertionError, match="values differ bitwise"):
        assert_bitwise_equal(first, other)


@pytest.mark.slow
def test_interrupted_run_resumes_to_the_same_parameters(tmp_path):
    x, y = classification_data()
    model = TinyNet(dropout=0.1)
    loss_fn = make_supervised_loss(model)
    kwargs = dict(num_epochs=6, batch_size=16, val_data=(x, y), progress=False)
    reference = fit(
        jax.random.key(7), _state(model, x, optax.adam(1e-2)), loss_fn, (x, y), **kwargs
    )

    with pytest.raises(Interrupt):
        fit(
            jax.random.key(7),
            _state(model, x, optax.adam(1e-2)),
            loss_fn,
            (x, y),
            checkpoint_dir=str(tmp_path),
            callback=stop_at_epoch(3),
            **kwargs,
        )
    resumed = fit(
        jax.random.key(7),
        _state(model, x, optax.adam(1e-2)),
        loss_fn,
        (x, y),
        checkpoint_dir=str(tmp_path),
        **kwargs,
    )
    # the history is the whole run once: restored epochs, then the redone and new ones
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4, 5, 6]
    assert_bitwise_equal(resumed.state.params, reference.state.params)
    assert_bitwise_equal(resumed.state.opt_state, reference.state.opt_state)


def test_nan_loss_stops_with_step_and_keeps_last_good_checkpoint(tmp_path):
    x = jax.random.normal(jax.random.key(8), (32, 3)) * 10.0
    t = x @ jnp.array([[1.0], [2.0], [-1.0]])
    model = nn.Dense(1)
    state = _state(model, x, optax.sgd(10.0))
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss at step \d+") as info:
        fit(
            jax.random.key(9),
            state,
            make_supervised_loss(model, "mse", ()),
            (x, t),
            num_epochs=200,
            checkpoint_dir=str(tmp_path),
            checkpoint_every_steps=2,
            progress=False,
        )
    error = info.value
    assert error.step > 0
    assert int(error.state.step) == error.step
    assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree.leaves(error.state.params))
    assert error.checkpoint_step is not None and error.checkpoint_step <= error.step
    assert (tmp_path / "latest" / str(error.checkpoint_step)).exists()


def test_donated_state_trains_alike_and_reports_the_same_bad_step(tmp_path):
    x, y = classification_data()
    model = TinyNet()
    loss = make_supervised_loss(model)
    common = dict(num_epochs=4, batch_size=16, epochs_per_chunk=2, progress=False)
    kept = fit(jax.random.key(3), _state(model, x, optax.adam(1e-2)), loss, (x, y), **common)
    state = _state(model, x, optax.adam(1e-2))
    donated = fit(jax.random.key(3), state, loss, (x, y), donate=True, **common)
    assert_bitwise_equal(donated.state.params, kept.state.params)
    assert [r["train_loss"] for r in donated.history] == [r["train_loss"] for r in kept.history]
    assert all(leaf.is_deleted() for leaf in jax.tree.leaves(state.params))  # consumed

    # a diverging run: the same exact step as the guarded replay, no state kept in memory
    xr = jax.random.normal(jax.random.key(8), (32, 3))
    t = xr @ jnp.array([[1.0], [2.0], [-1.0]])
    dense = nn.Dense(1)
    mse = make_supervised_loss(dense, "mse", ())
    steps = []
    for donate in (False, True):
        with pytest.raises(NonFiniteLossError, match=r"non-finite loss at step \d+") as info:
            fit(
                jax.random.key(9),
                _state(dense, xr, optax.sgd(10.0)),
                mse,
                (xr, t),
                num_epochs=200,
                epochs_per_chunk=8,
                checkpoint_dir=str(tmp_path / str(donate)),
                checkpoint_every_steps=2,
                progress=False,
                donate=donate,
            )
        steps.append(info.value.step)
    assert steps[0] == steps[1] > 0
    assert info.value.state is None and "donated" in str(info.value)
    assert info.value.checkpoint_step is not None and info.value.checkpoint_step <= steps[1]


def test_early_stopping_returns_best_parameters():
    x, y = classification_data(n=64)
    xv, yv = classification_data(seed=11, n=64)
    yv = (yv + 1) % 3  # a validation set the model cannot fit: its loss rises
    model = TinyNet()
    result = fit(
        jax.random.key(10),
        _state(model, x, optax.adam(3e-2)),
        make_supervised_loss(model),
        (x, y),
        num_epochs=100,
        batch_size=16,
        val_data=(xv, yv),
        early_stopping=EarlyStopping("val_loss", "min", patience=3),
        progress=False,
    )
    assert result.stopped_early
    assert len(result.history) < 100
    losses = [r["val_loss"] for r in result.history]
    best = int(np.argmin(losses))
    assert len(losses) - 1 - best == 3  # stopped exactly `patience` evaluations later
    evaluation = make_supervised_loss(model).evaluate(result.best_state.params, {}, (xv, yv))
    assert float(evaluation["loss"]) == pytest.approx(losses[best], rel=1e-5)


def test_batch_norm_statistics_are_updated_and_used():
    x, y = classification_data(d=3)
    model = _BatchNormNet()
    y = (y > 0).astype(jnp.int32)
    state = _state(model, x, optax.adam(1e-2))
    result = fit(
        jax.random.key(12),
        state,
        make_supervised_loss(model),
        (x, y),
        num_epochs=3,
        batch_size=32,
        val_data=(x, y),
        progress=False,
    )
    before = state.model_state["batch_stats"]
    after = result.state.model_state["batch_stats"]
    with pytest.raises(AssertionError, match="values differ bitwise"):
        assert_bitwise_equal(before, after)
    assert np.isfinite(result.history[-1]["val_loss"])


def test_example_weights_select_examples():
    x, y = classification_data()
    model = TinyNet()
    loss_fn = make_supervised_loss(model, "cross_entropy", ())
    weights = (jnp.arange(96) < 48).astype(jnp.float32)
    kwargs = dict(num_epochs=4, progress=False)
    weighted = fit(
        jax.random.key(13), _state(model, x, optax.sgd(0.5)), loss_fn, (x, y, weights), **kwargs
    )
    subset = fit(
        jax.random.key(14), _state(model, x, optax.sgd(0.5)), loss_fn, (x[:48], y[:48]), **kwargs
    )
    assert_pytrees_allclose(weighted.state.params, subset.state.params, rtol=1e-5, atol=1e-6)


def test_compiles_once_for_all_chunks():
    x, y = classification_data()
    model = TinyNet()
    counting_loss, traces = count_traces(make_supervised_loss(model))

    fit(
        jax.random.key(15),
        _state(model, x, optax.sgd(0.1)),
        counting_loss,
        (x, y),
        num_epochs=5,
        epochs_per_chunk=2,  # chunks of 2, 2 and 1 epochs: same program
        batch_size=32,
        progress=False,
    )
    assert len(traces) == 1


def test_logger_writes_metrics_jsonl(tmp_path):
    x, y = classification_data()
    model = TinyNet()
    logger = RunLogger(tmp_path)
    fit(
        jax.random.key(16),
        _state(model, x, optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)),
        make_supervised_loss(model),
        (x, y),
        num_epochs=3,
        batch_size=32,
        logger=logger,
        progress=False,
    )
    records = logger.read_metrics()
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert records[0]["learning_rate"] == pytest.approx(0.1)


def test_gradient_clipping_bounds_the_update():
    x, y = classification_data()
    model = TinyNet()
    state = create_train_state(jax.random.key(17), model, x[:2], optax.sgd(1.0), max_grad_norm=1e-3)
    result = fit(
        jax.random.key(18), state, make_supervised_loss(model), (x, y), num_epochs=1, progress=False
    )
    delta = jax.tree.map(lambda a, b: a - b, result.state.params, state.params)
    norm = optax.tree.norm(delta)
    assert float(norm) <= 1e-3 * (1 + 1e-4)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(num_epochs=0), "num_epochs must be > 0"),
        (dict(num_epochs=1, batch_size=0), "batch_size must be > 0"),
        (dict(num_epochs=1, batch_size=1000), "batch_size must be <= the number"),
        (dict(num_epochs=1, eval_every=-1), "eval_every must be > 0"),
    ],
)
def test_bad_hyperparameters_raise(kwargs, match):
    x, y = classification_data()
    model = TinyNet()
    with pytest.raises(ValueError, match=match):
        fit(
            jax.random.key(21),
            _state(model, x, optax.sgd(0.1)),
            make_supervised_loss(model),
            (x, y),
            progress=False,
            **kwargs,
        )


def test_bad_data_raise():
    x, y = classification_data()
    model = TinyNet()
    state = _state(model, x, optax.sgd(0.1))
    loss_fn = make_supervised_loss(model)
    with pytest.raises(ValueError, match=r"train_data\[0\] must have shape \(N, 4\)"):
        fit(jax.random.key(22), state, loss_fn, (x[:, :3], y), num_epochs=1, progress=False)
    with pytest.raises(ValueError, match="train_data labels must lie in \\[0, 3\\)"):
        fit(jax.random.key(23), state, loss_fn, (x, y + 1), num_epochs=1, progress=False)
    with pytest.raises(ValueError, match="train_data is empty"):
        fit(jax.random.key(24), state, loss_fn, (x[:0], y[:0]), num_epochs=1, progress=False)
    with pytest.raises(ValueError, match="must share a leading example axis"):
        fit(jax.random.key(25), state, loss_fn, (x, y[:10]), num_epochs=1, progress=False)


def test_non_positive_learning_rate_raises():
    x, y = classification_data()
    model = TinyNet()
    state = _state(model, x, optax.inject_hyperparams(optax.sgd)(learning_rate=-0.1))
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        fit(
            jax.random.key(26),
            state,
            make_supervised_loss(model),
            (x, y),
            num_epochs=1,
            progress=False,
        )


def test_iid_sgd_is_the_lectures_algorithm():
    """Seed 000 (SGD): w_0 = 0, then w_k = w_{k-1} - alpha_k grad_i(w_{k-1}) with i drawn
    uniformly at random with replacement and alpha_k = C / k (``hyperbolic_decay(C, 1)``).
    ``fit(..., shuffle="iid", batch_size=1)`` makes exactly these steps."""
    from jaxdl.optim import hyperbolic_decay

    n, scale, num_epochs = 10, 0.3, 3
    x = jax.random.normal(jax.random.key(0), (n, 2))
    y = (x @ jnp.array([1.5, -0.5]) + 0.25)[:, None]
    model = nn.Dense(1, use_bias=False)
    state = _state(model, x, optax.sgd(hyperbolic_decay(scale, 1.0)))
    state = state.replace(params=jax.tree.map(jnp.zeros_like, state.params))  # w_0 = 0
    key = jax.random.key(5)
    result = fit(
        jax.random.clone(key),
        state,
        make_supervised_loss(model, "half_mse", metrics=()),
        (x, y),
        num_epochs=num_epochs,
        batch_size=1,
        shuffle="iid",
        progress=False,
    )
    data_key, _ = jax.random.split(key)
    w, k, repeated = np.zeros(2), 0, False
    xs, ys = np.asarray(x, np.float64), np.asarray(y[:, 0], np.float64)
    for epoch in range(num_epochs):
        draws = np.asarray(jax.random.randint(jax.random.fold_in(data_key, epoch), (n, 1), 0, n))
        repeated |= len(set(draws[:, 0].tolist())) < n  # with replacement: repeats happen
        for i in draws[:, 0]:
            k += 1
            w = w - scale / k * (xs[i] @ w - ys[i]) * xs[i]
    assert repeated and int(result.state.step) == k == n * num_epochs
    np.testing.assert_allclose(result.state.params["kernel"][:, 0], w, rtol=1e-5)


def test_interrupted_iid_run_resumes_to_the_same_parameters(tmp_path):
    x, y = classification_data(n=48)
    model = TinyNet()
    loss_fn = make_supervised_loss(model)
    kwargs = dict(num_epochs=4, batch_size=8, shuffle="iid", progress=False)
    reference = fit(jax.random.key(3), _state(model, x, optax.sgd(0.1)), loss_fn, (x, y), **kwargs)

    class Interrupt(Exception):
        pass

    def stop_after_epoch_2(record):
        if record["epoch"] == 2:
            raise Interrupt

    run = dict(checkpoint_dir=str(tmp_path), **kwargs)
    with pytest.raises(Interrupt):
        fit(
            jax.random.key(3),
            _state(model, x, optax.sgd(0.1)),
            loss_fn,
            (x, y),
            callback=stop_after_epoch_2,
            **run,
        )
    resumed = fit(jax.random.key(3), _state(model, x, optax.sgd(0.1)), loss_fn, (x, y), **run)
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4]
    assert_bitwise_equal(resumed.state.params, reference.state.params)
