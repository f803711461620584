"""Tests of the numerical gradient checker: it passes on right gradients, fails on wrong ones."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

from jaxdl.testing import (
    MODES,
    GradCheckReport,
    assert_grad_matches_fd,
    assert_grads_close,
    check_grads,
)
from jaxdl.testing import strategies as jst

# --- functions under test ---------------------------------------------------------------


def cubic(params):
    """sum(a x^3 + b x), gradient (3 a x^2 + b, ...)."""
    return jnp.sum(params["a"] * params["x"] ** 3 + params["b"] * params["x"])


def mlp_loss(params, x, y):
    hidden = jnp.tanh(x @ params["w1"] + params["b1"][None, :])
    out = hidden @ params["w2"] + params["b2"][None, :]
    return jnp.mean((out - y) ** 2)


def mlp_problem(key):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    params = {
        "w1": jax.random.normal(k1, (3, 4)),
        "b1": jnp.zeros(4),
        "w2": jax.random.normal(k2, (4, 2)),
        "b2": jnp.zeros(2),
    }
    x = jax.random.normal(k3, (5, 3))
    y = jax.random.normal(k4, (5, 2))
    return params, x, y


@jax.custom_vjp
def sine_doubled_grad(x):
    """sin(x) whose backward pass is twice the true derivative."""
    return jnp.sin(x)


sine_doubled_grad.defvjp(lambda x: (jnp.sin(x), x), lambda x, g: (2.0 * g * jnp.cos(x),))


@jax.custom_vjp
def sine_frozen_curvature(x):
    """sin(x) with a right gradient whose own derivative (the curvature) is dropped."""
    return jnp.sin(x)


sine_frozen_curvature.defvjp(
    lambda x: (jnp.sin(x), x), lambda x, g: (g * jax.lax.stop_gradient(jnp.cos(x)),)
)


def wrong_in_one_leaf(params):
    return jnp.sum(sine_doubled_grad(params["bad"])) + jnp.sum(jnp.sin(params["good"]))


def needs_key(mode):
    return mode in ("sampled", "directions", "hvp")


# --- passing on right gradients ---------------------------------------------------------


def test_polynomial_gradient_values(key):
    params = {"a": jnp.array([1.0, -2.0]), "b": jnp.array(0.5), "x": jnp.array([0.3, 1.5])}
    report = assert_grads_close(cubic, params)
    assert isinstance(report, GradCheckReport) and report.passed
    x_leaf = report["['x']"]
    index = x_leaf.worst_index
    expected = 3 * params["a"][index] * params["x"][index] ** 2 + params["b"]
    np.testing.assert_allclose(x_leaf.analytic, expected, rtol=1e-6)
    np.testing.assert_allclose(x_leaf.numeric, expected, rtol=1e-6)
    assert [leaf.num_checked for leaf in report.leaves] == [2, 1, 2]
    assert report.value == pytest.approx(float(cubic(params)), rel=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_mlp_passes_in_every_mode(key, mode):
    problem_key, check_key = jax.random.split(key)
    params, x, y = mlp_problem(problem_key)
    report = assert_grads_close(
        mlp_loss, params, x, y, mode=mode, key=check_key if needs_key(mode) else None
    )
    assert {leaf.path for leaf in report.leaves} == {"['b1']", "['b2']", "['w1']", "['w2']"}
    assert report.worst.max_relative_error < 1e-5


def test_sampled_mode_checks_num_samples_per_leaf(key):
    params = {"big": jnp.linspace(-1.0, 1.0, 20), "small": jnp.ones(2)}
    report = check_grads(
        lambda p: jnp.sum(jnp.sin(p["big"])) * jnp.sum(p["small"] ** 2),
        params,
        mode="sampled",
        num_samples=5,
        key=key,
    )
    assert report.passed
    assert report["['big']"].num_checked == 5
    assert report["['small']"].num_checked == 2  # fewer coordinates than samples: all


def test_hvp_without_key_checks_the_full_hessian():
    params = jnp.array([0.2, -0.7, 1.1])
    report = assert_grads_close(lambda p: jnp.sum(jnp.exp(p) * p[::-1]), params, mode="hvp")
    assert report.leaves[0].num_checked == 9
    assert len(report.leaves[0].worst_index) == 2  # (direction, coordinate)


def test_function_with_key_argument(key):
    """A PRNG key passed as an extra argument is held fixed and not consumed."""
    noise_key, check_key = jax.random.split(key)

    def noisy_loss(params, key, x):
        noise = jax.random.normal(key, x.shape)
        return jnp.sum(jnp.tanh(params * (x + noise)))

    x = jnp.linspace(-1.0, 1.0, 4)
    mode_keys = jax.random.split(check_key, len(MODES))
    for mode, mode_key in zip(MODES, mode_keys, strict=True):
        assert_grads_close(
            noisy_loss,
            jnp.ones(4),
            noise_key,
            x,
            mode=mode,
            key=mode_key if needs_key(mode) else None,
        )
    # The caller's key is untouched: it can still be consumed once here.
    assert jax.random.normal(noise_key, ()).shape == ()


def test_flax_params(key):
    class TwoLayer(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dense(1)(nn.tanh(nn.Dense(3)(x)))

    init_key, x_key = jax.random.split(key)
    x = jax.random.normal(x_key, (4, 2))
    model = TwoLayer()
    variables = model.init(init_key, x)

    def loss(variables, x):
        return jnp.mean(model.apply(variables, x) ** 2)

    report = assert_grads_close(loss, variables, x)
    assert "['params']['Dense_0']['kernel']" in {leaf.path for leaf in report.leaves}
    assert report["['params']['Dense_0']['bias']"].num_checked == 1  # Dense(1), built first


def test_float32_inputs_are_checked_in_float64():
    params = jnp.array([0.5, -1.25, 2.0], dtype=jnp.float32)
    data = jnp.array([1.0, 2.0, 3.0], dtype=jnp.float32)
    report = assert_grads_close(lambda p, d: jnp.sum(jnp.sin(p * d) ** 2), params, data)
    # float32 rounding alone would give errors near 1e-4 at this step; float64 gives ~1e-9.
    assert report.worst.max_relative_error < 1e-7
    assert params.dtype == jnp.float32  # the caller's arrays are not modified


def test_large_function_value_is_not_a_false_alarm():
    """Rounding noise eps * |f| / h is tolerated: a huge constant offset must not fail."""
    params = jnp.array([1e-3, -2e-3])
    assert_grads_close(lambda p: 1e9 + jnp.sum(p**2), params)


@pytest.mark.parametrize("mode", ["full", "directions"])
def test_empty_leaf_next_to_others(key, mode):
    params = {"w": jnp.array([0.5, -1.0]), "empty": jnp.zeros((0, 3))}
    report = assert_grads_close(
        lambda p: jnp.sum(jnp.sin(p["w"])) + jnp.sum(p["empty"]),
        params,
        mode=mode,
        key=key if needs_key(mode) else None,
    )
    assert report["['empty']"].num_checked == 0 and report["['empty']"].passed
    assert report["['w']"].num_checked == (2 if mode == "full" else 8)  # 8 directions


def test_batch_size_none_for_functions_that_do_not_vmap():
    @jax.custom_batching.custom_vmap
    def refuses_vmap(x):
        return jnp.sin(x)

    @refuses_vmap.def_vmap
    def _rule(axis_size, in_batched, x):
        raise RuntimeError("this function does not support vmap")

    @jax.custom_vjp
    def sine(x):
        return refuses_vmap(x)

    sine.defvjp(lambda x: (refuses_vmap(x), x), lambda x, g: (g * jnp.cos(x),))

    def fn(p):
        return jnp.sum(sine(p))

    with pytest.raises(RuntimeError, match="does not support vmap"):
        check_grads(fn, jnp.array([0.1, 0.2]))
    assert check_grads(fn, jnp.array([0.1, 0.2]), batch_size=None).passed


def test_alias_is_assert_grads_close():
    assert assert_grad_matches_fd is assert_grads_close


@settings(max_examples=6)
@given(
    jst.float_arrays(
        shape=jst.shapes(min_rank=1, max_rank=2, max_side=3), min_value=-2.0, max_value=2.0
    )
)
def test_property_smooth_functions_pass(x):
    assert_grads_close(lambda p: jnp.sum(jnp.sin(p) * p**2 + jnp.exp(-p)), x)


# --- failing on wrong gradients ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["full", "sampled", "directions"])
def test_wrong_first_derivative_fails(key, mode):
    params = {"bad": jnp.array([0.3, 1.0, 2.0]), "good": jnp.array([0.1, -0.4])}
    report_key, assert_key = jax.random.split(key)
    kwargs = {"key": report_key} if needs_key(mode) else {}
    report = check_grads(wrong_in_one_leaf, params, mode=mode, **kwargs)
    assert not report.passed
    assert not report["['bad']"].passed
    assert report["['good']"].passed
    assert report.worst.path == "['bad']"
    assert report.failed == (report["['bad']"],)
    kwargs = {"key": assert_key} if needs_key(mode) else {}
    with pytest.raises(AssertionError, match=r"worst leaf \['bad'\]"):
        assert_grads_close(wrong_in_one_leaf, params, mode=mode, **kwargs)


def test_wrong_gradient_report_values():
    params = jnp.array([0.3, 1.0, 2.0])
    report = check_grads(lambda p: jnp.sum(sine_doubled_grad(p)), params)
    leaf = report.worst
    (i,) = leaf.worst_index
    np.testing.assert_allclose(leaf.analytic, 2 * np.cos(float(params[i])), rtol=1e-9)
    np.testing.assert_allclose(leaf.numeric, np.cos(float(params[i])), rtol=1e-8)
    assert leaf.max_relative_error == pytest.approx(0.5, rel=1e-6)
    assert leaf.max_absolute_error == pytest.approx(np.cos(0.3), rel=1e-6)
    table = str(report)
    assert "FAILED" in table and "FAIL" in table.splitlines()[-1]
    assert "<root>" in table


def test_failure_message_names_leaf_index_values_and_tolerances():
    params = {"w": jnp.array([[0.3, 1.0], [2.0, -0.5]])}
    with pytest.raises(AssertionError) as info:
        assert_grads_close(
            lambda p: jnp.sum(sine_doubled_grad(p["w"])), params, rtol=1e-4, atol=1e-7
        )
    message = str(info.value)
    assert "['w']" in message
    assert "at index (" in message
    assert "analytic" in message and "numeric" in message
    assert "rtol=0.0001" in message and "atol=1e-07" in message


@pytest.mark.parametrize("use_key", [False, True])
def test_wrong_second_derivative_fails_only_in_hvp_mode(key, use_key):
    params = jnp.array([0.3, 1.0, 2.0])

    def fn(p):
        return jnp.sum(sine_frozen_curvature(p))

    assert check_grads(fn, params, mode="full").passed  # the gradient itself is right
    report = check_grads(fn, params, mode="hvp", key=key if use_key else None)
    assert not report.passed
    with pytest.raises(AssertionError, match="mode='hvp'"):
        assert_grads_close(fn, params, mode="hvp")


def test_tolerance_decides():
    """A 1e-3 relative error fails at rtol=1e-5 and passes at rtol=1e-2."""

    @jax.custom_vjp
    def scaled(x):
        return x**2

    scaled.defvjp(lambda x: (x**2, x), lambda x, g: (g * 2.002 * x,))
    params = jnp.array([1.0, 2.0])
    assert not check_grads(lambda p: jnp.sum(scaled(p)), params).passed
    assert check_grads(lambda p: jnp.sum(scaled(p)), params, rtol=1e-2).passed


# --- errors -----------------------------------------------------------------------------


def test_error_non_scalar_output():
    with pytest.raises(ValueError, match=r"fn must return a scalar, got output of shape \(3,\)"):
        check_grads(lambda p: p**2, jnp.ones(3))
    with pytest.raises(ValueError, match="fn must return a scalar array, got a tuple"):
        check_grads(lambda p: (jnp.sum(p), jnp.sum(p)), jnp.ones(3))


def test_error_fn_not_float64():
    with pytest.raises(TypeError, match="float64.*got float32"):
        check_grads(lambda p: jnp.sum(p.astype(jnp.float32)), jnp.ones(3))


@pytest.mark.parametrize("mode", ["sampled", "directions"])
def test_error_missing_key(mode):
    with pytest.raises(ValueError, match=f"mode='{mode}' needs a PRNG key"):
        check_grads(lambda p: jnp.sum(p**2), jnp.ones(3), mode=mode)


def test_error_unknown_mode():
    with pytest.raises(ValueError, match="mode must be one of .* got 'fwd'"):
        check_grads(lambda p: jnp.sum(p**2), jnp.ones(3), mode="fwd")


def test_error_integer_params():
    params = {"w": jnp.ones(2), "count": jnp.array(3)}
    with pytest.raises(TypeError, match=r"params leaf \['count'\] must have a floating dtype"):
        check_grads(lambda p: jnp.sum(p["w"]), params)


def test_error_key_in_params(key):
    with pytest.raises(TypeError, match=r"params leaf \['key'\] is a PRNG key"):
        check_grads(lambda p: jnp.sum(p["w"]), {"w": jnp.ones(2), "key": key})


def test_error_empty_params():
    with pytest.raises(ValueError, match="at least one floating entry, got an empty tree"):
        check_grads(lambda p: jnp.array(0.0), {})
    with pytest.raises(ValueError, match="at least one floating entry, got only empty arrays"):
        check_grads(lambda p: jnp.sum(p), jnp.zeros((0, 2)))


def test_error_hvp_without_key_on_large_params():
    with pytest.raises(ValueError, match="whole 3000 x 3000 Hessian"):
        check_grads(lambda p: jnp.sum(p**3), jnp.ones(3000), mode="hvp")


def test_error_untyped_key():
    with pytest.raises(TypeError, match="key must be a typed PRNG key"):
        check_grads(lambda p: jnp.sum(p), jnp.ones(2), mode="sampled", key=np.uint32([0, 1]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rtol": 0.0}, "rtol must be > 0"),
        ({"atol": -1.0}, "atol must be >= 0"),
        ({"num_samples": 0}, "num_samples must be > 0"),
        ({"num_samples": 2.5}, "num_samples must be an int"),
        ({"step": -1e-3}, "step must be > 0"),
        ({"batch_size": 0}, "batch_size must be > 0"),
    ],
)
def test_error_bad_settings(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        check_grads(lambda p: jnp.sum(p**2), jnp.ones(2), **kwargs)
