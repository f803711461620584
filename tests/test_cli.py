"""The command line: misuse is one line and exit 2 with nothing written; run directories
are never destroyed; list/show/help; the closing report."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import subprocess
import sys

import pytest

from jaxdl import cli

pytestmark = pytest.mark.standard_dtype_promotion
os.environ.setdefault("JAXDL_NO_XLA_CACHE", "1")  # the suite leaves the user's cache alone

ROOT = pathlib.Path(__file__).resolve().parents[1]
SMOKE = ["--config", "smoke", "--set", "num_steps=20", "--set", "checkpoint=true"]


def tree_hash(path: pathlib.Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file below ``path`` (directories as entries)."""
    digest = {}
    for item in sorted(path.rglob("*")):
        key = str(item.relative_to(path))
        digest[key] = hashlib.sha256(item.read_bytes()).hexdigest() if item.is_file() else "dir"
    return digest


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> pathlib.Path:
    """One finished smoke run of mnist1d-mlp (with checkpoints)."""
    workdir = tmp_path_factory.mktemp("finished") / "run"
    assert cli.main(["run", "mnist1d-mlp", *SMOKE, "--workdir", str(workdir)]) == 0
    return workdir


def unwritable_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        return locked / "run"
    if os.path.isdir("/proc/sys") and not os.access("/proc/sys", os.W_OK):
        return pathlib.Path("/proc/sys/jaxdl-run")
    pytest.skip("no unwritable directory for root here")


MISUSES = {
    "workdir is a file": (["run", "mnist1d-mlp", "--workdir", "{file}"], "is a file"),
    "workdir below a file": (["run", "mnist1d-mlp", "--workdir", "{file}/run"], "below a file"),
    "workdir unwritable": (["run", "mnist1d-mlp", "--workdir", "{unwritable}"], "not writable"),
    "config __init__": (["run", "mnist1d-mlp", "--config", "__init__"], "has no config"),
    "config typo": (["run", "mnist1d-mlp", "--config", "smoek"], "did you mean 'smoke'"),
    "batch_size=0": (["run", "mnist1d-mlp", "--set", "batch_size=0"], "positive int"),
    "num_steps=-1": (["run", "mnist1d-mlp", "--set", "num_steps=-1"], "positive int"),
    "learning_rate=nan": (["run", "mnist1d-mlp", "--set", "learning_rate=nan"], "finite"),
    "learning_rate=0": (["run", "mnist1d-mlp", "--set", "learning_rate=0"], "positive"),
    "hidden=5": (["run", "mnist1d-mlp", "--set", "hidden=5"], "must be a list"),
    "hidden=[0]": (["run", "mnist1d-mlp", "--set", "hidden=[0]"], "positive int"),
    "optimizers=3": (["run", "optimizers", "--set", "optimizers=3"], "section"),
    "int gets a float": (["run", "mnist1d-mlp", "--set", "batch_size=2.5"], "expected an int"),
    "unknown key": (["run", "mnist1d-mlp", "--set", "learning_rat=1"], "'learning_rate'"),
    "unknown section": (["run", "optimizers", "--set", "optimizer.sgd=1"], "not a section"),
    "experiment-specific check": (["run", "mnist1d-mlp", "--set", "optimizer=adan"], "adam"),
    "unknown experiment": (["run", "mnist1d-mpl"], "did you mean 'mnist1d-mlp'"),
    "show unknown experiment": (["show", "mnist-mlp"], "did you mean"),
    "resume without workdir": (["run", "mnist1d-mlp", "--resume"], "--resume needs --workdir"),
    "resume and overwrite": (
        ["run", "mnist1d-mlp", "--resume", "--overwrite", "--workdir", "{earlier}"],
        "not allowed with",
    ),
    "resume of nothing": (["run", "mnist1d-mlp", "--resume", "--workdir", "{empty}"], "nothing"),
    "overwrite a non-run": (["run", "mnist1d-mlp", "--overwrite", "--workdir", "{other}"], "not a"),
    "no experiment name": (["run"], "required"),
    "bad --set syntax": (["run", "mnist1d-mlp", "--set", "batch_size"], "KEY=VALUE"),
    "unknown command": (["train", "mnist1d-mlp"], "invalid choice"),
    "matmul precision typo": (["run", "mnist1d-mlp", "--matmul-precision", "fast"], "invalid"),
    "cache dir is a file": (["run", "mnist1d-mlp", "--compilation-cache", "{file}"], "is a file"),
}


