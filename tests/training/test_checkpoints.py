"""Verified checkpoints: round trip, corruption fallback, intervals, metadata, extra, best."""

from __future__ import annotations

import math
import pathlib
import shutil
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.training import checkpoints
from jaxdl.training.checkpoints import (
    Checkpointer,
    CheckpointError,
    CheckpointMismatchError,
    CheckpointWarning,
    config_hash,
    structure_hash,
)


class _Moments(NamedTuple):
    mu: jax.Array
    count: jax.Array


def _tree(value: float = 0.0):
    # random values: incompressible, so the array bytes sit in the largest file on disk
    kernel = np.random.default_rng(int(value)).standard_normal((64, 32)).astype(np.float32)
    return {
        "step": jnp.asarray(int(value), jnp.int32),
        "params": {"dense": {"kernel": jnp.asarray(kernel), "bias": jnp.arange(2.0) + value}},
        "opt_state": (_Moments(jnp.full((64, 32), 2 * value), jnp.asarray(7, jnp.int32)), ()),
        "key": jax.random.key(int(value)),
    }


def _like():
    return _tree(0.0)


def _assert_trees_equal(a, b):
    leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(leaves_a) == len(leaves_b)
    for u, v in zip(leaves_a, leaves_b, strict=True):
        if jax.dtypes.issubdtype(u.dtype, jax.dtypes.prng_key):
            u, v = jax.random.key_data(u), jax.random.key_data(v)
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    assert jax.tree.structure(a) == jax.tree.structure(b)


def _two_checkpoints(directory: pathlib.Path) -> None:
    with Checkpointer(directory) as checkpointer:
        checkpointer.save(1, _tree(1.0), extra={"epochs": [1]})
        checkpointer.save(2, _tree(2.0), extra={"epochs": [1, 2]})


def _array_data_file(step_dir: pathlib.Path) -> pathlib.Path:
    """The largest data file of the arrays item: the one holding the kernel's bytes."""
    files = [p for p in (step_dir / "arrays").rglob("*") if p.is_file() and p.parent.name == "d"]
    path = max(files, key=lambda p: p.stat().st_size)
    assert path.stat().st_size > 64 * 32 * 2  # compressed, still the bulk of the kernel
    return path


