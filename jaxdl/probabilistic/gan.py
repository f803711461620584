"""Generative adversarial networks: objectives, alternating training and mode coverage.

A generator ``G(z)`` maps noise ``z ~ p(z)`` to samples; a discriminator ``D(x)``
outputs the probability that ``x`` is real. They play the minimax game

    min_G max_D  V(D, G) = E_{x ~ p_data}[log D(x)] + E_{z ~ p(z)}[log(1 - D(G(z)))].

For a fixed generator the best discriminator is ``D*(x) = p_data(x) / (p_data(x) +
p_g(x))`` and then ``V(D*, G) = -log 4 + 2 JSD(p_data || p_g)``. Training alternates
``k`` ascent steps on ``D`` with one descent step on ``G``. Because ``log(1 - D(G(z)))``
saturates when ``D`` confidently rejects the fakes, the generator usually minimises the
*non-saturating* loss ``-log D(G(z))`` instead. Every objective here takes the
discriminator's *logits* ``a`` (``D = sigmoid(a)``) and is written with ``softplus``,
so it stays finite for any logit: ``log D = -softplus(-a)``, ``log(1 - D) = -softplus(a)``.

This module gives the algorithm (``make_gan``: ``init`` and one alternating ``step``);
training runs it through the one engine, ``jaxdl.training.gan.train_gan`` (``fit`` with
the step as a custom update step), which this room may not import (training comes after
probabilistic in the layer order).

Reference: Goodfellow et al., "Generative Adversarial Nets" (2014).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from jax import lax

from jaxdl._checks import (
    check_floating,
    check_positive,
    check_positive_int,
    check_rank,
)
from jaxdl.nn.activations import _resolve_activation
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array, Key, PyTree

# --------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------


def _check_hidden(argument: str, sizes: Sequence[int]) -> None:
    if isinstance(sizes, int):
        raise ValueError(f"{argument} must be a sequence of layer sizes, got {sizes!r}")
    for i, size in enumerate(sizes):
        check_positive_int(f"{argument}[{i}]", size)


class Generator(nn.Module):
    """MLP generator ``x = G(z)``: noise ``[..., L]`` to samples ``[..., output_size]``.

    Attributes:
        output_size: dimension of a generated sample.
        hidden_features: hidden layer sizes.
        activation: hidden activation (name or callable).
        output_activation: ``"linear"`` for real-valued data, ``"sigmoid"`` for data
            in (0, 1), ``"tanh"`` for data in (-1, 1).

    Example:
        >>> g = Generator(output_size=2, hidden_features=(16,))
        >>> params = g.init(jax.random.key(0), jnp.zeros((5, 3)))
        >>> g.apply(params, jnp.zeros((5, 3))).shape
        (5, 2)

    Reference: Goodfellow et al., "Generative Adversarial Nets" (2014).
    """

    output_size: int
    hidden_features: Sequence[int] = (64, 64)
    activation: str | Callable[[Array], Array] = "relu"
    output_activation: str | Callable[[Array], Array] = "linear"

    @nn.compact
    def __call__(self, z: Array) -> Array:
        """Samples ``[..., output_size]`` for noise ``[..., L]``."""
        check_positive_int("output_size", self.output_size)
        _check_hidden("hidden_features", self.hidden_features)
        check_floating("z", z)
        act = _resolve_activation(self.activation)
        out_act = _resolve_activation(self.output_activation, "output_activation")
        h = z
        for i, size in enumerate(self.hidden_features):
            h = act(nn.Dense(int(size), name=f"hidden_{i}")(h))
        return out_act(nn.Dense(self.output_size, name="output")(h))


class Discriminator(nn.Module):
    """MLP discriminator returning the logit ``a(x)`` with ``D(x) = sigmoid(a(x))``.

    Attributes:
        hidden_features: hidden layer sizes.
        activation: hidden activation (name or callable).

    Example:
        >>> d = Discriminator(hidden_features=(16,))
        >>> params = d.init(jax.random.key(0), jnp.zeros((5, 2)))
        >>> d.apply(params, jnp.zeros((5, 2))).shape
        (5,)

    Reference: Goodfellow et al., "Generative Adversarial Nets" (2014).
    """

    hidden_features: Sequence[int] = (64, 64)
    activation: str | Callable[[Array], Array] = "leaky_relu"

    @nn.compact
    def __call__(self, x: Array) -> Array:
        """Logits ``[...]`` for samples ``[..., D]``."""
        _check_hidden("hidden_features", self.hidden_features)
        check_floating("x", x)
        act = _resolve_activation(self.activation)
        h = x
        for i, size in enumerate(self.hidden_features):
            h = act(nn.Dense(int(size), name=f"hidden_{i}")(h))
        return nn.Dense(1, name="logit")(h)[..., 0]


# --------------------------------------------------------------------------------------
# Objectives on discriminator logits
# --------------------------------------------------------------------------------------


def _check_logits(name: str, logits: Array) -> None:
    check_floating(name, logits)
    check_rank(name, logits, tuple(range(1, 8)))


def minimax_value(real_logits: Array, fake_logits: Array) -> Array:
    """Minibatch estimate of the GAN value ``V(D, G)``.

    ``V = mean_i log D(x_i) + mean_j log(1 - D(G(z_j)))
    = -mean_i softplus(-a(x_i)) - mean_j softplus(a(G(z_j)))``.

    Args:
        real_logits: discriminator logits on real data, shape ``[m]`` (any rank >= 1).
        fake_logits: logits on generated samples, shape ``[n]`` (any rank >= 1).

    Returns:
        A scalar, at most 0; ``-log 4`` when ``D = 1/2`` everywhere.

    Example:
        >>> round(float(minimax_value(jnp.zeros(3), jnp.zeros(3))), 4)
        -1.3863

    Reference: Goodfellow et al., "Generative Adversarial Nets" (2014), eq. 1.
    """
    _check_logits("real_logits", real_logits)
    _check_logits("fake_logits", fake_logits)
    return -jnp.mean(jax.nn.softplus(-real_logits)) - jnp.mean(jax.nn.softplus(fake_logits))


def discriminator_loss(real_logits: Array, fake_logits: Array) -> Array:
    """Discriminator loss ``-V(D, G)``: binary cross-entropy with real = 1, fake = 0.

    ``mean_i softplus(-a(x_i)) + mean_j softplus(a(G(z_j)))``.

    Args:
        real_logits: logits on real data, shape ``[m]``.
        fake_logits: logits on generated samples, shape ``[n]``.

    Returns:
        A scalar, >= 0; ``log 4`` at ``D = 1/2``.

    Example:
        >>> round(float(discriminator_loss(jnp.zeros(3), jnp.zeros(3))), 4)
        1.3863

    Reference: Goodfellow et al., "Generative Adversarial Nets" (2014), algorithm 1.
    """
    return -minimax_value(real_logits, fake_logits)


def generator_loss_minimax(fake_logits: Array) -> Array:
    """Saturating generator loss from the minimax game, ``mean_j log(1 - D(G(z_j)))``.

    ``= -mean_j softplus(a(G(z_j)))``; its gradient vanishes when ``D`` confidently
    rejects the fakes (``a -> -inf``), which is why it is rarely used in practice.

    Args:
        fake_logits: logits on generated samples, shape ``[n]``.

    Returns:
        A scalar to minimise over the generator.

    Example:
        >>> round(float(generator_loss_minimax(jnp.zeros(2))), 4)
        -0.6931

    Reference: Goodfellow et al., "Generative Adversarial Nets" (2014), algorithm 1.
    """
    _check_logits("fake_logits", fake_logits)
    return -jnp.mean(jax.nn.softplus(fake_logits))


def generator_loss_non_saturating(fake_logits: Array) -> Array:
    """Non-saturating generator loss ``-mean_j log D(G(z_j)) = mean_j softplus(-a(G(z_j)))``.

    Same fixed point as the minimax loss but a strong gradient exactly when the
    discriminator rejects the fakes.

    Args:
        fake_logits: logits on generated samples, shape ``[n]``.

    Returns:
        A scalar to minimise over the generator.

    Example:
        >>> round(float(generator_loss_non_saturating(jnp.zeros(2))), 4)
        0.6931

    Reference: Goodfellow et al., "Generative Adversarial Nets" (2014), section 3.
    """
    _check_logits("fake_logits", fake_logits)
    return jnp.mean(jax.nn.softplus(-fake_logits))


_GENERATOR_LOSSES = {
    "non_saturating": generator_loss_non_saturating,
    "minimax": generator_loss_minimax,
}


def optimal_discriminator(data_density: Array, generator_density: Array) -> Array:
    """The best discriminator for a fixed generator, ``D*(x) = p_data(x) / (p_data(x) + p_g(x))``.

    It maximises ``p_data(x) log D + p_g(x) log(1 - D)`` pointwise.

    Args:
        data_density: ``p_data`` at some points, any shape, >= 0.
        generator_density: ``p_g`` at the same points, same shape.

    Returns:
        ``D*`` at the points, same shape (1/2 where both densities vanish).

    Example:
        >>> float(optimal_discriminator(jnp.array(3.0), jnp.array(1.0)))
        0.75

    Reference: Goodfellow et al., "Generative Adversarial Nets" (2014), proposition 1.
    """
    check_floating("data_density", data_density)
    check_floating("generator_density", generator_density)
    if jnp.shape(data_density) != jnp.shape(generator_density):
        raise ValueError(
            "data_density and generator_density must have the same shape, got "
            f"{jnp.shape(data_density)} and {jnp.shape(generator_density)}"
        )
    total = data_density + generator_density
    safe = jnp.where(total > 0, total, jnp.ones_like(total))
    return jnp.where(total > 0, data_density / safe, jnp.full_like(total, 0.5))


# --------------------------------------------------------------------------------------
# Alternating training
# --------------------------------------------------------------------------------------


class GANState(NamedTuple):
    """Everything a GAN training run carries between steps.

    Attributes:
        step: number of generator updates done (int32 scalar).
        generator_params: generator parameters (``variables['params']``).
        discriminator_params: discriminator parameters.
        generator_opt_state: optax state of the generator optimizer.
        discriminator_opt_state: optax state of the discriminator optimizer.
    """

    step: Array
    generator_params: PyTree
    discriminator_params: PyTree
    generator_opt_state: PyTree
    discriminator_opt_state: PyTree


class GANInfo(NamedTuple):
    """Diagnostics of one training step.

    Attributes:
        discriminator_loss: the discriminator loss of the last of the ``k`` inner steps.
        generator_loss: the generator loss before its update.
        real_probability: mean ``D(x)`` on the last real minibatch.
        fake_probability: mean ``D(G(z))`` on the last generated minibatch.
    """

    discriminator_loss: Array
    generator_loss: Array
    real_probability: Array
    fake_probability: Array


class GANAlgorithm(NamedTuple):
    """A GAN training algorithm in the ``init`` / ``step`` shape.

    Attributes:
        init: ``init(key) -> GANState``.
        step: ``step(key, state) -> (GANState, GANInfo)``: ``k`` discriminator updates
            then one generator update.
    """

    init: Callable[[Key], GANState]
    step: Callable[[Key, GANState], tuple[GANState, GANInfo]]


def array_sampler(data: Array) -> Callable[[Key, int], Array]:
    """Sample minibatches uniformly with replacement from a fixed dataset.

    Args:
        data: the training set, shape ``[N, ...]``.

    Returns:
        ``sample_data(key, batch_size) -> [batch_size, ...]``, usable by :func:`make_gan`.

    Example:
        >>> sample = array_sampler(jnp.arange(10.0)[:, None])
        >>> sample(jax.random.key(0), 4).shape
        (4, 1)
    """
    check_rank("data", data, tuple(range(1, 8)))
    if data.shape[0] == 0:
        raise ValueError(f"data must hold at least one example, got shape {data.shape}")

    def sample_data(key: Key, batch_size: int) -> Array:
        index = jax.random.randint(key, (batch_size,), 0, data.shape[0])
        return data[index]

    return sample_data


def make_gan(
    generator: nn.Module,
    discriminator: nn.Module,
    sample_data: Callable[[Key, int], Array],
    *,
    latent_size: int,
    batch_size: int,
    generator_optimizer: optax.GradientTransformation,
    discriminator_optimizer: optax.GradientTransformation,
    num_discriminator_steps: int = 1,
    generator_loss: str = "non_saturating",
) -> GANAlgorithm:
    """Build the alternating GAN training algorithm (Goodfellow et al., 2014, algorithm 1).

    Each ``step(key, state)`` runs ``k = num_discriminator_steps`` discriminator updates
    (inside a ``lax.scan``), each on a fresh real minibatch from ``sample_data`` and a
    fresh noise minibatch, descending :func:`discriminator_loss` (i.e. ascending ``V``);
    then one generator update descending the chosen generator loss. Inner step ``j``
    uses the key ``fold_in(discriminator_key, j)``, so a step is a pure function of its
    key. Any optax optimizer works (the paper used momentum; Adam with
    ``b1 = 0.5`` is the common choice today).

    Args:
        generator: a flax module mapping noise ``[B, latent_size]`` to samples.
        discriminator: a flax module mapping samples to logits ``[B]``.
        sample_data: ``sample_data(key, batch_size) -> [batch_size, ...]`` real data.
        latent_size: dimension of the noise ``z ~ N(0, I)``.
        batch_size: minibatch size ``m`` for real data and noise.
        generator_optimizer: optax transformation for the generator.
        discriminator_optimizer: optax transformation for the discriminator.
        num_discriminator_steps: ``k >= 1``.
        generator_loss: ``"non_saturating"`` (``-log D(G(z))``) or ``"minimax"``
            (``log(1 - D(G(z)))``).

    Returns:
        A :class:`GANAlgorithm` with ``init`` and ``step``.

    Example:
        >>> from jaxdl.data.toy import gaussian_mixture_2d
        >>> gan = make_gan(
        ...     Generator(output_size=2, hidden_features=(16,)),
        ...     Discriminator(hidden_features=(16,)),
        ...     lambda key, n: gaussian_mixture_2d(key, n)[0],
        ...     latent_size=2, batch_size=32,
        ...     generator_optimizer=optax.adam(1e-3, b1=0.5),
        ...     discriminator_optimizer=optax.adam(1e-3, b1=0.5))
        >>> state = gan.init(jax.random.key(0))
        >>> state, info = gan.step(jax.random.key(1), state)

    Reference: Goodfellow et al., "Generative Adversarial Nets" (2014).
    """
    check_positive_int("latent_size", latent_size)
    check_positive_int("batch_size", batch_size)
    check_positive_int("num_discriminator_steps", num_discriminator_steps)
    if generator_loss not in _GENERATOR_LOSSES:
        raise ValueError(
            f"generator_loss must be one of {sorted(_GENERATOR_LOSSES)}, got {generator_loss!r}"
        )
    generator_objective = _GENERATOR_LOSSES[generator_loss]

    def generate(generator_params: PyTree, z: Array) -> Array:
        return generator.apply({"params": generator_params}, z)

    def logits(discriminator_params: PyTree, x: Array) -> Array:
        return discriminator.apply({"params": discriminator_params}, x)

    def init(key: Key) -> GANState:
        generator_key, discriminator_key = jax.random.split(key)
        z = jnp.zeros((1, latent_size))
        generator_params = generator.init(generator_key, z)["params"]
        example = generate(generator_params, z)
        discriminator_params = discriminator.init(discriminator_key, example)["params"]
        return GANState(
            step=jnp.zeros((), jnp.int32),
            generator_params=generator_params,
            discriminator_params=discriminator_params,
            generator_opt_state=generator_optimizer.init(generator_params),
            discriminator_opt_state=discriminator_optimizer.init(discriminator_params),
        )

    def step(key: Key, state: GANState) -> tuple[GANState, GANInfo]:
        discriminator_key, generator_key = jax.random.split(key)

        def discriminator_update(carry, index):
            params, opt_state = carry
            data_key, noise_key = jax.random.split(jax.random.fold_in(discriminator_key, index))
            real = sample_data(data_key, batch_size)
            z = jax.random.normal(noise_key, (batch_size, latent_size), dtype=real.dtype)
            fake = lax.stop_gradient(generate(state.generator_params, z))

            def objective(p):
                real_logits, fake_logits = logits(p, real), logits(p, fake)
                probabilities = (
                    jnp.mean(jax.nn.sigmoid(real_logits)),
                    jnp.mean(jax.nn.sigmoid(fake_logits)),
                )
                return discriminator_loss(real_logits, fake_logits), probabilities

            (loss, probabilities), grads = jax.value_and_grad(objective, has_aux=True)(params)
            updates, opt_state = discriminator_optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), (loss, probabilities)

        (discriminator_params, discriminator_opt_state), (losses, probabilities) = lax.scan(
            discriminator_update,
            (state.discriminator_params, state.discriminator_opt_state),
            jnp.arange(num_discriminator_steps),
        )
        z = jax.random.normal(generator_key, (batch_size, latent_size))

        def generator_objective_fn(p):
            return generator_objective(logits(discriminator_params, generate(p, z)))

        generator_loss_value, grads = jax.value_and_grad(generator_objective_fn)(
            state.generator_params
        )
        updates, generator_opt_state = generator_optimizer.update(
            grads, state.generator_opt_state, state.generator_params
        )
        new_state = GANState(
            step=state.step + 1,
            generator_params=optax.apply_updates(state.generator_params, updates),
            discriminator_params=discriminator_params,
            generator_opt_state=generator_opt_state,
            discriminator_opt_state=discriminator_opt_state,
        )
        info = GANInfo(
            discriminator_loss=losses[-1],
            generator_loss=generator_loss_value,
            real_probability=probabilities[0][-1],
            fake_probability=probabilities[1][-1],
        )
        return new_state, info

    return GANAlgorithm(init=init, step=step)


def generate_samples(
    key: Key, generator: nn.Module, generator_params: PyTree, num_samples: int, latent_size: int
) -> Array:
    """Draw ``num_samples`` samples ``G(z)`` with ``z ~ N(0, I)``.

    Args:
        key: PRNG key.
        generator: the generator module.
        generator_params: its parameters (``variables['params']``).
        num_samples: number of samples.
        latent_size: dimension of ``z``.

    Returns:
        Samples ``[num_samples, ...]``.

    Example:
        >>> g = Generator(output_size=2, hidden_features=(8,))
        >>> p = g.init(jax.random.key(0), jnp.zeros((1, 3)))["params"]
        >>> generate_samples(jax.random.key(1), g, p, 5, 3).shape
        (5, 2)
    """
    check_positive_int("num_samples", num_samples)
    check_positive_int("latent_size", latent_size)
    z = jax.random.normal(key, (num_samples, latent_size))
    return generator.apply({"params": generator_params}, z)


# --------------------------------------------------------------------------------------
# Mode coverage on a Gaussian mixture
# --------------------------------------------------------------------------------------


class ModeCoverage(NamedTuple):
    """Mode-coverage statistics of samples against a known Gaussian mixture.

    Attributes:
        num_modes_covered: modes with at least ``min_count`` high-quality samples.
        high_quality_fraction: fraction of samples within ``num_std`` standard
            deviations of their nearest mode.
        counts: high-quality samples assigned to each mode, ``[M]``.
    """

    num_modes_covered: Array
    high_quality_fraction: Array
    counts: Array


def mode_coverage(
    samples: Array,
    centers: Array,
    std: float,
    *,
    num_std: float = 3.0,
    min_count: int = 1,
) -> ModeCoverage:
    """How many mixture modes the samples cover, and how many samples are good.

    A sample is *high quality* when its distance to the nearest centre is at most
    ``num_std * std``; a mode is *covered* when at least ``min_count`` high-quality
    samples fall nearest to it.

    Args:
        samples: generated points, shape ``[N, D]``.
        centers: mixture means, shape ``[M, D]``.
        std: the standard deviation of each (isotropic) mode, > 0.
        num_std: the radius in standard deviations (3 by convention).
        min_count: samples a mode needs to count as covered (>= 1).

    Returns:
        A :class:`ModeCoverage`.

    Example:
        >>> centers = jnp.array([[0.0, 0.0], [5.0, 0.0]])
        >>> int(mode_coverage(jnp.zeros((4, 2)), centers, 0.1).num_modes_covered)
        1

    Reference: Srivastava et al., "VEEGAN" (2017); Metz et al., "Unrolled generative
    adversarial networks" (2017).
    """
    check_floating("samples", samples)
    check_rank("samples", samples, 2)
    check_rank("centers", centers, 2)
    if samples.shape[1] != centers.shape[1]:
        raise ValueError(
            f"samples and centers must have the same number of columns, got {samples.shape[1]} "
            f"and {centers.shape[1]}"
        )
    check_positive("std", std)
    check_positive("num_std", num_std)
    check_positive_int("min_count", min_count)
    squared = jnp.sum(jnp.square(samples[:, None, :] - centers[None, :, :]), axis=-1)
    nearest = jnp.argmin(squared, axis=1)
    distance = jnp.sqrt(jnp.min(squared, axis=1))
    good = distance <= num_std * std
    counts = jnp.sum(
        jax.nn.one_hot(nearest, centers.shape[0], dtype=jnp.int32)
        * good[:, None].astype(jnp.int32),
        axis=0,
    )
    return ModeCoverage(
        num_modes_covered=jnp.sum((counts >= min_count).astype(jnp.int32)),
        high_quality_fraction=jnp.mean(good.astype(samples.dtype)),
        counts=counts,
    )


register_model(
    ModelSpec(
        name="Generator",
        make=lambda: Generator(output_size=2, hidden_features=(8,)),
        input_shape=(3,),
    )
)
register_model(
    ModelSpec(
        name="Discriminator",
        make=lambda: Discriminator(hidden_features=(8,)),
        input_shape=(2,),
    )
)

__all__ = [
    "Discriminator",
    "GANAlgorithm",
    "GANInfo",
    "GANState",
    "Generator",
    "ModeCoverage",
    "array_sampler",
    "discriminator_loss",
    "generate_samples",
    "generator_loss_minimax",
    "generator_loss_non_saturating",
    "make_gan",
    "minimax_value",
    "mode_coverage",
    "optimal_discriminator",
]
