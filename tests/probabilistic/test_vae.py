"""Tests of jaxdl.probabilistic.vae: closed forms, both ELBO forms, the VAE and its loss."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from jaxdl.nn.registry import registered_models
from jaxdl.probabilistic.vae import (
    VAE,
    bernoulli_log_likelihood,
    elbo,
    elbo_joint_entropy,
    gaussian_entropy,
    gaussian_kl_divergence,
    gaussian_log_likelihood,
    make_vae_loss,
    standard_normal_log_density,
)
from jaxdl.testing import (
    assert_grads_close,
    assert_jit_matches_eager,
    assert_vmap_matches_loop,
)

# --------------------------------------------------------------------------------------
# Closed forms
# --------------------------------------------------------------------------------------


def test_gaussian_kl_matches_torch(key):
    torch = pytest.importorskip("torch")
    keys = jax.random.split(key, 4)
    mean, log_variance, prior_mean, prior_log_variance = (
        jax.random.normal(k, (5, 3)) for k in keys
    )

    def torch_kl(m, lv, pm, plv):
        q = torch.distributions.Normal(
            torch.tensor(np.asarray(m)), torch.tensor(np.exp(0.5 * np.asarray(lv)))
        )
        p = torch.distributions.Normal(
            torch.tensor(np.asarray(pm)), torch.tensor(np.exp(0.5 * np.asarray(plv)))
        )
        return torch.distributions.kl_divergence(q, p).sum(-1).numpy()

    zeros = jnp.zeros_like(mean)
    np.testing.assert_allclose(
        gaussian_kl_divergence(mean, log_variance),
        torch_kl(mean, log_variance, zeros, zeros),
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        gaussian_kl_divergence(mean, log_variance, prior_mean, prior_log_variance),
        torch_kl(mean, log_variance, prior_mean, prior_log_variance),
        rtol=1e-5,
        atol=1e-6,
    )


def test_gaussian_kl_matches_monte_carlo(key):
    mean = jnp.array([0.5, -1.0, 0.2])
    log_variance = jnp.array([-0.5, 0.3, 0.0])
    z = mean[None, :] + jnp.exp(0.5 * log_variance)[None, :] * jax.random.normal(key, (20000, 3))
    log_q = gaussian_log_likelihood(
        z, jnp.broadcast_to(mean, z.shape), jnp.broadcast_to(log_variance, z.shape)
    )
    samples = np.asarray(log_q - standard_normal_log_density(z), dtype=np.float64)
    standard_error = samples.std() / np.sqrt(samples.size)
    assert abs(samples.mean() - float(gaussian_kl_divergence(mean, log_variance))) < (
        4 * standard_error
    )


def test_gaussian_log_likelihood_and_entropy_match_scipy(key):
    x_key, m_key, v_key = jax.random.split(key, 3)
    x, mean, log_variance = (jax.random.normal(k, (4, 3)) for k in (x_key, m_key, v_key))
    std = np.exp(0.5 * np.asarray(log_variance))
    expected = scipy.stats.norm.logpdf(np.asarray(x), np.asarray(mean), std).sum(-1)
    np.testing.assert_allclose(gaussian_log_likelihood(x, mean, log_variance), expected, rtol=1e-5)
    np.testing.assert_allclose(
        gaussian_entropy(log_variance), scipy.stats.norm.entropy(0.0, std).sum(-1), rtol=1e-5
    )
    np.testing.assert_allclose(
        standard_normal_log_density(x), scipy.stats.norm.logpdf(np.asarray(x)).sum(-1), rtol=1e-5
    )


def test_bernoulli_log_likelihood_matches_scipy_and_is_stable(key):
    logits = 3.0 * jax.random.normal(key, (4, 6))
    x = (jax.random.uniform(jax.random.key(1), (4, 6)) < 0.5).astype(jnp.float32)
    probabilities = 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))
    expected = scipy.stats.bernoulli.logpmf(np.asarray(x), probabilities).sum(-1)
    np.testing.assert_allclose(bernoulli_log_likelihood(x, logits), expected, rtol=1e-5)
    extreme = bernoulli_log_likelihood(jnp.array([[1.0, 0.0]]), jnp.array([[-200.0, 200.0]]))
    np.testing.assert_allclose(extreme, [-400.0], rtol=1e-6)


def test_closed_form_gradients_jit_and_vmap(key):
    keys = jax.random.split(key, 3)
    mean, log_variance, x = (jax.random.normal(k, (3, 4)) for k in keys)
    assert_grads_close(lambda p: jnp.sum(gaussian_kl_divergence(p[0], p[1])), (mean, log_variance))
    assert_grads_close(
        lambda p: jnp.sum(gaussian_log_likelihood(x, p[0], p[1])), (mean, log_variance)
    )
    assert_grads_close(lambda a: jnp.sum(bernoulli_log_likelihood(jax.nn.sigmoid(x), a)), mean)
    assert_jit_matches_eager(gaussian_kl_divergence, mean, log_variance)
    assert_vmap_matches_loop(gaussian_kl_divergence, mean, log_variance)
    assert_vmap_matches_loop(lambda a, b: bernoulli_log_likelihood(jax.nn.sigmoid(a), b), x, mean)


# --------------------------------------------------------------------------------------
# The ELBO in both forms, against an exact linear-Gaussian model
# --------------------------------------------------------------------------------------

# p(z) = N(0, I_2), p(x | z) = N(W z + b, s^2 I_3), W with orthogonal columns so the
# exact posterior is a diagonal Gaussian.
_W = np.array([[1.0, 0.5], [2.0, 0.5], [-1.0, 1.5]])  # W^T W = diag(6, 2.75)
_B = np.array([0.2, -0.1, 0.4])
_NOISE_VARIANCE = 0.5
_X = np.array([1.0, 0.5, -0.8])


def _linear_log_likelihood(z):
    product = jnp.einsum("...l,dl->...d", z, jnp.asarray(_W, z.dtype))
    mean = product + jnp.broadcast_to(jnp.asarray(_B, z.dtype), product.shape)
    x = jnp.broadcast_to(jnp.asarray(_X, z.dtype), mean.shape)
    log_variance = jnp.full_like(mean, np.log(_NOISE_VARIANCE))
    return gaussian_log_likelihood(x, mean, log_variance)


def _exact_posterior():
    precision = np.eye(2) + _W.T @ _W / _NOISE_VARIANCE
    covariance = np.linalg.inv(precision)
    mean = covariance @ _W.T @ (_X - _B) / _NOISE_VARIANCE
    return mean, np.log(np.diag(covariance))


def _log_evidence():
    covariance = _W @ _W.T + _NOISE_VARIANCE * np.eye(3)
    return scipy.stats.multivariate_normal(_B, covariance).logpdf(_X)


@pytest.mark.parametrize("form", [elbo, elbo_joint_entropy])
def test_elbo_equals_log_evidence_minus_posterior_kl(key, form):
    posterior_mean, posterior_log_variance = _exact_posterior()
    mean = jnp.array([[0.1, 0.3], list(posterior_mean)], dtype=jnp.float32)
    log_variance = jnp.array([[-1.0, 0.2], list(posterior_log_variance)], dtype=jnp.float32)
    num_samples = 20000
    z = mean[None] + jnp.exp(0.5 * log_variance)[None] * jax.random.normal(key, (num_samples, 2, 2))
    # Per-sample spread of the estimator, for the Monte Carlo tolerance.
    spread = np.asarray(
        _linear_log_likelihood(z) + standard_normal_log_density(z), dtype=np.float64
    ).std(0)
    estimate = form(
        jax.random.key(1), _linear_log_likelihood, mean, log_variance, num_samples=num_samples
    )
    gap = gaussian_kl_divergence(
        mean,
        log_variance,
        jnp.broadcast_to(jnp.asarray(posterior_mean, jnp.float32), mean.shape),
        jnp.broadcast_to(jnp.asarray(posterior_log_variance, jnp.float32), mean.shape),
    )
    expected = _log_evidence() - np.asarray(gap)
    np.testing.assert_allclose(estimate, expected, atol=4 * spread.max() / np.sqrt(num_samples))
    # The bound is tight at the exact posterior and strict elsewhere.
    assert float(gap[1]) == pytest.approx(0.0, abs=1e-5)
    assert float(gap[0]) > 0.1


def test_elbo_forms_agree_exactly_with_analytic_prior_term(key):
    # With the same draws the forms differ only by the Monte Carlo estimate of
    # E_q[log p(z)]; replacing it by its closed form -1/2 sum(log 2 pi + m^2 + s^2)
    # makes the joint + entropy form equal reconstruction - KL exactly.
    mean = jnp.array([[0.3, -0.2], [1.0, 0.5]])
    log_variance = jnp.array([[-0.4, 0.1], [0.3, -1.0]])
    num_samples = 3
    joint = elbo_joint_entropy(
        jax.random.key(5), _linear_log_likelihood, mean, log_variance, num_samples=num_samples
    )
    kl_form = elbo(
        jax.random.key(5), _linear_log_likelihood, mean, log_variance, num_samples=num_samples
    )
    z = mean[None] + jnp.exp(0.5 * log_variance)[None] * jax.random.normal(
        jax.random.key(5), (num_samples, 2, 2)
    )
    monte_carlo_prior = jnp.mean(standard_normal_log_density(z), axis=0)
    analytic_prior = -0.5 * jnp.sum(
        np.log(2 * np.pi) + jnp.square(mean) + jnp.exp(log_variance), axis=-1
    )
    np.testing.assert_allclose(
        joint - monte_carlo_prior + analytic_prior, kl_form, rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        analytic_prior + gaussian_entropy(log_variance),
        -gaussian_kl_divergence(mean, log_variance),
        rtol=1e-6,
        atol=1e-6,
    )


def test_elbo_gradients_with_fixed_key(key):
    mean = jnp.array([[0.3, -0.2]])
    log_variance = jnp.array([[-0.4, 0.1]])

    def objective(params, key):
        return jnp.sum(elbo(key, _linear_log_likelihood, params[0], params[1], num_samples=2))

    assert_grads_close(objective, (mean, log_variance), key)
    for form in (elbo, elbo_joint_entropy):
        assert_jit_matches_eager(
            lambda key, m, v, form=form: form(key, _linear_log_likelihood, m, v, num_samples=2),
            jax.random.key(4),
            mean,
            log_variance,
        )


# --------------------------------------------------------------------------------------
# The VAE module and its loss
# --------------------------------------------------------------------------------------


def _small_vae(**kwargs):
    return VAE(latent_size=2, output_size=5, encoder_hidden=(6,), decoder_hidden=(6,), **kwargs)


def test_vae_shapes_and_modes(key):
    model = _small_vae()
    x = jax.nn.sigmoid(jax.random.normal(key, (4, 5)))
    variables = model.init(jax.random.key(1), x)
    evaluated = model.apply(variables, x)
    np.testing.assert_array_equal(evaluated.latent, evaluated.mean)  # no sampling in eval
    trained = model.apply(variables, x, train=True, rngs={"sample": jax.random.key(2)})
    assert trained.latent.shape == (4, 2)
    assert trained.decoder_output.shape == (4, 5)
    assert not np.allclose(trained.latent, trained.mean)
    with pytest.raises(ValueError, match="needs a 'sample' rng"):
        model.apply(variables, x, train=True)
    assert_vmap_matches_loop(lambda v: model.apply(variables, v), x)


def test_vae_reparametrized_latent_statistics(key):
    model = _small_vae(likelihood="gaussian")
    x = jnp.ones((1, 5))
    variables = model.init(jax.random.key(1), x)
    keys = jax.random.split(key, 4000)
    latents = jax.vmap(
        lambda k: model.apply(variables, x, train=True, rngs={"sample": k}).latent[0]
    )(keys)
    out = model.apply(variables, x)
    latents = np.asarray(latents, dtype=np.float64)
    std = np.exp(0.5 * np.asarray(out.log_variance[0], dtype=np.float64))
    n = latents.shape[0]
    np.testing.assert_array_less(np.abs(latents.mean(0) - out.mean[0]), 4 * std / np.sqrt(n))
    np.testing.assert_allclose(latents.std(0), std, rtol=4 / np.sqrt(2 * n))


def test_gaussian_decoder_has_learned_variance(key):
    model = _small_vae(likelihood="gaussian")
    x = jax.random.normal(key, (3, 5))
    variables = model.init(jax.random.key(1), x)
    assert variables["params"]["output_log_variance"].shape == (5,)
    out = model.apply(variables, x)
    assert out.decoder_log_variance.shape == (3, 5)
    expected = gaussian_log_likelihood(x, out.decoder_output, out.decoder_log_variance)
    got = model.apply(
        variables, x, out.decoder_output, out.decoder_log_variance, method=VAE.log_likelihood
    )
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_vae_loss_decomposes_into_reconstruction_and_kl(key):
    model = _small_vae()
    x = jax.nn.sigmoid(jax.random.normal(key, (4, 5)))
    params = model.init(jax.random.key(1), x)["params"]
    loss, (state, metrics) = make_vae_loss(model, beta=2.0)(params, {}, x, jax.random.key(2))
    assert state == {}
    assert float(metrics["elbo"]) == pytest.approx(
        float(metrics["reconstruction_log_likelihood"] - metrics["kl"]), rel=1e-6
    )
    assert float(loss) == pytest.approx(
        float(2.0 * metrics["kl"] - metrics["reconstruction_log_likelihood"]), rel=1e-6
    )
    mean, log_variance = model.apply({"params": params}, x, method=VAE.encode)
    assert float(metrics["kl"]) == pytest.approx(
        float(jnp.mean(gaussian_kl_divergence(mean, log_variance))), rel=1e-6
    )


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_vae_loss_gradients_with_fixed_key(key, likelihood):
    model = VAE(
        latent_size=2,
        output_size=3,
        encoder_hidden=(3,),
        decoder_hidden=(3,),
        likelihood=likelihood,
        activation="tanh",
        num_classes=2,
    )
    x = jax.nn.sigmoid(jax.random.normal(key, (3, 3)))
    labels = jnp.array([0, 1, 1], dtype=jnp.int32)
    params = model.init(jax.random.key(1), x, labels)["params"]
    loss_fn = make_vae_loss(model, num_samples=2)

    def objective(params, x, loss_key):
        return loss_fn(params, {}, (x, labels), loss_key)[0]

    assert_grads_close(objective, params, x, jax.random.key(2), rtol=1e-4, atol=1e-7)


def test_conditional_vae_uses_labels(key):
    model = _small_vae(num_classes=3)
    x = jax.nn.sigmoid(jax.random.normal(key, (2, 5)))
    labels = jnp.array([0, 2], dtype=jnp.int32)
    variables = model.init(jax.random.key(1), x, labels)
    first = model.apply(variables, x, labels)
    other = model.apply(variables, x, jnp.array([1, 1], dtype=jnp.int32))
    assert not np.allclose(first.mean, other.mean)
    with pytest.raises(ValueError, match="needs labels"):
        model.apply(variables, x)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        model.apply(variables, x, jnp.array([0, 3], dtype=jnp.int32))
    with pytest.raises(ValueError, match="labels must have shape"):
        model.apply(variables, x, jnp.array([0], dtype=jnp.int32))
    with pytest.raises(ValueError, match="needs batches"):
        make_vae_loss(model)(variables["params"], {}, x, jax.random.key(2))
    samples = model.apply(variables, jax.random.key(3), 2, labels, method=VAE.sample_prior)
    assert samples.shape == (2, 5)
    plain = _small_vae()
    plain_variables = plain.init(jax.random.key(1), x)
    with pytest.raises(ValueError, match="num_classes=None"):
        plain.apply(plain_variables, x, labels)


def test_sample_prior(key):
    model = _small_vae()
    variables = model.init(jax.random.key(1), jnp.ones((1, 5)))
    means = model.apply(variables, key, 64, method=VAE.sample_prior)
    assert means.shape == (64, 5)
    assert float(jnp.min(means)) >= 0.0 and float(jnp.max(means)) <= 1.0
    draws = model.apply(variables, jax.random.key(2), 64, draw_x=True, method=VAE.sample_prior)
    assert set(np.unique(np.asarray(draws)).tolist()) <= {0.0, 1.0}
    gaussian = _small_vae(likelihood="gaussian")
    gaussian_variables = gaussian.init(jax.random.key(1), jnp.ones((1, 5)))
    real = gaussian.apply(
        gaussian_variables, jax.random.key(3), 8, draw_x=True, method=VAE.sample_prior
    )
    assert real.shape == (8, 5)


def test_vae_errors(key):
    x = jnp.ones((2, 5))
    with pytest.raises(ValueError, match="latent_size must be > 0"):
        VAE(latent_size=0, output_size=5).init(key, x)
    with pytest.raises(TypeError, match="latent_size must be an int"):
        VAE(latent_size=2.5, output_size=5).init(key, x)
    with pytest.raises(ValueError, match=r"encoder_hidden\[0\] must be > 0"):
        VAE(latent_size=2, output_size=5, encoder_hidden=(-3,)).init(key, x)
    with pytest.raises(ValueError, match="likelihood must be 'bernoulli' or 'gaussian'"):
        VAE(latent_size=2, output_size=5, likelihood="poisson").init(key, x)
    with pytest.raises(ValueError, match="x must have 5 features"):
        VAE(latent_size=2, output_size=5).init(key, jnp.ones((2, 4)))
    model = _small_vae()
    variables = model.init(key, x)
    with pytest.raises(ValueError, match="latent must have 2 features"):
        model.apply(variables, jnp.ones((2, 3)), method=VAE.decode)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        make_vae_loss(model, beta=-1.0)
    with pytest.raises(ValueError, match="num_samples must be > 0"):
        make_vae_loss(model, num_samples=0)
    with pytest.raises(ValueError, match="mean and log_variance must have the same shape"):
        gaussian_kl_divergence(jnp.ones((2, 3)), jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="x and logits must have the same shape"):
        bernoulli_log_likelihood(jnp.ones((2, 3)), jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="num_samples must be > 0"):
        elbo(key, lambda z: jnp.sum(z, -1), jnp.ones((1, 2)), jnp.ones((1, 2)), num_samples=0)


def test_vae_is_registered():
    assert "VAE" in registered_models()
