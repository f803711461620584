"""GAN training through fit: k discriminator steps per generator step as an update step."""

from __future__ import annotations

import jax
import numpy as np
import optax
import pytest

from jaxdl.data.toy import gaussian_mixture_2d, gaussian_mixture_2d_centers
from jaxdl.probabilistic.gan import (
    Discriminator,
    Generator,
    generate_samples,
    make_gan,
    mode_coverage,
)
from jaxdl.training.gan import as_gan_state, gan_train_state, train_gan

pytestmark = pytest.mark.standard_dtype_promotion


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


def test_gan_trains_through_fit_and_continues_bitwise():
    gan = _ring_gan(num_discriminator_steps=3, generator_optimizer=optax.sgd(0.0), batch_size=16)
    state = gan_train_state(gan, jax.random.key(1))
    long = train_gan(jax.random.key(5), gan, state, 4, steps_per_epoch=1, epochs_per_chunk=3)
    half = train_gan(jax.random.key(5), gan, state, 2, steps_per_epoch=1)
    rest = train_gan(
        jax.random.key(5), gan, half.state, 4, steps_per_epoch=1
    )  # continues at step 2
    assert int(long.state.step) == 4 and int(rest.state.step) == 4
    assert [r["epoch"] for r in long.history] == [1, 2, 3, 4]
    assert {"train_discriminator_loss", "train_generator_loss"} <= set(long.history[-1])
    for a, b in zip(
        jax.tree.leaves(long.state.params), jax.tree.leaves(rest.state.params), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    final, initial = as_gan_state(long.state), as_gan_state(state)
    jax.tree.map(np.testing.assert_array_equal, final.generator_params, initial.generator_params)
    changed = jax.tree.map(
        lambda a, b: not np.allclose(a, b), final.discriminator_params, initial.discriminator_params
    )
    assert all(jax.tree.leaves(changed))


def test_gan_covers_more_modes_after_training(key):
    std = 0.1
    gan = _ring_gan(std=std)
    state = gan_train_state(gan, jax.random.key(1))
    generator = Generator(output_size=2, hidden_features=(32, 32))
    centers = gaussian_mixture_2d_centers()

    def coverage(state):
        params = as_gan_state(state).generator_params
        samples = generate_samples(jax.random.key(11), generator, params, 1000, 2)
        return mode_coverage(samples, centers, std)

    before = coverage(state)
    result = train_gan(key, gan, state, 400, steps_per_epoch=100, epochs_per_chunk=4)
    after = coverage(result.state)
    assert int(after.num_modes_covered) > int(before.num_modes_covered)
    assert int(after.num_modes_covered) >= 5
    assert float(after.high_quality_fraction) > float(before.high_quality_fraction) + 0.1
    assert all(np.isfinite(r["train_generator_loss"]) for r in result.history)
