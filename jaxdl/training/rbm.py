"""RBM training through ``fit``: CD-k and persistent CD as a custom update step.

:mod:`jaxdl.probabilistic.rbm` gives the pure pieces (:func:`~jaxdl.probabilistic.rbm.cd_step`,
:func:`~jaxdl.probabilistic.rbm.cd_evaluate`, :func:`~jaxdl.probabilistic.rbm.cd_validate`,
:func:`~jaxdl.probabilistic.rbm.init_persistent_chains`); this module builds the
:class:`TrainState` and runs them with the one engine, so an RBM gets the same chunked
``lax.scan``, progress bar, logging, checkpoints, resume, early stopping, non-finite guard
and SIGINT / SIGTERM handling as any loss. The state holds ``params`` (an
:class:`~jaxdl.probabilistic.rbm.RBMParams` or
:class:`~jaxdl.probabilistic.rbm.GaussianRBMParams`), the optax state, and
``model_state = {"chains": [C, V]}`` for PCD (``{}`` for CD-k), so the persistent chains
are checkpointed and restored with the parameters.

Reference: G. Hinton, "Training products of experts by minimizing contrastive
divergence", Neural Computation 2002; T. Tieleman, "Training restricted Boltzmann
machines using approximations to the likelihood gradient", ICML 2008; G. Hinton, "A
practical guide to training restricted Boltzmann machines", 2010.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import optax

from jaxdl._checks import check_positive, check_positive_int
from jaxdl.optim.hyperparams import set_hyperparams
from jaxdl.probabilistic import rbm
from jaxdl.training.loop import FitResult, fit
from jaxdl.training.state import TrainState
from jaxdl.training.steps import UpdateStep
from jaxdl.typing import ArrayLike, Batch, Key, PyTree

__all__ = ["cd_update_step", "rbm_train_state", "train_rbm"]


@dataclasses.dataclass(frozen=True)
class _CDUpdateStep(UpdateStep):
    """The CD-k / PCD update step; ``fit`` calls ``validate`` on its data before compiling."""

    def validate(self, params: PyTree, model_state: PyTree, data: Batch, name: str) -> None:
        rbm.cd_validate(params, model_state, data, name)


@functools.lru_cache(maxsize=32)
def cd_update_step(k: int = 1, learn_variance: bool = True) -> UpdateStep:
    """:func:`jaxdl.probabilistic.rbm.cd_step` with ``k`` sweeps as a ``fit`` update step.

    Metrics (logged ``train_*``, epoch means): ``reconstruction_error`` and
    ``free_energy_gap``; on ``val_data``: ``reconstruction_error`` and ``free_energy``
    (:func:`~jaxdl.probabilistic.rbm.cd_evaluate`). Cached per ``(k, learn_variance)``, so
    repeated ``fit`` calls reuse one compiled program.

    Args:
        k: Gibbs sweeps per update (>= 1).
        learn_variance: for Gaussian RBMs, whether ``log_variance`` is trained.

    Example:
        >>> cd_update_step(k=1) is cd_update_step(k=1)
        True
    """
    check_positive_int("k", k)
    step = functools.partial(rbm.cd_step, k=k, learn_variance=bool(learn_variance))
    return _CDUpdateStep(step, rbm.cd_evaluate)


@functools.lru_cache(maxsize=1)
def _sgd() -> optax.GradientTransformation:
    # One transformation object for every learning rate (the rate lives in the optimizer
    # state), so runs that differ only in the rate share one compiled program.
    return optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)


def rbm_train_state(
    key: Key | None,
    params: rbm.AnyRBMParams,
    optimizer: optax.GradientTransformation,
    *,
    data: ArrayLike | None = None,
    num_chains: int | None = None,
) -> TrainState:
    """A :class:`TrainState` for CD-k (``num_chains=None``) or PCD (``num_chains`` chains).

    Args:
        key: PRNG key choosing the training rows the persistent chains start at (PCD
            only; ``None`` for CD-k).
        params: initial RBM parameters.
        optimizer: an optax transformation.
        data: training data ``[N, V]`` (PCD only).
        num_chains: number of persistent chains; ``None`` for CD-k.

    Returns:
        A state at step 0 whose ``model_state`` is ``{"chains": [num_chains, V]}`` (PCD)
        or ``{}`` (CD-k).

    Example:
        >>> import jax, jax.numpy as jnp, optax
        >>> from jaxdl.probabilistic import rbm
        >>> params = rbm.init_params(jax.random.key(0), 3, 2)
        >>> state = rbm_train_state(jax.random.key(1), params, optax.sgd(0.1),
        ...                         data=jnp.eye(3), num_chains=5)
        >>> state.model_state["chains"].shape
        (5, 3)
    """
    model_state: dict[str, Any] = {}
    if num_chains is not None:
        if key is None or data is None:
            raise ValueError("persistent chains (num_chains) need a key and the training data")
        chains = rbm.init_persistent_chains(key, data, num_chains)
        model_state = {"chains": chains.astype(params.weights.dtype)}
    return TrainState.create(apply_fn=None, params=params, tx=optimizer, model_state=model_state)


def train_rbm(
    key: Key,
    params: rbm.AnyRBMParams,
    data: ArrayLike,
    *,
    num_epochs: int,
    batch_size: int,
    learning_rate: float | None = None,
    optimizer: optax.GradientTransformation | None = None,
    k: int = 1,
    persistent: bool = False,
    num_chains: int | None = None,
    learn_variance: bool = True,
    val_data: ArrayLike | None = None,
    **fit_kwargs: Any,
) -> FitResult:
    """Train an RBM by CD-k or persistent CD with :func:`fit`.

    Every epoch shuffles the data and runs ``N // batch_size`` updates (the remainder is
    left out that epoch); each update is
    ``optimizer.update(contrastive_divergence(...))`` from the minibatch, its Gibbs noise
    drawn in one call. With ``persistent=True`` the negative chains (``num_chains`` of
    them, default ``batch_size``, started at random training rows) carry over from one
    update to the next in ``model_state["chains"]``. Checkpoints, resume (bit for bit),
    progress, logging, early stopping and SIGINT / SIGTERM come from ``fit``
    (``**fit_kwargs``: ``checkpoint_dir``, ``resume``, ``logger``, ``callback``,
    ``progress``, ``early_stopping``, ``eval_fn``, ``epochs_per_chunk``, ...).

    Args:
        key: PRNG key of the run (split into the chains' start and ``fit``'s key).
        params: initial parameters (:func:`~jaxdl.probabilistic.rbm.init_params` or
            :func:`~jaxdl.probabilistic.rbm.init_gaussian_params`).
        data: training data ``[N, V]``.
        num_epochs: passes over the data.
        batch_size: examples per update.
        learning_rate: step size of plain SGD (default 0.1; logged as ``learning_rate``)
            when ``optimizer`` is ``None``.
        optimizer: any optax transformation (then ``learning_rate`` must be ``None``).
        k: Gibbs sweeps per update.
        persistent: PCD instead of CD-k.
        num_chains: number of persistent chains (PCD only).
        learn_variance: for Gaussian RBMs, whether ``log_variance`` is trained.
        val_data: validation data ``[M, V]``; logged as ``val_reconstruction_error`` and
            ``val_free_energy`` (or what ``eval_fn`` returns).
        **fit_kwargs: passed to :func:`fit`.

    Returns:
        The :class:`FitResult`: ``result.state.params`` are the trained parameters,
        ``result.state.model_state["chains"]`` the persistent chains (PCD), and
        ``result.history`` one record per epoch with ``train_reconstruction_error`` and
        ``train_free_energy_gap`` (epoch means of the updates' metrics).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from jaxdl.probabilistic import rbm
        >>> data = jnp.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]] * 8)
        >>> params = rbm.init_params(jax.random.key(0), 3, 4)
        >>> result = train_rbm(jax.random.key(1), params, data, num_epochs=2, batch_size=4,
        ...                    learning_rate=0.1, progress=False)
        >>> len(result.history), int(result.state.step)  # 2 epochs of 16 / 4 updates
        (2, 8)

    Reference: G. Hinton, "A practical guide to training restricted Boltzmann machines",
    2010.
    """
    check_positive_int("k", k)
    check_positive_int("batch_size", batch_size)
    if optimizer is not None and learning_rate is not None:
        raise ValueError("pass either learning_rate (plain SGD) or optimizer, not both")
    if num_chains is not None and not persistent:
        raise ValueError("num_chains is only used with persistent=True")
    if num_chains is not None:
        check_positive_int("num_chains", num_chains)
    data = jnp.asarray(data, params.weights.dtype)
    if optimizer is None:
        learning_rate = 0.1 if learning_rate is None else learning_rate
        check_positive("learning_rate", learning_rate)
        optimizer = _sgd()
    chain_key, fit_key = jax.random.split(key)
    count = (batch_size if num_chains is None else num_chains) if persistent else None
    state = rbm_train_state(chain_key, params, optimizer, data=data, num_chains=count)
    if learning_rate is not None:
        state = state.replace(
            opt_state=set_hyperparams(state.opt_state, learning_rate=learning_rate)
        )
    if val_data is not None:
        val_data = (jnp.asarray(val_data, params.weights.dtype),)
    return fit(
        fit_key,
        state,
        cd_update_step(k, bool(learn_variance)),
        (data,),
        num_epochs=num_epochs,
        batch_size=batch_size,
        val_data=val_data,
        **fit_kwargs,
    )
