"""Contrastive divergence (CD-k) and persistent CD for RBMs: the pure update pieces.

Two levels, both built on the same pure update (:func:`contrastive_divergence` then an
optax step):

- :func:`contrastive_divergence`: the CD-k / PCD gradient estimate and the new chains;
- :func:`cd_step`: one update as a pure ``step(key, state, batch) -> (state, metrics)``
  on a :class:`jaxdl.training.TrainState`-like state (``params``, ``opt_state``,
  ``model_state``, ``tx``, ``replace``), the body of a custom update step for
  ``jaxdl.training.fit`` (``fit(key, state, update_step(cd_step, cd_evaluate), data,
  ...)``), which then brings checkpoints, logging, early stopping and resume. This
  module does not import :mod:`jaxdl.training` (``probabilistic`` is below
  ``training`` in the layer order): the state is used through its fields only.
  Persistent chains are explicit state, ``model_state = {"chains": [C, V]}`` (start
  them with :func:`init_persistent_chains`); an empty ``model_state`` means CD-k.

The training run itself (epochs, minibatches, checkpoints, resume, logging) is
:func:`jaxdl.training.train_rbm`, which runs :func:`cd_step` through ``fit``; there is
no second training loop here. :func:`cd_validate` is the boundary check ``fit`` calls
on the training and validation data.

Reference: G. Hinton, "Training products of experts by minimizing contrastive
divergence", Neural Computation 2002; T. Tieleman, "Training restricted Boltzmann
machines using approximations to the likelihood gradient", ICML 2008.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax import lax

from jaxdl._checks import (
    check_nonempty,
    check_positive_int,
    check_rank,
)
from jaxdl.probabilistic.rbm.gibbs import (
    _draw_gibbs_noise,
    _gibbs_sweep_from_noise,
)
from jaxdl.probabilistic.rbm.model import (
    AnyRBMParams,
    GaussianRBMParams,
    RBMParams,
    _check_params,
    _check_visible,
    _free_energy,
    _hidden_preactivation,
    _is_gaussian,
    _visible_mean,
    reconstruction_error,
)
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "ContrastiveDivergenceInfo",
    "cd_evaluate",
    "cd_step",
    "cd_validate",
    "contrastive_divergence",
    "init_persistent_chains",
]


class ContrastiveDivergenceInfo(NamedTuple):
    """Side results of :func:`contrastive_divergence`.

    Attributes:
        chains: visible state of the negative chains after ``k`` sweeps, ``[C, V]``; pass
            it back as ``chains`` for persistent CD.
        positive_phase: ``E_data[-dF/dtheta]``, a pytree shaped like the parameters.
        negative_phase: ``E_chains[-dF/dtheta]``, the same shape.
    """

    chains: Array
    positive_phase: AnyRBMParams
    negative_phase: AnyRBMParams


def _mean_free_energy_gradient(
    params: AnyRBMParams, visible: Array, p_hidden: Array
) -> AnyRBMParams:
    """Closed-form ``mean_n dF(v_n)/dtheta`` given ``p_hidden = P(h = 1 | v)``."""
    n = visible.shape[0]
    if _is_gaussian(params):
        inv_var = jnp.exp(-params.log_variance)
        scaled = visible * inv_var[None, :]
        diff = visible - params.visible_bias[None, :]
        back = p_hidden @ params.weights.T
        d_log_variance = jnp.mean(-0.5 * diff * diff * inv_var[None, :] + scaled * back, axis=0)
        return GaussianRBMParams(
            weights=-(scaled.T @ p_hidden) / n,
            visible_bias=-jnp.mean(diff, axis=0) * inv_var,
            hidden_bias=-jnp.mean(p_hidden, axis=0),
            log_variance=d_log_variance,
        )
    return RBMParams(
        weights=-(visible.T @ p_hidden) / n,
        visible_bias=-jnp.mean(visible, axis=0),
        hidden_bias=-jnp.mean(p_hidden, axis=0),
    )


def contrastive_divergence(
    key: Key,
    params: AnyRBMParams,
    visible: ArrayLike,
    *,
    k: int = 1,
    chains: ArrayLike | None = None,
) -> tuple[AnyRBMParams, ContrastiveDivergenceInfo]:
    """CD-k / persistent-CD estimate of the negative log-likelihood gradient.

    The log-likelihood gradient of an RBM is a difference of two expectations,

        d log P(v) / dtheta = E_data[-dF/dtheta] - E_model[-dF/dtheta]
                            = positive phase   - negative phase,

    and the intractable model expectation is replaced by an average over Gibbs chains run
    ``k`` sweeps from the data (CD-k, Hinton 2002) or from persistent chains carried across
    updates (PCD, Tieleman 2008). Hidden units enter both phases through their
    probabilities ``P(h | v)`` (lower variance than samples). The returned gradient is
    ``negative phase - positive phase``: the gradient of the loss, ready for any optax
    optimizer (which descends).

    Args:
        key: PRNG key for the negative chains.
        params: RBM parameters.
        visible: data minibatch ``[B, V]`` (binary or in [0, 1] for Bernoulli units).
        k: number of Gibbs sweeps (>= 1).
        chains: ``None`` for CD-k (chains start at ``visible``), or the persistent chains'
            visible state ``[C, V]`` for PCD.

    Returns:
        ``(grads, info)``: ``grads`` shaped like ``params``; ``info`` a
        :class:`ContrastiveDivergenceInfo` with the new chain state and both phases.

    Example:
        >>> from jaxdl.probabilistic import rbm
        >>> params = rbm.init_params(jax.random.key(0), 4, 3)
        >>> v = jnp.array([[1.0, 0.0, 1.0, 0.0]])
        >>> grads, info = contrastive_divergence(jax.random.key(1), params, v, k=1)
        >>> grads.weights.shape
        (4, 3)

    Reference: G. Hinton, "Training products of experts by minimizing contrastive
    divergence", Neural Computation 2002; T. Tieleman, "Training restricted Boltzmann
    machines using approximations to the likelihood gradient", ICML 2008.
    """
    check_positive_int("k", k)
    visible = jnp.asarray(visible)
    _check_visible("visible", params, visible)
    check_rank("visible", visible, 2)
    check_nonempty("visible", visible)
    if chains is not None:
        chains = jnp.asarray(chains, visible.dtype)
        _check_visible("chains", params, chains)
        check_rank("chains", chains, 2)
        check_nonempty("chains", chains)
    return _contrastive_divergence(key, params, visible, k, chains)


@functools.partial(jax.jit, static_argnames=("k",))
def _contrastive_divergence(key, params, visible, k, chains):
    rows = visible.shape[0] if chains is None else chains.shape[0]
    noise = _draw_gibbs_noise(key, params, (k, rows))
    grads, info, _ = _contrastive_divergence_from_noise(params, visible, chains, noise)
    return grads, info


def _contrastive_divergence_from_noise(params, visible, chains, noise):
    """CD-k / PCD from pre-drawn noise ``(hidden [k, C, H], visible [k, C, V])``.

    Returns ``(grads, info, (p_positive, pre_positive, pre_negative))``: the hidden
    probabilities of the data and the hidden preactivations of the data and of the
    negative samples, which the step's metrics reuse instead of recomputing them.
    """
    pre_positive = _hidden_preactivation(params, visible)
    p_positive = jax.nn.sigmoid(pre_positive)
    if chains is None:
        v_start, pre_start = visible, pre_positive
    else:
        v_start, pre_start = chains, _hidden_preactivation(params, chains)

    def sweep(carry, sweep_noise):
        _, pre = carry
        return _gibbs_sweep_from_noise(params, jax.nn.sigmoid(pre), *sweep_noise), None

    k = noise[0].shape[0]
    (v_negative, pre_negative), _ = lax.scan(sweep, (v_start, pre_start), noise, unroll=min(k, 4))
    p_negative = jax.nn.sigmoid(pre_negative)
    positive = jax.tree.map(jnp.negative, _mean_free_energy_gradient(params, visible, p_positive))
    negative = jax.tree.map(
        jnp.negative, _mean_free_energy_gradient(params, v_negative, p_negative)
    )
    grads = jax.tree.map(jnp.subtract, negative, positive)
    info = ContrastiveDivergenceInfo(v_negative, positive, negative)
    return grads, info, (p_positive, pre_positive, pre_negative)


def _free_energy_given_preactivation(params, visible, preactivation):
    """:func:`free_energy` from the hidden preactivation ``c + (v / s) W`` already at hand."""
    hidden_term = jnp.sum(jax.nn.softplus(preactivation), axis=-1)
    if _is_gaussian(params):
        diff = visible - params.visible_bias[None, :]
        return 0.5 * jnp.sum(diff * diff * jnp.exp(-params.log_variance)[None, :], -1) - hidden_term
    return -(visible @ params.visible_bias) - hidden_term


def _cd_update(tx, params, opt_state, chains, batch, noise, learn_variance):
    """One CD-k / PCD optimizer update from pre-drawn noise, and its monitors."""
    grads, info, (p_positive, pre_positive, pre_negative) = _contrastive_divergence_from_noise(
        params, batch, chains, noise
    )
    if _is_gaussian(params):
        # learn_variance may be traced (one program for both settings).
        zero = jnp.zeros_like(grads.log_variance)
        grads = grads._replace(log_variance=jnp.where(learn_variance, grads.log_variance, zero))
    updates, opt_state = tx.update(grads, opt_state, params)
    new_params = optax.apply_updates(params, updates)
    diff = batch - _visible_mean(params, p_positive)
    metrics = {
        "reconstruction_error": jnp.mean(jnp.sum(diff * diff, axis=-1)),
        "free_energy_gap": jnp.mean(_free_energy_given_preactivation(params, batch, pre_positive))
        - jnp.mean(_free_energy_given_preactivation(params, info.chains, pre_negative)),
    }
    return new_params, opt_state, None if chains is None else info.chains, metrics


def _persistent_chains(model_state: Any) -> Array | None:
    if isinstance(model_state, Mapping) and "chains" in model_state:
        return model_state["chains"]
    return None


def _batch_array(batch: Any) -> Array:
    """``fit`` cuts batches as tuples of arrays; the RBM trains on the first (``x``)."""
    if isinstance(batch, tuple | list):
        batch = batch[0]
    return jnp.asarray(batch)


def init_persistent_chains(key: Key, data: ArrayLike, num_chains: int) -> Array:
    """Persistent chains for PCD, started at ``num_chains`` random training rows.

    Args:
        key: PRNG key choosing the rows.
        data: training data ``[N, V]``.
        num_chains: number of chains ``C`` (rows drawn with replacement when ``C > N``).

    Returns:
        ``[C, V]`` visible states; pass them as ``model_state={"chains": ...}`` to
        :func:`cd_step` (``jaxdl.training.rbm_train_state`` does this for ``fit``).

    Example:
        >>> init_persistent_chains(jax.random.key(0), jnp.eye(4), 3).shape
        (3, 4)
    """
    data = jnp.asarray(data)
    check_rank("data", data, 2)
    check_nonempty("data", data)
    check_positive_int("num_chains", num_chains)
    rows = jax.random.choice(key, data.shape[0], (num_chains,), replace=num_chains > len(data))
    return data[rows]


def cd_step(
    key: Key, state: Any, batch: Any, *, k: int = 1, learn_variance: bool = True
) -> tuple[Any, dict[str, Array]]:
    """One CD-k (or PCD) update of a TrainState-like ``state``: a custom step for ``fit``.

    ``state`` needs the fields ``params`` (:class:`RBMParams` or
    :class:`GaussianRBMParams`), ``opt_state``, ``model_state`` and ``tx`` (an optax
    transformation) and a ``replace`` method, as :class:`jaxdl.training.TrainState`
    has; ``model_state = {"chains": [C, V]}`` selects persistent CD (the chains are
    carried in the returned state), anything else CD-k from the batch. The step
    counter is left to the driver (``fit`` advances it). The Gibbs noise of the ``k``
    sweeps is drawn from ``key`` at once.

    Args:
        key: PRNG key of this update.
        state: the training state.
        batch: ``[B, V]`` minibatch, or a tuple whose first entry is it (as ``fit`` cuts).
        k: Gibbs sweeps per update.
        learn_variance: for Gaussian RBMs, whether ``log_variance`` is trained.

    Returns:
        ``(new_state, metrics)`` with metrics ``reconstruction_error`` (mean-field, on
        the batch) and ``free_energy_gap`` (mean free energy of the batch minus that of
        the negative samples; it is the CD objective, near 0 when the chains look like
        the data).

    Example:
        >>> import optax
        >>> from flax import struct
        >>> from jaxdl.probabilistic import rbm
        >>> @struct.dataclass
        ... class State:  # any TrainState-like pytree; jaxdl.training.TrainState in practice
        ...     params: Any
        ...     opt_state: Any
        ...     model_state: Any
        ...     tx: Any = struct.field(pytree_node=False)
        >>> params = rbm.init_params(jax.random.key(0), 4, 3)
        >>> tx = optax.sgd(0.1)
        >>> state = State(params, tx.init(params), {}, tx)
        >>> state, metrics = cd_step(jax.random.key(1), state, jnp.ones((2, 4)))
        >>> sorted(metrics)
        ['free_energy_gap', 'reconstruction_error']
    """
    check_positive_int("k", k)
    params = state.params
    _check_params(params)
    visible = _batch_array(batch).astype(params.weights.dtype)
    check_rank("batch", visible, 2)
    _check_visible("batch", params, visible)
    chains = _persistent_chains(state.model_state)
    if chains is not None:
        check_rank("model_state['chains']", chains, 2)
        _check_visible("model_state['chains']", params, chains)
    rows = visible.shape[0] if chains is None else chains.shape[0]
    noise = _draw_gibbs_noise(key, params, (k, rows))
    new_params, opt_state, new_chains, metrics = _cd_update(
        state.tx, params, state.opt_state, chains, visible, noise, learn_variance
    )
    model_state = state.model_state
    if chains is not None:
        model_state = {**model_state, "chains": new_chains}
    return state.replace(params=new_params, opt_state=opt_state, model_state=model_state), metrics


def cd_validate(params: AnyRBMParams, model_state: Any, data: Any, name: str = "data") -> None:
    """Check data (and persistent chains) for :func:`cd_step` before anything compiles.

    ``fit`` calls it on ``train_data`` and ``val_data`` (as the ``validate`` hook of the
    update step that :func:`jaxdl.training.train_rbm` builds): the data must be ``[N, V]``
    with the model's ``V`` visible units and, for Bernoulli units, values in [0, 1];
    ``model_state["chains"]``, when present, must be ``[C, V]`` likewise.

    Args:
        params: RBM parameters.
        model_state: ``{}`` (CD-k) or ``{"chains": [C, V]}`` (PCD).
        data: ``[N, V]``, or a tuple whose first entry is it (as ``fit`` receives it).
        name: the argument's name in error messages.

    Raises:
        ValueError: naming ``name`` and the expected and actual shape or range.

    Example:
        >>> from jaxdl.probabilistic import rbm
        >>> params = rbm.init_params(jax.random.key(0), 4, 3)
        >>> cd_validate(params, {}, (jnp.ones((2, 4)),))
        >>> cd_validate(params, {}, (2.0 * jnp.ones((2, 4)),), "train_data")
        Traceback (most recent call last):
        ...
        ValueError: train_data must hold probabilities in [0, 1], got values in [2.0, 2.0]
    """
    _check_params(params)
    visible = _batch_array(data)
    check_rank(name, visible, 2)
    check_nonempty(name, visible)
    _check_visible(name, params, visible)
    chains = _persistent_chains(model_state)
    if chains is not None:
        check_rank("model_state['chains']", chains, 2)
        check_nonempty("model_state['chains']", chains)
        _check_visible("model_state['chains']", params, chains)


def cd_evaluate(params: AnyRBMParams, model_state: Any, batch: Any) -> dict[str, Array]:
    """Validation metrics of an RBM for ``fit``'s ``update_step(cd_step, cd_evaluate)``.

    Args:
        params: RBM parameters.
        model_state: unused (the persistent chains do not enter the metrics).
        batch: ``[N, V]`` data, or a tuple whose first entry is it.

    Returns:
        ``{"reconstruction_error", "free_energy"}``: mean-field reconstruction error and
        mean free energy of the batch (lower is better for both).

    Example:
        >>> from jaxdl.probabilistic import rbm
        >>> params = rbm.init_params(jax.random.key(0), 4, 3)
        >>> sorted(cd_evaluate(params, {}, jnp.ones((2, 4))))
        ['free_energy', 'reconstruction_error']
    """
    del model_state
    visible = _batch_array(batch).astype(params.weights.dtype)
    return {
        "reconstruction_error": reconstruction_error(params, visible),
        "free_energy": jnp.mean(_free_energy(params, visible)),
    }