@pytest.mark.parametrize("case", list(MISUSES))
def test_misuse_is_one_line_exit_2_and_writes_nothing(case, tmp_path, capsys, monkeypatch):
    argv, expected = MISUSES[case]
    (tmp_path / "a_file").write_text("not a directory")
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "config.json").write_text("{}")
    (earlier / "metrics.jsonl").write_text('{"step": 1}\n')
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    places = {
        "file": tmp_path / "a_file",
        "earlier": earlier,
        "empty": tmp_path / "empty",
        "other": tmp_path / "other",
    }
    if any("{unwritable}" in a for a in argv):
        places["unwritable"] = unwritable_dir(tmp_path)
    argv = [a.format(**places) for a in argv]
    monkeypatch.chdir(tmp_path)  # a default workdir would appear as tmp_path/runs
    before = tree_hash(tmp_path)

    code = cli.main(argv)

    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == cli.USAGE_ERROR == 2
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("jaxdl: ")
    assert expected in lines[0]
    assert captured.out == ""
    assert tree_hash(tmp_path) == before  # nothing created, nothing changed
    assert not (tmp_path / "runs").exists()


def test_misuse_in_a_subprocess_is_one_line_on_stderr(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for argv in (["run", "mnist1d-mlp", "--set", "batch_size=0"], ["run"]):
        result = subprocess.run(
            [sys.executable, "-m", "jaxdl.cli", *argv],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_existing_workdir_is_refused_and_unchanged(finished_run, capsys):
    before = tree_hash(finished_run)
    assert cli.main(["run", "mnist1d-mlp", *SMOKE, "--workdir", str(finished_run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--resume" in err[0] and "--overwrite" in err[0]
    assert tree_hash(finished_run) == before


def test_finished_run_resumed_is_a_noop_changing_no_byte(finished_run, capsys):
    before = tree_hash(finished_run)
    assert cli.main(["run", "mnist1d-mlp", "--workdir", str(finished_run), "--resume"]) == 0
    assert "nothing to do" in capsys.readouterr().err
    assert tree_hash(finished_run) == before


def test_resume_with_another_config_is_refused_listing_the_keys(finished_run, capsys):
    before = tree_hash(finished_run)
    argv = ["run", "mnist1d-mlp", *SMOKE, "--set", "learning_rate=0.02", "--set", "hidden=[8]"]
    assert cli.main([*argv, "--workdir", str(finished_run), "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "hidden" in err[0] and "learning_rate" in err[0] and "batch_size" not in err[0]
    # without --config the stored config.json is the base: only the changed key is listed
    argv = ["run", "mnist1d-mlp", "--set", "learning_rate=0.02", "--set", "progress=true"]
    assert cli.main([*argv, "--workdir", str(finished_run), "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith(
        "differs from its config.json in learning_rate (omit --config/--set to reuse the "
        "stored one)"
    )
    assert tree_hash(finished_run) == before


def test_overwrite_replaces_an_earlier_run_and_json_prints_the_summary(
    finished_run, tmp_path, capsys
):
    import shutil

    workdir = tmp_path / "run"
    shutil.copytree(finished_run, workdir)
    (workdir / "stale.png").write_bytes(b"old")
    argv = ["run", "mnist1d-mlp", "--config", "smoke", "--set", "num_steps=10"]
    argv += ["--set", "checkpoint=false", "--workdir", str(workdir), "--overwrite", "--json"]
    assert cli.main(argv) == 0
    assert not (workdir / "stale.png").exists() and not (workdir / "checkpoints").exists()
    assert json.loads((workdir / "config.json").read_text())["num_steps"] == 10
    summary = json.loads((workdir / "summary.json").read_text())
    assert json.loads(capsys.readouterr().out) == summary
    records = (workdir / "metrics.jsonl").read_text().splitlines()
    assert len(records) == summary["num_epochs"]


def test_run_writes_config_summary_and_a_short_table(finished_run, capsys):
    config = json.loads((finished_run / "config.json").read_text())
    assert config["num_steps"] == 20 and config["checkpoint"] is True
    summary = json.loads((finished_run / "summary.json").read_text())
    for key in ("wall_time_seconds", "compile_time_seconds", "config_hash", "test_accuracy"):
        assert key in summary, key
    env = summary["environment"]
    assert {"jaxdl", "jax", "flax", "optax", "device_kind", "git_commit"} <= set(env)
    table = cli.summary_table(summary)
    assert len(table.splitlines()) < 25
    assert "confusion_matrix" in table and "array 10 x 10" in table
    assert "0.0000000" not in table  # rounded


def test_resume_restores_and_keeps_one_history(finished_run, tmp_path, capsys):
    """An interrupted run (no summary yet) resumed from its checkpoint: one record per epoch."""
    import shutil

    workdir = tmp_path / "run"
    shutil.copytree(finished_run, workdir)
    (workdir / "summary.json").unlink()
    finished = json.loads((finished_run / "summary.json").read_text())
    code = cli.main(["run", "mnist1d-mlp", "--workdir", str(workdir), "--resume"])
    assert code == 0
    summary = json.loads((workdir / "summary.json").read_text())
    assert summary["num_epochs"] == finished["num_epochs"]
    assert summary["resumed"] is True
    records = (workdir / "metrics.jsonl").read_text().splitlines()
    assert len(records) == finished["num_epochs"]


def test_keyboard_interrupt_is_one_line_and_exit_130(monkeypatch, tmp_path, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run", interrupted)
    assert cli.main(["run", "mnist1d-mlp", "--workdir", str(tmp_path / "d")]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0] == (
        f"jaxdl: interrupted; resume with: jaxdl run mnist1d-mlp --workdir {tmp_path / 'd'} "
        "--resume"
    )


def test_training_interrupted_names_the_step_and_exits_143(monkeypatch, tmp_path, capsys):
    class Interrupted(KeyboardInterrupt):  # the shape of jaxdl.training.TrainingInterrupted
        def __init__(self, step, checkpoint_step, signal):
            super().__init__(step)
            self.step, self.checkpoint_step, self.signal = step, checkpoint_step, signal

    def interrupted(*args, **kwargs):
        raise Interrupted(40, 40, 15)

    monkeypatch.setattr(cli, "run", interrupted)
    assert cli.main(["run", "mnist1d-mlp", "--workdir", str(tmp_path / "d")]) == 143
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("jaxdl: interrupted at step 40; resume with:")


def test_default_workdir_is_fresh_with_a_suffix_on_collision(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    first = cli._default_workdir("demo")
    assert first.is_absolute() and first.parent == tmp_path / "runs"
    first.mkdir(parents=True)
    second = cli._default_workdir("demo")
    assert second != first and second.name.startswith(first.name)


def test_list_show_and_help(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("mnist1d-mlp"))
    assert "MNIST-1D" in line and "default" in line and "smoke" in line
    assert len(out.splitlines()) == len(cli.available_experiments())

    assert cli.main(["show", "mnist1d-mlp", "--config", "smoke"]) == 0
    assert json.loads(capsys.readouterr().out)["num_steps"] == 120

    for argv in (["--help"], ["run", "--help"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 0
        text = capsys.readouterr().out
        assert "``" not in text and "`" not in text and ":func:" not in text
    assert "mnist1d-mlp" in text and "smoke" in text  # run --help lists experiments, configs


def test_every_config_of_every_experiment_validates():
    for name in cli.available_experiments():
        assert cli.describe(name), name
        for config_name in cli.available_configs(name):
            config = cli.load_config(name, config_name)
            assert "seed" in config


@pytest.mark.slow
def test_sigint_during_a_run_is_one_line_and_exit_130(tmp_path):
    import signal

    workdir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAXDL_NO_XLA_CACHE": "1"}
    argv = ["run", "mnist1d-mlp", "--config", "smoke", "--set", "num_steps=100000"]
    argv += ["--set", "progress=true", "--workdir", str(workdir)]
    process = subprocess.Popen(
        [sys.executable, "-m", "jaxdl.cli", *argv],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = ""
    while "epoch" not in seen:  # training has started
        char = process.stderr.read(1)
        assert char, seen
        seen += char
    process.send_signal(signal.SIGINT)
    rest = process.stderr.read()
    assert process.wait(timeout=300) == 130
    lines = [line for line in rest.replace("\r", "\n").splitlines() if line.strip()]
    assert "Traceback" not in rest
    assert lines[-1].startswith("jaxdl: interrupted")
    assert lines[-1].endswith(f"resume with: jaxdl run mnist1d-mlp --workdir {workdir} --resume")
    assert not (workdir / "summary.json").exists()


def test_compilation_cache_is_announced_once_and_filled(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JAXDL_NO_XLA_CACHE"}
    env.update(PYTHONPATH=str(ROOT), JAXDL_CACHE_DIR=str(tmp_path), JAX_PLATFORMS="cpu")
    code = (
        "import jax; from jaxdl import cli; cli.enable_compilation_cache(); "
        "print(float(jax.jit(lambda x: x * 2.0 + 1.0)(3.0)))"
    )
    first, second = (
        subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
        for _ in range(2)
    )
    assert first.stdout.strip() == second.stdout.strip() == "7.0"
    assert f"caching compiled programs in {tmp_path / 'xla'}" in first.stderr
    assert "caching compiled programs" not in second.stderr
    assert any((tmp_path / "xla").iterdir())  # small programs are cached too


def test_compilation_cache_flag_and_matmul_precision_reach_the_summary(tmp_path, capsys):
    """The run compiles into the given cache directory, reports its compile time, records
    the matmul precision, and leaves the process's own cache setting as it was."""
    import jax

    before = jax.config.jax_compilation_cache_dir
    # the suite's shared cache (the same smoke run as ``finished_run``: its programs are
    # compiled once per session), else a fresh one
    cache = pathlib.Path(before or tmp_path / "xla")
    argv = ["run", "mnist1d-mlp", *SMOKE, "--workdir", str(tmp_path / "run"), "--json"]
    argv += ["--compilation-cache", str(cache), "--matmul-precision", "highest"]
    assert cli.main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["compilation_cache_dir"] == str(cache)
    assert summary["environment"]["matmul_precision"] == "highest"
    assert summary["num_compilations"] > 0 and summary["compile_time_seconds"] > 0
    assert any(cache.iterdir())  # the run's programs are there
    assert jax.config.jax_compilation_cache_dir == before
    assert jax.config.jax_default_matmul_precision is None
