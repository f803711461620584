"""The command line: listing, running with overrides, clear errors."""

from __future__ import annotations

import json

import pytest

from jaxdl import cli

pytestmark = pytest.mark.standard_dtype_promotion


def test_list_shows_the_main_experiment(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "mnist1d-mlp" in out


def test_run_with_overrides_writes_summary(tmp_path, capsys):
    code = cli.main(
        [
            "run",
            "mnist1d-mlp",
            "--config",
            "smoke",
            "--set",
            "num_steps=30",
            "--set",
            "hidden=[8]",
            "--set",
            "checkpoint=false",
            "--workdir",
            str(tmp_path),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert f"results written to {tmp_path}" in out
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["num_steps"] == 30 and config["hidden"] == [8] and config["checkpoint"] is False
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["num_steps"] >= 30


def test_apply_overrides_types_and_errors():
    config = {
        "rate": 0.1,
        "steps": 3,
        "flag": True,
        "name": "adam",
        "sizes": [1, 2],
        "nested": {"depth": 2},
    }
    out = cli.apply_overrides(
        config,
        [
            ("rate", "1e-3"),
            ("steps", "7"),
            ("flag", "no"),
            ("name", "sgd"),
            ("sizes", "[4]"),
            ("nested.depth", "5"),
        ],
    )
    assert out == {
        "rate": 1e-3,
        "steps": 7,
        "flag": False,
        "name": "sgd",
        "sizes": [4],
        "nested": {"depth": 5},
    }
    assert config["rate"] == 0.1  # the original is untouched
    with pytest.raises(KeyError, match="unknown config key"):
        cli.apply_overrides(config, [("lr", "1")])
    with pytest.raises(ValueError, match="expected an int"):
        cli.apply_overrides(config, [("steps", "three")])


def test_unknown_experiment_is_a_clear_error():
    with pytest.raises(SystemExit, match="unknown experiment 'nope'"):
        cli.main(["run", "nope"])


def test_bad_override_returns_error_code(tmp_path, capsys):
    code = cli.main(
        ["run", "mnist1d-mlp", "--config", "smoke", "--set", "bogus=1", "--workdir", str(tmp_path)]
    )
    assert code == 2
    assert "unknown config key" in capsys.readouterr().err
