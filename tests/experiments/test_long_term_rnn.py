"""The long-term-rnn experiment's smoke config runs end to end and learns."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_and_plots_gradient_norms(tmp_path):
    summary = run_smoke("long-term-rnn", tmp_path)
    models = summary["models"]
    assert set(models) == {"lstm"}
    assert models["lstm"]["final_train_loss"] < models["lstm"]["first_train_loss"]
    assert models["lstm"]["grad_norm_first_over_last"] > 0.0
    for name in ("val_loss.png", "gradient_norms.png", "metrics.jsonl"):
        assert (tmp_path / name).exists(), name


def test_last_marked_value_targets_the_value_at_the_last_marker():
    import jax
    import numpy as np

    from experiments.long_term_rnn.train import last_marked_value, validate
    from jaxdl import cli

    x, y = last_marked_value(jax.random.key(0), 16, 30, 4)
    x, y = np.asarray(x), np.asarray(y)
    assert x.shape == (16, 30, 2) and y.shape == (16, 1)
    np.testing.assert_array_equal(x[..., 1].sum(axis=1), 4)  # four distinct marked steps
    for values, markers, target in zip(x[..., 0], x[..., 1], y[:, 0], strict=True):
        last = np.flatnonzero(markers)[-1]
        assert target == values[last]
    config = cli.load_config("long-term-rnn", "forget")
    with pytest.raises(ValueError, match="task must be one of"):
        validate({**config, "task": "copy"})
