"""Evidence lower bound and variational autoencoders (VAE, conditional VAE).

For observed ``x`` and latent ``z`` with prior ``p(z) = N(0, I)``, any distribution
``q(z | x)`` gives a lower bound on the log evidence,

    ELBO = E_q[log p(x, z)] + H(q)                        (joint + entropy form)
         = E_q[log p(x | z)] - KL(q(z | x) || p(z))       (reconstruction - KL form)
         <= log p(x),

with equality iff ``q(z | x) = p(z | x)``. A VAE amortises ``q`` with an encoder
network giving ``mean`` and ``log_variance`` of a diagonal Gaussian, draws ``z`` by
the reparametrization trick ``z = mean + exp(log_variance / 2) * eps`` and decodes
``z`` into the parameters of ``p(x | z)`` (Bernoulli logits or a Gaussian). Training
maximises the ELBO by gradient ascent on encoder and decoder together.

Reference: Kingma & Welling, "Auto-Encoding Variational Bayes" (2014); Sohn, Lee &
Yan, "Learning structured output representation using deep conditional generative
models" (2015) for the conditional VAE.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl._checks import (
    check_floating,
    check_integer,
    check_labels,
    check_positive,
    check_positive_int,
    check_rank,
)
from jaxdl.losses.objective import Objective
from jaxdl.nn.activations import _resolve_activation
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.sampling.reparam import normal_from_log_variance
from jaxdl.typing import Array, Key, PyTree

_LOG_2PI = math.log(2.0 * math.pi)


def _check_same_shape(names: tuple[str, str], a: Array, b: Array) -> None:
    if jnp.shape(a) != jnp.shape(b):
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {jnp.shape(a)} "
            f"and {jnp.shape(b)}"
        )


# --------------------------------------------------------------------------------------
# Closed-form Gaussian terms and decoder likelihoods
# --------------------------------------------------------------------------------------


def gaussian_kl_divergence(
    mean: Array,
    log_variance: Array,
    prior_mean: Array | None = None,
    prior_log_variance: Array | None = None,
) -> Array:
    """KL divergence between diagonal Gaussians, summed over the last axis.

    ``KL(N(m, s^2) || N(m_p, s_p^2))
    = 1/2 sum_j [ log(s_p^2 / s^2) + (s^2 + (m - m_p)^2) / s_p^2 - 1 ]``;
    with the default standard normal prior this is
    ``1/2 sum_j [ s_j^2 + m_j^2 - 1 - log s_j^2 ]``.

    Args:
        mean: means of ``q``, shape ``[..., L]``.
        log_variance: log variances of ``q``, shape ``[..., L]``.
        prior_mean: means of ``p`` (same shape), default 0.
        prior_log_variance: log variances of ``p`` (same shape), default 0.

    Returns:
        The divergence per example, shape ``[...]``.

    Example:
        >>> float(gaussian_kl_divergence(jnp.zeros(3), jnp.zeros(3)))
        0.0

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes" (2014), appendix B.
    """
    check_floating("mean", mean)
    check_floating("log_variance", log_variance)
    check_rank("mean", mean, tuple(range(1, 8)))
    _check_same_shape(("mean", "log_variance"), mean, log_variance)
    if prior_mean is None:
        prior_mean = jnp.zeros_like(mean)
    if prior_log_variance is None:
        prior_log_variance = jnp.zeros_like(log_variance)
    _check_same_shape(("mean", "prior_mean"), mean, prior_mean)
    _check_same_shape(("log_variance", "prior_log_variance"), log_variance, prior_log_variance)
    terms = (
        prior_log_variance
        - log_variance
        + (jnp.exp(log_variance) + jnp.square(mean - prior_mean)) * jnp.exp(-prior_log_variance)
        - 1.0
    )
    return 0.5 * jnp.sum(terms, axis=-1)


def gaussian_entropy(log_variance: Array) -> Array:
    """Differential entropy of a diagonal Gaussian, ``H = 1/2 sum_j (1 + log 2 pi + log s_j^2)``.

    Args:
        log_variance: log variances, shape ``[..., L]``.

    Returns:
        The entropy per example, shape ``[...]``.

    Example:
        >>> round(float(gaussian_entropy(jnp.zeros(1))), 4)
        1.4189
    """
    check_floating("log_variance", log_variance)
    check_rank("log_variance", log_variance, tuple(range(1, 8)))
    return 0.5 * jnp.sum(1.0 + _LOG_2PI + log_variance, axis=-1)


def gaussian_log_likelihood(x: Array, mean: Array, log_variance: Array) -> Array:
    """Log density of a diagonal Gaussian, summed over the last axis.

    ``log N(x; m, s^2) = -1/2 sum_j [ log 2 pi + log s_j^2 + (x_j - m_j)^2 / s_j^2 ]``
    (the Gaussian decoder's ``log p(x | z)``).

    Args:
        x: observations, shape ``[..., D]``.
        mean: means, shape ``[..., D]``.
        log_variance: log variances, shape ``[..., D]``.

    Returns:
        The log-likelihood per example, shape ``[...]``.

    Example:
        >>> round(float(gaussian_log_likelihood(jnp.zeros(1), jnp.zeros(1), jnp.zeros(1))), 4)
        -0.9189
    """
    check_floating("x", x)
    check_rank("x", x, tuple(range(1, 8)))
    _check_same_shape(("x", "mean"), x, mean)
    _check_same_shape(("x", "log_variance"), x, log_variance)
    squared = jnp.square(x - mean) * jnp.exp(-log_variance)
    return -0.5 * jnp.sum(_LOG_2PI + log_variance + squared, axis=-1)


def standard_normal_log_density(z: Array) -> Array:
    """Log density of ``N(0, I)``, ``-1/2 sum_j (log 2 pi + z_j^2)``, per example.

    Args:
        z: points, shape ``[..., L]``.

    Returns:
        The log density per example, shape ``[...]``.

    Example:
        >>> round(float(standard_normal_log_density(jnp.zeros(2))), 4)
        -1.8379
    """
    check_floating("z", z)
    check_rank("z", z, tuple(range(1, 8)))
    return -0.5 * jnp.sum(_LOG_2PI + jnp.square(z), axis=-1)


def bernoulli_log_likelihood(x: Array, logits: Array) -> Array:
    """Log-likelihood of Bernoulli outputs given logits, summed over the last axis.

    ``log p(x | z) = sum_j [ x_j log sigma(a_j) + (1 - x_j) log(1 - sigma(a_j)) ]
    = sum_j [ x_j a_j - softplus(a_j) ]`` (stable in logit space; ``x`` may be
    fractional in [0, 1], e.g. grey levels).

    Args:
        x: targets in [0, 1], shape ``[..., D]``.
        logits: decoder logits ``a``, shape ``[..., D]``.

    Returns:
        The log-likelihood per example, shape ``[...]``.

    Example:
        >>> round(float(bernoulli_log_likelihood(jnp.ones(1), jnp.zeros(1))), 4)
        -0.6931
    """
    check_floating("x", x)
    check_rank("x", x, tuple(range(1, 8)))
    _check_same_shape(("x", "logits"), x, logits)
    return jnp.sum(x * logits - jax.nn.softplus(logits), axis=-1)


# --------------------------------------------------------------------------------------
# The ELBO in both forms
# --------------------------------------------------------------------------------------


def _draw_latents(key: Key, mean: Array, log_variance: Array, num_samples: int) -> Array:
    check_floating("mean", mean)
    check_rank("mean", mean, tuple(range(1, 8)))
    _check_same_shape(("mean", "log_variance"), mean, log_variance)
    check_positive_int("num_samples", num_samples)
    shape = (num_samples, *mean.shape)
    return normal_from_log_variance(
        key, jnp.broadcast_to(mean, shape), jnp.broadcast_to(log_variance, shape)
    )


def elbo(
    key: Key,
    log_likelihood_fn: Callable[[Array], Array],
    mean: Array,
    log_variance: Array,
    *,
    num_samples: int = 1,
) -> Array:
    """ELBO as reconstruction minus KL, with ``q(z | x) = N(mean, exp(log_variance))``.

    ``ELBO = (1/S) sum_s log p(x | z_s) - KL(q || N(0, I))`` with reparametrized
    ``z_s = mean + exp(log_variance / 2) eps_s``; the KL term is exact, so only the
    reconstruction term is a Monte Carlo estimate.

    Args:
        key: PRNG key for the ``S`` latent draws.
        log_likelihood_fn: ``z [..., L] -> log p(x | z) [...]`` (the decoder's
            log-likelihood of the observed ``x``).
        mean: posterior means, shape ``[..., L]``.
        log_variance: posterior log variances, shape ``[..., L]``.
        num_samples: number of latent samples ``S``.

    Returns:
        The ELBO per example, shape ``[...]``.

    Example:
        >>> x = jnp.ones((2, 3))
        >>> ll = lambda z: gaussian_log_likelihood(x, z, jnp.zeros_like(z))
        >>> elbo(jax.random.key(0), ll, jnp.zeros((2, 3)), jnp.zeros((2, 3))).shape
        (2,)

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes" (2014), eq. 10.
    """
    z = _draw_latents(key, mean, log_variance, num_samples)
    reconstruction = jnp.mean(jax.vmap(log_likelihood_fn)(z), axis=0)
    return reconstruction - gaussian_kl_divergence(mean, log_variance)


def elbo_joint_entropy(
    key: Key,
    log_likelihood_fn: Callable[[Array], Array],
    mean: Array,
    log_variance: Array,
    *,
    num_samples: int = 1,
) -> Array:
    """ELBO as expected log joint plus entropy, ``E_q[log p(x, z)] + H(q)``.

    ``log p(x, z) = log p(x | z) + log N(z; 0, I)`` is averaged over ``S``
    reparametrized draws; the Gaussian entropy is exact. Same expectation as
    :func:`elbo`; with the same key the two differ only by the Monte Carlo error of
    ``E_q[log p(z)]``.

    Args:
        key: PRNG key for the ``S`` latent draws.
        log_likelihood_fn: ``z [..., L] -> log p(x | z) [...]``.
        mean: posterior means, shape ``[..., L]``.
        log_variance: posterior log variances, shape ``[..., L]``.
        num_samples: number of latent samples ``S``.

    Returns:
        The ELBO estimate per example, shape ``[...]``.

    Example:
        >>> x = jnp.ones((2, 3))
        >>> ll = lambda z: gaussian_log_likelihood(x, z, jnp.zeros_like(z))
        >>> elbo_joint_entropy(jax.random.key(0), ll, jnp.zeros((2, 3)), jnp.zeros((2, 3))).shape
        (2,)

    Reference: Goodfellow, Bengio & Courville, *Deep Learning* (2016), eq. 19.1.
    """
    z = _draw_latents(key, mean, log_variance, num_samples)
    log_joint = jax.vmap(log_likelihood_fn)(z) + standard_normal_log_density(z)
    return jnp.mean(log_joint, axis=0) + gaussian_entropy(log_variance)


# --------------------------------------------------------------------------------------
# The VAE module
# --------------------------------------------------------------------------------------

_LIKELIHOODS = ("bernoulli", "gaussian")


class VAEOutput(NamedTuple):
    """One VAE pass.

    Attributes:
        mean: posterior means ``[..., L]``.
        log_variance: posterior log variances ``[..., L]``.
        latent: the latent code used for decoding ``[..., L]`` (a reparametrized draw
            in training, the posterior mean otherwise).
        decoder_output: Bernoulli logits or Gaussian means of ``p(x | z)``, ``[..., D]``.
        decoder_log_variance: Gaussian log variances ``[..., D]``; zeros for a
            Bernoulli decoder (unused there).
    """

    mean: Array
    log_variance: Array
    latent: Array
    decoder_output: Array
    decoder_log_variance: Array


class VAE(nn.Module):
    """Variational autoencoder with a diagonal Gaussian posterior, optionally conditional.

    Encoder: ``[x, onehot(y)] -> hidden layers -> (mean, log_variance)`` of
    ``q(z | x, y)``. Latent: ``z = mean + exp(log_variance / 2) eps`` drawn from the
    ``'sample'`` rng stream when ``train=True`` (the posterior mean otherwise).
    Decoder: ``[z, onehot(y)] -> hidden layers -> p(x | z, y)``, Bernoulli logits or a
    Gaussian mean with one learned log variance per output feature. Setting
    ``num_classes`` makes it a conditional VAE (CVAE): every call then needs ``labels``.

    Attributes:
        latent_size: dimension ``L`` of ``z``.
        output_size: dimension ``D`` of ``x``.
        encoder_hidden: hidden layer sizes of the encoder.
        decoder_hidden: hidden layer sizes of the decoder.
        likelihood: ``"bernoulli"`` or ``"gaussian"``.
        num_classes: number of label classes for a CVAE, ``None`` for a plain VAE.
        activation: hidden activation (name or callable).

    Example:
        >>> model = VAE(latent_size=2, output_size=8)
        >>> variables = model.init(jax.random.key(0), jnp.ones((4, 8)))
        >>> out = model.apply(variables, jnp.ones((4, 8)), train=True,
        ...                   rngs={"sample": jax.random.key(1)})
        >>> out.decoder_output.shape
        (4, 8)

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes" (2014).
    """

    latent_size: int
    output_size: int
    encoder_hidden: Sequence[int] = (64,)
    decoder_hidden: Sequence[int] = (64,)
    likelihood: str = "bernoulli"
    num_classes: int | None = None
    activation: str | Callable[[Array], Array] = "relu"

    def setup(self) -> None:
        check_positive_int("latent_size", self.latent_size)
        check_positive_int("output_size", self.output_size)
        for name, sizes in (
            ("encoder_hidden", self.encoder_hidden),
            ("decoder_hidden", self.decoder_hidden),
        ):
            for i, size in enumerate(sizes):
                check_positive_int(f"{name}[{i}]", size)
        if self.likelihood not in _LIKELIHOODS:
            raise ValueError(
                f"likelihood must be 'bernoulli' or 'gaussian', got {self.likelihood!r}"
            )
        if self.num_classes is not None:
            check_positive_int("num_classes", self.num_classes)
        self._act = _resolve_activation(self.activation)
        self.encoder_layers = [
            nn.Dense(int(size), name=f"encoder_{i}") for i, size in enumerate(self.encoder_hidden)
        ]
        self.mean_head = nn.Dense(self.latent_size, name="mean")
        self.log_variance_head = nn.Dense(self.latent_size, name="log_variance")
        self.decoder_layers = [
            nn.Dense(int(size), name=f"decoder_{i}") for i, size in enumerate(self.decoder_hidden)
        ]
        self.output_layer = nn.Dense(self.output_size, name="output")
        if self.likelihood == "gaussian":
            self.output_log_variance = self.param(
                "output_log_variance", nn.initializers.zeros, (self.output_size,)
            )

    def _condition(self, inputs: Array, labels: Array | None) -> Array:
        if self.num_classes is None:
            if labels is not None:
                raise ValueError(
                    "labels were given to a VAE with num_classes=None; set num_classes "
                    "to build a conditional VAE"
                )
            return inputs
        if labels is None:
            raise ValueError(
                f"a conditional VAE (num_classes={self.num_classes}) needs labels of "
                f"shape {inputs.shape[:-1]}"
            )
        check_labels("labels", labels, self.num_classes)
        if labels.shape != inputs.shape[:-1]:
            raise ValueError(f"labels must have shape {inputs.shape[:-1]}, got {labels.shape}")
        one_hot = jax.nn.one_hot(labels, self.num_classes, dtype=inputs.dtype)
        return jnp.concatenate([inputs, one_hot], axis=-1)

    def encode(self, x: Array, labels: Array | None = None) -> tuple[Array, Array]:
        """Posterior parameters ``(mean, log_variance)``, each ``[..., L]``, for ``x [..., D]``."""
        check_floating("x", x)
        if x.shape[-1] != self.output_size:
            raise ValueError(
                f"x must have {self.output_size} features (output_size), got shape {x.shape}"
            )
        h = self._condition(x, labels)
        for layer in self.encoder_layers:
            h = self._act(layer(h))
        return self.mean_head(h), self.log_variance_head(h)

    def decode(self, latent: Array, labels: Array | None = None) -> tuple[Array, Array]:
        """Decoder parameters ``(decoder_output, decoder_log_variance)``, each ``[..., D]``."""
        check_floating("latent", latent)
        if latent.shape[-1] != self.latent_size:
            raise ValueError(
                f"latent must have {self.latent_size} features (latent_size), got shape "
                f"{latent.shape}"
            )
        h = self._condition(latent, labels)
        for layer in self.decoder_layers:
            h = self._act(layer(h))
        output = self.output_layer(h)
        if self.likelihood == "gaussian":
            log_variance = jnp.broadcast_to(self.output_log_variance, output.shape)
        else:
            log_variance = jnp.zeros_like(output)
        return output, log_variance

    def __call__(self, x: Array, labels: Array | None = None, *, train: bool = False) -> VAEOutput:
        """Encode, draw (``train``) or take the mean of ``z``, and decode."""
        mean, log_variance = self.encode(x, labels)
        if train:
            if not self.has_rng("sample"):
                raise ValueError(
                    "VAE called with train=True needs a 'sample' rng for the latent draw: "
                    "pass rngs={'sample': key} to apply"
                )
            latent = normal_from_log_variance(self.make_rng("sample"), mean, log_variance)
        else:
            latent = mean
        output, output_log_variance = self.decode(latent, labels)
        return VAEOutput(mean, log_variance, latent, output, output_log_variance)

    def log_likelihood(self, x: Array, decoder_output: Array, decoder_log_variance: Array) -> Array:
        """``log p(x | z)`` per example from the decoder's parameters.

        Args:
            x: observations ``[..., D]``.
            decoder_output: Bernoulli logits or Gaussian means ``[..., D]``.
            decoder_log_variance: Gaussian log variances ``[..., D]`` (ignored for a
                Bernoulli decoder).

        Returns:
            The log-likelihood per example, ``[...]``.
        """
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(x, decoder_output)
        return gaussian_log_likelihood(x, decoder_output, decoder_log_variance)

    def sample_prior(
        self, key: Key, num_samples: int, labels: Array | None = None, *, draw_x: bool = False
    ) -> Array:
        """Generate ``num_samples`` examples: ``z ~ N(0, I)``, then decode.

        Args:
            key: PRNG key.
            num_samples: number of examples (a Python int).
            labels: integer labels ``[num_samples]`` for a CVAE.
            draw_x: if False return the mean of ``p(x | z)`` (probabilities for a
                Bernoulli decoder); if True a draw ``x ~ p(x | z)``.

        Returns:
            Samples ``[num_samples, D]``.

        Example:
            >>> model = VAE(latent_size=2, output_size=8)
            >>> variables = model.init(jax.random.key(0), jnp.ones((1, 8)))
            >>> model.apply(variables, jax.random.key(1), 5, method=VAE.sample_prior).shape
            (5, 8)
        """
        check_positive_int("num_samples", num_samples)
        latent_key, output_key = jax.random.split(key)
        z = jax.random.normal(latent_key, (num_samples, self.latent_size))
        output, log_variance = self.decode(z, labels)
        if self.likelihood == "bernoulli":
            probabilities = jax.nn.sigmoid(output)
            if not draw_x:
                return probabilities
            return jax.random.bernoulli(output_key, probabilities).astype(output.dtype)
        if not draw_x:
            return output
        return normal_from_log_variance(output_key, output, log_variance)


def make_vae_loss(model: VAE, *, beta: float = 1.0, num_samples: int = 1) -> Objective:
    """Build ``loss_fn(params, model_state, batch, key)``: the negative ELBO, averaged.

    ``loss = mean_i [ -(1/S) sum_s log p(x_i | z_is) + beta KL(q(z | x_i) || N(0, I)) ]``;
    ``beta = 1`` is the VAE, ``beta > 1`` the beta-VAE.

    Args:
        model: a :class:`VAE`.
        beta: weight of the KL term, >= 0.
        num_samples: latent draws ``S`` per example.

    Returns:
        A loss function; ``batch`` is ``x [B, D]`` or ``(x, labels)`` (labels are
        required by a CVAE and ignored by a plain VAE; ``(x,)`` works too); metrics are
        ``elbo``,
        ``reconstruction_log_likelihood`` and ``kl`` (per-example means, ``elbo``
        always with ``beta = 1``).

    Example:
        >>> model = VAE(latent_size=2, output_size=4)
        >>> params = model.init(jax.random.key(0), jnp.ones((3, 4)))["params"]
        >>> loss, (_, metrics) = make_vae_loss(model)(params, {}, jnp.ones((3, 4)) / 2,
        ...                                      jax.random.key(1))

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes" (2014); Higgins et
    al., "beta-VAE" (2017).
    """
    check_positive("beta", beta, allow_zero=True)
    check_positive_int("num_samples", num_samples)

    def loss_and_metrics(
        params: PyTree, model_state: PyTree, batch: PyTree, key: Key | None
    ) -> tuple[Array, dict[str, Array]]:
        # key None: inference mode, the decoder reads the posterior mean (no sampling).
        if isinstance(batch, tuple | list):
            x, labels = batch[0], (batch[1] if len(batch) > 1 else None)
        else:
            x, labels = batch, None
        if model.num_classes is None:
            labels = None
        elif labels is None:
            raise ValueError("a conditional VAE needs batches (x, labels)")
        else:
            check_integer("labels", labels)
        variables = {"params": params, **model_state}
        mean, log_variance = model.apply(variables, x, labels, method=VAE.encode)

        def log_likelihood_fn(z: Array) -> Array:
            output, output_log_variance = model.apply(variables, z, labels, method=VAE.decode)
            return model.apply(variables, x, output, output_log_variance, method=VAE.log_likelihood)

        if key is None:
            z = mean[None]
        else:
            z = _draw_latents(key, mean, log_variance, num_samples)
        reconstruction = jnp.mean(jax.vmap(log_likelihood_fn)(z), axis=0)
        kl = gaussian_kl_divergence(mean, log_variance)
        loss = jnp.mean(beta * kl - reconstruction)
        metrics = {
            "elbo": jnp.mean(reconstruction - kl),
            "reconstruction_log_likelihood": jnp.mean(reconstruction),
            "kl": jnp.mean(kl),
        }
        return loss, metrics

    def loss_fn(
        params: PyTree, model_state: PyTree, batch: PyTree, key: Key
    ) -> tuple[Array, tuple[PyTree, dict[str, Array]]]:
        loss, metrics = loss_and_metrics(params, model_state, batch, key)
        return loss, (model_state, metrics)

    def evaluate(params: PyTree, model_state: PyTree, batch: PyTree) -> dict[str, Array]:
        loss, metrics = loss_and_metrics(params, model_state, batch, None)
        return {"loss": loss, **metrics}

    return Objective(loss_fn, evaluate)


register_model(
    ModelSpec(
        name="VAE",
        make=lambda: VAE(latent_size=2, output_size=6, encoder_hidden=(8,), decoder_hidden=(8,)),
        input_shape=(6,),
        apply_kwargs={"train": False},
    )
)

__all__ = [
    "VAE",
    "VAEOutput",
    "bernoulli_log_likelihood",
    "elbo",
    "elbo_joint_entropy",
    "gaussian_entropy",
    "gaussian_kl_divergence",
    "gaussian_log_likelihood",
    "standard_normal_log_density",
    "make_vae_loss",
]
