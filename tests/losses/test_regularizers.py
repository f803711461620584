"""Tests for parameter and representation penalties, label smoothing and ridge regression."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn.linear_model import Ridge

from jaxdl.losses.regularizers import (
    activation_l1_penalty,
    l1_penalty,
    l2_penalty,
    leaf_paths,
    mask_by_path,
    smooth_labels,
    smoothed_cross_entropy,
    tying_penalty,
    weight_decay,
    weights_mask,
)
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop


class _Net(nn.Module):
    @nn.compact
    def __call__(self, x):
        h = nn.LayerNorm()(nn.Dense(4)(x))
        return nn.Dense(2)(h)


@pytest.fixture
def flax_params(key):
    return _Net().init(key, jnp.ones((1, 3)))


# ----------------------------------------------------------------------------- masks


def test_leaf_paths_are_slash_joined(flax_params):
    paths = leaf_paths(flax_params)
    assert paths["params"]["Dense_0"]["kernel"] == "params/Dense_0/kernel"
    assert paths["params"]["LayerNorm_0"]["scale"] == "params/LayerNorm_0/scale"


def test_weights_mask_excludes_biases_and_norm_scales(flax_params):
    mask = weights_mask(flax_params)["params"]
    assert mask["Dense_0"]["kernel"] and mask["Dense_1"]["kernel"]
    assert not mask["Dense_0"]["bias"] and not mask["Dense_1"]["bias"]
    assert not mask["LayerNorm_0"]["scale"] and not mask["LayerNorm_0"]["bias"]


def test_mask_by_path_include_and_exclude(flax_params):
    mask = mask_by_path(flax_params, include=r"Dense_1", exclude=r"bias$")["params"]
    selected = {
        p
        for p, m in zip(
            jax.tree.leaves(leaf_paths({"params": mask})), jax.tree.leaves(mask), strict=True
        )
        if m
    }
    assert selected == {"params/Dense_1/kernel"}


def test_mask_by_path_matching_nothing_is_an_error(flax_params):
    with pytest.raises(ValueError, match="selected no parameter.*available paths"):
        mask_by_path(flax_params, include=r"Conv_")
    empty = mask_by_path(flax_params, include=r"Conv_", allow_empty=True)
    assert not any(jax.tree.leaves(empty))


def test_mask_by_path_bad_regex():
    with pytest.raises(ValueError, match="include is not a valid regular expression"):
        mask_by_path({"w": jnp.ones(2)}, include="(")
    with pytest.raises(TypeError, match="exclude must be a regex string"):
        mask_by_path({"w": jnp.ones(2)}, exclude=3)


# ------------------------------------------------------------------------- L2 and L1


def test_l2_penalty_value_and_bias_excluded(flax_params):
    p = flax_params["params"]
    expected = (
        0.5
        * 0.3
        * sum(float(np.sum(np.square(p[layer]["kernel"]))) for layer in ("Dense_0", "Dense_1"))
    )
    np.testing.assert_allclose(l2_penalty(flax_params, 0.3), expected, rtol=1e-6)


def test_l2_penalty_gradient_is_alpha_w_on_weights_only(flax_params):
    grads = jax.grad(l2_penalty)(flax_params, 0.7)["params"]
    np.testing.assert_allclose(
        grads["Dense_0"]["kernel"], 0.7 * flax_params["params"]["Dense_0"]["kernel"], rtol=1e-6
    )
    assert np.all(np.asarray(grads["Dense_0"]["bias"]) == 0)
    assert np.all(np.asarray(grads["LayerNorm_0"]["scale"]) == 0)


def test_l1_penalty_value_and_custom_mask():
    params = {"kernel": jnp.array([1.0, -2.0]), "bias": jnp.array([5.0])}
    np.testing.assert_allclose(l1_penalty(params, 2.0), 6.0)
    everything = jax.tree.map(lambda _: True, params)
    np.testing.assert_allclose(l1_penalty(params, 1.0, mask=everything), 8.0)
    np.testing.assert_allclose(
        l2_penalty(params, 1.0, mask=lambda p: mask_by_path(p, include="bias")), 12.5
    )


def test_penalty_gradients_match_finite_differences(key):
    w_key, v_key = jax.random.split(key)
    params = {
        "kernel": jax.random.normal(w_key, (3, 2)) + 0.5,
        "bias": jax.random.normal(v_key, (2,)),
    }
    # keep kernels away from the kink of |w| at 0
    params["kernel"] = jnp.where(jnp.abs(params["kernel"]) < 0.1, 0.5, params["kernel"])
    assert_grads_close(lambda p: l2_penalty(p, 0.3), params)
    assert_grads_close(lambda p: l1_penalty(p, 0.3), params)
    other = jax.tree.map(lambda x: x * 0.5 + 0.1, params)
    assert_grads_close(lambda p: tying_penalty(p, other, 0.4), params)


def test_weight_decay_transform_equals_l2_gradient_under_sgd(flax_params):
    grads = jax.tree.map(jnp.zeros_like, flax_params)
    tx = optax.chain(weight_decay(0.1), optax.sgd(0.5))
    updates, _ = tx.update(grads, tx.init(flax_params), flax_params)
    expected = jax.tree.map(lambda g: -0.5 * g, jax.grad(l2_penalty)(flax_params, 0.1))
    for u, e in zip(jax.tree.leaves(updates), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(u, e, rtol=1e-6, atol=1e-8)
    # the biases are not decayed at all
    assert np.all(np.asarray(updates["params"]["Dense_1"]["bias"]) == 0)


def test_penalties_jit_matches_eager(flax_params):
    assert_jit_matches_eager(lambda p: l2_penalty(p, 0.2), flax_params)
    assert_jit_matches_eager(lambda p: l1_penalty(p, 0.2), flax_params)


def test_l2_vmap_over_stacked_params_matches_loop(key):
    stacked = {"kernel": jax.random.normal(key, (4, 3, 2)), "bias": jnp.ones((4, 2))}
    assert_vmap_matches_loop(lambda p: l2_penalty(p, 0.5), stacked)


@pytest.mark.parametrize("fn", [l2_penalty, l1_penalty])
def test_negative_strength_is_rejected(fn):
    with pytest.raises(ValueError, match="strength must be >= 0"):
        fn({"kernel": jnp.ones(2)}, -0.1)


def test_weight_decay_rejects_negative_strength():
    with pytest.raises(ValueError, match="strength must be >= 0"):
        weight_decay(-1.0)


# ----------------------------------------------------------------------------- tying


def test_tying_penalty_value_and_zero_when_equal(key):
    a = {"kernel": jnp.array([[1.0, 2.0]]), "bias": jnp.array([3.0])}
    b = {"kernel": jnp.array([[0.0, 4.0]]), "bias": jnp.array([-3.0])}
    np.testing.assert_allclose(tying_penalty(a, b, 2.0), 2.0 * (1.0 + 4.0))
    np.testing.assert_allclose(tying_penalty(a, a), 0.0)


def test_tying_penalty_pulls_the_models_together():
    a = {"kernel": jnp.array([1.0, -1.0])}
    b = {"kernel": jnp.array([-1.0, 2.0])}
    ga, gb = jax.grad(tying_penalty, argnums=(0, 1))(a, b)
    a2 = jax.tree.map(lambda w, g: w - 0.1 * g, a, ga)
    b2 = jax.tree.map(lambda w, g: w - 0.1 * g, b, gb)
    assert tying_penalty(a2, b2) < tying_penalty(a, b)


def test_tying_penalty_structure_errors():
    with pytest.raises(ValueError, match="same tree structure"):
        tying_penalty({"kernel": jnp.ones(2)}, {"w": jnp.ones(2)})
    with pytest.raises(ValueError, match="matching leaf shapes"):
        tying_penalty({"kernel": jnp.ones(2)}, {"kernel": jnp.ones(3)})


# ------------------------------------------------------------- representation sparsity


def test_activation_l1_penalty_values_grad_vmap(key):
    h = jax.random.normal(key, (5, 4)) + 0.2
    np.testing.assert_allclose(
        activation_l1_penalty(h, 0.5), 0.5 * np.abs(np.asarray(h)).sum(-1), rtol=1e-6
    )
    h = jnp.where(jnp.abs(h) < 0.05, 0.3, h)
    assert_grads_close(lambda z: jnp.sum(activation_l1_penalty(z, 0.5)), h)
    assert_vmap_matches_loop(lambda z: activation_l1_penalty(z, 0.5), h)
    assert_jit_matches_eager(lambda z: activation_l1_penalty(z, 0.5), h)


def test_activation_l1_penalty_errors():
    with pytest.raises(ValueError, match="strength must be >= 0"):
        activation_l1_penalty(jnp.ones((2, 2)), -1.0)
    with pytest.raises(TypeError, match="activations must have a floating dtype"):
        activation_l1_penalty(jnp.ones((2, 2), jnp.int32))


# ------------------------------------------------------------------ label smoothing


def test_smooth_labels_uses_course_targets():
    targets = smooth_labels(jnp.array([2, 0]), 0.3, num_classes=4)
    np.testing.assert_allclose(targets[0], [0.1, 0.1, 0.7, 0.1], rtol=1e-6)
    np.testing.assert_allclose(targets.sum(-1), [1.0, 1.0], rtol=1e-6)
    one_hot = jax.nn.one_hot(jnp.array([2, 0]), 4)
    np.testing.assert_allclose(smooth_labels(one_hot, 0.3), targets, rtol=1e-6)


def test_smooth_labels_differs_from_optax_by_k_vs_k_minus_1():
    k, eps = 5, 0.2
    ours = smooth_labels(jnp.array([1]), eps, num_classes=k)[0]
    theirs = optax.smooth_labels(jax.nn.one_hot(jnp.array([1]), k), eps)[0]
    np.testing.assert_allclose(ours[0], eps / (k - 1), rtol=1e-6)
    np.testing.assert_allclose(theirs[0], eps / k, rtol=1e-6)
    np.testing.assert_allclose(ours[1], 1 - eps, rtol=1e-6)
    np.testing.assert_allclose(theirs[1], 1 - eps + eps / k, rtol=1e-6)
    # optax's smoothing with eps' = eps * k / (k - 1) gives the course's targets
    rescaled = optax.smooth_labels(jax.nn.one_hot(jnp.array([1]), k), eps * k / (k - 1))[0]
    np.testing.assert_allclose(ours, rescaled, rtol=1e-6)


def test_smooth_labels_zero_epsilon_is_one_hot():
    np.testing.assert_array_equal(
        smooth_labels(jnp.array([1, 0]), 0.0, num_classes=3), jax.nn.one_hot(jnp.array([1, 0]), 3)
    )


@pytest.mark.parametrize("eps", [-0.1, 1.0, 1.5])
def test_smooth_labels_epsilon_out_of_range(eps):
    with pytest.raises(ValueError, match=r"epsilon must lie in \[0.0, 1.0\)"):
        smooth_labels(jnp.array([0]), eps, num_classes=3)


def test_smooth_labels_other_errors():
    with pytest.raises(ValueError, match="num_classes is required"):
        smooth_labels(jnp.array([0]), 0.1)
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        smooth_labels(jnp.array([0]), 0.1, num_classes=1)
    with pytest.raises(ValueError, match="num_classes must equal labels.shape"):
        smooth_labels(jnp.eye(3), 0.1, num_classes=4)


def test_smoothed_cross_entropy_matches_numpy_and_grads(key):
    logits = jax.random.normal(key, (4, 3))
    labels = jnp.array([0, 2, 1, 1])
    eps = 0.15
    z = np.asarray(logits, np.float64)
    log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
    t = np.full((4, 3), eps / 2)
    t[np.arange(4), np.asarray(labels)] = 1 - eps
    np.testing.assert_allclose(
        smoothed_cross_entropy(logits, labels, eps), -(t * log_p).sum(-1), rtol=1e-5
    )
    assert_grads_close(lambda z: jnp.sum(smoothed_cross_entropy(z, labels, eps)), logits)
    assert_jit_matches_eager(lambda z: smoothed_cross_entropy(z, labels, eps), logits)
    assert_vmap_matches_loop(lambda z, y: smoothed_cross_entropy(z, y, eps), logits, labels)


def test_smoothed_cross_entropy_shape_error():
    with pytest.raises(ValueError, match="labels must have shape logits.shape"):
        smoothed_cross_entropy(jnp.zeros((2, 3)), jnp.array([0, 1, 2]), 0.1)


def test_smoothing_keeps_logits_bounded():
    """Hard targets push the true logit up forever; smoothed targets have a finite optimum."""

    def run(eps):
        def loss(z):
            return smoothed_cross_entropy(z, jnp.array([0]), eps).sum()

        def body(z, _):
            return z - 1.0 * jax.grad(loss)(z), None

        z, _ = jax.lax.scan(body, jnp.zeros((1, 3)), None, length=400)
        return float(z[0, 0] - z[0, 1])

    margin_hard, margin_smooth = run(0.0), run(0.2)
    # optimum of the smoothed problem: softmax equals the targets, margin log(0.8 / 0.1)
    np.testing.assert_allclose(margin_smooth, np.log(0.8 / 0.1), rtol=1e-2)
    assert margin_hard > margin_smooth + 1.0


# ------------------------------------------------------------- the least-squares view


def test_gradient_descent_with_l2_penalty_reaches_the_ridge_solution(key):
    """Minimizing 1/2 ||Xw - y||^2 + alpha/2 ||w||^2 gives w = (X^T X + alpha I)^-1 X^T y.

    With fewer examples than features X^T X is singular and least squares has no unique
    solution; the penalty makes it unique.
    """
    x_key, y_key = jax.random.split(key)
    x = jax.random.normal(x_key, (4, 6))
    y = jax.random.normal(y_key, (4,))
    alpha = 0.5
    assert np.linalg.matrix_rank(np.asarray(x.T @ x)) == 4

    def loss(params):
        return 0.5 * jnp.sum(jnp.square(x @ params["kernel"] - y)) + l2_penalty(params, alpha)

    def body(params, _):
        return jax.tree.map(lambda w, g: w - 0.05 * g, params, jax.grad(loss)(params)), None

    params, _ = jax.lax.scan(body, {"kernel": jnp.zeros(6)}, None, length=3000)
    xd, yd = np.asarray(x, np.float64), np.asarray(y, np.float64)
    closed_form = np.linalg.solve(xd.T @ xd + alpha * np.eye(6), xd.T @ yd)
    np.testing.assert_allclose(params["kernel"], closed_form, rtol=1e-4, atol=1e-5)
    reference = Ridge(alpha=alpha, fit_intercept=False).fit(xd, yd).coef_
    np.testing.assert_allclose(closed_form, reference, rtol=1e-6)