def _flip_bit(path: pathlib.Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x04
    path.write_bytes(bytes(data))


def _truncate(path: pathlib.Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty_dir(path: pathlib.Path) -> None:
    for child in path.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


def _swap_arrays(step_dir: pathlib.Path, other: pathlib.Path) -> None:
    """Well-formed arrays that are not the ones the checksums describe."""
    shutil.rmtree(step_dir / "arrays")
    shutil.copytree(other / "arrays", step_dir / "arrays")


def test_round_trip_keeps_values_structure_keys_and_extra(tmp_path):
    tree = _tree(3.0)
    with Checkpointer(tmp_path, metadata={"config_hash": "abc"}) as checkpointer:
        assert checkpointer.latest_step() is None
        assert checkpointer.save(3, tree, {"val_loss": 0.5}, extra={"history": [{"a": 1.5}]})
        checkpointer.wait()
        assert checkpointer.latest_step() == 3
        restored = checkpointer.restore(_like())
        _assert_trees_equal(restored, tree)
        assert isinstance(restored["opt_state"][0], _Moments)
        assert checkpointer.restore_extra(3) == {"history": [{"a": 1.5}]}
        stored = checkpointer.restore_metadata()
        assert stored["step"] == 3
        assert stored["metadata"] == {"config_hash": "abc"}
        assert stored["metrics"] == {"val_loss": 0.5}
        assert set(stored["versions"]) >= {"jaxdl_version", "jax_version", "flax_version"}
    # a fresh object (another process) reads the same
    _assert_trees_equal(Checkpointer(tmp_path).restore(_like()), tree)


def test_numpy_and_python_leaves_round_trip(tmp_path):
    tree = {"a": np.arange(4, dtype=np.int64), "b": 2.5, "c": jnp.ones((), jnp.bfloat16)}
    with Checkpointer(tmp_path) as checkpointer:
        checkpointer.save(1, tree)
        restored = checkpointer.restore({"a": np.zeros(4, np.int64), "b": 0.0, "c": tree["c"]})
    np.testing.assert_array_equal(restored["a"], tree["a"])
    assert restored["b"] == 2.5 and isinstance(restored["b"], float)
    assert restored["c"].dtype == jnp.bfloat16


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda d, _: _flip_bit(_array_data_file(d)), id="bit-flip"),
        pytest.param(lambda d, _: _truncate(_array_data_file(d)), id="truncated"),
        pytest.param(lambda d, _: _empty_dir(d), id="emptied"),
        pytest.param(lambda d, _: shutil.rmtree(d / "meta"), id="missing-item"),
        pytest.param(lambda d, other: _swap_arrays(d, other), id="checksum-mismatch"),
    ],
)
def test_corrupt_latest_falls_back_to_previous_with_one_warning(tmp_path, corrupt):
    _two_checkpoints(tmp_path)
    latest = tmp_path / "latest"
    corrupt(latest / "2", latest / "1")
    checkpointer = Checkpointer(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert checkpointer.latest_step() == 1
        restored = checkpointer.restore(_like())
        assert checkpointer.restore_extra() == {"epochs": [1]}
    _assert_trees_equal(restored, _tree(1.0))
    ours = [w for w in caught if issubclass(w.category, CheckpointWarning)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    message = str(ours[0].message)
    assert "\n" not in message
    assert str(latest / "2") in message and "using step 1" in message
    # moved aside: never "the last good one", and step 2 can be written again
    assert not (latest / "2").exists()
    assert (tmp_path / "corrupt" / "latest-2").is_dir()
    assert checkpointer.save(2, _tree(4.0))
    checkpointer.wait()
    _assert_trees_equal(checkpointer.restore(_like()), _tree(4.0))
    checkpointer.close()


def test_checksum_mismatch_is_named(tmp_path):
    _two_checkpoints(tmp_path)
    _swap_arrays(tmp_path / "latest" / "2", tmp_path / "latest" / "1")
    with pytest.warns(CheckpointWarning, match=r"checksum mismatch in \['"):
        assert Checkpointer(tmp_path).latest_step() == 1


def test_all_corrupt_is_one_line_error_and_nothing_moves(tmp_path):
    _two_checkpoints(tmp_path)
    _truncate(_array_data_file(tmp_path / "latest" / "2"))
    _flip_bit(_array_data_file(tmp_path / "latest" / "1"))
    checkpointer = Checkpointer(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CheckpointWarning)
        with pytest.raises(CheckpointError) as info:
            checkpointer.restore(_like())
    message = str(info.value)
    assert "\n" not in message and "no valid checkpoint" in message
    assert "step 2" in message and "step 1" in message
    assert (tmp_path / "latest" / "2").is_dir() and (tmp_path / "latest" / "1").is_dir()
    with pytest.raises(CheckpointError):
        checkpointer.latest_step()


def test_explicit_corrupt_step_is_an_error_not_a_fallback(tmp_path):
    _two_checkpoints(tmp_path)
    _flip_bit(_array_data_file(tmp_path / "latest" / "2"))
    with pytest.raises(CheckpointError, match="latest/2 is corrupt"):
        Checkpointer(tmp_path).restore(_like(), step=2)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        Checkpointer(tmp_path).restore(_like(), step=9)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        Checkpointer(tmp_path / "empty").restore(_like())


def test_another_tree_is_a_mismatch(tmp_path):
    with Checkpointer(tmp_path) as checkpointer:
        checkpointer.save(1, {"w": jnp.zeros(3)})
        with pytest.raises(CheckpointMismatchError, match=r"\['w'\] is float32\[3\]") as info:
            checkpointer.restore({"w": jnp.zeros(4)})
        assert "\n" not in str(info.value)
        with pytest.raises(CheckpointMismatchError, match="1 leaves stored, 2 expected"):
            checkpointer.restore({"w": jnp.zeros(3), "v": jnp.zeros(3)})


def test_async_save_returns_before_the_write_and_wait_finishes_it(tmp_path):
    big = {"w": jnp.ones((512, 512))}
    with Checkpointer(tmp_path) as checkpointer:
        assert checkpointer.save(1, big)
        # while writing, the step lives under a temporary name; never a half step directory
        finished = [p.name for p in (tmp_path / "latest").iterdir() if p.name.isdigit()]
        assert finished in ([], ["1"])
        checkpointer.wait()
        assert (tmp_path / "latest" / "1" / "arrays").is_dir()
        assert checkpointer.save(2, {"w": big["w"] + 1})
        assert checkpointer.latest_step() == 2  # waits for the save in flight
        np.testing.assert_array_equal(checkpointer.restore(big)["w"], np.full((512, 512), 2.0))


def test_keeps_max_to_keep_latest(tmp_path):
    with Checkpointer(tmp_path, max_to_keep=2) as checkpointer:
        for step in (1, 2, 3):
            checkpointer.save(step, {"w": jnp.full(2, float(step))})
    assert sorted(p.name for p in (tmp_path / "latest").iterdir()) == ["2", "3"]


def _save(checkpointer, step, **kwargs) -> bool:
    """Save and wait, so that no save is in flight at the next decision."""
    saved = checkpointer.save(step, _tree(), **kwargs)
    checkpointer.wait()
    return saved


def test_interval_in_steps_and_force(tmp_path):
    with Checkpointer(tmp_path, save_interval_steps=10) as checkpointer:
        saved = [step for step in (4, 8, 12, 16, 20, 24, 33) if _save(checkpointer, step)]
        assert saved == [12, 24]
        assert _save(checkpointer, 27, force=True)
        assert not _save(checkpointer, 27, force=True)  # already there
        assert _save(checkpointer, 37)  # 10 steps after the forced one
    # a resumed run counts from the newest checkpoint on disk
    with Checkpointer(tmp_path, save_interval_steps=10) as checkpointer:
        assert not checkpointer.should_save(40)
        assert checkpointer.should_save(47)


def test_interval_in_seconds_with_a_fake_clock(tmp_path, monkeypatch):
    now = [100.0]
    monkeypatch.setattr(checkpoints, "_now", lambda: now[0])
    with Checkpointer(tmp_path, save_interval_seconds=60.0) as checkpointer:
        assert not _save(checkpointer, 1)
        now[0] += 59.0
        assert not _save(checkpointer, 2)
        now[0] += 1.0
        assert _save(checkpointer, 3)
        now[0] += 30.0
        assert not _save(checkpointer, 4)
        assert _save(checkpointer, 5, force=True)
        now[0] += 59.0
        assert not _save(checkpointer, 6)  # counted from the forced save
        now[0] += 1.0
        assert _save(checkpointer, 7)


def test_steps_or_seconds_whichever_comes_first(tmp_path, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(checkpoints, "_now", lambda: now[0])
    with Checkpointer(tmp_path, save_interval_steps=100, save_interval_seconds=10.0) as ckpt:
        assert not ckpt.should_save(50)
        now[0] = 11.0
        assert ckpt.should_save(50)
        now[0] = 0.0
        assert ckpt.should_save(100)


def test_a_due_save_waits_for_the_previous_one_to_finish_unless_forced(tmp_path, monkeypatch):
    with Checkpointer(tmp_path, save_interval_steps=10) as checkpointer:
        monkeypatch.setattr(checkpointer.latest, "is_saving_in_progress", lambda: True)
        assert not checkpointer.save(10, _tree())  # due, but the disk is still busy
        assert checkpointer.save(11, _tree(), force=True)
        monkeypatch.undo()
        checkpointer.wait()
        assert checkpointer.should_save(21) and not checkpointer.should_save(20)


def test_without_interval_every_call_saves(tmp_path):
    with Checkpointer(tmp_path) as checkpointer:
        assert all(checkpointer.save(step, _tree()) for step in (1, 2, 3))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"save_interval_steps": 0},
        {"save_interval_steps": 1.5},
        {"save_interval_seconds": -1.0},
        {"save_interval_seconds": math.nan},
        {"max_to_keep": 0},
        {"best_mode": "lowest"},
    ],
)
def test_bad_options_raise(tmp_path, kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Checkpointer(tmp_path, **kwargs)


def test_metadata_mismatch_lists_the_differing_keys(tmp_path):
    stored = {"config_hash": "aaa", "model_hash": "mmm", "seed": 0}
    with Checkpointer(tmp_path, metadata=stored) as checkpointer:
        checkpointer.check_metadata()  # nothing saved yet: nothing to compare
        checkpointer.save(1, _tree())
    checkpointer = Checkpointer(tmp_path)
    checkpointer.check_metadata(stored)
    checkpointer.check_metadata(None)  # no metadata given: nothing to compare
    with pytest.raises(CheckpointMismatchError) as info:
        checkpointer.check_metadata({"config_hash": "bbb", "model_hash": "mmm", "seed": 1})
    message = str(info.value)
    assert "\n" not in message
    assert "config_hash" in message and "seed" in message and "model_hash" not in message
    assert str(tmp_path / "latest" / "1") in message
    with pytest.raises(CheckpointMismatchError, match="model_hash"):
        checkpointer.check_metadata({"config_hash": "aaa", "seed": 0})  # a key went missing


def test_metadata_versions_only_warn(tmp_path, monkeypatch):
    with Checkpointer(tmp_path, metadata={"config_hash": "aaa"}) as checkpointer:
        checkpointer.save(1, _tree())
    versions = dict(checkpoints.run_versions(), jax_version="99.0")
    monkeypatch.setattr(checkpoints, "run_versions", lambda: versions)
    with pytest.warns(CheckpointWarning, match=r"jax_version \(checkpoint '.*', now '99.0'\)"):
        Checkpointer(tmp_path).check_metadata({"config_hash": "aaa"})


def test_extra_round_trip_keeps_nan_and_nesting(tmp_path):
    extra = {"history": [{"epoch": 1, "loss": 0.25, "val": math.nan}], "note": "x"}
    with Checkpointer(tmp_path) as checkpointer:
        checkpointer.save(5, _tree(), extra=extra)
        checkpointer.save(6, _tree(), extra={"history": []})
        restored = checkpointer.restore_extra(5)
        assert checkpointer.restore_extra() == {"history": []}
    assert restored["history"][0]["loss"] == 0.25 and math.isnan(restored["history"][0]["val"])
    assert restored["note"] == "x"


def test_extra_changed_on_disk_is_detected(tmp_path):
    with Checkpointer(tmp_path) as checkpointer:
        checkpointer.save(1, _tree(), extra={"a": 1})
        checkpointer.save(2, _tree(), extra={"a": 2})
    meta_file = tmp_path / "latest" / "2" / "meta" / "metadata"
    text = meta_file.read_text()
    assert '"a": 2' in text
    meta_file.write_text(text.replace('"a": 2', '"a": 3'))
    with pytest.raises(CheckpointError, match="checksum mismatch in meta"):
        Checkpointer(tmp_path).restore_extra(2)
    with pytest.warns(CheckpointWarning, match="checksum mismatch in meta"):
        assert Checkpointer(tmp_path).restore_extra() == {"a": 1}


@pytest.mark.parametrize(
    ("mode", "values", "best"),
    [("min", [0.5, 0.3, math.nan, 0.4], 2), ("max", [0.5, 0.9, math.nan, 0.7], 2)],
)
def test_best_checkpoint_skips_nan(tmp_path, mode, values, best):
    with Checkpointer(tmp_path, best_metric="val_loss", best_mode=mode) as checkpointer:
        for step, value in enumerate(values, start=1):
            checkpointer.save(step, _tree(float(step)), {"val_loss": value})
        assert checkpointer.best_step() == best
        _assert_trees_equal(checkpointer.restore(_like(), best=True), _tree(float(best)))
        assert checkpointer.latest_step() == len(values)


def test_best_is_remembered_across_objects_and_offered_between_intervals(tmp_path):
    with Checkpointer(tmp_path, best_metric="val_loss") as checkpointer:
        checkpointer.save(1, _tree(1.0), {"val_loss": 0.3})
    with Checkpointer(tmp_path, best_metric="val_loss", save_interval_steps=100) as checkpointer:
        assert not checkpointer.save(2, _tree(2.0), {"val_loss": 0.35})  # worse: no write
        assert not checkpointer.save(3, _tree(3.0), {"val_loss": 0.1})  # better: best only
        checkpointer.wait()
        assert checkpointer.best_step() == 3
        assert checkpointer.latest_step() == 1
    with pytest.raises(ValueError, match="best_metric"):
        Checkpointer(tmp_path).restore(_like(), best=True)


def test_best_improvements_during_a_busy_save_are_kept_in_memory_then_written(
    tmp_path, monkeypatch
):
    with Checkpointer(tmp_path, best_metric="val_loss") as checkpointer:
        monkeypatch.setattr(checkpointer.best, "is_saving_in_progress", lambda: True)
        for step, value in enumerate([0.5, 0.4, 0.45, 0.3], start=1):
            checkpointer.save(step, _tree(float(step)), {"val_loss": value})
        assert not (tmp_path / "best").exists() or not any((tmp_path / "best").iterdir())
        monkeypatch.undo()
        assert checkpointer.best_step() == 4  # written by the wait inside best_step
        _assert_trees_equal(checkpointer.restore(_like(), best=True), _tree(4.0))


def test_hash_helpers():
    assert config_hash({"a": 1, "b": (1, 2)}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
    assert structure_hash(_tree(1.0)) == structure_hash(_tree(2.0))
    assert structure_hash({"w": jnp.zeros(3)}) != structure_hash({"w": jnp.zeros(3, jnp.int32)})


# ------------------------------------------------------------ across device topologies


def _mlp_tree():
    """A small MLP's parameters, Adam state after one update, a step and a key."""
    import optax

    from jaxdl.nn import MLP

    params = MLP(features=(16, 8)).init(jax.random.key(0), jnp.zeros((1, 8)))
    tx = optax.adam(0.1)
    opt_state = tx.init(params)
    updates, opt_state = tx.update(params, opt_state, params)
    params = optax.apply_updates(params, updates)
    return {
        "step": jnp.asarray(1),
        "params": params,
        "opt_state": opt_state,
        "key": jax.random.key(7),
    }


def _split_first_axis(tree, mesh):
    """Shard every leaf whose first axis divides over the mesh's devices; replicate the rest."""
    from jax.sharding import NamedSharding, PartitionSpec

    size = mesh.devices.size

    def sharding(leaf):
        split = np.ndim(leaf) and np.shape(leaf)[0] % size == 0
        return NamedSharding(mesh, PartitionSpec("data") if split else PartitionSpec())

    return jax.tree.map(sharding, tree)


def _host_leaves(tree):
    return [
        np.asarray(
            jax.random.key_data(x) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x
        )
        for x in jax.tree.leaves(tree)
    ]


_FIT = {"batch_size": 16, "progress": False}


def _fit_setup():
    """A tiny MLP classifier, its loss and 64 fixed training points."""
    import optax

    from jaxdl.nn import MLP
    from jaxdl.training import create_train_state, make_supervised_loss

    x = np.random.default_rng(0).standard_normal((64, 8)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int32)
    model = MLP(features=(16, 2))
    state = create_train_state(jax.random.key(2), model, x[:2], optax.sgd(0.3))
    return state, make_supervised_loss(model), (x, y)


# The writer: 8 devices save the same tree twice, replicated and with its first axes split
# over the 8 devices, and keep its host values as the reference.
_WRITE_ON_8 = """
import json, numpy as np, jax
from jax.sharding import NamedSharding, PartitionSpec
from jaxdl.training import data_parallel_mesh
from jaxdl.training.checkpoints import Checkpointer
from tests.training.test_checkpoints import _host_leaves, _mlp_tree, _split_first_axis
root = {root!r}
mesh = data_parallel_mesh()
tree = _mlp_tree()
replicated = jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))
sharded = jax.device_put(tree, _split_first_axis(tree, mesh))
kernel = sharded["params"]["params"]["Dense_0"]["kernel"]
for name, placed in (("replicated", replicated), ("sharded", sharded)):
    with Checkpointer(f"{{root}}/{{name}}") as checkpointer:
        checkpointer.save(1, placed)
np.savez(f"{{root}}/reference.npz", *_host_leaves(tree))
# fit's own checkpoints: two epochs data parallel over the 8 devices
from jaxdl.training import fit
from tests.training.test_checkpoints import _FIT, _fit_setup
state, loss, data = _fit_setup()
result = fit(jax.random.key(3), state, loss, data, num_epochs=2, mesh=mesh,
             checkpoint_dir=f"{{root}}/fit", **_FIT)
print(json.dumps({{"devices": len(jax.devices()),
                  "kernel_shards": [list(s.data.shape) for s in kernel.addressable_shards],
                  "fit_history": result.history}}))
"""

# The second reader: 4 devices restore each checkpoint with the other layout, from an
# abstract target (jax.eval_shape: nothing allocated before the restore).
_READ_ON_4 = """
import json, numpy as np, jax
from jax.sharding import NamedSharding, PartitionSpec
from jaxdl.training import abstract_target, data_parallel_mesh, restore_checkpoint
from tests.training.test_checkpoints import _host_leaves, _mlp_tree, _split_first_axis
root = {root!r}
mesh = data_parallel_mesh()
shapes = jax.eval_shape(_mlp_tree)
split = _split_first_axis(shapes, mesh)
targets = {{"sharded": abstract_target(shapes, NamedSharding(mesh, PartitionSpec())),
           "replicated": abstract_target(shapes, split)}}
reference = list(np.load(f"{{root}}/reference.npz").values())
out = {{"devices": len(jax.devices())}}
for name, target in targets.items():
    restored = restore_checkpoint(f"{{root}}/{{name}}", target)
    kernel = restored["params"]["params"]["Dense_0"]["kernel"]
    out[name] = {{
        "equal": all(np.array_equal(a, b) for a, b in zip(_host_leaves(restored), reference)),
        "placed": all(
            leaf.sharding.is_equivalent_to(want.sharding, leaf.ndim)
            for leaf, want in zip(jax.tree.leaves(restored), jax.tree.leaves(target))
        ),
        "kernel_shards": [list(s.data.shape) for s in kernel.addressable_shards],
    }}
print(json.dumps(out))
"""


@pytest.mark.standard_dtype_promotion  # optax's Adam bias correction
def test_checkpoint_from_8_devices_restores_on_1_and_on_4(tmp_path):
    """Written on 8 devices (replicated, sharded, and by fit), read on 1 and on 4."""
    from jaxdl.training import abstract_target, restore_checkpoint
    from tests._multidevice import run_on_devices

    written = run_on_devices(_WRITE_ON_8.format(root=str(tmp_path)), 8)
    assert written["devices"] == 8
    assert written["kernel_shards"] == [[1, 16]] * 8  # the 8 x 16 kernel really split

    reference = list(np.load(tmp_path / "reference.npz").values())
    device = jax.devices()[0]
    for name in ("replicated", "sharded"):
        # on this process's single device, from a concrete target
        restored = restore_checkpoint(tmp_path / name, abstract_target(_mlp_tree()))
        for leaf, want in zip(_host_leaves(restored), reference, strict=True):
            np.testing.assert_array_equal(leaf, want)
        assert all(leaf.devices() == {device} for leaf in jax.tree.leaves(restored))
        assert jax.random.key_impl(restored["key"]) == jax.random.key_impl(jax.random.key(0))

    # fit resumes the 8-device run here on one device, and ends where an uninterrupted
    # one-device run ends (to float32 round-off: the 8-way all-reduce sums in another order)
    from jaxdl.training import fit

    state, loss, data = _fit_setup()
    resumed = fit(
        jax.random.key(3),
        state,
        loss,
        data,
        num_epochs=3,
        checkpoint_dir=str(tmp_path / "fit"),
        **_FIT,
    )
    straight = fit(jax.random.key(3), state, loss, data, num_epochs=3, **_FIT)
    # the first two epochs' records (their timings too) come from the 8-device checkpoint
    assert resumed.history[:2] == written["fit_history"]
    assert int(resumed.state.step) == int(straight.state.step) == 3 * 64 // 16
    np.testing.assert_allclose(
        [r["train_loss"] for r in resumed.history],
        [r["train_loss"] for r in straight.history],
        rtol=1e-5,
    )
    for got, want in zip(
        jax.tree.leaves(resumed.state.params), jax.tree.leaves(straight.state.params), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    read = run_on_devices(_READ_ON_4.format(root=str(tmp_path)), 4)
    assert read["devices"] == 4
    for name in ("replicated", "sharded"):
        assert read[name]["equal"] and read[name]["placed"], read
    assert read["replicated"]["kernel_shards"] == [[2, 16]] * 4  # restored split over 4
    assert read["sharded"]["kernel_shards"] == [[8, 16]] * 4  # restored replicated on 4


def test_restore_checkpoint_reads_latest_or_best_and_creates_nothing(tmp_path):
    from jaxdl.training import abstract_target, restore_checkpoint

    with Checkpointer(tmp_path / "run", best_metric="val_loss") as checkpointer:
        checkpointer.save(1, _tree(1.0), {"val_loss": 0.1})
        checkpointer.save(2, _tree(2.0), {"val_loss": 0.2})
    target = abstract_target(_like())
    _assert_trees_equal(restore_checkpoint(tmp_path / "run", target), _tree(2.0))
    _assert_trees_equal(restore_checkpoint(tmp_path / "run", target, best=True), _tree(1.0))
    _assert_trees_equal(restore_checkpoint(tmp_path / "run", target, step=1), _tree(1.0))
    with pytest.raises(CheckpointError, match="no checkpoint directory"):
        restore_checkpoint(tmp_path / "missing", target)
    assert not (tmp_path / "missing").exists()


def test_abstract_target_takes_one_sharding_a_tree_of_them_or_the_leaves_own():
    from jax.sharding import SingleDeviceSharding

    from jaxdl.training import abstract_target

    one = SingleDeviceSharding(jax.devices()[0])
    tree = {"w": jnp.zeros((2, 3)), "n": 3, "k": jax.random.key(0)}
    own = abstract_target(tree)
    assert own["w"].sharding == tree["w"].sharding and own["n"] == 3
    assert own["k"].dtype == tree["k"].dtype and own["k"].shape == ()
    given = abstract_target(tree, one)
    assert given["w"].sharding == one
    per_leaf = abstract_target({"w": tree["w"]}, {"w": one})
    assert per_leaf["w"] == jax.ShapeDtypeStruct((2, 3), jnp.float32, sharding=one)


@pytest.mark.standard_dtype_promotion  # optax's Adam bias correction
def test_the_committed_checkpoint_still_restores(tmp_path):
    """A checkpoint written by an earlier version (tests/training/data) reads back alike."""
    from jaxdl.nn import MLP
    from jaxdl.training import abstract_target
    from tests.training.data import make_checkpoint

    directory = tmp_path / "committed"
    shutil.copytree(make_checkpoint.DIRECTORY, directory)  # a failed read may move files
    tree, logits = make_checkpoint.build()
    checkpointer = Checkpointer(directory)
    meta = checkpointer.restore_metadata()
    assert meta["step"] == make_checkpoint.STEPS
    assert meta["metadata"] == make_checkpoint.METADATA
    assert {"jax_version", "flax_version", "optax_version", "orbax_version"} <= set(
        meta["versions"]
    )
    restored = checkpointer.restore(abstract_target(tree))  # verifies every CRC-32
    assert jax.tree.structure(restored) == jax.tree.structure(tree)
    for got, want in zip(_host_leaves(restored), _host_leaves(tree), strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(
        jax.random.key_data(restored["key"]), jax.random.key_data(tree["key"])
    )
    x, _ = make_checkpoint.data()
    stored = np.asarray(checkpointer.restore_extra()["logits"], np.float32)
    recomputed = MLP(features=(4, 2)).apply(restored["params"], x, return_logits=True)
    np.testing.assert_allclose(recomputed, stored, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logits, stored, rtol=1e-5, atol=1e-6)
    checkpointer.close()
