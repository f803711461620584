"""Reservoir computing: echo state networks with a fixed random reservoir and a trained readout.

A reservoir is an RNN whose input matrix ``U`` and recurrent matrix ``W`` are drawn once and
never trained; only a linear readout on its states is fitted. Following the course:

* ``W`` is sparse (density at most 20 %) with weights uniform on ``[-1, 1]``, rescaled to a
  chosen spectral radius ``rho(W) < 1`` (the usual sufficient condition in practice for
  the echo state property); ``U`` is dense, uniform on ``[-input_scaling, input_scaling]``.
* The leaky integrator as the course writes it, ``h_t = (1 - a) h_{t-1} + f(U x_t + W
  h_{t-1})`` (``form="course"``), or the usual form ``h_t = (1 - a) h_{t-1} + a f(...)``
  (``form="leaky"``, Jaeger et al. 2007), with ``f(z) = act(gain * z + bias)``.
* Washout, an echo-state-property check (two starts forget their difference), the ridge
  readout in closed form, intrinsic plasticity (Triesch's gain/bias rule driving a sigmoid
  unit's output toward an exponential distribution), and the memory capacity
  ``MC = sum_k r^2(x_{t-k}, o_k(t))`` computed on device.

Every function is pure and jittable; ``jax.vmap`` over keys, radii and leaks runs many
reservoirs in one compiled call. The reservoir state is an explicit argument and return value
(``run_reservoir``'s ``h0`` and final state).

Reference: Jaeger, GMD Report 148 (2001); Jaeger, GMD Report 152 (2002, memory capacity);
Jaeger et al., Neural Networks 20 (2007, leaky ESNs); Triesch, ICANN 2005 (intrinsic
plasticity); Lukosevicius & Jaeger, Computer Science Review (2009).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxdl._checks import check_in_range, check_positive, check_positive_int, check_rank
from jaxdl.nn.linear import ridge
from jaxdl.typing import Array, Key

__all__ = [
    "ESNParams",
    "FORMS",
    "Readout",
    "echo_state_distance",
    "esn_init_params",
    "fit_readout",
    "intrinsic_plasticity",
    "memory_capacity",
    "nrmse",
    "predict_readout",
    "run_reservoir",
    "spectral_radius",
]

FORMS = ("course", "leaky")
_ACTIVATIONS = {"tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid, "linear": lambda z: z}


class ESNParams(NamedTuple):
    """A fixed reservoir: ``U [N, D]``, ``W [N, N]``, ``leak`` (scalar ``a``), intrinsic
    ``gain [N]`` and ``bias [N]`` (1 and 0 until :func:`intrinsic_plasticity` adapts them)."""

    U: Array
    W: Array
    leak: Array
    gain: Array
    bias: Array


class Readout(NamedTuple):
    """A linear readout ``o = weights^T h + intercept``: ``weights [N, K]``, ``intercept [K]``."""

    weights: Array
    intercept: Array


def spectral_radius(W: Array) -> Array:
    """The largest absolute eigenvalue ``rho(W)`` of a square matrix (CPU eigensolver).

    Example:
        >>> import jax.numpy as jnp
        >>> float(spectral_radius(jnp.array([[0.0, 2.0], [0.5, 0.0]])))
        1.0
    """
    check_rank("W", W, 2)
    return jnp.max(jnp.abs(jnp.linalg.eigvals(W)))


def esn_init_params(
    key: Key,
    num_inputs: int,
    num_hidden: int,
    *,
    spectral_radius: float | Array = 0.9,
    density: float | Array = 0.1,
    input_scaling: float | Array = 1.0,
    leak: float | Array = 1.0,
) -> ESNParams:
    """Draw a sparse random reservoir and rescale it to a spectral radius.

    ``W_ij = m_ij w_ij`` with ``m_ij ~ Bernoulli(density)`` and ``w_ij ~ U[-1, 1]``, then
    ``W <- spectral_radius * W / rho(W)``; ``U_ij ~ U[-input_scaling, input_scaling]``
    (dense). ``spectral_radius``, ``input_scaling`` and ``leak`` may be traced, so
    ``jax.vmap`` over keys and hyperparameters builds many reservoirs at once.

    Args:
        key: PRNG key.
        num_inputs: input size ``D``.
        num_hidden: reservoir size ``N``.
        spectral_radius: target ``rho(W) > 0`` (below 1 for the echo state property).
        density: fraction of nonzero recurrent weights, in ``(0, 0.2]`` (the course's
            "up to 20 %").
        input_scaling: half-width of the input weights' uniform distribution (> 0).
        leak: the leaking rate ``a`` in ``(0, 1]`` (1: no leaky integration).

    Returns:
        :class:`ESNParams`.

    Raises:
        ValueError: ``spectral_radius <= 0``, ``leak`` outside ``(0, 1]``, ``density``
            outside ``(0, 0.2]`` or ``input_scaling <= 0`` (concrete values).

    A draw whose ``W`` is nilpotent (``rho(W) = 0``, possible for tiny sparse reservoirs)
    cannot be rescaled and is returned as drawn.

    Example:
        >>> import jax
        >>> params = esn_init_params(jax.random.key(0), 1, 50, spectral_radius=0.8)
        >>> round(float(spectral_radius(params.W)), 4)
        0.8
        >>> esn_init_params(jax.random.key(0), 1, 50, leak=1.5)
        Traceback (most recent call last):
        ...
        ValueError: leak must lie in (0.0, 1.0], got 1.5

    Reference: Jaeger, GMD Report 148 (2001); Lukosevicius, "A practical guide to applying
    echo state networks" (2012).
    """
    check_positive_int("num_inputs", num_inputs)
    check_positive_int("num_hidden", num_hidden)
    check_positive("spectral_radius", spectral_radius)
    check_in_range("density", density, 0.0, 0.2, low_inclusive=False)
    check_positive("input_scaling", input_scaling)
    check_in_range("leak", leak, 0.0, 1.0, low_inclusive=False)
    k_mask, k_w, k_u = jax.random.split(key, 3)
    mask = jax.random.bernoulli(k_mask, density, (num_hidden, num_hidden))
    W = jnp.where(mask, jax.random.uniform(k_w, (num_hidden, num_hidden), minval=-1.0), 0.0)
    rho = jnp.max(jnp.abs(jnp.linalg.eigvals(W)))
    # A very sparse draw can be nilpotent (rho = 0, e.g. a triangular pattern): no scaling
    # reaches the target radius; it is left as drawn rather than blown up by 1 / rho.
    W = W * jnp.where(rho > 1e-6, spectral_radius / jnp.maximum(rho, 1e-6), 1.0)
    U = input_scaling * jax.random.uniform(k_u, (num_hidden, num_inputs), minval=-1.0)
    return ESNParams(
        U=U,
        W=W,
        leak=jnp.asarray(leak, W.dtype),
        gain=jnp.ones(num_hidden, W.dtype),
        bias=jnp.zeros(num_hidden, W.dtype),
    )


def _step(params: ESNParams, h: Array, x: Array, form: str, activation: str) -> Array:
    f = _ACTIVATIONS[activation](params.gain * (params.U @ x + params.W @ h) + params.bias)
    if form == "course":
        return (1.0 - params.leak) * h + f
    return (1.0 - params.leak) * h + params.leak * f


def _check_form(form: str, activation: str) -> None:
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")


def run_reservoir(
    params: ESNParams,
    inputs: Array,
    *,
    h0: Array | None = None,
    washout: int = 0,
    form: str = "leaky",
    activation: str = "tanh",
    unroll: int = 1,
) -> tuple[Array, Array]:
    """Drive the reservoir with ``inputs`` and collect its states (one ``lax.scan``).

    ``h_t = (1 - a) h_{t-1} + f(U x_t + W h_{t-1})`` (``form="course"``) or
    ``h_t = (1 - a) h_{t-1} + a f(U x_t + W h_{t-1})`` (``form="leaky"``), with
    ``f(z) = act(gain * z + bias)`` and ``h_0 = 0`` unless given. The first ``washout``
    states (the transient that still remembers ``h_0``) are dropped.

    Args:
        params: :class:`ESNParams`.
        inputs: ``[T, D]``.
        h0: initial state ``[N]``.
        washout: leading states to drop (``0 <= washout < T``).
        form: ``"course"`` or ``"leaky"``.
        activation: ``"tanh"``, ``"sigmoid"`` or ``"linear"``.
        unroll: time steps per scan iteration.

    Returns:
        ``(final_state [N], states [T - washout, N])``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> params = esn_init_params(jax.random.key(0), 1, 20)
        >>> final, states = run_reservoir(params, jnp.ones((30, 1)), washout=10)
        >>> states.shape
        (20, 20)
    """
    check_rank("inputs", inputs, 2)
    _check_form(form, activation)
    check_positive_int("washout", washout, allow_zero=True)
    if washout >= inputs.shape[0]:
        raise ValueError(f"washout must be < the {inputs.shape[0]} time steps, got {washout}")
    if inputs.shape[1] != params.U.shape[1]:
        raise ValueError(
            f"inputs must have {params.U.shape[1]} features (U's columns), got {inputs.shape[1]}"
        )
    h = jnp.zeros(params.W.shape[0], inputs.dtype) if h0 is None else h0

    def body(h, x):
        h = _step(params, h, x, form, activation)
        return h, h

    final, states = jax.lax.scan(body, h, inputs, unroll=unroll)
    return final, states[washout:]


def echo_state_distance(
    params: ESNParams,
    inputs: Array,
    h0_a: Array,
    h0_b: Array,
    *,
    form: str = "leaky",
    activation: str = "tanh",
) -> Array:
    """``||h_t - h'_t||`` for two runs on the same inputs from different initial states.

    The echo state property says the state is a function of the input history alone:
    this distance must go to zero. It decays for a contracting reservoir (``rho(W) < 1`` in
    practice) and can persist for a large spectral radius.

    Returns:
        ``[T]`` distances.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> params = esn_init_params(jax.random.key(0), 1, 30, spectral_radius=0.5)
        >>> d = echo_state_distance(params, jnp.zeros((50, 1)), jnp.ones(30), -jnp.ones(30))
        >>> bool(d[-1] < 1e-6 * d[0])
        True
    """
    _, a = run_reservoir(params, inputs, h0=h0_a, form=form, activation=activation)
    _, b = run_reservoir(params, inputs, h0=h0_b, form=form, activation=activation)
    return jnp.linalg.norm(a - b, axis=-1)


def fit_readout(states: Array, targets: Array, strength: float | Array = 1e-6) -> Readout:
    """Ridge readout in closed form: ``min ||Y - H w - b||^2 + strength ||w||^2``.

    The readout can also be trained by gradient: it is a linear layer on the collected
    states, so ``jaxdl.training.fit`` with ``make_supervised_loss(nn.Dense(K), "mse")`` on
    ``(states, targets)`` trains it like any model (the tests check that it reaches this
    closed form's error).

    Args:
        states: ``[T, N]`` collected reservoir states (after washout).
        targets: ``[T]`` or ``[T, K]``.
        strength: ridge penalty (>= 0).

    Returns:
        :class:`Readout` with ``weights [N, K]`` (``[N]`` for 1-D targets).

    Example:
        >>> import jax.numpy as jnp
        >>> h = jnp.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        >>> r = fit_readout(h, h @ jnp.array([2.0, -1.0]), strength=0.0)
        >>> [round(float(w), 4) for w in r.weights]
        [2.0, -1.0]
    """
    model = ridge(states, targets, strength)
    return Readout(model.weights, model.intercept)


def predict_readout(readout: Readout, states: Array) -> Array:
    """``o_t = weights^T h_t + intercept`` for states ``[T, N]``.

    Example:
        >>> import jax.numpy as jnp
        >>> predict_readout(Readout(jnp.ones(2), jnp.array(1.0)), jnp.ones((3, 2))).tolist()
        [3.0, 3.0, 3.0]
    """
    out = states @ readout.weights
    intercept = jnp.asarray(readout.intercept)
    return out + jnp.reshape(intercept, (1,) * (out.ndim - intercept.ndim) + intercept.shape)


def nrmse(targets: Array, predictions: Array) -> Array:
    """Normalised root-mean-square error ``sqrt(mean((y - o)^2) / var(y))``.

    Example:
        >>> import jax.numpy as jnp
        >>> float(nrmse(jnp.array([0.0, 2.0]), jnp.array([1.0, 1.0])))
        1.0
    """
    return jnp.sqrt(jnp.mean(jnp.square(targets - predictions)) / jnp.var(targets))


def memory_capacity(
    params: ESNParams,
    inputs: Array,
    max_delay: int,
    *,
    washout: int = 100,
    strength: float | Array = 1e-8,
    form: str = "leaky",
    activation: str = "tanh",
) -> tuple[Array, Array]:
    """Memory capacity ``MC = sum_{k=0}^{K} r^2(x_{t-k}, o_k(t))``, the course's sum.

    The reservoir is driven by a scalar i.i.d. input ``x``; for every delay ``k`` a ridge
    readout ``o_k`` is fitted on the first half of the states to reproduce ``x_{t-k}``, and
    ``r^2`` (the squared correlation) is measured on the second half. All ``K + 1`` readouts
    are one multi-output ridge solve, on device. Because the targets are uncorrelated and
    the state has ``N`` dimensions, ``MC <= N`` (Jaeger 2002); a linear reservoir with a
    generic ``W`` and ``U`` comes close to ``N`` (the delay ``k = 0``, the current input,
    takes one of the ``N`` dimensions; Jaeger's sum starts at ``k = 1``).

    Args:
        params: :class:`ESNParams` with one input.
        inputs: ``[T, 1]`` i.i.d. input (e.g. uniform on ``[-0.5, 0.5]``).
        max_delay: largest delay ``K`` (``2 N`` to ``3 N`` is enough in practice).
        washout: states dropped at the start (>= ``max_delay``).
        strength: ridge penalty.
        form: reservoir form.
        activation: reservoir activation.

    Returns:
        ``(mc, r2 [K + 1])``: the capacity and the per-delay ``r^2``, ``k = 0..K``.

    Example:
        >>> import jax
        >>> params = esn_init_params(jax.random.key(0), 1, 10, density=0.2)
        >>> x = jax.random.uniform(jax.random.key(1), (600, 1), minval=-0.5, maxval=0.5)
        >>> mc, r2 = memory_capacity(params, x, 20, washout=50)
        >>> r2.shape, bool(0.0 < mc <= 10.0)
        ((21,), True)
    """
    check_rank("inputs", inputs, 2)
    check_positive_int("max_delay", max_delay)
    if washout < max_delay:
        raise ValueError(f"washout must be >= max_delay = {max_delay}, got {washout}")
    _, states = run_reservoir(params, inputs, washout=washout, form=form, activation=activation)
    x = inputs[:, 0]
    length = inputs.shape[0]
    delays = jnp.arange(0, max_delay + 1)
    rows = jnp.arange(washout, length)
    targets = x[rows[:, None] - delays[None, :]]  # [T - washout, K]: x_{t-k}
    half = states.shape[0] // 2
    readout = fit_readout(states[:half], targets[:half], strength)
    out = predict_readout(readout, states[half:])
    y = targets[half:]
    yc = y - jnp.mean(y, axis=0, keepdims=True)
    oc = out - jnp.mean(out, axis=0, keepdims=True)
    cov = jnp.mean(yc * oc, axis=0)
    var_y = jnp.mean(jnp.square(yc), axis=0)
    var_o = jnp.mean(jnp.square(oc), axis=0)
    # a readout output that is constant up to rounding (a delay the reservoir cannot see)
    # has r^2 = 0; the tolerance is scaled to the target's variance
    seen = var_o > 1e-10 * var_y
    r2 = jnp.where(seen, jnp.square(cov) / jnp.where(seen, var_y * var_o, 1.0), 0.0)
    return jnp.sum(r2), r2


def intrinsic_plasticity(
    params: ESNParams,
    inputs: Array,
    *,
    learning_rate: float = 1e-3,
    mean: float = 0.2,
    form: str = "leaky",
) -> tuple[ESNParams, Array]:
    """Adapt each unit's gain and bias online toward an exponential output distribution.

    Sigmoid units ``y = sigmoid(g z + b)`` with net input ``z = U x_t + W h_{t-1}``;
    Triesch's rule (the stochastic gradient of the KL divergence between the output
    distribution and an exponential with mean ``mu``), applied at every step::

        db = eta (1 - (2 + 1/mu) y + y^2 / mu)
        dg = eta / g + z db

    Args:
        params: :class:`ESNParams` (run with ``activation="sigmoid"``).
        inputs: ``[T, D]`` driving input.
        learning_rate: ``eta`` (> 0).
        mean: target mean ``mu`` of the exponential, in ``(0, 1)``.
        form: reservoir form.

    Returns:
        ``(params, outputs [T, N])``: the adapted parameters and the unit outputs ``y_t``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> params = esn_init_params(jax.random.key(0), 1, 20)
        >>> x = jax.random.uniform(jax.random.key(1), (200, 1), minval=-1.0)
        >>> adapted, y = intrinsic_plasticity(params, x, learning_rate=1e-2)
        >>> bool(jnp.any(adapted.gain != 1.0)), y.shape
        (True, (200, 20))

    Reference: Triesch, "Synergies between intrinsic and synaptic plasticity in individual
    model neurons", NeurIPS 2005; Schrauwen et al., Neurocomputing 2008.
    """
    check_rank("inputs", inputs, 2)
    check_positive("learning_rate", learning_rate)
    check_in_range("mean", mean, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    _check_form(form, "sigmoid")

    def body(carry, x):
        h, gain, bias = carry
        z = params.U @ x + params.W @ h
        y = jax.nn.sigmoid(gain * z + bias)
        db = learning_rate * (1.0 - (2.0 + 1.0 / mean) * y + jnp.square(y) / mean)
        dg = learning_rate / gain + z * db
        h = (1.0 - params.leak) * h + (params.leak * y if form == "leaky" else y)
        return (h, gain + dg, bias + db), y

    h0 = jnp.zeros(params.W.shape[0], inputs.dtype)
    (_, gain, bias), ys = jax.lax.scan(body, (h0, params.gain, params.bias), inputs)
    return params._replace(gain=gain, bias=bias), ys
