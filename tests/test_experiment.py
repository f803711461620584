"""Experiment support: config validation rules, config hashing and diffs, the Run context,
and the plotting helpers."""

from __future__ import annotations

import jax
import pytest

from jaxdl.experiment import (
    ConfigError,
    PlotError,
    Run,
    config_diff,
    config_hash,
    figure,
    line_plot,
    validate_config,
)
from jaxdl.training import RunLogger


def test_validate_config_types_and_rules():
    reference = {
        "seed": 0,
        "learning_rate": 0.1,
        "hidden": [4, 4],
        "optimizers": {"sgd": {"learning_rate": 0.1}},
        "dropout_rate": 0.1,
        "flag": True,
    }
    ok = validate_config({**reference, "learning_rate": 1, "hidden": (8,)}, reference)
    assert ok["learning_rate"] == 1.0 and isinstance(ok["learning_rate"], float)
    assert ok["hidden"] == [8]
    bad = {
        "learning_rate": float("inf"),
        "hidden": 5,
        "optimizers": 3,
        "dropout_rate": 1.0,
        "flag": 1,
        "seed": -1,
    }
    for key, value in bad.items():
        with pytest.raises(ConfigError, match=key):
            validate_config({**reference, key: value}, reference)
    with pytest.raises(ConfigError, match="optimizers.sgd.learning_rate"):
        validate_config({**reference, "optimizers": {"sgd": {"learning_rate": -1.0}}}, reference)
    with pytest.raises(ConfigError, match="seed"):
        validate_config({"learning_rate": 0.1})


def test_plots_need_axis_labels_and_get_legends_and_integer_ticks(tmp_path):
    with pytest.raises(PlotError, match="axis label"):
        with figure(tmp_path / "bad.png") as ax:
            ax.plot([1, 2], [3, 4])
    assert not (tmp_path / "bad.png").exists()

    with figure(tmp_path / "good.png") as ax:
        ax.plot([1, 2, 3], [3.0, 2.0, 1.0], label="train")
        ax.plot([1, 2, 3], [3.5, 2.5, 2.0], label="val")
        ax.set(xlabel="epoch", ylabel="loss (nats)")
        holder = ax
    assert holder.get_legend() is not None
    ticks = holder.get_xticks()
    assert all(float(t).is_integer() for t in ticks)

    line_plot(tmp_path / "one.png", {"loss": [1.0, 0.5]}, xlabel="step", ylabel="loss (nats)")
    assert (tmp_path / "one.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("batch_size", 0, "positive int"),
        ("num_epochs", -3, "positive int"),
        ("num_epochs", 2.0, "must be an int"),
        ("learning_rate", 0.0, "must be positive"),
        ("learning_rate", float("nan"), "must be finite"),
        ("hidden", 4, "must be a list"),
        ("hidden", [4, 0], r"'hidden'\[1\] must be a positive int"),
        ("model", 1, "is a section"),
        ("seed", -1, "non-negative int"),
    ],
)
def test_validate_config_refuses_with_the_key_named(key, value, message):
    reference = {
        "seed": 0,
        "batch_size": 8,
        "num_epochs": 2,
        "learning_rate": 0.1,
        "hidden": [4],
        "model": {"width": 4},
    }
    with pytest.raises(ConfigError, match=message) as info:
        validate_config({**reference, key: value}, reference)
    assert key in str(info.value) and "\n" not in str(info.value)


def test_validate_config_normalizes_and_accepts_valid_values():
    reference = {"seed": 0, "learning_rate": 0.1, "hidden": [4, 4], "model": {"width": 4}}
    out = validate_config(
        {"seed": 3, "learning_rate": 2, "hidden": (1, 2, 3), "model": {"width": 8}}, reference
    )
    assert out == {"seed": 3, "learning_rate": 2.0, "hidden": [1, 2, 3], "model": {"width": 8}}
    assert isinstance(out["learning_rate"], float)


def test_config_hash_and_diff_ignore_progress():
    a = {"seed": 0, "lr": 0.1, "model": {"width": 4}, "progress": True}
    b = {**a, "progress": False}
    assert config_hash(a) == config_hash(b) and config_diff(a, b) == []
    c = {**a, "model": {"width": 8}}
    assert config_hash(a) != config_hash(c) and config_diff(a, c) == ["model.width"]


def test_run_carries_key_logger_and_fit_kwargs(tmp_path):
    config = {"seed": 7, "progress": False}
    run = Run.open(tmp_path, config, resume=True)
    assert jax.random.key_data(run.key).tolist() == jax.random.key_data(jax.random.key(7)).tolist()
    assert isinstance(run.logger, RunLogger) and run.path == tmp_path.absolute()
    assert run.checkpoint_dir == str(tmp_path.absolute() / "checkpoints")
    assert str(run / "x.png") == str(tmp_path.absolute() / "x.png")
    kwargs = run.fit_kwargs()
    assert kwargs["progress"] is False and kwargs["logger"] is run.logger
    assert kwargs["checkpoint_dir"] == run.checkpoint_dir and kwargs["resume"] is True
    assert kwargs["run_metadata"] == {"config_hash": config_hash(config)}
    assert run.fit_kwargs(checkpoint=False, logger=False) == {"progress": False}


def test_line_plot_refuses_missing_axis_labels_and_writes_a_png(tmp_path):
    with pytest.raises(PlotError, match="axis label"):
        line_plot(tmp_path / "bad.png", {"loss": [1.0, 0.5]}, xlabel="", ylabel="loss (nats)")
    assert not (tmp_path / "bad.png").exists()
    out = line_plot(
        tmp_path / "curves.png",
        {"train": [1.0, 0.5, 0.25], "val": [1.1, 0.7]},
        xlabel="epoch",
        ylabel="loss (nats)",
        log_y=True,
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compilation_cache_and_matmul_precision_check_their_arguments(tmp_path, monkeypatch):
    from jaxdl.experiment import enable_compilation_cache, matmul_precision

    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="must be a directory .* got file"):
        enable_compilation_cache(tmp_path / "file")
    monkeypatch.setenv("JAXDL_NO_XLA_CACHE", "1")
    assert enable_compilation_cache() is None  # the default cache is off
    with pytest.raises(ValueError, match="precision must be one of default, high, highest"):
        with matmul_precision("fastest"):
            pass
    with matmul_precision(None):  # keeps the current setting
        assert jax.config.jax_default_matmul_precision is None
