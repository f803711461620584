"""Meshes, sharding rules, and fit / fit_many on 8 simulated devices.

The rule and error checks run in-process on abstract meshes (no devices needed). Every
multi-device check runs in ONE child interpreter with 8 simulated CPU devices
(:func:`tests._multidevice.run_on_devices`), shared by a module fixture: data parallel and
FSDP training of an MLP, a tiny GPT under FSDP, a CNN with BatchNorm under data parallel,
an FSDP resume from a checkpoint, and a population split over the devices, each compared
with the same training on one device.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import AbstractMesh, PartitionSpec

from jaxdl.nn import MLP
from jaxdl.training import (
    ShardingRules,
    ShardLargestAxis,
    create_train_state,
    fit,
    fsdp_rules,
    make_mesh,
    make_supervised_loss,
    state_shardings,
)
from jaxdl.training.sharding import batch_sharding, check_batch_divisible, population_axis
from tests._multidevice import run_on_devices

pytestmark = pytest.mark.standard_dtype_promotion

MESH = AbstractMesh((2, 4), ("data", "fsdp"))


def adam_state():
    model = MLP(features=(64, 2), output=None)
    return create_train_state(jax.random.key(0), model, jnp.zeros((1, 16)), optax.adam(1e-3))


def specs(tree):
    return {
        jax.tree_util.keystr(path, simple=True, separator="/"): sharding.spec
        for path, sharding in jax.tree_util.tree_flatten_with_path(tree)[0]
    }


def test_make_mesh_names_axes_and_fills_the_rest():
    mesh = make_mesh(data=-1, fsdp=1)
    assert mesh.axis_names == ("data", "fsdp")
    assert mesh.shape == {"data": len(jax.devices()), "fsdp": 1}
    with pytest.raises(ValueError, match="at most one mesh axis may be -1"):
        make_mesh(data=-1, fsdp=-1)
    with pytest.raises(ValueError, match=r"hold 2 devices, expected the 1 devices"):
        make_mesh(data=2)
    with pytest.raises(ValueError, match="'data' must have a positive size or -1, got 0"):
        make_mesh(data=0)


def test_fsdp_rules_split_parameters_and_moments_alike_and_replicate_small_leaves():
    found = specs(state_shardings(adam_state(), MESH, fsdp_rules(min_size=64)))
    # the largest axis divisible by fsdp=4; a tie goes to the last axis
    assert found["params/Dense_0/kernel"] == PartitionSpec(None, "fsdp")  # (16, 64)
    assert found["params/Dense_1/kernel"] == PartitionSpec("fsdp")  # (64, 2)
    for moment in ("mu", "nu"):
        assert found[f"opt_state/0/{moment}/Dense_0/kernel"] == PartitionSpec(None, "fsdp")
    # 64 elements >= min_size: split; 2 elements, the step and Adam's count: replicated
    assert found["params/Dense_0/bias"] == PartitionSpec("fsdp")
    assert found["params/Dense_1/bias"] == PartitionSpec()
    assert found["step"] == found["opt_state/0/count"] == PartitionSpec()
    square = ShardLargestAxis(min_size=1)
    assert square("w", (8, 8), MESH) == PartitionSpec(None, "fsdp")
    assert square("w", (3, 5), MESH) == PartitionSpec()  # nothing divisible by 4


def test_rules_are_searched_in_order_and_unmatched_leaves_are_replicated():
    rules = ShardingRules(
        (
            (r"Dense_0/kernel", PartitionSpec("data", "fsdp")),
            (r"kernel", PartitionSpec(None, "data")),
        )
    )
    found = specs(state_shardings(adam_state(), MESH, rules))
    assert found["opt_state/0/mu/Dense_0/kernel"] == PartitionSpec("data", "fsdp")
    assert found["params/Dense_1/kernel"] == PartitionSpec(None, "data")
    assert found["params/Dense_0/bias"] == PartitionSpec()
    # without rules: FSDP on a mesh with an "fsdp" axis, replicated on a data mesh
    data_only = AbstractMesh((8,), ("data",))
    assert set(specs(state_shardings(adam_state(), data_only)).values()) == {PartitionSpec()}
    assert PartitionSpec(None, "fsdp") in specs(state_shardings(adam_state(), MESH)).values()


def test_rule_errors_name_the_path_shape_spec_and_axis_sizes():
    state = adam_state()
    bad_axis = ShardingRules(((r"Dense_0/kernel", PartitionSpec(None, "model")),))
    with pytest.raises(ValueError, match=r"Dense_0/kernel: mesh has no axis 'model'"):
        state_shardings(state, MESH, bad_axis)
    not_dividing = ShardingRules(((r"Dense_1/kernel", PartitionSpec(None, "fsdp")),))
    with pytest.raises(
        ValueError,
        match=r"params/Dense_1/kernel of shape \(64, 2\): dimension 2 is not divisible by "
        r"'fsdp' of size 4 \(mesh axes \{'data': 2, 'fsdp': 4\}\)",
    ):
        state_shardings(state, MESH, not_dividing)
    too_long = ShardingRules(((r"bias", PartitionSpec(None, "fsdp")),))
    with pytest.raises(ValueError, match=r"2 axes\) to params/Dense_0/bias of shape \(64,\)"):
        state_shardings(state, MESH, too_long)
    with pytest.raises(ValueError, match="mesh has no axis 'fsdp'"):
        state_shardings(state, AbstractMesh((8,), ("data",)), fsdp_rules())
    with pytest.raises(ValueError, match="spec must be a PartitionSpec or a callable"):
        ShardingRules(((r"kernel", "fsdp"),))


def test_batch_axes_and_population_axis():
    assert batch_sharding(MESH).spec == PartitionSpec(("data", "fsdp"))
    with pytest.raises(ValueError, match=r"divisible by the 8 devices .*\[2 \(data\) x 4 \(fsdp\)"):
        check_batch_divisible(12, 100, MESH)
    assert population_axis(AbstractMesh((4, 2), ("population", "data"))) == "population"
    assert population_axis(MESH) == "data"
    with pytest.raises(ValueError, match="axis named 'population' or 'data'"):
        population_axis(AbstractMesh((8,), ("fsdp",)))


def test_param_sharding_without_a_mesh_is_refused_before_compiling():
    state = adam_state()
    x, y = jnp.zeros((8, 16)), jnp.zeros((8,), jnp.int32)
    loss_fn = make_supervised_loss(MLP(features=(64, 2), output=None))
    with pytest.raises(ValueError, match="param_sharding needs a mesh"):
        fit(jax.random.key(1), state, loss_fn, (x, y), num_epochs=1, param_sharding=fsdp_rules())


# --------------------------------------------------------------------------------------
# 8 simulated devices, one child interpreter
# --------------------------------------------------------------------------------------

SNIPPET = r"""
import json, logging, tempfile
import jax, jax.numpy as jnp, numpy as np, optax
from jaxdl.nn import CNN1D, MLP, tiny_gpt
from jaxdl.pretraining import make_causal_lm_loss
from jaxdl.training import (create_train_state, fit, fit_many, fsdp_rules, make_mesh,
                            make_supervised_loss)

