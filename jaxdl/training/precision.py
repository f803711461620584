"""Mixed precision: dtype policies, float32 master weights and loss scaling inside ``fit``.

A :class:`Policy` names three dtypes (Micikevicius et al., 2018):

- ``param_dtype``: the dtype of the parameters kept in the :class:`TrainState` and updated
  by the optimizer (the *master weights*, float32);
- ``compute_dtype``: the dtype of the forward and backward pass (bfloat16 on TPU and
  recent GPUs, float16 on older GPUs): parameters and floating inputs are cast to it on
  the way in, so every matmul and activation runs in it;
- ``output_dtype``: the dtype of the model outputs and of the loss (float32), so that the
  softmax, the log and the mean over the batch do not lose precision.

Because the cast to ``compute_dtype`` happens inside the differentiated function, its
transpose casts the gradients back: gradients and updates are float32 while the backward
pass itself ran in the compute dtype.

float16 has 5 exponent bits: gradients below ``6e-8`` flush to zero and values above
``65504`` overflow. *Loss scaling* multiplies the loss by ``S`` before differentiating
and divides the gradients by ``S`` afterwards, shifting small gradients into range:

.. math::

    g = \\frac{1}{S} \\nabla_\\theta (S \\cdot L(\\theta)).

A :class:`DynamicLossScale` adapts ``S``: when a step's gradients are all finite the
update is applied and, after ``period`` such steps in a row, ``S <- S * factor``; when
some gradient is ``inf``/``NaN`` the update is skipped (parameters and optimizer state
unchanged) and ``S <- max(S / factor, min_scale)``. bfloat16 has float32's exponent range
and needs no loss scaling.

Where the loss-scale state lives: in ``state.model_state["loss_scale"]`` (a dict with
``scale`` and ``counter``; :func:`with_loss_scale` adds it). ``model_state`` already
travels everywhere the scale must go (``fit``'s scan carry, checkpoints and resume, the
device mesh, ``fit_many``'s population axis, early stopping's best state), so no field is
added to :class:`TrainState` and neither the engine nor the checkpoint format changes.
:func:`mixed_precision_step` takes the entry out before calling the loss (the model never
sees it) and puts the updated one back.

Example (fp16 with dynamic loss scaling, inside ``fit``):

    >>> import jax, jax.numpy as jnp, optax
    >>> from jaxdl.nn import MLP
    >>> from jaxdl.training import create_train_state, fit, make_supervised_loss
    >>> x = jax.random.normal(jax.random.key(0), (32, 4)); y = (x[:, 0] > 0).astype(jnp.int32)
    >>> model, policy = MLP(features=(8, 2)), get_policy("mixed_float16")
    >>> scale = DynamicLossScale(initial_scale=2.0**10, period=4)
    >>> state = create_train_state(jax.random.key(1), model, x, optax.sgd(0.1))
    >>> state = with_loss_scale(state, scale)
    >>> step = mixed_precision_step(make_supervised_loss(model, policy=policy), scale)
    >>> result = fit(jax.random.key(2), state, step, (x, y), num_epochs=2, batch_size=8,
    ...              progress=False)
    >>> record = result.history[-1]  # epoch 2: steps 4..7 used S = 2**11
    >>> record["train_loss_scale"], record["train_update_skipped"]
    (2048.0, 0.0)
    >>> float(LossScaleState.from_train_state(result.state).scale)  # 8 finite steps: doubled twice
    4096.0
    >>> result.state.params["Dense_0"]["kernel"].dtype  # float32 master weights
    dtype('float32')

Reference: Micikevicius et al., "Mixed precision training", ICLR 2018; Kalamkar et al.,
"A study of BFLOAT16 for deep learning training", 2019.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.training.state import TrainState
from jaxdl.training.steps import UpdateStep, update_step
from jaxdl.typing import Array, Batch, Key, LossFn, Metrics, PyTree

__all__ = [
    "DynamicLossScale",
    "LossScaleState",
    "Policy",
    "StaticLossScale",
    "default_policy",
    "get_policy",
    "mixed_precision_step",
    "with_loss_scale",
]

LOSS_SCALE_KEY = "loss_scale"

# Accepted dtype names -> dtype. float64 is left out: mixed precision is about fewer bits.
DTYPES: dict[str, np.dtype] = {
    "float32": np.dtype(jnp.float32),
    "fp32": np.dtype(jnp.float32),
    "f32": np.dtype(jnp.float32),
    "bfloat16": np.dtype(jnp.bfloat16),
    "bf16": np.dtype(jnp.bfloat16),
    "float16": np.dtype(jnp.float16),
    "fp16": np.dtype(jnp.float16),
    "f16": np.dtype(jnp.float16),
}
_FIELDS = {
    "params": "param_dtype",
    "param": "param_dtype",
    "p": "param_dtype",
    "compute": "compute_dtype",
    "c": "compute_dtype",
    "output": "output_dtype",
    "o": "output_dtype",
}


def _dtype(name: str, value: Any) -> np.dtype:
    """``value`` (a name or a dtype) as a NumPy dtype among :data:`DTYPES`."""
    if isinstance(value, str):
        key = value.strip().lower()
        if key not in DTYPES:
            raise ValueError(f"{name} must be one of {sorted(set(DTYPES))}, got {value!r}")
        return DTYPES[key]
    try:
        dtype = np.dtype(value)
    except TypeError as error:
        raise TypeError(f"{name} must be a floating dtype or its name, got {value!r}") from error
    if dtype not in set(DTYPES.values()):
        raise ValueError(f"{name} must be float32, bfloat16 or float16, got {dtype.name}")
    return dtype


def _is_floating(x: Any) -> bool:
    dtype = getattr(x, "dtype", None)
    return dtype is not None and jnp.issubdtype(dtype, jnp.floating)


def _cast_floating(tree: PyTree, dtype: np.dtype) -> PyTree:
    """Cast the floating array leaves of ``tree`` to ``dtype``; others are returned as is."""

    def cast(x: Any) -> Any:
        return x.astype(dtype) if _is_floating(x) and x.dtype != dtype else x

    return jax.tree.map(cast, tree)


class Policy(NamedTuple):
    """Parameter, compute and output dtypes of a mixed-precision run.

    Build one from a string with :func:`get_policy`. The casts touch floating array leaves
    only: integer labels and token ids, booleans and PRNG keys pass through unchanged.

    Attributes:
        param_dtype: dtype of the stored (master) parameters.
        compute_dtype: dtype of the forward and backward pass.
        output_dtype: dtype of the model outputs and the loss.

    Example:
        >>> policy = get_policy("params=float32,compute=bfloat16,output=float32")
        >>> tree = {"w": jnp.ones(2), "labels": jnp.arange(2)}
        >>> cast = policy.cast_to_compute(tree)
        >>> cast["w"].dtype, cast["labels"].dtype, str(policy)
        (dtype(bfloat16), dtype('int32'), 'params=float32,compute=bfloat16,output=float32')
    """

    param_dtype: np.dtype
    compute_dtype: np.dtype
    output_dtype: np.dtype

    def cast_to_compute(self, tree: PyTree) -> PyTree:
        """Floating leaves of ``tree`` in ``compute_dtype``."""
        return _cast_floating(tree, self.compute_dtype)

    def cast_to_param(self, tree: PyTree) -> PyTree:
        """Floating leaves of ``tree`` in ``param_dtype``."""
        return _cast_floating(tree, self.param_dtype)

    def cast_to_output(self, tree: PyTree) -> PyTree:
        """Floating leaves of ``tree`` in ``output_dtype``."""
        return _cast_floating(tree, self.output_dtype)

    @property
    def is_mixed(self) -> bool:
        """Whether the compute dtype differs from the parameter dtype."""
        return self.compute_dtype != self.param_dtype

    def __str__(self) -> str:
        return (
            f"params={self.param_dtype.name},compute={self.compute_dtype.name},"
            f"output={self.output_dtype.name}"
        )


_F32, _BF16, _F16 = DTYPES["float32"], DTYPES["bfloat16"], DTYPES["float16"]

# Named policies (Keras's names): float32 master weights and outputs in all three.
PRESETS: dict[str, Policy] = {
    "float32": Policy(_F32, _F32, _F32),
    "mixed_bfloat16": Policy(_F32, _BF16, _F32),
    "mixed_float16": Policy(_F32, _F16, _F32),
}
_PRESET_ALIASES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


def get_policy(spec: str | Policy) -> Policy:
    """A :class:`Policy` from a preset name, a ``key=dtype`` string or a policy.

    Presets: ``"float32"`` (alias ``"fp32"``), ``"mixed_bfloat16"`` (``"bf16"``: float32
    parameters and outputs, bfloat16 compute; for TPUs and Ampere or newer GPUs) and
    ``"mixed_float16"`` (``"fp16"``: the same with float16 compute; pair it with a
    :class:`DynamicLossScale`). A string ``"params=float32,compute=bfloat16,output=float32"``
    sets each dtype (keys ``params``/``p``, ``compute``/``c``, ``output``/``o``; dtypes
    ``float32``, ``bfloat16``, ``float16`` or ``fp32``, ``bf16``, ``fp16``); a key left out
    is float32.

    Args:
        spec: a preset name, a ``key=dtype`` string or a :class:`Policy`.

    Returns:
        The policy.

    Raises:
        ValueError: for an unknown preset, key or dtype name, or a repeated key.

    Example:
        >>> get_policy("bf16") == get_policy("compute=bfloat16")
        True
        >>> get_policy("p=f32,c=f16,o=f32").compute_dtype
        dtype('float16')
    """
    if isinstance(spec, Policy):
        return Policy(*(_dtype(f, getattr(spec, f)) for f in Policy._fields))
    if not isinstance(spec, str):
        raise TypeError(f"policy must be a string or a Policy, got {type(spec).__name__}")
    text = spec.strip().lower()
    text = _PRESET_ALIASES.get(text, text)
    if text in PRESETS:
        return PRESETS[text]
    if "=" not in text:
        names = sorted([*PRESETS, *_PRESET_ALIASES])
        raise ValueError(
            f"policy must be a preset among {names} or 'params=...,compute=...,output=...', "
            f"got {spec!r}"
        )
    chosen: dict[str, np.dtype] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = (s.strip() for s in part.partition("="))
        if key not in _FIELDS:
            raise ValueError(
                f"policy keys must be among params, compute, output (or p, c, o), got {key!r} "
                f"in {spec!r}"
            )
        field = _FIELDS[key]
        if field in chosen:
            raise ValueError(f"policy sets {field} twice in {spec!r}")
        chosen[field] = _dtype(f"policy {key}", value)
    return Policy(**{f: chosen.get(f, _F32) for f in Policy._fields})


def default_policy(platform: str | None = None) -> Policy:
    """``mixed_bfloat16`` on TPU and GPU, ``float32`` on CPU (where bf16 is emulated).

    Args:
        platform: ``"cpu"``, ``"gpu"``/``"cuda"``/``"rocm"`` or ``"tpu"``; default the
            platform of ``jax.devices()[0]``.

    Example:
        >>> print(default_policy("tpu"))
        params=float32,compute=bfloat16,output=float32
        >>> print(default_policy("cpu"))
        params=float32,compute=float32,output=float32
    """
    platform = jax.devices()[0].platform if platform is None else platform.lower()
    if platform in ("tpu", "gpu", "cuda", "rocm"):
        return PRESETS["mixed_bfloat16"]
    if platform == "cpu":
        return PRESETS["float32"]
    raise ValueError(f"platform must be one of cpu, gpu, cuda, rocm, tpu, got {platform!r}")


# --------------------------------------------------------------------------------------
# Loss scaling
# --------------------------------------------------------------------------------------


class LossScaleState(NamedTuple):
    """The loss scale of a run.

    Attributes:
        scale: ``S``, the current multiplier of the loss (float32 scalar).
        counter: finite-gradient steps in a row since ``S`` last changed (int32 scalar).
    """

    scale: Array
    counter: Array

    @classmethod
    def from_train_state(cls, state: TrainState) -> LossScaleState:
        """The loss scale a train state carries (see :func:`with_loss_scale`).

        Example:
            >>> import optax
            >>> state = TrainState.create(apply_fn=None, params={"w": jnp.ones(2)},
            ...                           tx=optax.sgd(0.1))
            >>> state = with_loss_scale(state, DynamicLossScale())
            >>> float(LossScaleState.from_train_state(state).scale)
            32768.0
        """
        entry = dict(state.model_state).get(LOSS_SCALE_KEY)
        if entry is None:
            raise KeyError(
                "state.model_state has no 'loss_scale' entry: add one with "
                "with_loss_scale(state, loss_scale) before fit"
            )
        return cls(**entry)


def _initial(scale: float) -> LossScaleState:
    return LossScaleState(jnp.asarray(scale, jnp.float32), jnp.zeros((), jnp.int32))


@dataclasses.dataclass(frozen=True)
class StaticLossScale:
    """A fixed loss scale ``S``; a step whose gradients are not finite is skipped.

    Attributes:
        scale: ``S`` (a power of two keeps the unscaling exact), > 0.

    Example:
        >>> scale = StaticLossScale(128.0)
        >>> float(scale.update(scale.init(), jnp.array(False)).scale)
        128.0
    """

    scale: float

    def __post_init__(self):
        _check_finite_positive("scale", self.scale)

    def init(self) -> LossScaleState:
        """The state: ``S`` and a zero counter."""
        return _initial(self.scale)

    def update(self, state: LossScaleState, finite: Array) -> LossScaleState:
        """The state after a step; a static scale never changes."""
        del finite
        return state


@dataclasses.dataclass(frozen=True)
class DynamicLossScale:
    """A loss scale that grows while gradients stay finite and shrinks on an overflow.

    After a step with finite gradients: ``counter += 1``, and when it reaches ``period``,
    ``S <- S * factor`` and ``counter <- 0`` (unless ``S * factor`` is not a finite
    float32). After a step with a non-finite gradient: ``S <- max(S / factor,
    min_scale)``, ``counter <- 0`` (and :func:`mixed_precision_step` skips the update).

    Attributes:
        initial_scale: ``S`` at step 0 (default ``2**15``).
        period: finite steps in a row before ``S`` grows (default 2000).
        factor: growth and shrink factor, > 1 (default 2).
        min_scale: the floor of ``S`` (default 1).

    Example:
        >>> scale = DynamicLossScale(initial_scale=8.0, period=2)
        >>> state = scale.init()
        >>> state = scale.update(state, jnp.array(True)); float(state.scale)
        8.0
        >>> state = scale.update(state, jnp.array(True)); float(state.scale)
        16.0
        >>> float(scale.update(state, jnp.array(False)).scale)
        8.0

    Reference: Micikevicius et al., "Mixed precision training", ICLR 2018, section 3.2.
    """

    initial_scale: float = 2.0**15
    period: int = 2000
    factor: float = 2.0
    min_scale: float = 1.0

    def __post_init__(self):
        from jaxdl._checks import check_positive_int

        _check_finite_positive("initial_scale", self.initial_scale)
        check_positive_int("period", self.period)
        _check_finite_positive("min_scale", self.min_scale)
        _check_finite_positive("factor", self.factor)
        if not self.factor > 1:
            raise ValueError(f"factor must be > 1, got {self.factor}")
        if self.min_scale > self.initial_scale:
            raise ValueError(
                f"min_scale must be <= initial_scale ({self.initial_scale}), got {self.min_scale}"
            )

    def init(self) -> LossScaleState:
        """The state at step 0: ``initial_scale`` and a zero counter."""
        return _initial(self.initial_scale)

    def update(self, state: LossScaleState, finite: Array) -> LossScaleState:
        """The state after a step whose gradients were all finite (``finite``) or not."""
        counter = state.counter + 1
        grown = state.scale * self.factor
        grow = (counter >= self.period) & jnp.isfinite(grown)
        scale_if_finite = jnp.where(grow, grown, state.scale)
        counter_if_finite = jnp.where(counter >= self.period, 0, counter)
        shrunk = jnp.maximum(state.scale / self.factor, self.min_scale)
        return LossScaleState(
            scale=jnp.where(finite, scale_if_finite, shrunk).astype(jnp.float32),
            counter=jnp.where(finite, counter_if_finite, 0).astype(jnp.int32),
        )


LossScale = StaticLossScale | DynamicLossScale


def _check_finite_positive(name: str, value: Any) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def _check_loss_scale(loss_scale: Any) -> None:
    if not isinstance(loss_scale, StaticLossScale | DynamicLossScale):
        raise TypeError(
            "loss_scale must be a StaticLossScale, a DynamicLossScale or None, "
            f"got {type(loss_scale).__name__}"
        )


def with_loss_scale(state: TrainState, loss_scale: LossScale) -> TrainState:
    """``state`` with the initial loss-scale state in ``model_state["loss_scale"]``.

    Call it once before ``fit`` (the scan carry of ``fit`` keeps one structure, so the
    step cannot add the entry itself); checkpoints then save and restore the scale.

    Example:
        >>> import optax
        >>> state = TrainState.create(apply_fn=None, params={"w": jnp.ones(2)},
        ...                           tx=optax.sgd(0.1))
        >>> sorted(with_loss_scale(state, StaticLossScale(64.0)).model_state)
        ['loss_scale']
    """
    _check_loss_scale(loss_scale)
    model_state = {**dict(state.model_state), LOSS_SCALE_KEY: loss_scale.init()._asdict()}
    return state.replace(model_state=model_state)


def _all_finite(tree: PyTree) -> Array:
    leaves = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree) if _is_floating(leaf)]
    return jnp.stack(leaves).all() if leaves else jnp.ones((), jnp.bool_)


def _like(tree: PyTree, reference: PyTree) -> PyTree:
    """``tree`` with each floating leaf cast to the dtype of ``reference``'s leaf."""
    return jax.tree.map(
        lambda x, r: x.astype(r.dtype) if _is_floating(x) and _is_floating(r) else x,
        tree,
        reference,
    )


