"""Faults around ``fit``'s checkpoints: a corrupt or truncated latest checkpoint.

``fit`` must skip it with one warning naming it, resume from the previous good checkpoint,
and end bit-for-bit where an uninterrupted run ends; with no good checkpoint left it stops
with one line. (Killed processes: see ``test_kill_resume.py``.)
"""

from __future__ import annotations

import functools
import inspect
import pathlib
import warnings

import jax
import numpy as np
import optax
import pytest

from jaxdl.nn import MLP
from jaxdl.testing import assert_bitwise_equal
from jaxdl.training import create_train_state, fit, make_supervised_loss
from jaxdl.training.checkpoints import CheckpointError, CheckpointWarning
from tests._fixtures import Interrupt, stop_at_epoch

pytestmark = pytest.mark.standard_dtype_promotion

NUM_EPOCHS, BATCH_SIZE, NUM_EXAMPLES = 6, 16, 64
STEPS_PER_EPOCH = NUM_EXAMPLES // BATCH_SIZE


@functools.cache
def _problem():
    """One model, data set and loss for the module: ``fit`` compiles its chunk once."""
    x = jax.random.normal(jax.random.key(0), (NUM_EXAMPLES, 3))
    y = (x[:, 0] > 0).astype(np.int32)
    model = MLP(features=(8, 2), activation="tanh", output=None)
    return model, (x, y), make_supervised_loss(model)


@pytest.fixture(scope="module")
def reference():
    model, data, _ = _problem()
    return _fit(model, data)


def _fit(model, data, checkpoint_dir=None, stop_at=None):
    options = {}
    if checkpoint_dir is not None and "checkpoint_every_steps" in inspect.signature(fit).parameters:
        options["checkpoint_every_steps"] = STEPS_PER_EPOCH  # every epoch, whatever the default

    state = create_train_state(jax.random.key(1), model, data[0][:1], optax.adam(1e-2))
    return fit(
        jax.random.key(2),
        state,
        _problem()[2],
        data,
        num_epochs=NUM_EPOCHS,
        batch_size=BATCH_SIZE,
        epochs_per_chunk=1,
        progress=False,
        checkpoint_dir=None if checkpoint_dir is None else str(checkpoint_dir),
        callback=None if stop_at is None else stop_at_epoch(stop_at),
        **options,
    )


def _interrupted_run(model, data, directory: pathlib.Path) -> None:
    """Checkpoints after epochs 3 and 4 (two kept), then an interruption in epoch 5."""
    with pytest.raises(Interrupt):
        _fit(model, data, directory, stop_at=5)
    steps = sorted(int(p.name) for p in (directory / "latest").iterdir() if p.name.isdigit())
    assert steps == [3 * STEPS_PER_EPOCH, 4 * STEPS_PER_EPOCH]


def _data_files(step_dir: pathlib.Path) -> list[pathlib.Path]:
    return [p for p in (step_dir / "arrays").rglob("*") if p.is_file() and p.parent.name == "d"]


def _flip(step_dir: pathlib.Path) -> None:
    for path in _data_files(step_dir):
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))


def _truncate(step_dir: pathlib.Path) -> None:
    for path in _data_files(step_dir):
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("corrupt", [_flip, _truncate], ids=["bit-flip", "truncated"])
def test_fit_resumes_from_the_previous_checkpoint_when_the_latest_is_corrupt(
    tmp_path, corrupt, reference
):
    model, data, _ = _problem()
    _interrupted_run(model, data, tmp_path)
    latest = tmp_path / "latest" / str(4 * STEPS_PER_EPOCH)
    corrupt(latest)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = _fit(model, data, tmp_path)
    ours = [str(w.message) for w in caught if issubclass(w.category, CheckpointWarning)]
    assert len(ours) == 1, ours
    assert str(latest) in ours[0] and f"using step {3 * STEPS_PER_EPOCH}" in ours[0]
    assert "\n" not in ours[0]
    assert resumed.history[-1]["epoch"] == NUM_EPOCHS
    assert [r["epoch"] for r in resumed.history][-3:] == [4, 5, 6]  # epoch 4 was redone
    assert_bitwise_equal(resumed.state.params, reference.state.params)
    assert_bitwise_equal(resumed.state.opt_state, reference.state.opt_state)
    # the corrupt checkpoint was moved aside, never kept as "the last good one"
    assert (tmp_path / "corrupt" / f"latest-{4 * STEPS_PER_EPOCH}").is_dir()
    kept = sorted(int(p.name) for p in (tmp_path / "latest").iterdir() if p.name.isdigit())
    assert kept[-1] == NUM_EPOCHS * STEPS_PER_EPOCH


def test_fit_with_every_checkpoint_corrupt_stops_with_one_line(tmp_path):
    model, data, _ = _problem()
    _interrupted_run(model, data, tmp_path)
    for step_dir in (tmp_path / "latest").iterdir():
        if step_dir.name.isdigit():
            _flip(step_dir)
    with pytest.raises(CheckpointError) as info:
        _fit(model, data, tmp_path)
    assert "\n" not in str(info.value) and "no valid checkpoint" in str(info.value)
