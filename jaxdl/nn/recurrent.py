"""Recurrent networks: the state-space unroll and the cells (simple, LSTM and its variants, GRU).

A recurrent system is the state-space model

    h_t = f(h_{t-1}, x_t; theta),    o_t = g(h_t, x_t; theta),

unrolled over time with one ``lax.scan`` (:func:`unroll`, or flax's ``nn.RNN`` for cells).
The same ``theta`` at every step makes the transition *stationary*; a step that also reads
the index ``t`` (``with_time=True``) is *time dependent*.

What lives here:

* :func:`unroll` for any step function, with padding masks (:func:`check_mask`,
  :func:`mask_lengths`) and a configurable ``unroll``.
* Cells in flax's ``RNNCellBase`` API (so ``nn.RNN`` / ``nn.Bidirectional`` drive them):
  :class:`LSTMCell` with the course's six variants as options, :class:`GRUCell` in the
  course's form (reset gate before ``W``) or the flax / PyTorch form, :func:`make_cell` by
  name, and the weight mappings from PyTorch (:func:`lstm_params_from_torch`,
  :func:`gru_params_from_torch`).

Built on top: the course's design patterns and sequence losses in
:mod:`jaxdl.nn.rnn_patterns`; BPTT by hand, truncated BPTT, ``||dL/dh_t||`` and the
transduction properties in :mod:`jaxdl.nn.rnn_gradients`.

Reference: Goodfellow, Bengio & Courville, *Deep Learning*, ch. 10 (2016); Hochreiter &
Schmidhuber (1997); Greff et al., "LSTM: A Search Space Odyssey" (2017); Cho et al. (2014).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl._checks import check_positive_int, check_rank
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array, Key, PyTree

__all__ = [
    "GRUCell",
    "LSTMCell",
    "check_mask",
    "gru_params_from_torch",
    "lstm_params_from_torch",
    "make_cell",
    "mask_lengths",
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
