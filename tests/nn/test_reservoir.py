"""Echo state networks: construction, dynamics against NumPy, ESP, readout, IP, memory capacity."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.nn.reservoir import (
    ESNParams,
    echo_state_distance,
    esn_init_params,
    fit_readout,
    intrinsic_plasticity,
    memory_capacity,
    nrmse,
    predict_readout,
    run_reservoir,
    spectral_radius,
)
from jaxdl.training import create_train_state, fit, make_supervised_loss


def test_reservoir_is_sparse_uniform_and_scaled(key):
    params = esn_init_params(key, 2, 200, spectral_radius=0.7, density=0.1, input_scaling=0.3)
    W, U = np.asarray(params.W), np.asarray(params.U)
    assert abs(np.mean(W != 0) - 0.1) < 0.01
    assert abs(float(np.max(np.abs(np.linalg.eigvals(W)))) - 0.7) < 1e-4
    nonzero = W[W != 0]
    assert abs(np.mean(nonzero)) < 0.05 * np.max(np.abs(nonzero))  # symmetric around zero
    assert np.max(np.abs(U)) <= 0.3 and np.min(U) < -0.2 and np.max(U) > 0.2  # dense uniform
    assert np.all(U != 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"spectral_radius": 0.0}, "spectral_radius must be > 0"),
        ({"spectral_radius": -1.0}, "spectral_radius must be > 0"),
        ({"leak": 0.0}, r"leak must lie in \(0.0, 1.0\]"),
        ({"leak": 1.2}, r"leak must lie in \(0.0, 1.0\]"),
        ({"density": 0.5}, r"density must lie in \(0.0, 0.2\]"),
    ],
)
def test_bad_hyperparameters_raise_clear_errors(key, kwargs, message):
    with pytest.raises(ValueError, match=message):
        esn_init_params(key, 1, 10, **kwargs)


@pytest.mark.parametrize("form", ["course", "leaky"])
def test_leaky_integrator_equals_numpy(key, form):
    k_p, k_x = jax.random.split(key)
    params = esn_init_params(k_p, 2, 8, leak=0.3, density=0.2)
    params = params._replace(gain=params.gain * 1.5, bias=params.bias + 0.1)
    x = np.asarray(jax.random.normal(k_x, (12, 2)))
    _, states = run_reservoir(params, jnp.asarray(x), washout=2, form=form)
    p = jax.tree.map(np.asarray, params)
    h, expected = np.zeros(8), []
    for t in range(12):
        f = np.tanh(p.gain * (p.U @ x[t] + p.W @ h) + p.bias)
        h = (1 - p.leak) * h + (f if form == "course" else p.leak * f)
        expected.append(h)
    np.testing.assert_allclose(states, np.array(expected)[2:], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="washout must be < the 12 time steps"):
        run_reservoir(params, jnp.asarray(x), washout=12)


def test_echo_state_property_holds_for_small_radius_only(key):
    k_p, k_h = jax.random.split(key)
    h_a, h_b = jax.random.normal(k_h, (2, 40))
    x = jnp.zeros((200, 1))
    contracting = esn_init_params(k_p, 1, 40, spectral_radius=0.8, density=0.2)
    d = echo_state_distance(contracting, x, h_a, h_b)
    assert float(d[-1]) < 1e-6 * float(d[0])
    expanding = contracting._replace(W=contracting.W * (3.0 / 0.8))  # rho = 3
    d = echo_state_distance(expanding, x, h_a, h_b)
    assert float(d[-1]) > 0.1 * float(d[0])  # two starts never meet: no echo states


def test_ridge_readout_and_vmap_over_many_reservoirs(key):
    k_p, k_x = jax.random.split(key)
    x = jax.random.uniform(k_x, (300, 1), minval=-0.5, maxval=0.5)
    target = jnp.roll(x[:, 0], 1)  # one-step memory task

    def score(key, radius, leak):
        params = esn_init_params(key, 1, 30, spectral_radius=radius, leak=leak, density=0.2)
        _, states = run_reservoir(params, x, washout=50)
        readout = fit_readout(states, target[50:], 1e-6)
        return nrmse(target[50:], predict_readout(readout, states))

    k_same = jax.random.clone(k_p)
    keys = jax.random.split(k_p, 4)
    second = jax.random.split(k_same, 4)[1]
    radii = jnp.array([0.5, 0.9, 0.5, 0.9])
    leaks = jnp.array([1.0, 1.0, 0.5, 0.5])
    many = jax.jit(jax.vmap(score))(keys, radii, leaks)
    one = score(second, 0.9, 1.0)
    np.testing.assert_allclose(many[1], one, rtol=1e-3, atol=1e-5)
    assert float(jnp.max(many)) < 0.3  # the reservoir remembers the last input


def test_memory_capacity_is_at_most_n_and_near_n_for_a_linear_reservoir(key):
    k_p, k_x, k_q, k_w = jax.random.split(key, 4)
    n = 8
    x = jax.random.uniform(k_x, (4000, 1), minval=-0.5, maxval=0.5)

    def mc(key, radius, activation):
        params = esn_init_params(key, 1, n, spectral_radius=radius, density=0.2)
        return memory_capacity(params, x, 3 * n, washout=3 * n, activation=activation)[0]

    random_mc = jax.jit(jax.vmap(lambda k, r: mc(k, r, "tanh")))(
        jax.random.split(k_p, 6), jnp.linspace(0.3, 1.2, 6)
    )
    assert bool(jnp.all(random_mc <= n + 0.05)), random_mc
    assert bool(jnp.all(random_mc > 0.5)), random_mc
    # A linear reservoir with a generic W (a scaled random orthogonal matrix) and generic
    # inputs stores about N past inputs.
    W = 0.9 * jnp.linalg.qr(jax.random.normal(k_w, (n, n)))[0]
    U = jax.random.uniform(k_q, (n, 1), minval=-1.0)
    linear = ESNParams(U, W, jnp.asarray(1.0), jnp.ones(n), jnp.zeros(n))
    capacity, r2 = memory_capacity(linear, x, 3 * n, washout=3 * n, activation="linear")
    assert n - 0.5 < float(capacity) <= n + 0.05, (capacity, r2)


def test_intrinsic_plasticity_drives_outputs_toward_the_target_mean(key):
    k_p, k_x = jax.random.split(key)
    params = esn_init_params(k_p, 1, 30, spectral_radius=0.9, input_scaling=1.0, density=0.2)
    x = jax.random.uniform(k_x, (3000, 1), minval=-1.0)
    before = run_reservoir(params, x, activation="sigmoid")[1]
    adapted, outputs = intrinsic_plasticity(params, x, learning_rate=5e-3, mean=0.2)
    after = run_reservoir(adapted, x, activation="sigmoid")[1]
    assert abs(float(jnp.mean(before)) - 0.5) < 0.1  # sigmoid units start centred at 0.5
    assert abs(float(jnp.mean(after[1000:])) - 0.2) < 0.05  # pulled to the exponential's mean
    # ... and skewed like an exponential: P(y < mean) = 1 - 1/e = 0.63 (0.5 when symmetric)
    tail = after[1000:]
    assert float(jnp.mean(tail < jnp.mean(tail))) > 0.57
    assert outputs.shape == (3000, 30)
    with pytest.raises(ValueError, match=r"mean must lie in \(0.0, 1.0\)"):
        intrinsic_plasticity(params, x, mean=1.0)


def test_spectral_radius_of_a_rotation():
    c, s = np.cos(0.3), np.sin(0.3)
    assert float(spectral_radius(jnp.array([[c, -s], [s, c]]) * 0.5)) == pytest.approx(0.5, 1e-5)


def test_nilpotent_draws_and_blind_delays_stay_finite():
    # A strictly triangular W has rho = 0: it cannot be rescaled and must not blow up, and
    # a delay the readout cannot see gives r^2 = 0, not NaN.
    n = 4
    W = jnp.triu(jnp.ones((n, n)), k=1) * 0.5
    params = ESNParams(jnp.ones((n, 1)), W, jnp.asarray(1.0), jnp.ones(n), jnp.zeros(n))
    x = jnp.linspace(-0.5, 0.5, 300)[:, None]
    capacity, r2 = memory_capacity(params, x, 6, washout=10)
    assert bool(jnp.all(jnp.isfinite(r2))) and bool(jnp.isfinite(capacity))
    frozen = ESNParams(jnp.zeros((n, 1)), W, jnp.asarray(1.0), jnp.ones(n), jnp.zeros(n))
    assert float(memory_capacity(frozen, x, 6, washout=10)[0]) < 1e-6


@pytest.mark.standard_dtype_promotion  # fit mixes Python floats and int32 step counters
def test_readout_by_gradient_through_fit_reaches_the_ridge_readout(key):
    k_p, k_x, k_init, k_fit = jax.random.split(key, 4)
    params = esn_init_params(k_p, 1, 20, spectral_radius=0.9, density=0.2)
    x = jax.random.uniform(k_x, (250, 1), minval=-0.5, maxval=0.5)
    target = jnp.roll(x, 1, axis=0)[50:]  # recall the previous input
    _, states = run_reservoir(params, x, washout=50)
    closed = nrmse(target[:, 0], predict_readout(fit_readout(states, target[:, 0], 1e-6), states))
    readout = nn.Dense(1)
    state = create_train_state(k_init, readout, states[:1], optax.adam(0.05))
    result = fit(
        k_fit,
        state,
        make_supervised_loss(readout, "mse", ()),
        (states, target),
        num_epochs=300,
        epochs_per_chunk=300,
        progress=False,
    )
    by_gradient = nrmse(target, readout.apply({"params": result.state.params}, states))
    assert float(closed) < 0.3
    assert float(by_gradient) < float(closed) + 0.05, (by_gradient, closed)
