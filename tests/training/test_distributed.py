"""Multi-host helpers: process-local slices, global arrays, and a real two-process run."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import jax
import numpy as np
import optax
import pytest

from jaxdl.nn import MLP
from jaxdl.training import (
    abstract_target,
    create_train_state,
    data_parallel_mesh,
    distributed,
    fit,
    make_supervised_loss,
    restore_checkpoint,
)
from tests._multidevice import ROOT, device_env


def test_process_slices_tile_the_dataset_in_order():
    for count in (1, 2, 3, 4):
        blocks = [
            np.arange(12)[distributed.process_slice(12, process_index=i, process_count=count)]
            for i in range(count)
        ]
        np.testing.assert_array_equal(np.concatenate(blocks), np.arange(12))
        assert {len(block) for block in blocks} == {12 // count}
    assert distributed.process_slice(5) == slice(0, 5)  # this process is the only one


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_examples": 10, "process_index": 0, "process_count": 3}, "divisible by the 3"),
        ({"num_examples": 10, "process_index": 2, "process_count": 2}, r"process_index .*got 2"),
        ({"num_examples": 0, "process_index": 0, "process_count": 1}, "num_examples"),
        ({"num_examples": 4, "process_index": 0, "process_count": 0}, "process_count"),
    ],
)
def test_process_slice_refuses_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        distributed.process_slice(**kwargs)


def test_process_local_cuts_every_leaf_and_checks_the_leading_axis():
    x, y = np.arange(16).reshape(8, 2), np.arange(8)
    local_x, local_y = distributed.process_local((x, y), process_index=3, process_count=4)
    np.testing.assert_array_equal(local_x, x[6:8])
    np.testing.assert_array_equal(local_y, y[6:8])
    with pytest.raises(ValueError, match="leading example axis"):
        distributed.process_local((x, np.arange(7)), process_index=0, process_count=1)


def test_global_data_on_one_process_is_the_data():
    mesh = data_parallel_mesh()
    x = np.arange(12.0, dtype=np.float32).reshape(6, 2)
    replicated = distributed.global_data({"x": x}, mesh)["x"]
    sharded = distributed.global_data(x, mesh, replicate=False)
    np.testing.assert_array_equal(np.asarray(replicated), x)
    np.testing.assert_array_equal(np.asarray(sharded), x)
    assert replicated.sharding.is_fully_replicated
    assert sharded.sharding.spec == jax.sharding.PartitionSpec("data")


def test_initialize_checks_its_arguments(monkeypatch):
    assert not distributed.is_initialized()
    with pytest.raises(ValueError, match="cpu_collectives must be 'gloo' or 'mpi', got 'nccl'"):
        distributed.initialize(cpu_collectives="nccl")
    monkeypatch.setenv(distributed.NUM_PROCESSES_ENV, "two")
    with pytest.raises(ValueError, match="JAX_NUM_PROCESSES must be an integer, got 'two'"):
        distributed.initialize("localhost:1")
    assert not distributed.is_initialized()


def test_agree_on_one_process_is_the_flag():
    assert distributed.agree(True) is True and distributed.agree(np.False_) is False


# ----------------------------------------------------------------- two real processes


def _data() -> tuple[np.ndarray, np.ndarray]:
    """64 points in 3-D, labelled by the sign of the first coordinate."""
    x = np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int32)


def _state_and_loss():
    model = MLP(features=(8, 2))
    x, _ = _data()
    state = create_train_state(jax.random.key(2), model, x[:4], optax.sgd(0.5))
    return state, make_supervised_loss(model)


_FIT = {"num_epochs": 4, "batch_size": 16, "progress": False}

# Each process: join the job from the environment, keep its half of the data, assemble the
# global dataset, train data parallel over the 4 devices of the 2 processes, checkpoint;
# then save and restore the parameters split over the devices of both processes.
_WORKER = """
import json, numpy as np, jax
from jaxdl.training import distributed
distributed.initialize()
from jaxdl.training import data_parallel_mesh, fit
from tests.training.test_distributed import _FIT, _data, _state_and_loss
mesh = data_parallel_mesh()
local = distributed.process_local(_data())
state, loss = _state_and_loss()
result = fit(jax.random.key(3), state, loss, distributed.global_data(local, mesh), mesh=mesh,
             checkpoint_dir={directory!r}, **_FIT)