out = {"devices": len(jax.devices())}
compiles = []

class CountChunks(logging.Handler):
    def emit(self, record):
        message = record.getMessage()
        if "run_chunk" in message and "Finished XLA compilation" in message:
            compiles.append(1)

jax.config.update("jax_log_compiles", True)
logging.getLogger("jax").addHandler(CountChunks())
logging.getLogger("jax").setLevel(logging.WARNING)

def curve(result):
    return [h["train_loss"] for h in result.history]

def gap(a, b):
    return max(float(np.max(np.abs(np.asarray(u, np.float64) - np.asarray(v, np.float64))))
               for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))

def shard_shapes(array):
    return sorted({tuple(s.data.shape) for s in array.addressable_shards})

# --- MLP: single device and FSDP (data=2 x fsdp=4) ---
x = jax.random.normal(jax.random.key(0), (64, 16))
y = (x[:, 0] + x[:, 1] > 0).astype(jnp.int32)
model = MLP(features=(64, 2), activation="tanh", output=None)
loss_fn = make_supervised_loss(model)
seen = []

def spy(params, model_state, batch, key):  # the batch's sharding inside the step
    jax.debug.inspect_array_sharding(
        batch[0], callback=lambda s: seen.append(
            [str(getattr(s, "spec", s)), list(s.shard_shape(batch[0].shape))]))
    return loss_fn(params, model_state, batch, key)

# one state (and optimizer) per model: repeated runs reuse the compiled chunk
mlp_state = create_train_state(jax.random.key(1), model, x[:1], optax.adam(0.01))

