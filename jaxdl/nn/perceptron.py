"""Rosenblatt's perceptron: a sign unit trained by the error-correction rule.

The unit outputs ``o = sign(w . x)`` in {-1, +1} (the bias is ``w_0`` on a constant input
``x_0 = 1``). The learning rule visits one randomly chosen example ``(x, t)`` at a time
and, when it is misclassified, moves the hyperplane towards it:

    ``w <- w + eta (t - o) x``     (``t - o`` is 0 when correct, ``2 t`` when wrong)

On linearly separable data it stops after finitely many updates: Novikoff's theorem
(1962) bounds their number by ``R^2 / gamma^2`` where ``R = max_i ||x_i||`` (radius of the
smallest origin-centred ball holding the data) and ``gamma = min_i t_i (w* . x_i)`` is
the margin of any unit-norm separating ``w*``, when training starts from ``w = 0``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxdl._checks import (
    check_floating,
    check_nonempty,
    check_positive,
    check_positive_int,
    check_rank,
    check_same_leading,
    check_shape,
)
from jaxdl._numerics import rounding_eps
from jaxdl.nn.activations import sign
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "Perceptron",
    "PerceptronBound",
    "PerceptronResult",
    "add_bias_input",
    "perceptron_bound",
    "perceptron_fit",
    "perceptron_predict",
]


class PerceptronResult(NamedTuple):
    """Outcome of :func:`perceptron_fit`.

    Attributes:
        weights: ``[D]`` final weights.
        num_updates: number of misclassified visits (weight changes).
        converged: whether every training example is classified correctly at the end.
        num_steps: number of examples visited.
    """

    weights: Array
    num_updates: Array
    converged: Array
    num_steps: Array


class PerceptronBound(NamedTuple):
    """Novikoff's quantities for a data set and a reference separator.

    Attributes:
        radius: ``R = max_i ||x_i||``.
        margin: ``gamma = min_i t_i (w* . x_i) / ||w*||`` (<= 0 if ``w*`` does not separate).
        bound: ``R^2 / gamma^2`` (``inf`` when ``gamma <= 0``).
    """

    radius: Array
    margin: Array
    bound: Array


def add_bias_input(x: ArrayLike) -> Array:
    """Prepend the constant input ``x_0 = 1``, so that ``w' . x' = w . x + b`` with ``w'_0 = b``.

    Args:
        x: ``[N, D]`` inputs.

    Returns:
        ``[N, D + 1]`` inputs ``[1, x]``.

    Example:
        >>> add_bias_input(jnp.array([[2.0, 3.0]])).tolist()
        [[1.0, 2.0, 3.0]]
    """
    x = jnp.asarray(x)
    check_rank("x", x, 2)
    return jnp.concatenate([jnp.ones((x.shape[0], 1), x.dtype), x], axis=1)


def _check_targets(x: Array, t: ArrayLike) -> Array:
    t = jnp.asarray(t)
    check_rank("t", t, 1)
    check_same_leading(("x", "t"), x, t)
    t = t.astype(x.dtype)
    if not isinstance(t, jax.core.Tracer):
        bad = (t != 1) & (t != -1)
        if bool(jnp.any(bad)):
            raise ValueError(f"t must hold labels -1 or +1, got values {jnp.unique(t).tolist()}")
    return t


def perceptron_predict(weights: ArrayLike, x: ArrayLike) -> Array:
    """Perceptron outputs ``sign(x . w)`` in {-1, +1} (``sign(0) = +1``).

    Args:
        weights: ``[D]``.
        x: ``[N, D]`` (include the constant input yourself, see :func:`add_bias_input`).

    Returns:
        ``[N]`` outputs.

    Example:
        >>> perceptron_predict(jnp.array([1.0, -1.0]), jnp.array([[2.0, 1.0]])).tolist()
        [1.0]
    """
    x = jnp.asarray(x)
    check_rank("x", x, 2)
    weights = jnp.asarray(weights)
    check_shape("weights", weights, (x.shape[1],))
    return sign(x @ weights)


def perceptron_fit(
    key: Key,
    x: ArrayLike,
    t: ArrayLike,
    *,
    learning_rate: float = 1.0,
    max_steps: int = 10_000,
    initial_weights: ArrayLike | None = None,
) -> PerceptronResult:
    """Train a perceptron with the rule ``w <- w + eta (t - o) x``, one random example a time.

    The perceptron rule is a course algorithm that is itself the loop (update on each
    mistake, stop when none is left), so it stays a ``lax.while_loop`` here rather than a
    :func:`jaxdl.training.fit` call.

    Runs in one ``lax.while_loop`` until no training example is misclassified or
    ``max_steps`` examples have been visited. Step ``k`` visits the example drawn with
    ``fold_in(key, k)``.

    Args:
        key: PRNG key choosing the visited examples.
        x: ``[N, D]`` inputs (add the constant input for a bias, :func:`add_bias_input`).
        t: ``[N]`` targets in {-1, +1}.
        learning_rate: ``eta`` (> 0); from ``w = 0`` it only rescales ``w``.
        max_steps: most examples to visit (> 0).
        initial_weights: ``[D]`` starting weights (zeros by default, where Novikoff's
            bound applies).

    Returns:
        :class:`PerceptronResult` with the weights, update and step counts, and
        whether it converged (``False`` flags non-separable data such as XOR, or too
        few steps).

    Example:
        >>> x = add_bias_input(jnp.array([[-1.0], [1.0]]))
        >>> r = perceptron_fit(jax.random.key(0), x, jnp.array([-1.0, 1.0]))
        >>> bool(r.converged)
        True

    Reference: Rosenblatt, "The perceptron", Psychological Review (1958).
    """
    x = jnp.asarray(x)
    check_floating("x", x)
    check_rank("x", x, 2)
    check_nonempty("x", x)
    t = _check_targets(x, t)
    check_positive("learning_rate", learning_rate)
    check_positive_int("max_steps", max_steps)
    if initial_weights is None:
        weights = jnp.zeros(x.shape[1], x.dtype)
    else:
        weights = jnp.asarray(initial_weights, x.dtype)
        check_shape("initial_weights", weights, (x.shape[1],))
    return _perceptron_loop(key, x, t, weights, jnp.asarray(learning_rate, x.dtype), max_steps)


@functools.partial(jax.jit, static_argnames="max_steps")
def _perceptron_loop(
    key: Key, x: Array, t: Array, weights: Array, learning_rate: Array, max_steps: int
) -> PerceptronResult:
    num_examples = x.shape[0]

    def num_mistakes(w: Array) -> Array:
        return jnp.sum(sign(x @ w) != t)

    def cond(state):
        step, _, _, mistakes = state
        return (step < max_steps) & (mistakes > 0)

    def body(state):
        step, w, updates, _ = state
        i = jax.random.randint(jax.random.fold_in(key, step), (), 0, num_examples)
        x_i, t_i = x[i], t[i]
        o = sign(jnp.dot(w, x_i))
        w = w + learning_rate * (t_i - o) * x_i
        updates = updates + (o != t_i).astype(updates.dtype)
        return step + 1, w, updates, num_mistakes(w)

    zero = jnp.zeros((), jnp.int32)
    init = (zero, weights, zero, num_mistakes(weights))
    steps, weights, updates, mistakes = lax.while_loop(cond, body, init)
    return PerceptronResult(weights, updates, mistakes == 0, steps)


def perceptron_bound(x: ArrayLike, t: ArrayLike, w_star: ArrayLike) -> PerceptronBound:
    """Novikoff's bound ``R^2 / gamma^2`` on the perceptron's number of updates.

    ``R = max_i ||x_i||`` and ``gamma = min_i t_i (w* . x_i) / ||w*||``, the margin of
    ``w*`` after normalizing it to unit length. Any separating ``w*`` gives a valid bound;
    the best one uses the maximum-margin separator.

    Args:
        x: ``[N, D]`` inputs, as given to :func:`perceptron_fit`.
        t: ``[N]`` targets in {-1, +1}.
        w_star: ``[D]`` a separating weight vector.

    Returns:
        :class:`PerceptronBound`; ``bound`` is ``inf`` when ``w_star`` does not separate.

    Example:
        >>> x = jnp.array([[1.0, 1.0], [1.0, -1.0]])
        >>> b = perceptron_bound(x, jnp.array([1.0, -1.0]), jnp.array([0.0, 1.0]))
        >>> [round(float(v), 4) for v in b]
        [1.4142, 1.0, 2.0]

    Reference: Novikoff, "On convergence proofs for perceptrons" (1962).
    """
    x = jnp.asarray(x)
    check_floating("x", x)
    check_rank("x", x, 2)
    check_nonempty("x", x)
    t = _check_targets(x, t)
    w_star = jnp.asarray(w_star, x.dtype)
    check_shape("w_star", w_star, (x.shape[1],))
    radius = jnp.max(jnp.linalg.norm(x, axis=1))
    margin = jnp.min(t * (x @ w_star)) / jnp.linalg.norm(w_star)
    # t_i (x_i . w) / ||w|| carries a rounding error of about D eps R: a margin inside it
    # does not show that w_star separates (a point on the hyperplane, not a margin > 0).
    tolerance = 4.0 * x.shape[1] * rounding_eps(x) * radius
    separates = margin > tolerance
    bound = jnp.where(separates, (radius / jnp.where(separates, margin, 1.0)) ** 2, jnp.inf)
    return PerceptronBound(radius, margin, bound)


class Perceptron(nn.Module):
    """A perceptron layer: ``sign(x . w + b)`` for each of ``features`` units.

    The sign has zero gradient, so this module is trained with :func:`perceptron_fit`
    (or used for prediction); ``return_net=True`` returns the net input ``x . w + b``.

    Attributes:
        features: number of sign units.

    Example:
        >>> model = Perceptron(features=1)
        >>> params = model.init(jax.random.key(0), jnp.ones((2, 3)))
        >>> model.apply(params, jnp.ones((2, 3))).shape
        (2, 1)
    """

    features: int = 1

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False, return_net: bool = False) -> Array:
        """Outputs in {-1, +1} of shape ``[..., features]`` for ``x`` of shape ``[..., D]``."""
        del train
        check_positive_int("features", self.features)
        net = nn.Dense(self.features)(x)
        return net if return_net else sign(net)


register_model(ModelSpec(name="Perceptron", make=lambda: Perceptron(features=2), input_shape=(3,)))
