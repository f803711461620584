"""Tests of jaxdl.probabilistic.gan: objectives, D*, alternating training, mode coverage."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.spatial.distance
import scipy.stats

from jaxdl.data.toy import gaussian_mixture_2d, gaussian_mixture_2d_centers
from jaxdl.nn.registry import registered_models
from jaxdl.probabilistic.gan import (
    Discriminator,
    Generator,
    array_sampler,
    discriminator_loss,
    generator_loss_minimax,
    generator_loss_non_saturating,
    make_gan,
    minimax_value,
    mode_coverage,
    optimal_discriminator,
)
from jaxdl.testing import (
    assert_grads_close,
    assert_jit_matches_eager,
    assert_vmap_matches_loop,
)

# --------------------------------------------------------------------------------------
# Objectives
# --------------------------------------------------------------------------------------


def _log_sigmoid(a):
    return -np.logaddexp(0.0, -a)


def test_objectives_match_numpy(key):
    real_key, fake_key = jax.random.split(key)
    real = 3.0 * jax.random.normal(real_key, (7,))
    fake = 3.0 * jax.random.normal(fake_key, (5,))
    r = np.asarray(real, dtype=np.float64)
    f = np.asarray(fake, dtype=np.float64)
    value = np.mean(_log_sigmoid(r)) + np.mean(_log_sigmoid(-f))  # log D + log(1 - D)
    assert float(minimax_value(real, fake)) == pytest.approx(value, rel=1e-5)
    assert float(discriminator_loss(real, fake)) == pytest.approx(-value, rel=1e-5)
    assert float(generator_loss_minimax(fake)) == pytest.approx(np.mean(_log_sigmoid(-f)), rel=1e-5)
    assert float(generator_loss_non_saturating(fake)) == pytest.approx(
        -np.mean(_log_sigmoid(f)), rel=1e-5
    )
    # D = 1/2 everywhere gives V = -log 4.
    assert float(minimax_value(jnp.zeros(3), jnp.zeros(4))) == pytest.approx(-np.log(4.0))


def test_objectives_are_stable_for_extreme_logits():
    big = jnp.array([-300.0, 300.0])
    for value in (
        minimax_value(big, big),
        discriminator_loss(big, big),
        generator_loss_minimax(big),
        generator_loss_non_saturating(big),
    ):
        assert np.isfinite(float(value))
    assert float(discriminator_loss(jnp.array([300.0]), jnp.array([-300.0]))) == pytest.approx(
        0.0, abs=1e-6
    )


def test_non_saturating_loss_keeps_a_gradient_when_fakes_are_rejected():
    rejected = jnp.full((4,), -8.0)  # D(G(z)) ~ 3e-4
    saturating = jnp.abs(jax.grad(generator_loss_minimax)(rejected)).sum()
    non_saturating = jnp.abs(jax.grad(generator_loss_non_saturating)(rejected)).sum()
    assert float(saturating) < 1e-3
    assert float(non_saturating) > 0.99
    # Both push the fake logits up (towards "real").
    assert float(jax.grad(generator_loss_minimax)(rejected)[0]) < 0.0
    assert float(jax.grad(generator_loss_non_saturating)(rejected)[0]) < 0.0


def test_objective_gradients_jit_and_vmap(key):
    logits = jax.random.normal(key, (2, 6))
    assert_grads_close(lambda p: minimax_value(p[0], p[1]), (logits[0], logits[1]))
    assert_grads_close(lambda p: discriminator_loss(p[0], p[1]), (logits[0], logits[1]))
    assert_grads_close(generator_loss_minimax, logits[0])
    assert_grads_close(generator_loss_non_saturating, logits[1])
    assert_jit_matches_eager(discriminator_loss, logits[0], logits[1])
    assert_vmap_matches_loop(discriminator_loss, logits, logits[::-1])
    assert_vmap_matches_loop(generator_loss_non_saturating, logits)


# --------------------------------------------------------------------------------------
# The optimal discriminator for a fixed pair of densities
# --------------------------------------------------------------------------------------

_DATA = scipy.stats.norm(0.0, 1.0)
_MODEL = scipy.stats.norm(1.0, 0.5)


def _logit(p):
    return jnp.log(p) - jnp.log1p(-p)


def test_optimal_discriminator_value_is_minus_log4_plus_2jsd(key):
    real_key, fake_key = jax.random.split(key)
    n = 20000
    real = 0.0 + 1.0 * jax.random.normal(real_key, (n,))
    fake = 1.0 + 0.5 * jax.random.normal(fake_key, (n,))

    def d_star_logits(x):
        x_np = np.asarray(x, dtype=np.float64)
        d_star = optimal_discriminator(
            jnp.asarray(_DATA.pdf(x_np), jnp.float32), jnp.asarray(_MODEL.pdf(x_np), jnp.float32)
        )
        return _logit(d_star)

    real_logits, fake_logits = d_star_logits(real), d_star_logits(fake)
    value = float(minimax_value(real_logits, fake_logits))
    # Jensen-Shannon divergence by quadrature (SciPy returns its square root).
    grid = np.linspace(-8.0, 8.0, 20001)
    jsd = scipy.spatial.distance.jensenshannon(_DATA.pdf(grid), _MODEL.pdf(grid)) ** 2
    spread = np.sqrt(
        np.var(_log_sigmoid(np.asarray(real_logits, np.float64))) / n
        + np.var(_log_sigmoid(-np.asarray(fake_logits, np.float64))) / n
    )
    assert value == pytest.approx(-np.log(4.0) + 2.0 * jsd, abs=4 * spread)
    # Any other discriminator does worse on the same samples (D* maximises V pointwise).
    for shift in (-0.5, 0.5):
        assert float(minimax_value(real_logits + shift, fake_logits + shift)) < value
    assert float(minimax_value(0.5 * real_logits, 0.5 * fake_logits)) < value


@pytest.mark.standard_dtype_promotion
def test_trained_discriminator_recovers_d_star(key):
    # log p_data / p_g of two Gaussians is quadratic in x, so a discriminator with
    # logit a + b x + c x^2 can represent D* exactly; training it recovers D*.
    real_key, fake_key = jax.random.split(key)
    n = 20000
    real = jax.random.normal(real_key, (n,))
    fake = 1.0 + 0.5 * jax.random.normal(fake_key, (n,))

    def logits(w, x):
        return w[0] + w[1] * x + w[2] * x * x

    tx = optax.adam(0.05)

    def step(carry, _):
        w, opt_state = carry
        grads = jax.grad(lambda w: discriminator_loss(logits(w, real), logits(w, fake)))(w)
        updates, opt_state = tx.update(grads, opt_state, w)
        return (optax.apply_updates(w, updates), opt_state), None

    w0 = jnp.zeros(3)
    (w, _), _ = jax.lax.scan(step, (w0, tx.init(w0)), None, length=1500)
    grid = np.linspace(-2.0, 2.5, 50)
    d_star = optimal_discriminator(
        jnp.asarray(_DATA.pdf(grid), jnp.float32), jnp.asarray(_MODEL.pdf(grid), jnp.float32)
    )
    fitted = jax.nn.sigmoid(logits(w, jnp.asarray(grid, jnp.float32)))
    np.testing.assert_allclose(fitted, d_star, atol=0.03)


def test_optimal_discriminator_closed_form():
    np.testing.assert_allclose(
        optimal_discriminator(jnp.array([1.0, 0.0, 2.0, 0.0]), jnp.array([1.0, 1.0, 0.0, 0.0])),
        [0.5, 0.0, 1.0, 0.5],
    )
    with pytest.raises(ValueError, match="same shape"):
        optimal_discriminator(jnp.ones(2), jnp.ones(3))


# --------------------------------------------------------------------------------------
# Mode coverage
# --------------------------------------------------------------------------------------


def test_mode_coverage_counts(key):
    centers = gaussian_mixture_2d_centers(8, 2.0)
    samples = jnp.concatenate(
        [centers[:3], centers[:3] + 0.05, jnp.array([[0.0, 0.0], [10.0, 10.0]])], axis=0
    )
    result = mode_coverage(samples, centers, 0.02)
    assert int(result.num_modes_covered) == 3
    assert float(result.high_quality_fraction) == pytest.approx(3 / 8)
    np.testing.assert_array_equal(result.counts, [1, 1, 1, 0, 0, 0, 0, 0])
    assert int(mode_coverage(samples, centers, 0.02, min_count=2).num_modes_covered) == 0
    wide = mode_coverage(samples, centers, 0.05)  # 3 std = 0.15 now reaches the shifted copies
    np.testing.assert_array_equal(wide.counts, [2, 2, 2, 0, 0, 0, 0, 0])


def test_mode_coverage_matches_brute_force(key):
    x, _ = gaussian_mixture_2d(key, 300, std=0.3)
    centers = gaussian_mixture_2d_centers()
    result = mode_coverage(x, centers, 0.1)
    x_np, c_np = np.asarray(x, np.float64), np.asarray(centers, np.float64)
    distances = np.linalg.norm(x_np[:, None, :] - c_np[None, :, :], axis=-1)
    good = distances.min(1) <= 0.3
    counts = np.bincount(distances.argmin(1)[good], minlength=8)
    np.testing.assert_array_equal(result.counts, counts)
    assert float(result.high_quality_fraction) == pytest.approx(good.mean(), abs=1e-6)
    assert_jit_matches_eager(lambda s: mode_coverage(s, centers, 0.1), x)


def test_mode_coverage_errors():
    centers = jnp.zeros((2, 2))
    with pytest.raises(ValueError, match="std must be > 0"):
        mode_coverage(jnp.zeros((3, 2)), centers, 0.0)
    with pytest.raises(ValueError, match="same number of columns"):
        mode_coverage(jnp.zeros((3, 3)), centers, 0.1)
    with pytest.raises(ValueError, match="min_count must be > 0"):
        mode_coverage(jnp.zeros((3, 2)), centers, 0.1, min_count=0)


# --------------------------------------------------------------------------------------
# Networks and training
# --------------------------------------------------------------------------------------


def test_generator_and_discriminator_shapes(key):
    generator = Generator(output_size=3, hidden_features=(8,), output_activation="tanh")
    discriminator = Discriminator(hidden_features=(8,))
    z = jax.random.normal(key, (5, 2))
    g_params = generator.init(jax.random.key(1), z)
    x = generator.apply(g_params, z)
    assert x.shape == (5, 3)
    assert float(jnp.max(jnp.abs(x))) <= 1.0
    d_params = discriminator.init(jax.random.key(2), x)
    assert discriminator.apply(d_params, x).shape == (5,)
    assert_vmap_matches_loop(lambda v: discriminator.apply(d_params, v), x)


def _ring_gan(num_discriminator_steps=1, generator_optimizer=None, std=0.1, batch_size=128):
    return make_gan(
        Generator(output_size=2, hidden_features=(32, 32)),
        Discriminator(hidden_features=(32, 32)),
        lambda key, n: gaussian_mixture_2d(key, n, std=std)[0],
        latent_size=2,
        batch_size=batch_size,
        generator_optimizer=generator_optimizer or optax.adam(2e-3, b1=0.5),
        discriminator_optimizer=optax.adam(2e-3, b1=0.5),
        num_discriminator_steps=num_discriminator_steps,
    )


@pytest.mark.standard_dtype_promotion
def test_gan_step_is_a_pure_function_of_key_and_state():
    gan = _ring_gan(num_discriminator_steps=2, batch_size=16)
    state = gan.init(jax.random.key(1))
    a, info_a = gan.step(jax.random.key(3), state)
    b, info_b = jax.jit(gan.step)(jax.random.key(3), state)
    assert int(a.step) == 1
    jax.tree_util.tree_map(
        lambda u, v: np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6),
        (a, info_a),
        (b, info_b),
    )


def test_array_sampler(key):
    data = jnp.arange(10.0)[:, None]
    batch = array_sampler(data)(key, 500)
    assert batch.shape == (500, 1)
    values = np.asarray(batch[:, 0])
    assert set(values.tolist()) <= set(range(10))
    assert len(set(values.tolist())) == 10  # 500 draws with replacement hit every row
    with pytest.raises(ValueError, match="at least one example"):
        array_sampler(jnp.zeros((0, 2)))


def test_gan_errors():
    kwargs = {
        "latent_size": 2,
        "batch_size": 8,
        "generator_optimizer": optax.sgd(0.1),
        "discriminator_optimizer": optax.sgd(0.1),
    }
    parts = (Generator(output_size=2), Discriminator(), lambda key, n: jnp.zeros((n, 2)))
    with pytest.raises(ValueError, match="num_discriminator_steps must be > 0"):
        make_gan(*parts, num_discriminator_steps=0, **kwargs)
    with pytest.raises(ValueError, match="num_discriminator_steps must be > 0"):
        make_gan(*parts, num_discriminator_steps=-2, **kwargs)
    with pytest.raises(ValueError, match="generator_loss must be one of"):
        make_gan(*parts, generator_loss="wasserstein", **kwargs)
    with pytest.raises(ValueError, match="latent_size must be > 0"):
        make_gan(*parts, **{**kwargs, "latent_size": 0})
    with pytest.raises(ValueError, match=r"hidden_features\[0\] must be > 0"):
        Generator(output_size=2, hidden_features=(0,)).init(jax.random.key(0), jnp.zeros((1, 2)))
    with pytest.raises(ValueError, match="real_logits must have rank"):
        discriminator_loss(jnp.array(0.0), jnp.zeros(2))


def test_gan_modules_are_registered():
    models = registered_models()
    assert "Generator" in models and "Discriminator" in models