# parameters split across the two processes (FSDP-like): saved, then restored split alike
from jax.sharding import NamedSharding, PartitionSpec
from jaxdl.training import abstract_target, restore_checkpoint
from jaxdl.training.checkpoints import Checkpointer
params = result.state.params
spec = lambda leaf: PartitionSpec("data") if len(leaf) % 4 == 0 else PartitionSpec()
split = jax.tree.map(lambda leaf: NamedSharding(mesh, spec(leaf)), params)
sharded = jax.jit(lambda tree: tree, out_shardings=split)(params)
with Checkpointer({directory!r} + "-sharded") as checkpointer:
    checkpointer.save(1, sharded)
back = restore_checkpoint({directory!r} + "-sharded", abstract_target(params, split))
print(json.dumps({{
    "split": sum(not leaf.is_fully_replicated for leaf in jax.tree.leaves(back)),
    "sharded_round_trip": all(
        np.array_equal(shard.data, np.asarray(whole)[shard.index])
        for leaf, whole in zip(jax.tree.leaves(back), jax.tree.leaves(params))
        for shard in leaf.addressable_shards
    ),
    "agreed": distributed.agree(jax.process_index() == 1),
    "process": jax.process_index(), "devices": len(jax.devices()), "local": len(local[0]),
    "loss": [record["train_loss"] for record in result.history],
    "params": [np.asarray(leaf).tolist() for leaf in jax.tree.leaves(result.state.params)],
}}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def test_two_processes_train_data_parallel_and_checkpoint(tmp_path):
    directory = str(tmp_path / "checkpoints")
    address = f"localhost:{_free_port()}"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER.format(directory=directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=device_env(
                2,
                JAX_COORDINATOR_ADDRESS=address,
                JAX_NUM_PROCESSES="2",
                JAX_PROCESS_ID=str(index),
            ),
        )
        for index in range(2)
    ]
    outputs = []
    try:
        for child in children:
            stdout, stderr = child.communicate(timeout=240)
            assert child.returncode == 0, f"process exited {child.returncode}:\n{stderr[-4000:]}"
            outputs.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert [out["process"] for out in outputs] == [0, 1]
    assert all(out["devices"] == 4 and out["local"] == 32 for out in outputs)
    assert [out["agreed"] for out in outputs] == [False, False]  # process 0's choice
    assert all(out["split"] == 2 and out["sharded_round_trip"] for out in outputs), outputs
    first, second = outputs
    assert first["loss"] == second["loss"] and first["params"] == second["params"]
    assert first["loss"][-1] < first["loss"][0]

    # the same run in this single process, on the whole dataset
    state, loss = _state_and_loss()
    single = fit(jax.random.key(3), state, loss, _data(), **_FIT)
    np.testing.assert_allclose(
        first["loss"], [r["train_loss"] for r in single.history], rtol=1e-5, atol=1e-6
    )
    for got, want in zip(first["params"], jax.tree.leaves(single.state.params), strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)

    # the checkpoint both processes wrote restores here, on one device
    like = {
        "step": state.step,
        "params": state.params,
        "opt_state": state.opt_state,
        "model_state": state.model_state,
    }
    restored = restore_checkpoint(directory, abstract_target(like))
    assert int(restored["step"]) == int(single.state.step) == 4 * 64 // 16
    gathered = restore_checkpoint(directory + "-sharded", abstract_target(state.params))
    for tree in (restored["params"], gathered):
        for got, want in zip(jax.tree.leaves(tree), first["params"], strict=True):
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want, np.float32))
