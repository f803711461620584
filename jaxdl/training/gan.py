"""GAN training through ``fit``: k discriminator updates per generator update as an update step.

:func:`jaxdl.probabilistic.gan.make_gan` gives the algorithm (``init``, ``step``); this
module runs it with the one engine, so a GAN gets the same chunked ``lax.scan``,
progress bar, logging, checkpoints, resume and non-finite guard as any loss. The
:class:`TrainState` holds ``params = {"generator", "discriminator"}`` and
``opt_state = {"generator", "discriminator"}``; each step draws its own real minibatches
from the algorithm's ``sample_data`` (Goodfellow et al., 2014, algorithm 1), so ``fit``'s
data is only a counter of the steps in an epoch.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from jaxdl._checks import check_positive_int
from jaxdl.probabilistic.gan import GANAlgorithm, GANState
from jaxdl.training.logging import RunLogger
from jaxdl.training.loop import FitResult, fit
from jaxdl.training.state import TrainState
from jaxdl.training.steps import UpdateStep, update_step
from jaxdl.typing import Batch, Key, Metrics


def gan_train_state(gan: GANAlgorithm, key: Key) -> TrainState:
    """``gan.init(key)`` as a :class:`TrainState` for :func:`fit`.

    Example:
        >>> import jax, optax
        >>> from jaxdl.probabilistic.gan import Discriminator, Generator, make_gan
        >>> gan = make_gan(Generator(output_size=2, hidden_features=(8,)),
        ...                Discriminator(hidden_features=(8,)),
        ...                lambda key, n: jax.random.normal(key, (n, 2)), latent_size=2,
        ...                batch_size=16, generator_optimizer=optax.adam(1e-3),
        ...                discriminator_optimizer=optax.adam(1e-3))
        >>> sorted(gan_train_state(gan, jax.random.key(0)).params)
        ['discriminator', 'generator']
    """
    state = gan.init(key)
    return TrainState(
        step=state.step,
        params={"generator": state.generator_params, "discriminator": state.discriminator_params},
        opt_state={
            "generator": state.generator_opt_state,
            "discriminator": state.discriminator_opt_state,
        },
        model_state={},
        apply_fn=None,
        tx=None,
    )


def as_gan_state(state: TrainState) -> GANState:
    """The :class:`GANState` view of a GAN :class:`TrainState`."""
    return GANState(
        step=state.step,
        generator_params=state.params["generator"],
        discriminator_params=state.params["discriminator"],
        generator_opt_state=state.opt_state["generator"],
        discriminator_opt_state=state.opt_state["discriminator"],
    )


@functools.lru_cache(maxsize=32)
def gan_update_step(gan: GANAlgorithm) -> UpdateStep:
    """``gan.step`` as a custom update step for :func:`fit`.

    Metrics: ``discriminator_loss``, ``generator_loss``, ``real_probability``,
    ``fake_probability`` (logged as ``train_*``, averaged per epoch); the non-finite guard
    watches all of them. Cached per algorithm, so repeated ``fit`` calls on the same
    GAN reuse one compiled program.
    """

    def step(key: Key, state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        new, info = gan.step(key, as_gan_state(state))
        params = {"generator": new.generator_params, "discriminator": new.discriminator_params}
        opt_state = {
            "generator": new.generator_opt_state,
            "discriminator": new.discriminator_opt_state,
        }
        return state.replace(params=params, opt_state=opt_state), info._asdict()

    return update_step(step)


def train_gan(
    key: Key,
    gan: GANAlgorithm,
    state: TrainState,
    num_steps: int,
    *,
    steps_per_epoch: int | None = None,
    epochs_per_chunk: int = 1,
    progress: bool = False,
    logger: RunLogger | None = None,
    callback: Callable[[dict[str, float]], None] | None = None,
    checkpoint_dir: str | None = None,
    **fit_kwargs: Any,
) -> FitResult:
    """Train a GAN for ``num_steps`` generator steps with :func:`fit`.

    One epoch is ``steps_per_epoch`` generator steps (default: all of them); the history
    has one record per epoch with the epoch means of the step metrics.

    Args:
        key: base PRNG key of the run.
        gan: the algorithm from :func:`jaxdl.probabilistic.gan.make_gan`.
        state: from :func:`gan_train_state` (or a restored one).
        num_steps: total generator steps of the run (a multiple of ``steps_per_epoch``).
        steps_per_epoch: generator steps per logged epoch.
        epochs_per_chunk, progress, logger, callback, checkpoint_dir, **fit_kwargs:
            passed to :func:`fit`.

    Returns:
        The :class:`FitResult`; ``as_gan_state(result.state)`` is the final GAN state.

    Reference: Goodfellow et al., "Generative Adversarial Nets" (2014), algorithm 1.
    """
    check_positive_int("num_steps", num_steps)
    steps_per_epoch = num_steps if steps_per_epoch is None else steps_per_epoch
    check_positive_int("steps_per_epoch", steps_per_epoch)
    if num_steps % steps_per_epoch:
        raise ValueError(
            f"num_steps ({num_steps}) must be a multiple of steps_per_epoch ({steps_per_epoch})"
        )
    counter = (jnp.zeros((steps_per_epoch, 0), jnp.float32),)
    return fit(
        key,
        state,
        gan_update_step(gan),
        counter,
        num_epochs=math.ceil(num_steps / steps_per_epoch),
        batch_size=1,
        shuffle=False,
        epochs_per_chunk=epochs_per_chunk,
        progress=progress,
        logger=logger,
        callback=callback,
        checkpoint_dir=checkpoint_dir,
        **fit_kwargs,
    )
