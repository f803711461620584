"""Recurrent networks: the state-space unroll, the course's RNN patterns, BPTT, LSTM and GRU.

A recurrent system is the state-space model

    h_t = f(h_{t-1}, x_t; theta),    o_t = g(h_t, x_t; theta),

unrolled over time with one ``lax.scan`` (:func:`unroll`, or flax's ``nn.RNN`` for cells).
The same ``theta`` at every step makes the transition *stationary*; a step that also reads
the index ``t`` (``with_time=True``) is *time dependent*.

What lives here:

* :func:`unroll` for any step function, with padding masks and a configurable ``unroll``;
  :func:`output_input_jacobian`, :func:`is_causal`, :func:`has_finite_memory` check the
  course's transduction properties (causal, finite memory k, algebraic = memory 0) by
  gradients on small systems.
* Cells in flax's ``RNNCellBase`` API (so ``nn.RNN`` / ``nn.Bidirectional`` drive them):
  :class:`LSTMCell` with the course's six variants as options, :class:`GRUCell` in the
  course's form (reset gate before ``W``) or the flax / PyTorch form.
* The design patterns of the course: :class:`ShallowRNN` (an output at every step,
  hidden-to-hidden recurrence), :class:`OutputRecurrentRNN` (output-to-hidden recurrence,
  teacher forcing / free running), :class:`SequenceClassifier` (read all, one output),
  :class:`VectorToSequence` (the matrix ``R``), :class:`EncoderDecoder` (context vector),
  :class:`BidirectionalRNN`, :class:`DeepRNN`.
* Losses for ``fit``: :func:`make_sequence_classification_loss`,
  :func:`make_transduction_loss` (NLL or squared error summed over valid time steps).
* Back-propagation through time written out by hand for the shallow tanh RNN
  (:func:`bptt`, equal to ``jax.grad``), truncated BPTT (:func:`rnn_forward` with
  ``truncate=k``) and the per-step gradient norms ``||dL/dh_t||`` (:func:`state_gradient_norms`).

Reference: Goodfellow, Bengio & Courville, *Deep Learning*, ch. 10 (2016); Hochreiter &
Schmidhuber (1997); Greff et al., "LSTM: A Search Space Odyssey" (2017); Cho et al. (2014).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax.core import FrozenDict

from jaxdl._checks import check_positive_int, check_rank
from jaxdl.losses.objective import Objective
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array, Key, PyTree

__all__ = [
    "BPTTGrads",
    "BidirectionalRNN",
    "DeepRNN",
    "EncoderDecoder",
    "GRUCell",
    "LSTMCell",
    "OutputRecurrentRNN",
    "RNNParams",
    "SequenceClassifier",
    "ShallowRNN",
    "VectorToSequence",
    "bptt",
    "check_mask",
    "has_finite_memory",
    "is_causal",
    "lstm_params_from_torch",
    "gru_params_from_torch",
    "make_cell",
    "make_sequence_classification_loss",
    "make_transduction_loss",
    "mask_lengths",
    "output_input_jacobian",
    "rnn_forward",
    "rnn_loss",
    "state_gradient_norms",
    "unroll",
]

_GATE_ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu,
    "linear": lambda a: a,
}


def _activation(name: str, what: str) -> Callable[[Array], Array]:
    if name not in _GATE_ACTIVATIONS:
        raise ValueError(f"{what} must be one of {sorted(_GATE_ACTIVATIONS)}, got {name!r}")
    return _GATE_ACTIVATIONS[name]


# --------------------------------------------------------------------------- masks and unroll


def check_mask(mask: Array | None, inputs: Array, *, time_axis: int = 1) -> Array | None:
    """Check a padding mask ``[B, T]`` against inputs ``[B, T, ...]``; return it as bool.

    A mask marks the valid steps of each sequence (``True`` = a real step, ``False`` =
    padding); padded steps carry the state through unchanged and their outputs are ignored by
    the losses.

    Args:
        mask: ``[B, T]`` booleans or 0/1 numbers, or ``None`` (every step valid).
        inputs: the sequences, ``[B, T, ...]`` (time on ``time_axis``).
        time_axis: the time axis of ``inputs`` (1 batch-major, 0 time-major).

    Returns:
        The mask as a boolean array, or ``None``.

    Raises:
        ValueError: when the mask is not rank 2 or its shape differs from the inputs'
            batch and time sizes.

    Example:
        >>> import jax.numpy as jnp
        >>> check_mask(jnp.ones((2, 3)), jnp.zeros((2, 4, 1)))
        Traceback (most recent call last):
        ...
        ValueError: mask must have shape (batch, time) = (2, 4) of the inputs, got (2, 3)
    """
    if mask is None:
        return None
    check_rank("mask", mask, 2)
    expected = (inputs.shape[1 - time_axis], inputs.shape[time_axis])
    if tuple(mask.shape) != expected:
        raise ValueError(
            f"mask must have shape (batch, time) = {expected} of the inputs, "
            f"got {tuple(mask.shape)}"
        )
    return jnp.asarray(mask).astype(bool)


def mask_lengths(mask: Array) -> Array:
    """Sequence lengths ``[B]`` of a right-padded mask ``[B, T]`` (valid steps first).

    Example:
        >>> import jax.numpy as jnp
        >>> mask_lengths(jnp.array([[1, 1, 0], [1, 1, 1]])).tolist()
        [2, 3]
    """
    check_rank("mask", mask, 2)
    return jnp.sum(jnp.asarray(mask).astype(jnp.int32), axis=-1)


def _where_tree(keep: Array, new: PyTree, old: PyTree) -> PyTree:
    def pick(n, o):
        k = jnp.reshape(keep, keep.shape + (1,) * (n.ndim - keep.ndim))
        return jnp.where(k, n, o)

    return jax.tree.map(pick, new, old)


def unroll(
    step: Callable[..., tuple[PyTree, PyTree]],
    initial_state: PyTree,
    inputs: PyTree,
    *,
    mask: Array | None = None,
    unroll: int | bool = 1,
    reverse: bool = False,
    with_time: bool = False,
) -> tuple[PyTree, PyTree]:
    """Unroll the state-space model ``h_t = f(h_{t-1}, x_t)``, ``o_t = g(h_t, x_t)`` in time.

    ``step(h, x_t) -> (h_t, o_t)`` (or ``step(h, x_t, t)`` with ``with_time``, a
    time-dependent transition) is applied by one ``lax.scan`` over the leading (time) axis
    of ``inputs``. Where ``mask[t]`` is false the state is carried over unchanged and the
    output is zero, so padded steps neither change the state nor leak into a loss.

    Args:
        step: the transition and output, ``(state, x_t[, t]) -> (state, output)``.
        initial_state: ``h_0``, any pytree (e.g. ``[B, H]`` or ``(c, h)``).
        inputs: a pytree of time-major arrays ``[T, ...]``.
        mask: ``[T]`` or ``[T, B]`` booleans, time-major like ``inputs``; ``None``: all valid.
        unroll: steps per scan iteration (``lax.scan``'s ``unroll``; ``True`` unrolls fully).
        reverse: run from ``t = T - 1`` down to ``0`` (outputs stay in input order).
        with_time: pass the step index ``t`` (int32) as a third argument.

    Returns:
        ``(final_state, outputs)`` with outputs stacked on a leading ``[T]`` axis.

    Example:
        >>> import jax.numpy as jnp
        >>> final, outs = unroll(lambda h, x: (h + x, 2 * h), jnp.array(0.0), jnp.arange(4.0))
        >>> float(final), outs.tolist()
        (6.0, [0.0, 0.0, 2.0, 6.0])
    """
    leaves = jax.tree.leaves(inputs)
    if not leaves:
        raise ValueError("inputs must hold at least one array with a time axis, got none")
    length = leaves[0].shape[0]
    if mask is not None:
        mask = jnp.asarray(mask).astype(bool)
        if mask.shape[0] != length:
            raise ValueError(
                f"mask must have the {length} time steps of the inputs on its first axis, "
                f"got shape {tuple(mask.shape)}"
            )
    times = jnp.arange(length, dtype=jnp.int32)

    def body(state, xs):
        x_t, t, m_t = xs
        new_state, out = step(state, x_t, t) if with_time else step(state, x_t)
        if m_t is None:
            return new_state, out
        new_state = _where_tree(m_t, new_state, state)
        out = _where_tree(m_t, out, jax.tree.map(jnp.zeros_like, out))
        return new_state, out

    return jax.lax.scan(body, initial_state, (inputs, times, mask), reverse=reverse, unroll=unroll)


# --------------------------------------------------------------------------- transductions


def output_input_jacobian(fn: Callable[[Array], Array], inputs: Array) -> Array:
    """Sensitivity ``S[t, s] = ||d o_t / d x_s||_F`` of a transduction ``[T, D] -> [T', K]``.

    The course calls a transduction *causal* when ``o_t`` depends on ``x_1..x_t`` only,
    of *finite memory k* when it depends on ``x_{t-k}..x_t`` only, and *algebraic* when
    ``k = 0``; on a small system these are read off this matrix (zero above the diagonal,
    zero below the k-th subdiagonal).

    Args:
        fn: the transduction on one sequence, ``[T, D] -> [T', K]``.
        inputs: one input sequence ``[T, D]``.

    Returns:
        ``[T', T]`` Frobenius norms of the Jacobian blocks.

    Example:
        >>> import jax.numpy as jnp
        >>> s = output_input_jacobian(lambda x: jnp.cumsum(x, axis=0), jnp.ones((3, 1)))
        >>> (s > 0).astype(int).tolist()
        [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    check_rank("inputs", inputs, 2)
    jac = jax.jacrev(fn)(inputs)  # [T', K, T, D]
    jac = jnp.reshape(jac, jac.shape[:1] + (-1,) + jac.shape[2:])
    return jnp.sqrt(jnp.sum(jnp.square(jac), axis=(1, 3)))


def is_causal(fn: Callable[[Array], Array], inputs: Array, *, atol: float = 1e-7) -> bool:
    """Whether ``o_t`` of ``fn`` has no gradient with respect to any later ``x_s`` (s > t).

    Args:
        fn: the transduction on one sequence, ``[T, D] -> [T, K]``.
        inputs: one input sequence ``[T, D]``.
        atol: gradients below this count as zero.

    Example:
        >>> import jax.numpy as jnp
        >>> is_causal(lambda x: jnp.cumsum(x, 0), jnp.ones((4, 2)))
        True
        >>> is_causal(lambda x: jnp.cumsum(x[::-1], 0)[::-1], jnp.ones((4, 2)))
        False
    """
    sens = output_input_jacobian(fn, inputs)
    return bool(jnp.all(jnp.triu(sens, k=1) <= atol))


def has_finite_memory(
    fn: Callable[[Array], Array], inputs: Array, k: int, *, atol: float = 1e-7
) -> bool:
    """Whether ``fn`` is causal with finite memory ``k``: ``o_t`` depends on ``x_{t-k..t}`` only.

    ``k = 0`` is the course's *algebraic* transduction (no memory at all).

    Example:
        >>> import jax.numpy as jnp
        >>> moving_sum = lambda x: x + jnp.concatenate([jnp.zeros((1, 1)), x[:-1]])
        >>> has_finite_memory(moving_sum, jnp.ones((5, 1)), 1)
        True
        >>> has_finite_memory(moving_sum, jnp.ones((5, 1)), 0)
        False
    """
    check_positive_int("k", k, allow_zero=True)
    sens = output_input_jacobian(fn, inputs)
    outside = jnp.triu(sens, k=1) + jnp.tril(sens, k=-k - 1)
    return bool(jnp.all(outside <= atol))


# --------------------------------------------------------------------------- cells


class LSTMCell(nn.RNNCellBase):
    """LSTM cell with forget, input and output gates, and the course's six variants.

    Vanilla form (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al.)::

        i = sigmoid(U_i x + W_i h + b_i + p_i * c_{t-1})     (input gate)
        f = sigmoid(U_f x + W_f h + b_f + p_f * c_{t-1})     (forget gate)
        g = tanh(U_g x + W_g h + b_g)                        (candidate, "input activation")
        c_t = f * c_{t-1} + i * g
        o = sigmoid(U_o x + W_o h + b_o + p_o * c_t)         (output gate)
        h_t = o * tanh(c_t)                                  ("output activation")

    Peephole terms ``p * c`` are present only with ``peephole=True``. The variants of the
    course (Greff et al. 2017): ``input_gate=False`` (NIG, i = 1), ``forget_gate=False``
    (NFG, f = 1), ``output_gate=False`` (NOG, o = 1), ``input_activation=False`` (NIAF,
    g = the pre-activation), ``output_activation=False`` (NOAF, h_t = o * c_t).

    Parameters: ``input`` (Dense ``x -> 4H`` with the bias) and ``hidden`` (Dense ``h -> 4H``
    without bias), gate blocks in PyTorch's order ``i, f, g, o``; ``peephole`` ``[3, H]``
    (rows i, f, o). With PyTorch's ``weight_ih_l0`` ``[4H, D]``, ``weight_hh_l0`` ``[4H, H]``:
    ``input.kernel = weight_ih.T``, ``hidden.kernel = weight_hh.T``, ``input.bias = bias_ih +
    bias_hh`` (:func:`lstm_params_from_torch`). The carry is ``(c, h)`` like flax's.

    Attributes:
        features: number of hidden units ``H``.
        peephole, input_gate, forget_gate, output_gate, input_activation,
        output_activation: the variant switches (defaults: vanilla LSTM).
        forget_bias: added to the forget gate's bias at init (1.0 is a common choice).

    Example:
        >>> import jax, jax.numpy as jnp, flax.linen as nn
        >>> layer = nn.RNN(LSTMCell(features=8, forget_gate=False))
        >>> params = layer.init(jax.random.key(0), jnp.ones((2, 5, 3)))
        >>> layer.apply(params, jnp.ones((2, 5, 3))).shape
        (2, 5, 8)

    Reference: Hochreiter & Schmidhuber, Neural Computation 1997; Greff et al., IEEE TNNLS 2017.
    """

    features: int
    peephole: bool = False
    input_gate: bool = True
    forget_gate: bool = True
    output_gate: bool = True
    input_activation: bool = True
    output_activation: bool = True
    forget_bias: float = 0.0
    kernel_init: Callable = nn.initializers.lecun_normal()
    recurrent_kernel_init: Callable = nn.initializers.orthogonal()

    @nn.compact
    def __call__(self, carry: tuple[Array, Array], inputs: Array) -> tuple[tuple, Array]:
        """One step: ``((c, h), x [..., D]) -> ((c_t, h_t), h_t)``."""
        c, h = carry
        hidden = self.features

        def bias_init(key, shape, dtype=jnp.float32):
            b = jnp.zeros(shape, dtype)
            return b.at[hidden : 2 * hidden].set(self.forget_bias)

        a = nn.Dense(4 * hidden, kernel_init=self.kernel_init, bias_init=bias_init, name="input")(
            inputs
        ) + nn.Dense(
            4 * hidden, use_bias=False, kernel_init=self.recurrent_kernel_init, name="hidden"
        )(h)
        a_i, a_f, a_g, a_o = jnp.split(a, 4, axis=-1)
        if self.peephole:
            p = self.param("peephole", nn.initializers.zeros_init(), (3, hidden))
            p = jnp.reshape(p, (3,) + (1,) * (c.ndim - 1) + (hidden,))  # broadcast over batch
            a_i = a_i + p[0] * c
            a_f = a_f + p[1] * c
        i = jax.nn.sigmoid(a_i) if self.input_gate else jnp.ones_like(a_i)
        f = jax.nn.sigmoid(a_f) if self.forget_gate else jnp.ones_like(a_f)
        g = jnp.tanh(a_g) if self.input_activation else a_g
        c_t = f * c + i * g
        if self.peephole:
            a_o = a_o + p[2] * c_t
        o = jax.nn.sigmoid(a_o) if self.output_gate else jnp.ones_like(a_o)
        h_t = o * (jnp.tanh(c_t) if self.output_activation else c_t)
        return (c_t, h_t), h_t

    @nn.nowrap
    def initialize_carry(self, rng: Key, input_shape: tuple[int, ...]) -> tuple[Array, Array]:
        """Zero ``(c_0, h_0)`` of shape ``batch_dims + (features,)``."""
        shape = tuple(input_shape[:-1]) + (self.features,)
        return jnp.zeros(shape), jnp.zeros(shape)

    @property
    def num_feature_axes(self) -> int:
        return 1


class GRUCell(nn.RNNCellBase):
    """Gated recurrent unit in the course's form or in the flax / PyTorch form.

    Gates: ``z = sigmoid(U_z x + W_z h + b_z)`` (update), ``r = sigmoid(U_r x + W_r h + b_r)``
    (reset). Then, with ``form="course"`` (the reset gate applied *before* ``W``)::

        h_t = z * h_{t-1} + (1 - z) * act(U x + b + W (r * h_{t-1}))

    and with ``form="library"`` (flax's ``GRUCell``, PyTorch's ``nn.GRU``: reset applied to
    ``W h + b_n``)::

        h_t = z * h_{t-1} + (1 - z) * act(U x + b + r * (W h_{t-1} + b_n))

    The course writes the candidate's activation as sigma; ``candidate_activation=None``
    takes ``"sigmoid"`` for the course form and ``"tanh"`` for the library form. The two
    forms agree when ``r = 1`` and ``b_n = 0`` (a test pins the difference down).

    Parameters (library form names follow flax: ``ir, iz, in`` Dense on ``x`` with bias;
    ``hr, hz`` on ``h`` without bias; ``hn`` with bias in the library form only). PyTorch's
    ``weight_ih_l0`` rows are ``(r, z, n)``: see :func:`gru_params_from_torch`.

    Attributes:
        features: number of hidden units.
        form: ``"course"`` or ``"library"``.
        candidate_activation: ``"sigmoid"``, ``"tanh"``, ... or ``None`` (per form).

    Example:
        >>> import jax, jax.numpy as jnp, flax.linen as nn
        >>> layer = nn.RNN(GRUCell(features=4))
        >>> params = layer.init(jax.random.key(0), jnp.ones((2, 5, 3)))
        >>> layer.apply(params, jnp.ones((2, 5, 3))).shape
        (2, 5, 4)

    Reference: Cho et al., EMNLP 2014; Goodfellow et al., Deep Learning, sec. 10.10.2.
    """

    features: int
    form: str = "course"
    candidate_activation: str | None = None
    kernel_init: Callable = nn.initializers.lecun_normal()
    recurrent_kernel_init: Callable = nn.initializers.orthogonal()

    @nn.compact
    def __call__(self, carry: Array, inputs: Array) -> tuple[Array, Array]:
        """One step: ``(h, x [..., D]) -> (h_t, h_t)``."""
        if self.form not in ("course", "library"):
            raise ValueError(f"form must be 'course' or 'library', got {self.form!r}")
        default = "sigmoid" if self.form == "course" else "tanh"
        act = _activation(self.candidate_activation or default, "candidate_activation")
        h = carry
        dense_i = lambda name: nn.Dense(self.features, kernel_init=self.kernel_init, name=name)  # noqa: E731
        dense_h = lambda name, bias=False: nn.Dense(  # noqa: E731
            self.features, use_bias=bias, kernel_init=self.recurrent_kernel_init, name=name
        )
        r = jax.nn.sigmoid(dense_i("ir")(inputs) + dense_h("hr")(h))
        z = jax.nn.sigmoid(dense_i("iz")(inputs) + dense_h("hz")(h))
        if self.form == "course":
            n = act(dense_i("in")(inputs) + dense_h("hn")(r * h))
        else:
            n = act(dense_i("in")(inputs) + r * dense_h("hn", bias=True)(h))
        h_t = z * h + (1.0 - z) * n
        return h_t, h_t

    @nn.nowrap
    def initialize_carry(self, rng: Key, input_shape: tuple[int, ...]) -> Array:
        """Zero ``h_0`` of shape ``batch_dims + (features,)``."""
        return jnp.zeros(tuple(input_shape[:-1]) + (self.features,))

    @property
    def num_feature_axes(self) -> int:
        return 1


CELLS = ("simple", "lstm", "gru", "gru_library")


def make_cell(kind: str, features: int, **options: Any) -> nn.RNNCellBase:
    """A recurrent cell by name: ``"simple"`` (``tanh(U x + W h + b)``, flax's ``SimpleCell``),
    ``"lstm"`` (:class:`LSTMCell`, ``options`` pick a variant), ``"gru"`` (course form) or
    ``"gru_library"`` (the flax / PyTorch form).

    Example:
        >>> type(make_cell("lstm", 8, peephole=True)).__name__
        'LSTMCell'
    """
    check_positive_int("features", features)
    if kind == "simple":
        return nn.SimpleCell(features=features, **options)
    if kind == "lstm":
        return LSTMCell(features=features, **options)
    if kind == "gru":
        return GRUCell(features=features, form="course", **options)
    if kind == "gru_library":
        return GRUCell(features=features, form="library", **options)
    raise ValueError(f"kind must be one of {CELLS}, got {kind!r}")


def lstm_params_from_torch(
    weight_ih: Array, weight_hh: Array, bias_ih: Array, bias_hh: Array
) -> dict:
    """:class:`LSTMCell` params from one layer of ``torch.nn.LSTM`` (gate order i, f, g, o).

    ``input.kernel = weight_ih.T [D, 4H]``, ``hidden.kernel = weight_hh.T [H, 4H]``,
    ``input.bias = bias_ih + bias_hh`` (PyTorch adds both biases to every gate).

    Example:
        >>> import numpy as np
        >>> p = lstm_params_from_torch(np.ones((8, 3)), np.ones((8, 2)), np.ones(8), np.ones(8))
        >>> p["input"]["kernel"].shape, float(p["input"]["bias"][0])
        ((3, 8), 2.0)
    """
    return {
        "input": {"kernel": jnp.asarray(weight_ih).T, "bias": jnp.asarray(bias_ih + bias_hh)},
        "hidden": {"kernel": jnp.asarray(weight_hh).T},
    }


def gru_params_from_torch(
    weight_ih: Array, weight_hh: Array, bias_ih: Array, bias_hh: Array
) -> dict:
    """Library-form :class:`GRUCell` params from one layer of ``torch.nn.GRU``.

    PyTorch stacks the rows as ``(r, z, n)``: ``ir/iz/in.kernel`` are the transposed blocks of
    ``weight_ih``, ``hr/hz/hn.kernel`` those of ``weight_hh``; the r and z gates' biases are
    summed into ``ir.bias`` / ``iz.bias``, while ``b_in`` goes to ``in.bias`` and ``b_hn``
    stays inside the reset product as ``hn.bias``.

    Example:
        >>> import numpy as np
        >>> p = gru_params_from_torch(np.ones((6, 3)), np.ones((6, 2)), np.ones(6), np.ones(6))
        >>> sorted(p), p["hn"]["kernel"].shape
        (['hn', 'hr', 'hz', 'in', 'ir', 'iz'], (2, 2))
    """
    w_ir, w_iz, w_in = jnp.split(jnp.asarray(weight_ih), 3)
    w_hr, w_hz, w_hn = jnp.split(jnp.asarray(weight_hh), 3)
    b_ir, b_iz, b_in = jnp.split(jnp.asarray(bias_ih), 3)
    b_hr, b_hz, b_hn = jnp.split(jnp.asarray(bias_hh), 3)
    return {
        "ir": {"kernel": w_ir.T, "bias": b_ir + b_hr},
        "iz": {"kernel": w_iz.T, "bias": b_iz + b_hz},
        "in": {"kernel": w_in.T, "bias": b_in},
        "hr": {"kernel": w_hr.T},
        "hz": {"kernel": w_hz.T},
        "hn": {"kernel": w_hn.T, "bias": b_hn},
    }


# --------------------------------------------------------------------------- design patterns


def _rnn(cell: nn.RNNCellBase, unroll: int, name: str | None = None, **kw) -> nn.RNN:
    return nn.RNN(cell, unroll=unroll, name=name, **kw)


def _lengths(mask: Array | None, x: Array) -> Array | None:
    mask = check_mask(mask, x)
    return None if mask is None else mask_lengths(mask)


class ShallowRNN(nn.Module):
    """The course's shallow RNN: an output at every step, hidden-to-hidden recurrence.

    ``h_t = tanh(U x_t + W h_{t-1} + b)``, ``h_0 = 0``, ``o_t = V h_t + c`` and
    ``yhat_t = softmax(o_t)``; trained with the NLL summed over time
    (:func:`make_transduction_loss`). Any other cell can replace the tanh one (``cell``).

    Attributes:
        num_hidden: hidden units ``H``.
        num_outputs: outputs ``K`` (classes for a softmax output).
        cell: ``"simple"`` (the course's), ``"lstm"``, ``"gru"`` or ``"gru_library"``.
        unroll: time steps per scan iteration.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = ShallowRNN(num_hidden=8, num_outputs=3)
        >>> params = model.init(jax.random.key(0), jnp.ones((2, 5, 4)))
        >>> model.apply(params, jnp.ones((2, 5, 4))).shape  # logits o_t
        (2, 5, 3)

    Reference: Goodfellow et al., Deep Learning, sec. 10.2, eq. 10.8-10.11.
    """

    num_hidden: int
    num_outputs: int
    cell: str = "simple"
    unroll: int = 1

    @nn.compact
    def __call__(self, x: Array, mask: Array | None = None) -> Array:
        """``x [B, T, D]`` (and ``mask [B, T]``) to logits ``o [B, T, K]``."""
        check_rank("x", x, 3)
        lengths = _lengths(mask, x)
        h = _rnn(make_cell(self.cell, self.num_hidden), self.unroll, name="rnn")(
            x, seq_lengths=lengths
        )
        return nn.Dense(self.num_outputs, name="output")(h)


class OutputRecurrentRNN(nn.Module):
    """Output-to-hidden recurrence only, trained with teacher forcing, run free at inference.

    ``h_t = tanh(U x_t + W y_{t-1} + b)``, ``o_t = V h_t + c`` with ``y_0 = 0``. With
    ``teacher_forcing=True`` the fed-back ``y_{t-1}`` is the *target* (one-hot for integer
    labels), so training decouples over time; with ``teacher_forcing=False`` it is the model's
    own previous output (``one_hot(argmax o)`` for ``output="softmax"``, ``o`` itself for
    ``output="linear"``), as at inference.

    Attributes:
        num_hidden: hidden units.
        num_outputs: output size ``K``.
        output: ``"softmax"`` (integer targets ``[B, T]``) or ``"linear"`` (real ``[B, T, K]``).
        unroll: time steps per scan iteration.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = OutputRecurrentRNN(num_hidden=6, num_outputs=3)
        >>> x, y = jnp.ones((2, 4, 5)), jnp.zeros((2, 4), jnp.int32)
        >>> params = model.init(jax.random.key(0), x, y, teacher_forcing=True)
        >>> model.apply(params, x).shape  # free running
        (2, 4, 3)

    Reference: Goodfellow et al., Deep Learning, sec. 10.2.1 (teacher forcing).
    """

    num_hidden: int
    num_outputs: int
    output: str = "softmax"
    unroll: int = 1

    @nn.compact
    def __call__(
        self,
        x: Array,
        targets: Array | None = None,
        *,
        teacher_forcing: bool = False,
        mask: Array | None = None,
    ) -> Array:
        """``x [B, T, D]`` to outputs ``o [B, T, K]``; ``targets`` feed back when forcing."""
        check_rank("x", x, 3)
        if self.output not in ("softmax", "linear"):
            raise ValueError(f"output must be 'softmax' or 'linear', got {self.output!r}")
        if teacher_forcing and targets is None:
            raise ValueError(
                "teacher_forcing=True needs targets (the y_{t-1} fed back), got targets=None"
            )
        mask = check_mask(mask, x)
        batch, length = x.shape[:2]
        U = nn.Dense(self.num_hidden, name="U")
        W = nn.Dense(self.num_hidden, use_bias=False, name="W")
        V = nn.Dense(self.num_outputs, name="V")
        ux = U(x)  # [B, T, H]
        y0 = jnp.zeros((batch, self.num_outputs), ux.dtype)
        if self.is_initializing():  # create W and V once, outside the scan
            W(y0), V(jnp.zeros((batch, self.num_hidden), ux.dtype))
        if teacher_forcing:
            y = self._as_vectors(targets, batch, length).astype(ux.dtype)
            y_prev = jnp.concatenate([y0[:, None], y[:, :-1]], axis=1)
            return V(jnp.tanh(ux + W(y_prev)))

        def step(mdl, y_prev, ux_t):
            o_t = V(jnp.tanh(ux_t + W(y_prev)))
            if self.output == "softmax":
                fed = jax.nn.one_hot(jnp.argmax(o_t, -1), self.num_outputs, dtype=o_t.dtype)
            else:
                fed = o_t
            return fed, o_t

        scan = nn.scan(
            step, variable_broadcast="params", split_rngs={"params": False}, unroll=self.unroll
        )
        _, o = scan(self, y0, jnp.swapaxes(ux, 0, 1))
        return jnp.swapaxes(o, 0, 1)

    def _as_vectors(self, targets: Array, batch: int, length: int) -> Array:
        if self.output == "softmax":
            if targets.shape != (batch, length):
                raise ValueError(
                    f"targets must be integer labels of shape {(batch, length)}, "
                    f"got {tuple(targets.shape)}"
                )
            return jax.nn.one_hot(targets, self.num_outputs)
        if targets.shape != (batch, length, self.num_outputs):
            raise ValueError(
                f"targets must have shape {(batch, length, self.num_outputs)}, "
                f"got {tuple(targets.shape)}"
            )
        return targets


class SequenceClassifier(nn.Module):
    """Read the whole sequence, then emit one output from the last valid hidden state.

    ``h_t = f(h_{t-1}, x_t)`` for ``t = 1..T_b`` (``T_b`` the length of sequence b from
    the mask), ``o = V h_{T_b} + c``.

    Attributes:
        num_hidden: hidden units.
        num_outputs: classes (logits) or regression outputs.
        cell: ``"simple"``, ``"lstm"``, ``"gru"`` or ``"gru_library"``.
        unroll: time steps per scan iteration.
        cell_options: keyword options of the cell (e.g. ``{"forget_gate": False}``); the
            cell's parameters live under ``"cell"``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = SequenceClassifier(num_hidden=8, num_outputs=10, cell="gru")
        >>> params = model.init(jax.random.key(0), jnp.ones((2, 40, 1)))
        >>> model.apply(params, jnp.ones((2, 40, 1))).shape
        (2, 10)

    Reference: Goodfellow et al., Deep Learning, sec. 10.2 (fig. 10.5).
    """

    num_hidden: int
    num_outputs: int
    cell: str = "gru"
    unroll: int = 1
    cell_options: Mapping[str, Any] = FrozenDict()

    @nn.compact
    def __call__(self, x: Array, mask: Array | None = None) -> Array:
        """``x [B, T, D]`` (and ``mask [B, T]``) to ``o [B, K]``."""
        check_rank("x", x, 3)
        lengths = _lengths(mask, x)
        cell = make_cell(self.cell, self.num_hidden, name="cell", **dict(self.cell_options))
        carry, _ = _rnn(cell, self.unroll, name="rnn")(x, seq_lengths=lengths, return_carry=True)
        h = carry[1] if isinstance(carry, tuple) else carry
        return nn.Dense(self.num_outputs, name="output")(h)


class VectorToSequence(nn.Module):
    """Map one vector ``x`` to a sequence: ``x`` enters every step through the matrix ``R``.

    ``h_t = tanh(W h_{t-1} + R x + U y_{t-1} + b)``, ``o_t = V h_t + c`` for ``t = 1..T``
    with ``h_0 = 0`` and ``y_0 = 0``; ``y_{t-1}`` is the target (teacher forcing) or the
    model's previous output (free running). This is the image-captioning pattern.

    Attributes:
        num_hidden: hidden units.
        num_outputs: output size ``K`` (a linear output fed back as it is).
        length: number of output steps ``T``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = VectorToSequence(num_hidden=8, num_outputs=2, length=6)
        >>> params = model.init(jax.random.key(0), jnp.ones((3, 4)))
        >>> model.apply(params, jnp.ones((3, 4))).shape
        (3, 6, 2)

    Reference: Goodfellow et al., Deep Learning, sec. 10.2.4 (fig. 10.9).
    """

    num_hidden: int
    num_outputs: int
    length: int

    @nn.compact
    def __call__(
        self, x: Array, targets: Array | None = None, *, teacher_forcing: bool = False
    ) -> Array:
        """``x [B, D]`` to ``o [B, T, K]``; ``targets [B, T, K]`` feed back when forcing."""
        check_rank("x", x, 2)
        check_positive_int("length", self.length)
        if teacher_forcing and targets is None:
            raise ValueError("teacher_forcing=True needs targets [B, T, K], got targets=None")
        batch = x.shape[0]
        R = nn.Dense(self.num_hidden, name="R")  # carries the bias b
        W = nn.Dense(self.num_hidden, use_bias=False, name="W")
        U = nn.Dense(self.num_hidden, use_bias=False, name="U")
        V = nn.Dense(self.num_outputs, name="V")
        rx = R(x)
        h0 = jnp.zeros((batch, self.num_hidden), rx.dtype)
        y0 = jnp.zeros((batch, self.num_outputs), rx.dtype)
        if self.is_initializing():
            W(h0), U(y0), V(h0)
        if teacher_forcing:
            if targets.shape != (batch, self.length, self.num_outputs):
                raise ValueError(
                    f"targets must have shape {(batch, self.length, self.num_outputs)}, "
                    f"got {tuple(targets.shape)}"
                )
            fed = jnp.swapaxes(jnp.concatenate([y0[:, None], targets[:, :-1]], 1), 0, 1)
        else:
            fed = jnp.zeros((self.length, batch, self.num_outputs), rx.dtype)

        def step(mdl, carry, y_given):
            h, y_prev = carry
            y_in = y_given if teacher_forcing else y_prev
            h = jnp.tanh(W(h) + rx + U(y_in))
            o = V(h)
            return (h, o), o

        scan = nn.scan(step, variable_broadcast="params", split_rngs={"params": False})
        _, o = scan(self, (h0, y0), fed)
        return jnp.swapaxes(o, 0, 1)


class EncoderDecoder(nn.Module):
    """Sequence to sequence through a context vector ``C`` (encoder-decoder, Cho et al. 2014).

    The encoder reads ``x_1..x_T``; ``C`` is its last valid hidden state. The decoder
    starts from ``s_0 = tanh(A C)`` and reads ``[y_{t-1}, C]`` at every step: ``s_t =
    f(s_{t-1}, [y_{t-1}, C])``, ``o_t = V s_t + c``. ``y_{t-1}`` is the one-hot target
    (teacher forcing) or the one-hot argmax of the previous output (free running,
    greedy decoding); ``y_0 = 0``.

    Attributes:
        num_hidden: hidden units of encoder and decoder.
        num_classes: output vocabulary ``K`` (integer targets).
        output_length: decoded steps ``T'``.
        cell: ``"simple"``, ``"lstm"``, ``"gru"`` or ``"gru_library"``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = EncoderDecoder(num_hidden=8, num_classes=5, output_length=4)
        >>> x, y = jnp.ones((2, 4, 5)), jnp.zeros((2, 4), jnp.int32)
        >>> params = model.init(jax.random.key(0), x, y, teacher_forcing=True)
        >>> model.apply(params, x).shape
        (2, 4, 5)

    Reference: Cho et al., EMNLP 2014; Sutskever et al., NeurIPS 2014; Goodfellow et al.,
    Deep Learning, sec. 10.4.
    """

    num_hidden: int
    num_classes: int
    output_length: int
    cell: str = "gru_library"

    @nn.compact
    def __call__(
        self,
        x: Array,
        targets: Array | None = None,
        *,
        teacher_forcing: bool = False,
        mask: Array | None = None,
    ) -> Array:
        """``x [B, T, D]`` to logits ``[B, T', K]``; integer ``targets [B, T']`` when forcing."""
        check_rank("x", x, 3)
        if teacher_forcing and targets is None:
            raise ValueError("teacher_forcing=True needs targets [B, T'], got targets=None")
        lengths = _lengths(mask, x)
        batch = x.shape[0]
        enc_carry, _ = nn.RNN(make_cell(self.cell, self.num_hidden), name="encoder")(
            x, seq_lengths=lengths, return_carry=True
        )
        context = enc_carry[1] if isinstance(enc_carry, tuple) else enc_carry
        s0 = jnp.tanh(nn.Dense(self.num_hidden, name="bridge")(context))
        decoder = make_cell(self.cell, self.num_hidden, name="decoder")
        carry0 = (jnp.zeros_like(s0), s0) if self.cell == "lstm" else s0
        V = nn.Dense(self.num_classes, name="output")
        y0 = jnp.zeros((batch, self.num_classes), s0.dtype)
        if teacher_forcing:
            if targets.shape != (batch, self.output_length):
                raise ValueError(
                    f"targets must have shape {(batch, self.output_length)}, "
                    f"got {tuple(targets.shape)}"
                )
            y = jax.nn.one_hot(targets, self.num_classes, dtype=s0.dtype)
            y_prev = jnp.concatenate([y0[:, None], y[:, :-1]], axis=1)
            ctx = jnp.broadcast_to(context[:, None], (batch, self.output_length, context.shape[-1]))
            dec_in = jnp.concatenate([y_prev, ctx], axis=-1)
            h = nn.RNN(decoder, name="decoder_rnn")(dec_in, initial_carry=carry0)
            return V(h)
        if self.is_initializing():
            decoder(carry0, jnp.concatenate([y0, context], -1)), V(s0)

        def step(mdl, carry, _):
            cell_carry, y_prev = carry
            cell_carry, h = decoder(cell_carry, jnp.concatenate([y_prev, context], -1))
            o = V(h)
            fed = jax.nn.one_hot(jnp.argmax(o, -1), self.num_classes, dtype=o.dtype)
            return (cell_carry, fed), o

        scan = nn.scan(
            step,
            variable_broadcast="params",
            split_rngs={"params": False},
            length=self.output_length,
        )
        _, o = scan(self, (carry0, y0), None)
        return jnp.swapaxes(o, 0, 1)


class BidirectionalRNN(nn.Module):
    """A forward and a backward RNN read the sequence; ``o_t = V [h_t ; g_t] + c``.

    ``h_t`` summarises ``x_1..x_t`` and ``g_t`` summarises ``x_t..x_T`` (flax's
    ``nn.Bidirectional``), so every output sees the whole sequence (not causal).

    Attributes:
        num_hidden: hidden units per direction.
        num_outputs: outputs per step.
        cell: ``"simple"``, ``"lstm"``, ``"gru"`` or ``"gru_library"``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = BidirectionalRNN(num_hidden=4, num_outputs=2)
        >>> params = model.init(jax.random.key(0), jnp.ones((1, 5, 3)))
        >>> model.apply(params, jnp.ones((1, 5, 3))).shape
        (1, 5, 2)

    Reference: Schuster & Paliwal, IEEE TSP 1997; Goodfellow et al., Deep Learning, sec. 10.3.
    """

    num_hidden: int
    num_outputs: int
    cell: str = "simple"

    @nn.compact
    def __call__(self, x: Array, mask: Array | None = None) -> Array:
        """``x [B, T, D]`` (and ``mask [B, T]``) to ``o [B, T, K]``."""
        check_rank("x", x, 3)
        lengths = _lengths(mask, x)
        forward = nn.RNN(make_cell(self.cell, self.num_hidden), name="forward")
        backward = nn.RNN(make_cell(self.cell, self.num_hidden), name="backward")
        h = nn.Bidirectional(forward, backward)(x, seq_lengths=lengths)
        return nn.Dense(self.num_outputs, name="output")(h)


class DeepRNN(nn.Module):
    """Stacked RNN: layer ``l`` reads the hidden sequence of layer ``l - 1``.

    ``h^l_t = f_l(h^l_{t-1}, h^{l-1}_t)`` with ``h^0_t = x_t``; ``o_t = V h^L_t + c``.

    Attributes:
        features: hidden units per layer ``(H_1, ..., H_L)``.
        num_outputs: outputs per step.
        cell: ``"simple"``, ``"lstm"``, ``"gru"`` or ``"gru_library"``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = DeepRNN(features=(8, 8), num_outputs=3)
        >>> params = model.init(jax.random.key(0), jnp.ones((2, 5, 4)))
        >>> model.apply(params, jnp.ones((2, 5, 4))).shape
        (2, 5, 3)

    Reference: Graves et al., ICASSP 2013; Goodfellow et al., Deep Learning, sec. 10.5.
    """

    features: Sequence[int]
    num_outputs: int
    cell: str = "simple"

    @nn.compact
    def __call__(self, x: Array, mask: Array | None = None) -> Array:
        """``x [B, T, D]`` (and ``mask [B, T]``) to ``o [B, T, K]``."""
        check_rank("x", x, 3)
        if len(self.features) == 0:
            raise ValueError("features must list at least one layer size, got ()")
        lengths = _lengths(mask, x)
        h = x
        for index, width in enumerate(self.features):
            h = nn.RNN(make_cell(self.cell, width), name=f"layer_{index}")(h, seq_lengths=lengths)
        return nn.Dense(self.num_outputs, name="output")(h)


# --------------------------------------------------------------------------- losses


def _call_kwargs(model: nn.Module) -> set[str]:
    try:
        return set(inspect.signature(type(model).__call__).parameters)
    except (TypeError, ValueError):
        return set()


def _sequence_batch(batch: tuple) -> tuple[Array, Array, Array | None]:
    if len(batch) == 2:
        return batch[0], batch[1], None
    if len(batch) == 3:
        return batch
    raise ValueError(f"batch must be (x, targets) or (x, targets, mask), got {len(batch)} arrays")


def make_sequence_classification_loss(model: nn.Module) -> Objective:
    """Cross-entropy of one label per sequence, for read-all-then-one-output models.

    ``L = -(1/B) sum_b log softmax(o_b)[y_b]``. A batch is ``(x [B, T, D], labels [B])`` or
    ``(x, labels, mask [B, T])``; the mask goes to the model's ``mask`` argument.

    Returns:
        An :class:`jaxdl.losses.Objective` (``.evaluate`` gives loss and accuracy).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = SequenceClassifier(num_hidden=4, num_outputs=3)
        >>> x, y = jnp.ones((2, 6, 1)), jnp.array([0, 2])
        >>> params = model.init(jax.random.key(0), x)["params"]
        >>> loss_fn = make_sequence_classification_loss(model)
        >>> sorted(loss_fn.evaluate(params, {}, (x, y)))
        ['accuracy', 'loss']
    """
    takes_mask = "mask" in _call_kwargs(model)

    def metrics(params: PyTree, batch: tuple) -> tuple[Array, dict]:
        x, labels, mask = _sequence_batch(batch)
        kwargs = {"mask": mask} if (takes_mask and mask is not None) else {}
        logits = model.apply({"params": params}, x, **kwargs)
        if labels.shape != logits.shape[:1]:
            raise ValueError(
                f"labels must have shape {logits.shape[:1]} (one per sequence), "
                f"got {tuple(labels.shape)}"
            )
        log_p = jax.nn.log_softmax(logits)
        loss = -jnp.mean(jnp.take_along_axis(log_p, labels[:, None], axis=-1))
        accuracy = jnp.mean((jnp.argmax(logits, -1) == labels).astype(jnp.float32))
        return loss, {"accuracy": accuracy}

    def loss_fn(params, model_state, batch, key):
        loss, m = metrics(params, batch)
        return loss, (model_state, m)

    def evaluate(params, model_state, batch):
        loss, m = metrics(params, batch)
        return {"loss": loss, **m}

    return Objective(loss_fn, evaluate)


def make_transduction_loss(
    model: nn.Module, loss: str = "nll", *, teacher_forcing: bool | None = None
) -> Objective:
    """Per-step loss summed over the valid steps of each sequence, averaged over sequences.

    ``L = (1/B) sum_b sum_t m_bt l(o_bt, y_bt)`` with ``l = -log softmax(o)[y]`` (``"nll"``,
    the course's shallow RNN) or ``l = ||o - y||^2`` (``"squared"``). A batch is ``(x, y)``
    or ``(x, y, mask [B, T])``. For models with a ``teacher_forcing`` argument the training
    loss feeds the targets back (``teacher_forcing=None`` or ``True``) and ``evaluate``
    always runs free, as at inference; ``teacher_forcing=False`` trains free running too.

    Metrics: ``token_accuracy`` and ``exact_match`` (every valid step right) for ``"nll"``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = ShallowRNN(num_hidden=4, num_outputs=3)
        >>> x, y = jnp.ones((2, 5, 2)), jnp.zeros((2, 5), jnp.int32)
        >>> params = model.init(jax.random.key(0), x)["params"]
        >>> loss_fn = make_transduction_loss(model)
        >>> sorted(loss_fn.evaluate(params, {}, (x, y)))
        ['exact_match', 'loss', 'token_accuracy']
    """
    if loss not in ("nll", "squared"):
        raise ValueError(f"loss must be 'nll' or 'squared', got {loss!r}")
    params_of_call = _call_kwargs(model)
    forcing_model = "teacher_forcing" in params_of_call
    if teacher_forcing and not forcing_model:
        raise ValueError(
            f"teacher_forcing=True needs a model with a teacher_forcing argument, "
            f"got {type(model).__name__}"
        )

    def metrics(params: PyTree, batch: tuple, forcing: bool) -> tuple[Array, dict]:
        x, y, mask = _sequence_batch(batch)
        kwargs: dict[str, Any] = {}
        if mask is not None and "mask" in params_of_call:
            kwargs["mask"] = mask
        if forcing_model:
            kwargs["teacher_forcing"] = forcing
            if forcing:
                return _transduction(model.apply({"params": params}, x, y, **kwargs), y, mask)
        return _transduction(model.apply({"params": params}, x, **kwargs), y, mask)

    def _transduction(o: Array, y: Array, mask: Array | None) -> tuple[Array, dict]:
        steps = o.shape[:2]
        m = jnp.ones(steps, bool) if mask is None else check_mask(mask, o)
        if loss == "nll":
            if y.shape != steps:
                raise ValueError(f"targets must have shape {steps}, got {tuple(y.shape)}")
            log_p = jax.nn.log_softmax(o)
            per_step = -jnp.take_along_axis(log_p, y[..., None], axis=-1)[..., 0]
        else:
            if y.shape != o.shape:
                raise ValueError(f"targets must have shape {tuple(o.shape)}, got {tuple(y.shape)}")
            per_step = jnp.sum(jnp.square(o - y), axis=tuple(range(2, o.ndim)))
        mf = m.astype(per_step.dtype)
        value = jnp.mean(jnp.sum(per_step * mf, axis=1))
        out: dict[str, Array] = {}
        if loss == "nll":
            right = (jnp.argmax(o, -1) == y) | ~m
            out["token_accuracy"] = jnp.sum((right & m).astype(jnp.float32)) / jnp.maximum(
                jnp.sum(m.astype(jnp.float32)), 1.0
            )
            out["exact_match"] = jnp.mean(jnp.all(right, axis=1).astype(jnp.float32))
        return value, out

    train_forcing = forcing_model and teacher_forcing is not False

    def loss_fn(params, model_state, batch, key):
        value, m = metrics(params, batch, train_forcing)
        return value, (model_state, m)

    def evaluate(params, model_state, batch):
        value, m = metrics(params, batch, False)
        return {"loss": value, **m}

    return Objective(loss_fn, evaluate)


# --------------------------------------------------------------------------- BPTT by hand


class RNNParams(NamedTuple):
    """Weights of the shallow tanh RNN: ``a_t = U x_t + W h_{t-1} + b``, ``o_t = V h_t + c``.

    Shapes: ``U [H, D]``, ``W [H, H]``, ``b [H]``, ``V [K, H]``, ``c [K]`` (column-vector
    convention of the course).
    """

    U: Array
    W: Array
    b: Array
    V: Array
    c: Array


class BPTTGrads(NamedTuple):
    """What :func:`bptt` returns: the loss, the parameter gradients and ``dL/dh_t``."""

    loss: Array
    grads: RNNParams
    hidden_grads: Array


def _output(o_pre: Array, output: str) -> Array:
    if output == "softmax":
        return jax.nn.softmax(o_pre, axis=-1)
    if output == "tanh":
        return jnp.tanh(o_pre)
    if output == "linear":
        return o_pre
    raise ValueError(f"output must be 'softmax', 'tanh' or 'linear', got {output!r}")


def rnn_forward(
    params: RNNParams,
    xs: Array,
    *,
    h0: Array | None = None,
    truncate: int | None = None,
    unroll: int = 1,
) -> tuple[Array, Array]:
    """Forward pass of the shallow tanh RNN on one sequence.

    ``a_t = U x_t + W h_{t-1} + b``, ``h_t = tanh(a_t)``, ``o_t = V h_t + c`` (pre-activation
    output), ``h_0 = 0`` unless given. With ``truncate=k`` the gradient through ``h_{t-1}``
    is stopped at every ``t`` divisible by ``k`` (truncated BPTT over chunks of ``k``
    steps; the forward values are unchanged).

    Args:
        params: :class:`RNNParams`.
        xs: inputs ``[T, D]``.
        h0: initial state ``[H]``.
        truncate: chunk length ``k >= 1`` of truncated BPTT, or ``None`` (full BPTT).
        unroll: time steps per scan iteration.

    Returns:
        ``(hs [T, H], os [T, K])``.

    Example:
        >>> import jax.numpy as jnp
        >>> p = RNNParams(jnp.eye(2), jnp.zeros((2, 2)), jnp.zeros(2), jnp.eye(2), jnp.zeros(2))
        >>> hs, os = rnn_forward(p, jnp.ones((3, 2)))
        >>> hs.shape, os.shape
        ((3, 2), (3, 2))
    """
    check_rank("xs", xs, 2)
    if truncate is not None:
        check_positive_int("truncate", truncate)
    h = jnp.zeros(params.W.shape[0], xs.dtype) if h0 is None else h0

    def step(h_prev, x_t, t):
        if truncate is not None:
            h_prev = jnp.where(t % truncate == 0, jax.lax.stop_gradient(h_prev), h_prev)
        h_t = jnp.tanh(params.U @ x_t + params.W @ h_prev + params.b)
        return h_t, (h_t, params.V @ h_t + params.c)

    _, (hs, os) = unroll_fn(step, h, xs, unroll=unroll, with_time=True)
    return hs, os


unroll_fn = unroll  # the name ``unroll`` is shadowed by keyword arguments inside functions


def rnn_loss(
    params: RNNParams,
    xs: Array,
    targets: Array,
    *,
    output: str = "softmax",
    truncate: int | None = None,
) -> Array:
    """Loss of the shallow RNN summed over time.

    ``output="softmax"``: ``L = -sum_t log softmax(o_t)[y_t]`` (integer ``targets [T]``).
    ``output="tanh"`` / ``"linear"``: ``L = sum_t ||y_t - act(o_t)||^2`` (``targets [T, K]``).

    Example:
        >>> import jax.numpy as jnp
        >>> p = RNNParams(jnp.eye(2), jnp.zeros((2, 2)), jnp.zeros(2), jnp.zeros((3, 2)),
        ...               jnp.zeros(3))
        >>> round(float(rnn_loss(p, jnp.ones((4, 2)), jnp.zeros(4, jnp.int32))), 4)  # 4 log 3
        4.3944
    """
    _, os = rnn_forward(params, xs, truncate=truncate)
    if output == "softmax":
        log_p = jax.nn.log_softmax(os, axis=-1)
        return -jnp.sum(jnp.take_along_axis(log_p, targets[:, None], axis=-1))
    return jnp.sum(jnp.square(targets - _output(os, output)))


def bptt(params: RNNParams, xs: Array, targets: Array, *, output: str = "softmax") -> BPTTGrads:
    """Back-propagation through time written out by hand for the shallow tanh RNN.

    With ``g_o(t) = dL/do_t`` (``softmax(o_t) - e_{y_t}`` for softmax + NLL;
    ``-2 (y_t - yhat_t) * act'(o_t)`` for a squared error), going backwards from ``t = T``:

        dL/dh_T = V^T g_o(T)
        dL/dh_t = V^T g_o(t) + W^T diag(1 - h_{t+1}^2) dL/dh_{t+1}

    and, with ``delta_t = diag(1 - h_t^2) dL/dh_t``, the parameter gradients

        dL/dc = sum_t g_o(t),     dL/dV = sum_t g_o(t) h_t^T,
        dL/db = sum_t delta_t,    dL/dW = sum_t delta_t h_{t-1}^T,   dL/dU = sum_t delta_t x_t^T.

    Args:
        params: :class:`RNNParams`.
        xs: inputs ``[T, D]``.
        targets: integer labels ``[T]`` (softmax) or values ``[T, K]`` (tanh / linear).
        output: ``"softmax"`` (NLL), ``"tanh"`` or ``"linear"`` (squared error).

    Returns:
        :class:`BPTTGrads` ``(loss, grads, hidden_grads [T, H])``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> p = RNNParams(jnp.ones((2, 1)), 0.5 * jnp.eye(2), jnp.zeros(2), jnp.ones((1, 2)),
        ...               jnp.zeros(1))
        >>> xs, ys = jnp.ones((3, 1)), jnp.ones((3, 1))
        >>> by_hand = bptt(p, xs, ys, output="tanh").grads
        >>> auto = jax.grad(rnn_loss)(p, xs, ys, output="tanh")
        >>> bool(jnp.allclose(by_hand.W, auto.W, atol=1e-6))
        True

    Reference: Goodfellow et al., Deep Learning, sec. 10.2.2 (eq. 10.17-10.28).
    """
    check_rank("xs", xs, 2)
    hs, os = rnn_forward(params, xs)
    if output == "softmax":
        log_p = jax.nn.log_softmax(os, axis=-1)
        loss = -jnp.sum(jnp.take_along_axis(log_p, targets[:, None], axis=-1))
        g_o = jnp.exp(log_p) - jax.nn.one_hot(targets, os.shape[-1], dtype=os.dtype)
    else:
        yhat = _output(os, output)
        loss = jnp.sum(jnp.square(targets - yhat))
        derivative = 1.0 - jnp.square(yhat) if output == "tanh" else jnp.ones_like(yhat)
        g_o = -2.0 * (targets - yhat) * derivative
    from_output = g_o @ params.V  # [T, H]: V^T g_o(t)

    # backwards over t = T..1; the carry is dL/dh_{t+1}, and h_{t+1} comes from hs.
    h_next = jnp.concatenate([hs[1:], jnp.zeros_like(hs[:1])], axis=0)

    def back_step(grad_next, inputs):
        out_t, h_after = inputs
        grad_t = out_t + params.W.T @ ((1.0 - jnp.square(h_after)) * grad_next)
        return grad_t, grad_t

    _, hidden_grads = jax.lax.scan(
        back_step, jnp.zeros_like(hs[0]), (from_output, h_next), reverse=True
    )
    delta = (1.0 - jnp.square(hs)) * hidden_grads  # [T, H]
    h_prev = jnp.concatenate([jnp.zeros_like(hs[:1]), hs[:-1]], axis=0)
    grads = RNNParams(
        U=delta.T @ xs,
        W=delta.T @ h_prev,
        b=jnp.sum(delta, axis=0),
        V=g_o.T @ hs,
        c=jnp.sum(g_o, axis=0),
    )
    return BPTTGrads(loss, grads, hidden_grads)


def state_gradient_norms(
    transition: Callable[[PyTree, Array], PyTree],
    initial_state: PyTree,
    inputs: Array,
    loss_fn: Callable[[PyTree], Array],
    readout: Callable[[PyTree], PyTree] | None = None,
) -> Array:
    """Norms ``||dL/dh_t||`` of the loss gradient with respect to every state ``h_t``.

    For the state-space model ``h_t = f(h_{t-1}, x_t)``, ``o_t = g(h_t)`` and a loss of the
    outputs, the total derivative of ``L`` with respect to ``h_t`` (through ``o_t`` and all
    later states) is found by adding a zero perturbation ``e_t`` to each state and
    differentiating with respect to it. Vanishing gradients show as norms that shrink
    geometrically going back from ``T``; exploding ones as norms that grow.

    Args:
        transition: ``f``: ``(state, x_t) -> state`` (e.g. a bound flax cell's carry update).
        initial_state: ``h_0`` (a pytree; the norm sums over its leaves).
        inputs: time-major inputs ``[T, ...]``.
        loss_fn: outputs ``[T, ...] -> scalar``.
        readout: ``g``: ``state -> output`` (default: the state itself).

    Returns:
        ``[T]`` norms, ``t = 1..T``.

    Example:
        >>> import jax.numpy as jnp
        >>> step = lambda h, x: 0.5 * h + x
        >>> state_gradient_norms(step, jnp.zeros(1), jnp.ones((3, 1)),
        ...                      lambda o: o[-1, 0]).tolist()
        [0.25, 0.5, 1.0]
    """
    readout = readout or (lambda state: state)
    length = jax.tree.leaves(inputs)[0].shape[0]
    zeros = jax.tree.map(
        lambda s: jnp.zeros((length,) + jnp.shape(s), jnp.result_type(s)), initial_state
    )

    def loss_of(perturbations):
        def body(state, xs):
            x_t, e_t = xs
            state = jax.tree.map(jnp.add, transition(state, x_t), e_t)
            return state, readout(state)

        _, outs = jax.lax.scan(body, initial_state, (inputs, perturbations))
        return loss_fn(outs)

    grads = jax.grad(loss_of)(zeros)
    squares = [jnp.sum(jnp.square(g), axis=tuple(range(1, g.ndim))) for g in jax.tree.leaves(grads)]
    return jnp.sqrt(sum(squares))


# --------------------------------------------------------------------------- registry

register_model(
    ModelSpec(
        name="LSTMCell",
        make=lambda: LSTMCell(features=4, peephole=True),
        input_shape=(5, 3),
        cell=True,
    )
)
register_model(
    ModelSpec(name="GRUCell", make=lambda: GRUCell(features=4), input_shape=(5, 3), cell=True)
)
register_model(
    ModelSpec(
        name="ShallowRNN", make=lambda: ShallowRNN(num_hidden=6, num_outputs=3), input_shape=(5, 2)
    )
)
register_model(
    ModelSpec(
        name="OutputRecurrentRNN",
        make=lambda: OutputRecurrentRNN(num_hidden=6, num_outputs=3),
        input_shape=(5, 2),
    )
)
register_model(
    ModelSpec(
        name="SequenceClassifier",
        make=lambda: SequenceClassifier(num_hidden=6, num_outputs=3, cell="lstm"),
        input_shape=(5, 2),
    )
)
register_model(
    ModelSpec(
        name="VectorToSequence",
        make=lambda: VectorToSequence(num_hidden=6, num_outputs=2, length=4),
        input_shape=(3,),
    )
)
register_model(
    ModelSpec(
        name="EncoderDecoder",
        make=lambda: EncoderDecoder(num_hidden=6, num_classes=4, output_length=3, cell="simple"),
        input_shape=(5, 2),
    )
)
register_model(
    ModelSpec(
        name="BidirectionalRNN",
        make=lambda: BidirectionalRNN(num_hidden=4, num_outputs=2),
        input_shape=(5, 2),
    )
)
register_model(
    ModelSpec(
        name="DeepRNN", make=lambda: DeepRNN(features=(4, 4), num_outputs=2), input_shape=(5, 2)
    )
)
