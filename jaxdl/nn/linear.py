"""Linear models: least squares and ridge in closed form, logistic regression, and GD.

A linear model predicts ``y_hat = X w + b``. Least squares and ridge minimise

    ``J(w, b) = 1/2 ||y - X w - b||^2 + strength/2 ||w||^2``

whose minimiser solves the normal equations ``(X_c^T X_c + strength I) w = X_c^T y_c`` on
centred data (``X_c = X - mean(X)``, ``y_c = y - mean(y)``) with ``b = mean(y) - mean(X) w``:
the intercept is never penalised. The same minimiser is reached by gradient descent on
``J / N`` (:func:`linear_regression_gd`), and logistic regression (a sigmoid unit with the
Bernoulli NLL, no closed form) is solved by the same descent (:func:`logistic_regression_gd`).
"""

from __future__ import annotations

from collections.abc import Callable
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
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array, ArrayLike, PyTree

__all__ = [
    "GDInfo",
    "LinearModel",
    "LogisticRegression",
    "gradient_descent",
    "least_squares",
    "linear_predict",
    "linear_regression_gd",
    "linear_regression_loss",
    "logistic_regression_gd",
    "logistic_regression_loss",
    "minimum_norm_solution",
    "polynomial_features",
    "ridge",
    "sigmoid_features",
]


class LinearModel(NamedTuple):
    """Parameters of a linear model ``y_hat = X weights + intercept``.

    Attributes:
        weights: ``[D]`` for one target, ``[D, K]`` for ``K`` targets.
        intercept: ``[]`` or ``[K]`` (zeros when fitted without intercept).
    """

    weights: Array
    intercept: Array