def _select(condition: Array, new: PyTree, old: PyTree) -> PyTree:
    return jax.tree.map(lambda a, b: jnp.where(condition, a, b), new, old)


def mixed_precision_step(
    loss_fn: LossFn,
    loss_scale: LossScale | None = None,
    *,
    policy: str | Policy | None = None,
) -> UpdateStep:
    """A gradient step for ``fit`` with loss scaling and, optionally, a dtype policy.

    With ``S`` the current loss scale (1 without ``loss_scale``), the step computes
    ``g = grad(S * L(theta)) / S`` in float32, then applies ``theta <- theta + tx(g)`` when
    every gradient is finite; otherwise the parameters, optimizer state and model state
    stay as they were. The loss-scale state is updated by ``loss_scale.update``.

    Logged metrics: the loss and the loss function's own metrics, ``loss_scale`` (the
    ``S`` the step used; ``fit`` logs its mean over the epoch) and ``update_skipped``
    (1.0 on a skipped step: its epoch mean is the share of skipped steps). ``state.step``
    counts every step, skipped or not; the optimizer's own count only applied ones.

    Args:
        loss_fn: ``loss_fn(params, model_state, batch, key) -> (loss, (model_state,
            metrics))``; a loss from ``make_supervised_loss(..., policy=...)`` casts for
            itself.
        loss_scale: a :class:`DynamicLossScale` (float16), a :class:`StaticLossScale` or
            ``None`` (no scaling: bfloat16, float32). With one, the state must carry it
            (:func:`with_loss_scale`).
        policy: for a ``loss_fn`` that does not cast for itself: the parameters and the
            floating leaves of the batch are cast to ``policy.compute_dtype`` before
            ``loss_fn``, and the loss to float32.

    Returns:
        An :class:`UpdateStep` for ``fit`` whose ``evaluate`` is ``loss_fn.evaluate`` (when
        it has one) without the loss-scale entry.

    Example:
        >>> import optax
        >>> def loss_fn(params, model_state, batch, key):
        ...     (x,) = batch
        ...     return jnp.mean((x * params["w"]) ** 2), (model_state, {})
        >>> state = TrainState.create(apply_fn=None, params={"w": jnp.ones(())},
        ...                           tx=optax.sgd(0.1))
        >>> state = with_loss_scale(state, StaticLossScale(2.0**20))  # overflows in float16
        >>> step = mixed_precision_step(loss_fn, StaticLossScale(2.0**20), policy="fp16")
        >>> new, metrics = step(jax.random.key(0), state, (jnp.full((4,), 300.0),))
        >>> float(metrics["update_skipped"]), float(new.params["w"])
        (1.0, 1.0)

    Reference: Micikevicius et al., "Mixed precision training", ICLR 2018.
    """
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {loss_fn!r}")
    if loss_scale is not None:
        _check_loss_scale(loss_scale)
    policy = None if policy is None else get_policy(policy)
    casts_itself = getattr(loss_fn, "policy", None) is not None
    cast = policy if policy is not None and not casts_itself else None

    def compute_loss(params, model_state, batch, key, scale):
        inner_params, inner_batch = params, batch
        if cast is not None:
            inner_params, inner_batch = cast.cast_to_compute((params, batch))
        loss, (new_model_state, metrics) = loss_fn(inner_params, model_state, inner_batch, key)
        loss = loss.astype(jnp.float32)
        return loss * scale, (loss, _like(new_model_state, model_state), metrics)

    def step(key: Key, state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        model_state = dict(state.model_state)
        scale_state = None
        if loss_scale is not None:
            if LOSS_SCALE_KEY not in model_state:
                raise KeyError(
                    "mixed_precision_step with a loss_scale needs the state to carry it: "
                    "state = with_loss_scale(state, loss_scale) before fit"
                )
            scale_state = LossScaleState(**model_state.pop(LOSS_SCALE_KEY))
        scale = jnp.ones((), jnp.float32) if scale_state is None else scale_state.scale
        grads, (loss, new_model_state, metrics) = jax.grad(compute_loss, has_aux=True)(
            state.params, model_state, batch, key, scale
        )
        metrics = {"loss": loss, **metrics}
        if scale_state is None:
            return state.apply_gradients(grads, model_state=new_model_state), metrics
        grads = jax.tree.map(lambda g: (g / scale.astype(g.dtype)).astype(g.dtype), grads)
        finite = _all_finite(grads)
        updated = state.apply_gradients(grads, model_state=new_model_state)
        kept = _select(
            finite,
            (updated.params, updated.opt_state, new_model_state),
            (state.params, state.opt_state, model_state),
        )
        next_scale = loss_scale.update(scale_state, finite)
        new_state = updated.replace(
            params=kept[0],
            opt_state=kept[1],
            model_state={**kept[2], LOSS_SCALE_KEY: next_scale._asdict()},
        )
        metrics.update(loss_scale=scale, update_skipped=(~finite).astype(jnp.float32))
        return new_state, metrics

    evaluate = getattr(loss_fn, "evaluate", None)
    eval_fn = None
    if evaluate is not None:

        def eval_fn(params: PyTree, model_state: PyTree, batch: Batch) -> Metrics:
            model_state = {k: v for k, v in dict(model_state).items() if k != LOSS_SCALE_KEY}
            if cast is not None:
                params, batch = cast.cast_to_compute((params, batch))
            return evaluate(params, model_state, batch)

    return update_step(step, eval_fn)


def check_param_dtype(policy: Policy, params: PyTree, name: str = "params") -> None:
    """Raise unless every floating leaf of ``params`` is in ``policy.param_dtype``.

    Example:
        >>> check_param_dtype(get_policy("bf16"), {"w": jnp.ones(2)})  # float32: fine
    """
    wrong = sorted(
        {str(leaf.dtype) for leaf in jax.tree.leaves(params) if _is_floating(leaf)}
        - {policy.param_dtype.name}
    )
    if wrong:
        raise TypeError(
            f"{name} must be {policy.param_dtype.name} (the policy's param_dtype), got "
            f"{', '.join(wrong)}; cast them with policy.cast_to_param(params)"
        )
