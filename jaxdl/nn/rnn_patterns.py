"""The course's RNN design patterns and the sequence losses that train them with ``fit``.

* :class:`ShallowRNN`: an output at every step, hidden-to-hidden recurrence.
* :class:`OutputRecurrentRNN`: output-to-hidden recurrence only, trained with teacher forcing
  and run free at inference.
* :class:`SequenceClassifier`: read the whole sequence, then emit one output.
* :class:`VectorToSequence`: one vector to a sequence through the matrix ``R``.
* :class:`EncoderDecoder`: sequence to sequence through a context vector.
* :class:`BidirectionalRNN` and :class:`DeepRNN` (stacked layers).
* Losses for ``fit``: :func:`make_sequence_classification_loss` and
  :func:`make_transduction_loss` (NLL or squared error summed over the valid time steps).

Every pattern takes its cell by name (:func:`jaxdl.nn.recurrent.make_cell`) and padding masks
``[B, T]`` where sequences have variable length.

Reference: Goodfellow, Bengio & Courville, *Deep Learning*, ch. 10 (2016); Cho et al. (2014);
Sutskever et al. (2014); Schuster & Paliwal (1997); Graves et al. (2013).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax.core import FrozenDict

from jaxdl._checks import check_positive_int, check_rank
from jaxdl.losses.objective import Objective
from jaxdl.nn.recurrent import check_mask, make_cell, mask_lengths
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array, PyTree

__all__ = [
    "BidirectionalRNN",
    "DeepRNN",
    "EncoderDecoder",
    "OutputRecurrentRNN",
    "SequenceClassifier",
    "ShallowRNN",
    "VectorToSequence",
    "make_sequence_classification_loss",
    "make_transduction_loss",
]


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


# --------------------------------------------------------------------------- registry

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
