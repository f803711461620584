"""Mixed precision: policies and casts, bf16 compute with float32 master weights, fp16 loss
scaling inside ``fit`` (skipped overflow steps, scale growth, checkpointed scale), and the
float16 gradients against float32 ones."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.nn import MLP
from jaxdl.training import (
    DynamicLossScale,
    LossScaleState,
    StaticLossScale,
    TrainState,
    create_train_state,
    default_policy,
    fit,
    get_policy,
    make_supervised_loss,
    mixed_precision_step,
    with_loss_scale,
)
from jaxdl.training.precision import Policy, check_param_dtype

F32, BF16, F16 = np.dtype(jnp.float32), np.dtype(jnp.bfloat16), np.dtype(jnp.float16)


@pytest.fixture(scope="module")
def data():
    """A 3-class problem with 64 examples of 5 features (float32)."""
    x = jax.random.normal(jax.random.key(10), (64, 5))
    y = (jnp.argmax(x[:, :3], axis=-1)).astype(jnp.int32)
    return x, y


def grad_capture() -> optax.GradientTransformation:
    """An optimizer that applies nothing and keeps the last gradients as its state."""
    return optax.GradientTransformation(
        lambda params: jax.tree.map(jnp.zeros_like, params),
        lambda grads, state, params=None: (jax.tree.map(jnp.zeros_like, grads), grads),
    )


# --------------------------------------------------------------------------------------
# Policies and casts
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("float32", (F32, F32, F32)),
        ("mixed_bfloat16", (F32, BF16, F32)),
        ("bf16", (F32, BF16, F32)),
        ("FP16", (F32, F16, F32)),
        ("params=float32,compute=bfloat16,output=float32", (F32, BF16, F32)),
        ("p=f32, c=f16", (F32, F16, F32)),
        ("params=bfloat16,compute=bfloat16,output=bfloat16", (BF16, BF16, BF16)),
    ],
)
def test_policies_parse_from_presets_and_strings(spec, expected):
    policy = get_policy(spec)
    assert tuple(policy) == expected
    assert get_policy(str(policy)) == policy  # str round-trips
    assert get_policy(policy) is not None and get_policy(policy) == policy


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ("bf17", ValueError, "preset among"),
        ("params=float33", ValueError, "policy params must be one of"),
        ("compute=int32", ValueError, "policy compute must be one of"),
        ("speed=bf16", ValueError, "keys must be among params, compute, output"),
        ("params=f32,p=f16", ValueError, "sets param_dtype twice"),
        (42, TypeError, "policy must be a string or a Policy, got int"),
        (Policy(F32, np.dtype(np.int8), F32), ValueError, "compute_dtype must be float32"),
    ],
)
def test_bad_policies_name_the_problem(spec, error, message):
    with pytest.raises(error, match=message):
        get_policy(spec)


def test_default_policy_by_platform():
    assert default_policy("tpu") == default_policy("gpu") == get_policy("mixed_bfloat16")
    assert default_policy("cpu") == get_policy("float32")
    with pytest.raises(ValueError, match="platform must be one of .* got 'abacus'"):
        default_policy("abacus")


def test_casts_touch_floating_leaves_only():
    policy = get_policy("params=float32,compute=float16,output=bfloat16")
    tree = {
        "w": jnp.ones((2,), jnp.float32),
        "labels": jnp.arange(3),
        "mask": jnp.ones((2,), bool),
        "key": jax.random.key(0),
        "numpy": np.ones(2, np.float32),
    }
    for cast, dtype in (
        (policy.cast_to_compute, F16),
        (policy.cast_to_output, BF16),
        (policy.cast_to_param, F32),
    ):
        out = cast(tree)
        assert out["w"].dtype == dtype and out["numpy"].dtype == dtype
        assert out["labels"].dtype == tree["labels"].dtype
        assert out["mask"].dtype == jnp.bool_
        assert out["key"] is tree["key"]
    assert float(jax.jit(policy.cast_to_compute)(tree)["w"][0]) == 1.0  # works under jit


# --------------------------------------------------------------------------------------
# bfloat16 compute, float32 master weights
# --------------------------------------------------------------------------------------


def _dot_input_dtypes(fn, *args) -> set[str]:
    """The operand dtypes of every matmul in the (forward and backward) program."""
    jaxpr = jax.make_jaxpr(fn)(*args)
    found = set()

    def walk(jaxpr):
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == "dot_general":
                found.update(str(v.aval.dtype) for v in eqn.invars)
            for sub in jax.core.subjaxprs(eqn) if hasattr(jax.core, "subjaxprs") else ():
                walk(sub)
            for param in eqn.params.values():
                inner = getattr(param, "jaxpr", None)
                if inner is not None:
                    walk(getattr(inner, "jaxpr", inner))

    walk(jaxpr.jaxpr)
    return found


@pytest.mark.parametrize("model", [MLP(features=(8, 3)), nn.Dense(3)], ids=["mlp", "flax_dense"])
def test_bf16_policy_computes_in_bf16_with_float32_params_and_grads(model, data):
    x, y = data
    params = model.init(jax.random.key(0), x)["params"]
    loss_fn = make_supervised_loss(model, policy="mixed_bfloat16")
    if isinstance(model, nn.Dense):  # a module with ``dtype=`` is cloned to compute in bf16
        assert loss_fn.model.dtype == BF16
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    (loss, _), grads = jax.eval_shape(grad_fn, params, {}, (x, y), jax.random.key(1))
    assert _dot_input_dtypes(grad_fn, params, {}, (x, y), jax.random.key(1)) == {"bfloat16"}
    assert loss.dtype == F32  # output dtype
    assert {leaf.dtype for leaf in jax.tree.leaves(grads)} == {F32}
    plain = make_supervised_loss(model)  # no policy: float32 matmuls
    assert _dot_input_dtypes(plain, params, {}, (x, y), jax.random.key(1)) == {"float32"}


class _NormNet(nn.Module):
    """Dense -> BatchNorm -> Dense, computing in ``dtype`` (the flax convention)."""

    dtype: object = None

    @nn.compact
    def __call__(self, x, train: bool = False):
        x = nn.Dense(8, dtype=self.dtype)(x)
        x = nn.BatchNorm(use_running_average=not train, dtype=self.dtype)(x)
        return nn.Dense(3, dtype=self.dtype)(nn.relu(x))


@pytest.mark.standard_dtype_promotion  # flax's BatchNorm promotes bf16 to float32 for its stats
def test_batch_statistics_keep_float32_under_a_bf16_policy(data):
    x, y = data
    model = _NormNet()
    variables = model.init(jax.random.key(0), x)
    params, model_state = variables["params"], {"batch_stats": variables["batch_stats"]}
    loss_fn = make_supervised_loss(model, policy="mixed_bfloat16")
    assert loss_fn.model.dtype == BF16  # cloned: every layer computes in bf16
    grad_fn = jax.grad(loss_fn, has_aux=True)
    args = (params, model_state, (x, y), jax.random.key(1))
    grads, (new_state, _) = jax.eval_shape(grad_fn, *args)
    assert _dot_input_dtypes(grad_fn, *args) == {"bfloat16"}
    assert {leaf.dtype for leaf in jax.tree.leaves(new_state)} == {F32}
    assert {leaf.dtype for leaf in jax.tree.leaves(grads)} == {F32}


def test_bf16_training_lowers_the_loss_like_float32(data):
    x, y = data
    model = MLP(features=(16, 3))
    state = create_train_state(jax.random.key(0), model, x, optax.sgd(0.3))
    losses = {}
    for name in ("float32", "mixed_bfloat16"):
        loss_fn = make_supervised_loss(model, policy=name)
        result = fit(
            jax.random.key(1), state, loss_fn, (x, y), num_epochs=10, batch_size=16,
            epochs_per_chunk=10, progress=False,
        )  # fmt: skip
        assert {leaf.dtype for leaf in jax.tree.leaves(result.state.params)} == {F32}
        losses[name] = [r["train_loss"] for r in result.history]
    first, last = losses["float32"][0], losses["float32"][-1]
    assert last < 0.7 * first
    # bf16 keeps 8 significant bits: the curves agree to about 1 % of the loss
    np.testing.assert_allclose(losses["mixed_bfloat16"], losses["float32"], rtol=0.03)


def test_policy_refuses_parameters_in_another_dtype(data):
    x, y = data
    model = MLP(features=(4, 3))
    params = model.init(jax.random.key(0), x)["params"]
    loss_fn = make_supervised_loss(model, policy="bf16")
    bf16_params = get_policy("params=bfloat16").cast_to_param(params)
    with pytest.raises(TypeError, match="params must be float32 .* got bfloat16"):
        loss_fn.validate(bf16_params, {}, (x, y), "train_data")
    check_param_dtype(get_policy("params=bfloat16"), bf16_params)  # matching: no error
    with pytest.raises(ValueError, match="policy must be a preset"):
        make_supervised_loss(model, policy="half")


# --------------------------------------------------------------------------------------
# float16 and loss scaling
# --------------------------------------------------------------------------------------


def test_loss_scale_arguments_are_checked():
    with pytest.raises(ValueError, match="factor must be > 1, got 1.0"):
        DynamicLossScale(factor=1.0)
    with pytest.raises(ValueError, match="initial_scale must be a finite number > 0"):
        DynamicLossScale(initial_scale=float("inf"))
    with pytest.raises(ValueError, match="min_scale must be <= initial_scale"):
        DynamicLossScale(initial_scale=2.0, min_scale=4.0)
    with pytest.raises(ValueError, match="period must be"):
        DynamicLossScale(period=0)
    with pytest.raises(ValueError, match="scale must be a finite number > 0, got -1"):
        StaticLossScale(-1)
    with pytest.raises(TypeError, match="loss_scale must be a StaticLossScale"):
        mixed_precision_step(lambda *a: None, "dynamic")


def _fp16_setup(data, tx, loss_scale, *, weight: float = 1.0):
    x, y = data
    model = MLP(features=(16, 3))
    supervised = make_supervised_loss(model, policy="mixed_float16")

    def loss_fn(params, model_state, batch, key):
        loss, aux = supervised(params, model_state, batch, key)
        return weight * loss, aux

    loss_fn.evaluate = supervised.evaluate
    state = create_train_state(jax.random.key(0), model, x, tx)
    if loss_scale is not None:
        state = with_loss_scale(state, loss_scale)
    return state, loss_fn, supervised


def test_overflow_step_is_skipped_and_the_scale_halves(data):
    scale = DynamicLossScale(initial_scale=2.0**40, period=3)  # 2**40 overflows float16
    state, loss_fn, _ = _fp16_setup(data, optax.sgd(0.1, momentum=0.9), scale)
    step = jax.jit(mixed_precision_step(loss_fn, scale))
    new, metrics = step(jax.random.key(1), state, data)
    assert float(metrics["update_skipped"]) == 1.0 and float(metrics["loss_scale"]) == 2.0**40
    assert np.isfinite(float(metrics["loss"]))
    assert jax.tree.all(jax.tree.map(jnp.array_equal, new.params, state.params))
    assert jax.tree.all(jax.tree.map(jnp.array_equal, new.opt_state, state.opt_state))
    assert LossScaleState.from_train_state(new) == (2.0**39, 0)


def test_missing_loss_scale_state_is_a_clear_error(data):
    state, loss_fn, _ = _fp16_setup(data, optax.sgd(0.1), None)
    step = mixed_precision_step(loss_fn, DynamicLossScale())
    with pytest.raises(KeyError, match="with_loss_scale"):
        step(jax.random.key(1), state, data)
    with pytest.raises(KeyError, match="no 'loss_scale' entry"):
        LossScaleState.from_train_state(state)


@pytest.mark.standard_dtype_promotion  # optax's Adam bias correction
def test_dynamic_scale_inside_fit_follows_the_rule_and_resumes(data, tmp_path):
    """Full batch: one step per epoch, so each history record is one step."""
    scale = DynamicLossScale(initial_scale=2.0**30, period=2, factor=2.0**4)
    state, loss_fn, _ = _fp16_setup(data, optax.adam(0.02), scale)
    step = mixed_precision_step(loss_fn, scale)
    kwargs = dict(num_epochs=12, epochs_per_chunk=12, progress=False, val_data=data)
    whole = fit(jax.random.key(1), state, step, data, **kwargs)
    history = whole.history
    scales = [r["train_loss_scale"] for r in history]
    skipped = [r["train_update_skipped"] for r in history]
    counter = 0
    for s, s_next, skip in zip(scales, scales[1:], skipped, strict=False):
        if skip:  # overflow: the scale shrinks, the counter restarts
            assert s_next == max(s / 16.0, 1.0)
            counter = 0
        else:
            counter += 1
            assert s_next == (s * 16.0 if counter == 2 else s)
            counter %= 2
    assert 1.0 in skipped and 0.0 in skipped  # some overflowed, some trained
    assert any(b > a for a, b in zip(scales, scales[1:], strict=False))  # and it grew
    applied = len(skipped) - int(sum(skipped))
    assert int(whole.state.opt_state[0].count) == applied  # Adam saw only applied steps
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert "val_loss" in history[-1]  # evaluation ignores the loss-scale entry
    # The scale lives in model_state: checkpointed and restored by fit.
    directory = str(tmp_path / "checkpoints")
    fit(jax.random.key(1), state, step, data, **{**kwargs, "num_epochs": 5},
        checkpoint_dir=directory)  # fmt: skip
    resumed = fit(jax.random.key(1), state, step, data, **kwargs, checkpoint_dir=directory)
    assert LossScaleState.from_train_state(resumed.state) == LossScaleState.from_train_state(
        whole.state
    )
    assert jax.tree.all(jax.tree.map(jnp.array_equal, resumed.state.params, whole.state.params))


def test_scaled_float16_gradients_match_float32_and_unscaled_ones_underflow(data):
    """A loss of order 1e-6: its float16 backward pass underflows without scaling."""
    weight = 1e-6
    state, loss_fn, supervised = _fp16_setup(
        data, grad_capture(), StaticLossScale(2.0**22), weight=weight
    )
    scaled = jax.jit(mixed_precision_step(loss_fn, StaticLossScale(2.0**22)))
    grads16 = scaled(jax.random.key(1), state, data)[0].opt_state

    fp32_loss = make_supervised_loss(supervised.model)
    (_, _), grads32 = jax.jit(jax.value_and_grad(fp32_loss, has_aux=True))(
        state.params, {}, data, jax.random.key(1)
    )
    grads32 = jax.tree.map(lambda g: weight * g, grads32)
    for g16, g32 in zip(jax.tree.leaves(grads16), jax.tree.leaves(grads32), strict=True):
        assert g16.dtype == F32
        # float16 forward and backward: about 3 significant digits
        np.testing.assert_allclose(g16, g32, rtol=0, atol=2e-2 * float(jnp.max(jnp.abs(g32))))

    unscaled_state = state.replace(model_state={})
    unscaled = jax.jit(mixed_precision_step(loss_fn))
    grads_plain = unscaled(jax.random.key(1), unscaled_state, data)[0].opt_state
    kernel_plain = grads_plain["Dense_0"]["kernel"]
    kernel32 = grads32["Dense_0"]["kernel"]
    assert float(jnp.max(jnp.abs(kernel_plain - kernel32))) > 0.3 * float(
        jnp.max(jnp.abs(kernel32))
    )


def test_policy_argument_casts_a_plain_loss(data):
    """A hand-written loss gets float16 params and inputs from the step's policy."""
    seen = {}

    def loss_fn(params, model_state, batch, key):
        x, y = batch
        seen["dtypes"] = (params["w"].dtype, x.dtype, y.dtype)
        return jnp.mean((x @ params["w"]) ** 2), (model_state, {})

    state = TrainState.create(apply_fn=None, params={"w": jnp.ones((5, 1))}, tx=optax.sgd(0.1))
    step = mixed_precision_step(loss_fn, policy="fp16")
    new, metrics = jax.eval_shape(step, jax.random.key(0), state, data)
    assert seen["dtypes"] == (F16, F16, np.dtype(jnp.int32))
    assert metrics["loss"].dtype == F32 and new.params["w"].dtype == F32