def _check_xy(x: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    x = jnp.asarray(x)
    y = jnp.asarray(y)
    check_floating("x", x)
    check_rank("x", x, 2)
    check_nonempty("x", x)
    check_rank("y", y, (1, 2))
    check_same_leading(("x", "y"), x, y)
    if not jnp.issubdtype(y.dtype, jnp.floating):
        y = y.astype(x.dtype)
    return x, y.astype(x.dtype)


def linear_predict(model: LinearModel, x: ArrayLike) -> Array:
    """Predictions ``X w + b`` of a :class:`LinearModel`.

    Args:
        model: the parameters.
        x: ``[N, D]`` inputs.

    Returns:
        ``[N]`` or ``[N, K]`` predictions, matching ``model.weights``.

    Example:
        >>> m = LinearModel(jnp.array([2.0]), jnp.array(1.0))
        >>> linear_predict(m, jnp.array([[3.0]])).tolist()
        [7.0]
    """
    x = jnp.asarray(x)
    check_rank("x", x, 2)
    out = x @ model.weights
    return out + (model.intercept if out.ndim == 1 else model.intercept[None, :])


def ridge(
    x: ArrayLike, y: ArrayLike, strength: float, *, fit_intercept: bool = True
) -> LinearModel:
    """Ridge regression in closed form, ``w = (X^T X + strength I)^{-1} X^T y`` (via a solve).

    Minimises ``||y - X w - b||^2 + strength ||w||^2`` (scikit-learn's ``Ridge`` objective);
    the intercept ``b`` is not penalised, which amounts to centring ``X`` and ``y`` first
    (Hoerl & Kennard, 1970). The system is solved with ``jnp.linalg.solve``, never an inverse.

    Args:
        x: ``[N, D]`` floating inputs.
        y: ``[N]`` or ``[N, K]`` targets.
        strength: penalty strength (>= 0; 0 is least squares and needs ``X^T X`` invertible).
        fit_intercept: also fit an unpenalised intercept.

    Returns:
        the :class:`LinearModel` minimiser.

    Example:
        >>> x = jnp.array([[0.0], [1.0], [2.0]])
        >>> m = ridge(x, 3.0 * x[:, 0] + 1.0, strength=0.0)
        >>> [round(float(m.weights[0]), 4), round(float(m.intercept), 4)]
        [3.0, 1.0]
    """
    x, y = _check_xy(x, y)
    check_positive("strength", strength, allow_zero=True)
    if fit_intercept:
        x_mean = jnp.mean(x, axis=0)
        y_mean = jnp.mean(y, axis=0)
        xc = x - x_mean[None, :]
        yc = y - (y_mean[None, :] if y.ndim == 2 else y_mean)
    else:
        xc, yc = x, y
    gram = xc.T @ xc + strength * jnp.eye(x.shape[1], dtype=x.dtype)
    weights = jnp.linalg.solve(gram, xc.T @ yc)
    if fit_intercept:
        intercept = y_mean - x_mean @ weights
    else:
        intercept = jnp.zeros(y.shape[1:], x.dtype)
    return LinearModel(weights, intercept)


def least_squares(x: ArrayLike, y: ArrayLike, *, fit_intercept: bool = True) -> LinearModel:
    """Ordinary least squares through the normal equations ``X^T X w = X^T y``.

    The maximum-likelihood linear model under Gaussian noise (Legendre, 1805; Gauss, 1809).
    Equals :func:`ridge` with ``strength = 0``.

    Args:
        x: ``[N, D]`` floating inputs (``X^T X`` must be invertible).
        y: ``[N]`` or ``[N, K]`` targets.
        fit_intercept: also fit an intercept.

    Returns:
        the :class:`LinearModel` minimiser of ``||y - X w - b||^2``.

    Example:
        >>> x = jnp.array([[1.0], [2.0]])
        >>> least_squares(x, jnp.array([2.0, 4.0]), fit_intercept=False).weights.tolist()
        [2.0]
    """
    return ridge(x, y, 0.0, fit_intercept=fit_intercept)


def minimum_norm_solution(x: ArrayLike, y: ArrayLike, *, norm: str = "l2") -> Array:
    """The solution of ``X w = y`` with the smallest L2 or L1 norm (no intercept).

    With fewer equations than unknowns, ``X w = y`` has infinitely many solutions; a
    penalty picks one. The minimum-L2 solution is the pseudo-inverse one,
    ``w = X^T (X X^T)^{-1} y = X^+ y``: it spreads the weight over every input in
    proportion to its coefficient. The L1 ball first touches the solution set at a corner,
    so for one equation ``a^T w = y`` the minimum-L1 solution puts everything on the
    largest ``|a_j|``: ``w_j = y / a_j`` and zeros elsewhere (a sparse solution). For the
    course's point ``([10, 1], 5)`` these are ``(0.4950, 0.0495)`` and ``(0.5, 0)``.

    Args:
        x: ``[M, D]`` coefficients of the ``M`` equations (for ``norm="l1"``, ``M = 1``).
        y: ``[M]`` right-hand sides.
        norm: ``"l2"`` or ``"l1"``.

    Returns:
        ``[D]`` the minimum-norm solution.

    Raises:
        ValueError: for another norm, mismatched shapes, or ``norm="l1"`` with several
            equations.

    Example:
        >>> x, y = jnp.array([[10.0, 1.0]]), jnp.array([5.0])
        >>> minimum_norm_solution(x, y, norm="l1").tolist()
        [0.5, 0.0]
        >>> [round(v, 4) for v in minimum_norm_solution(x, y, norm="l2").tolist()]
        [0.495, 0.0495]

    References:
        Goodfellow et al., *Deep Learning*, 2016, sec. 7.1 and 7.3.
    """
    if norm not in ("l1", "l2"):
        raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
    x, y = _check_xy(x, y)
    check_rank("y", y, 1)
    if norm == "l2":
        return jnp.linalg.pinv(x) @ y
    if x.shape[0] != 1:
        raise ValueError(
            f"x must hold one equation (shape [1, D]) for norm='l1', got shape {x.shape}"
        )
    a = x[0]
    j = jnp.argmax(jnp.abs(a))
    return jnp.zeros_like(a).at[j].set(y[0] / a[j])


def _scalar_inputs(x: ArrayLike) -> Array:
    x = jnp.asarray(x)
    check_floating("x", x)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    check_rank("x", x, 1)
    return x


def polynomial_features(x: ArrayLike, degree: int) -> Array:
    """Polynomial features of a scalar input, ``Phi(x) = [1, x, x^2, ..., x^degree]``.

    A linear model on these features, ``r(x) = b + w_1 x + ... + w_p x^p``, is a
    polynomial in ``x``: fixed features make a linear learner fit curves, the idea the
    hidden layer of an MLP learns instead of fixing. Fit it with
    ``least_squares(polynomial_features(x, p), y, fit_intercept=False)`` (the constant
    feature is the bias).

    Args:
        x: ``[N]`` (or ``[N, 1]``) floating inputs.
        degree: the highest power ``p >= 1``.

    Returns:
        ``[N, p + 1]`` features, the constant column first.

    Example:
        >>> polynomial_features(jnp.array([2.0, -1.0]), 3).tolist()
        [[1.0, 2.0, 4.0, 8.0], [1.0, -1.0, 1.0, -1.0]]
    """
    check_positive_int("degree", degree)
    x = _scalar_inputs(x)
    return x[:, None] ** jnp.arange(degree + 1, dtype=x.dtype)[None, :]


def sigmoid_features(x: ArrayLike, slopes: ArrayLike, offsets: ArrayLike) -> Array:
    """Sigmoid features of a scalar input, ``phi_j(x) = sigma(a_j x + c_j)``.

    Each feature is a fixed sigmoid unit (a perceptron with a smooth threshold); a linear
    model on top, ``r(x) = b + sum_j w_j phi_j(x)``, is a one-hidden-layer network whose
    hidden weights are not trained. The course's example uses
    ``sigma(5x + 5), sigma(5x - 5), sigma(5x - 10)``. Fit the output weights with
    ``least_squares(sigmoid_features(x, a, c), y)`` (its intercept is ``b``).

    Args:
        x: ``[N]`` (or ``[N, 1]``) floating inputs.
        slopes: ``[J]`` the ``a_j``.
        offsets: ``[J]`` the ``c_j``.

    Returns:
        ``[N, J]`` features.

    Example:
        >>> sigmoid_features(jnp.array([1.0]), jnp.array([5.0, 5.0]), jnp.array([-5.0, 5.0]))
        Array([[0.5      , 0.9999546]], dtype=float32)
    """
    x = _scalar_inputs(x)
    slopes = jnp.asarray(slopes, x.dtype)
    offsets = jnp.asarray(offsets, x.dtype)
    check_rank("slopes", slopes, 1)
    check_shape("offsets", offsets, slopes.shape)
    return jax.nn.sigmoid(x[:, None] * slopes[None, :] + offsets[None, :])


class GDInfo(NamedTuple):
    """Trace of a gradient-descent run.

    Attributes:
        loss: ``[num_steps]`` loss before each step.
    """

    loss: Array


def gradient_descent(
    loss_fn: Callable[[PyTree], Array],
    init_params: PyTree,
    *,
    learning_rate: float,
    num_steps: int,
) -> tuple[PyTree, GDInfo]:
    """Full-batch gradient descent ``theta <- theta - eta grad J(theta)`` in one ``lax.scan``.

    A course algorithm that is itself the loop (the update rule of the linear-regression
    lecture on a function of the parameters), so it stays a loop here rather than a
    :func:`jaxdl.training.fit` call; train models with ``fit``.

    Args:
        loss_fn: scalar objective ``J(params)``.
        init_params: starting point (any pytree of floating arrays).
        learning_rate: step size ``eta`` (> 0).
        num_steps: number of steps (> 0).

    Returns:
        ``(params, GDInfo(loss=[num_steps]))``: the final point and the loss trace.

    Example:
        >>> p, info = gradient_descent(lambda w: (w - 3.0) ** 2, jnp.array(0.0),
        ...                            learning_rate=0.25, num_steps=50)
        >>> round(float(p), 4)
        3.0
    """
    check_positive("learning_rate", learning_rate)
    check_positive_int("num_steps", num_steps)
    value_and_grad = jax.value_and_grad(loss_fn)

    def one_step(params, _):
        loss, grads = value_and_grad(params)
        params = jax.tree_util.tree_map(lambda p, g: p - learning_rate * g, params, grads)
        return params, loss

    params, losses = lax.scan(one_step, init_params, None, length=num_steps)
    return params, GDInfo(losses)


def linear_regression_loss(model: LinearModel, x: ArrayLike, y: ArrayLike, strength: float = 0.0):
    """Mean ridge objective ``1/(2N) (||y - X w - b||^2 + strength ||w||^2)``.

    Has the same minimiser as :func:`ridge` with the same ``strength``.

    Args:
        model: the parameters.
        x: ``[N, D]`` inputs.
        y: ``[N]`` or ``[N, K]`` targets (matching ``model.weights``).
        strength: penalty on the weights (not the intercept).

    Returns:
        scalar objective.

    Example:
        >>> m = LinearModel(jnp.zeros(1), jnp.array(0.0))
        >>> float(linear_regression_loss(m, jnp.ones((2, 1)), jnp.ones(2)))
        0.5
    """
    x, y = _check_xy(x, y)
    residual = y - linear_predict(model, x)
    return 0.5 * (jnp.sum(residual * residual) + strength * jnp.sum(model.weights**2)) / x.shape[0]


def linear_regression_gd(
    x: ArrayLike,
    y: ArrayLike,
    *,
    strength: float = 0.0,
    learning_rate: float = 0.1,
    num_steps: int = 1000,
    fit_intercept: bool = True,
) -> tuple[LinearModel, GDInfo]:
    """Least squares / ridge by gradient descent from zero weights.

    The gradient of the mean objective is ``-1/N X^T (y - X w - b) + strength/N w``; the
    update adds the learning rate times the average residual-weighted input, the
    "cumulative prediction error" form of the course.

    Args:
        x: ``[N, D]`` floating inputs.
        y: ``[N]`` or ``[N, K]`` targets.
        strength: ridge penalty (>= 0).
        learning_rate: step size (converges for ``eta < 2 / lambda_max(X^T X / N)``).
        num_steps: number of full-batch steps.
        fit_intercept: also learn an (unpenalised) intercept.

    Returns:
        ``(LinearModel, GDInfo)``.

    Example:
        >>> x = jnp.array([[0.0], [1.0], [2.0]])
        >>> m, _ = linear_regression_gd(x, 2.0 * x[:, 0], learning_rate=0.3, num_steps=500)
        >>> round(float(m.weights[0]), 3)
        2.0
    """
    x, y = _check_xy(x, y)
    check_positive("strength", strength, allow_zero=True)
    init = LinearModel(
        jnp.zeros(x.shape[1:] + y.shape[1:], x.dtype), jnp.zeros(y.shape[1:], x.dtype)
    )

    def objective(model: LinearModel) -> Array:
        if not fit_intercept:
            model = model._replace(intercept=jnp.zeros_like(model.intercept))
        return linear_regression_loss(model, x, y, strength)

    model, info = gradient_descent(
        objective, init, learning_rate=learning_rate, num_steps=num_steps
    )
    if not fit_intercept:
        model = model._replace(intercept=jnp.zeros_like(model.intercept))
    return model, info


def logistic_regression_loss(
    model: LinearModel, x: ArrayLike, y: ArrayLike, strength: float = 0.0
) -> Array:
    """Mean Bernoulli NLL of a sigmoid unit plus an L2 penalty on the weights.

    ``J = 1/N sum_i zeta((1 - 2 y_i) z_i) + strength/2 ||w||^2`` with ``z_i = x_i . w + b``.
    Equals scikit-learn's ``LogisticRegression`` objective divided by ``C N`` when
    ``C = 1 / (N strength)``.

    Args:
        model: the parameters (``weights`` ``[D]``, scalar ``intercept``).
        x: ``[N, D]`` inputs.
        y: ``[N]`` labels in {0, 1}.
        strength: weight-decay strength (>= 0).

    Returns:
        scalar objective.

    Example:
        >>> m = LinearModel(jnp.zeros(2), jnp.array(0.0))
        >>> round(float(logistic_regression_loss(m, jnp.ones((3, 2)), jnp.array([0, 1, 1]))), 6)
        0.693147
    """
    x, y = _check_xy(x, y)
    check_rank("y", y, 1)
    z = linear_predict(model, x)
    # -log sigma((2y - 1) z) = y zeta(-z) + (1 - y) zeta(z), zeta = softplus.
    nll = jnp.mean(y * jax.nn.softplus(-z) + (1.0 - y) * jax.nn.softplus(z))
    return nll + 0.5 * strength * jnp.sum(model.weights**2)


def logistic_regression_gd(
    x: ArrayLike,
    y: ArrayLike,
    *,
    strength: float = 0.0,
    learning_rate: float = 0.5,
    num_steps: int = 1000,
) -> tuple[LinearModel, GDInfo]:
    """Binary logistic regression (Cox, 1958) by full-batch gradient descent from zero.

    The gradient of the mean NLL is ``1/N X^T (sigma(X w + b) - y)``: the same
    residual-times-input form as least squares, with the sigmoid's prediction. On
    separable data without ``strength`` the weights grow without bound; use ``strength > 0`` there.

    Args:
        x: ``[N, D]`` floating inputs.
        y: ``[N]`` labels in {0, 1}.
        strength: weight decay (>= 0).
        learning_rate: step size (> 0).
        num_steps: number of steps.

    Returns:
        ``(LinearModel, GDInfo)``; ``sigmoid(linear_predict(model, x))`` is ``P(y = 1 | x)``.

    Example:
        >>> x = jnp.array([[-2.0], [-1.0], [1.0], [2.0]])
        >>> m, _ = logistic_regression_gd(x, jnp.array([0, 1, 0, 1]), strength=0.1, num_steps=200)
        >>> bool(m.weights[0] > 0)
        True
    """
    x, y = _check_xy(x, y)
    check_rank("y", y, 1)
    check_positive("strength", strength, allow_zero=True)
    init = LinearModel(jnp.zeros(x.shape[1:], x.dtype), jnp.zeros((), x.dtype))
    return gradient_descent(
        lambda model: logistic_regression_loss(model, x, y, strength),
        init,
        learning_rate=learning_rate,
        num_steps=num_steps,
    )


class LogisticRegression(nn.Module):
    """Logistic regression as a flax module: one dense layer returning logits.

    With ``num_classes = 2`` it returns one logit ``z`` per example (``P(y=1|x) =
    sigma(z)``, train with :func:`jaxdl.losses.sigmoid_binary_cross_entropy`); with more
    classes it returns ``K`` logits for the softmax (multinomial logistic regression, train
    with :func:`jaxdl.losses.softmax_cross_entropy`).

    Attributes:
        num_classes: number of classes (>= 2).

    Example:
        >>> model = LogisticRegression(num_classes=3)
        >>> params = model.init(jax.random.key(0), jnp.ones((2, 4)))
        >>> model.apply(params, jnp.ones((2, 4))).shape
        (2, 3)
    """

    num_classes: int = 2

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> Array:
        """Logits ``[N]`` (two classes) or ``[N, K]`` for inputs ``x`` of shape ``[N, D]``."""
        del train
        check_positive_int("num_classes", self.num_classes)
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {self.num_classes}")
        num_outputs = 1 if self.num_classes == 2 else self.num_classes
        logits = nn.Dense(num_outputs, kernel_init=nn.initializers.zeros)(x)
        return logits[..., 0] if self.num_classes == 2 else logits


register_model(
    ModelSpec(name="LogisticRegression", make=lambda: LogisticRegression(3), input_shape=(4,))
)