def mlp(mesh=None, **kwargs):
    kwargs = {"num_epochs": 3, "batch_size": 16, "progress": False, "mesh": mesh, **kwargs}
    return fit(jax.random.key(2), mlp_state, spy, (x, y), **kwargs)

single = mlp()
fsdp_mesh = make_mesh(data=2, fsdp=4)
rules = fsdp_rules(min_size=64)
epochs_seen = []
before = len(compiles)
fsdp = mlp(fsdp_mesh, param_sharding=rules,
           callback=lambda r: epochs_seen.append(len(compiles) - before))
out["fsdp_batch"] = seen[-1]
out["fsdp_chunk_compiles"] = epochs_seen + [len(compiles) - before]
again = mlp(fsdp_mesh, param_sharding=rules)
out["mlp"] = {
    "single": curve(single), "fsdp": curve(fsdp),
    "fsdp_param_gap": gap(single.state.params, fsdp.state.params),
    "fsdp_repeat_bitwise": gap(fsdp.state, again.state) == 0.0 and curve(fsdp) == curve(again),
    "fsdp_kernel_shards": shard_shapes(fsdp.state.params["Dense_0"]["kernel"]),
    "fsdp_mu_shards": shard_shapes(fsdp.state.opt_state[0].mu["Dense_0"]["kernel"]),
    "fsdp_kernel_devices": len(fsdp.state.params["Dense_0"]["kernel"].sharding.device_set),
}

# --- FSDP resume: 2 epochs, then resume to 3 == 3 uninterrupted ---
with tempfile.TemporaryDirectory() as directory:
    mlp(fsdp_mesh, param_sharding=rules, num_epochs=2, checkpoint_dir=directory)
    resumed = mlp(fsdp_mesh, param_sharding=rules, checkpoint_dir=directory)
out["resume"] = {
    "bitwise": gap(resumed.state, fsdp.state) == 0.0,
    "epochs": [h["epoch"] for h in resumed.history],
    "kernel_shards": shard_shapes(resumed.state.params["Dense_0"]["kernel"]),
}

# --- tiny GPT under FSDP over all 8 devices ---
gpt = tiny_gpt()
tokens = jax.random.randint(jax.random.key(3), (32, 9), 0, gpt.vocab_size)
lm_loss = make_causal_lm_loss(gpt)
gpt_state = create_train_state(jax.random.key(4), gpt, tokens[:1], optax.adam(3e-3))

def train_gpt(mesh=None):
    return fit(jax.random.key(5), gpt_state, lm_loss, (tokens,), num_epochs=2, batch_size=16,
               progress=False, mesh=mesh, param_sharding=None if mesh is None else
               fsdp_rules(min_size=256))

gpt_single, gpt_fsdp = train_gpt(), train_gpt(make_mesh(fsdp=8))
embedding = gpt_fsdp.state.params["token_embedding"]["embedding"]
out["gpt"] = {
    "single": curve(gpt_single), "fsdp": curve(gpt_fsdp),
    "param_gap": gap(gpt_single.state.params, gpt_fsdp.state.params),
    "embedding": [list(embedding.shape), shard_shapes(embedding)],
}

# --- CNN with BatchNorm under data parallel ---
signals = jax.random.normal(jax.random.key(6), (32, 12, 1))
labels = (signals[:, :6, 0].sum(1) > 0).astype(jnp.int32)
cnn = CNN1D(features=(4, 4), kernel_size=3, num_classes=2, use_batch_norm=True)
cnn_loss = make_supervised_loss(cnn)
cnn_state = create_train_state(jax.random.key(7), cnn, signals[:1], optax.sgd(0.1))

def cnn_spy(params, model_state, batch, key):
    jax.debug.inspect_array_sharding(
        batch[0], callback=lambda s: seen.append(
            [str(getattr(s, "spec", s)), list(s.shard_shape(batch[0].shape))]))
    return cnn_loss(params, model_state, batch, key)

def train_cnn(mesh=None):
    return fit(jax.random.key(8), cnn_state, cnn_spy, (signals, labels), num_epochs=2,
               batch_size=16, progress=False, mesh=mesh)

cnn_single, cnn_dp = train_cnn(), train_cnn(make_mesh(data=-1))
out["dp_batch"] = seen[-1]
out["cnn"] = {
    "single": curve(cnn_single), "dp": curve(cnn_dp),
    "param_gap": gap(cnn_single.state.params, cnn_dp.state.params),
    "batch_stats_gap": gap(cnn_single.state.model_state, cnn_dp.state.model_state),
    "kernel_shards": shard_shapes(jax.tree.leaves(cnn_dp.state.params)[-1]),
    "kernel_shape": list(jax.tree.leaves(cnn_dp.state.params)[-1].shape),
    "batch_stats_replicated": all(
        leaf.sharding.is_fully_replicated for leaf in jax.tree.leaves(cnn_dp.state.model_state)),
}

# --- a population of 8 members over population=4 x data=2 ---
small = MLP(features=(8, 2), activation="tanh", output=None)
states = jax.vmap(lambda k: create_train_state(k, small, x[:1], optax.sgd(0.1)))(
    jax.random.split(jax.random.key(9), 8))
many = dict(num_epochs=2, batch_size=16, val_data=(x, y))
alone = fit_many(jax.random.key(10), states, make_supervised_loss(small), (x, y), **many)
split = fit_many(jax.random.key(10), states, make_supervised_loss(small), (x, y),
                 mesh=make_mesh(population=4, data=2), **many)
kernel = split.state.params["Dense_0"]["kernel"]
out["population"] = {
    "history_gap": gap(alone.history, split.history),
    "param_gap": gap(alone.state.params, split.state.params),
    "kernel": [list(kernel.shape), shard_shapes(kernel), str(kernel.sharding.spec)],
}
print(json.dumps(out))
"""


def test_fit_and_fit_many_on_8_simulated_devices():
    """One child interpreter for every check (a module fixture would run once per xdist
    worker); each ``check_*`` below reads its part of the child's JSON."""
    out = run_on_devices(SNIPPET, 8)
    assert out["devices"] == 8
    check_data_parallel(out)
    check_fsdp(out)
    check_fsdp_compiles_once_repeats_bitwise_and_resumes(out)
    check_tiny_gpt_under_fsdp(out)
    check_fit_many_population_axis(out)


def check_fsdp(out):
    mlp = out["mlp"]
    np.testing.assert_allclose(mlp["fsdp"], mlp["single"], rtol=1e-5)
    assert mlp["fsdp_param_gap"] < 1e-5
    assert mlp["fsdp_kernel_shards"] == mlp["fsdp_mu_shards"] == [[16, 16]]  # 64 / fsdp=4
    assert mlp["fsdp_kernel_devices"] == 8
    assert mlp["single"][-1] < mlp["single"][0]
    # the batch is split over data x fsdp: 16 examples, 2 per device
    assert out["fsdp_batch"] == ["P(('data', 'fsdp'),)", [2, 16]]


def check_fsdp_compiles_once_repeats_bitwise_and_resumes(out):
    # one compilation of the chunk, before the first epoch's record; none after
    assert out["fsdp_chunk_compiles"] == [1, 1, 1, 1]
    assert out["mlp"]["fsdp_repeat_bitwise"]
    resume = out["resume"]
    assert resume["bitwise"] and resume["epochs"] == [1, 2, 3]
    assert resume["kernel_shards"] == [[16, 16]]  # restored, then placed on the mesh


def check_tiny_gpt_under_fsdp(out):
    gpt = out["gpt"]
    np.testing.assert_allclose(gpt["fsdp"], gpt["single"], rtol=1e-5)
    assert gpt["param_gap"] < 1e-4
    assert gpt["embedding"] == [[64, 16], [[8, 16]]]  # vocab 64 split over 8 devices


def check_data_parallel(out):
    """A CNN with BatchNorm: the batch statistics are those of the whole minibatch."""
    cnn = out["cnn"]
    np.testing.assert_allclose(cnn["dp"], cnn["single"], rtol=1e-5)
    assert cnn["single"][-1] < cnn["single"][0]
    assert cnn["param_gap"] < 1e-5 and cnn["batch_stats_gap"] < 1e-5
    assert cnn["batch_stats_replicated"]
    assert cnn["kernel_shards"] == [cnn["kernel_shape"]]  # parameters replicated
    # inside the step each device holds 2 of the minibatch's 16 signals of shape (12, 1)
    assert out["dp_batch"] == ["P('data',)", [2, 12, 1]]


def check_fit_many_population_axis(out):
    population = out["population"]
    assert population["history_gap"] < 1e-5 and population["param_gap"] < 1e-5
    # 8 members over population=4: 2 per device, replicated over data=2
    assert population["kernel"] == [[8, 16, 8], [[2, 16, 8]], "P('population',)"]
