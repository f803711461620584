"""The jaxdl command line: list, show and run the course's experiments.

Experiments live in the checkout's ``experiments`` package, one folder per topic with
``train.py`` (``train_and_evaluate(config, workdir) -> dict``, its first docstring line
describing it) and ``configs/`` (one module per config with ``get_config() -> dict``).
The library never imports them; this CLI finds them by name: the folder ``mnist1d_mlp``
is the experiment ``mnist1d-mlp``.

The CLI owns a run (see :mod:`jaxdl.experiment` for what an experiment receives): it
validates the config before anything is written, refuses a non-empty work directory
unless ``--resume`` or ``--overwrite`` is given, writes ``config.json`` and
``summary.json`` (metrics, wall and compile time, compilation-cache hits, versions, device,
matmul precision, git commit), turns on JAX's persistent compilation cache
(``--compilation-cache DIR|off``), sets the float32 matmul precision when asked
(``--matmul-precision default|high|highest``) and ends with a short table. Every usage error is
one line on stderr and exit status 2; an interrupted run ends with one line and 130
(SIGINT) or 143 (SIGTERM).
"""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import importlib
import json
import math
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

USAGE_ERROR = 2
_DESCRIPTION = (
    "Run the experiments of the jaxdl course. Each run writes its own directory: "
    "config.json, metrics.jsonl, plots, checkpoints and summary.json."
)


class UsageError(Exception):
    """A bad invocation: printed as one line, exit status 2, nothing written."""


class _Terminated(Exception):
    """SIGTERM outside ``fit`` (``fit`` raises ``TrainingInterrupted`` itself)."""


# ---------------------------------------------------------------------------------------
# Finding experiments and configs
# ---------------------------------------------------------------------------------------


def _experiments_root() -> pathlib.Path:
    try:
        package = importlib.import_module("experiments")
    except ImportError as error:  # pragma: no cover - depends on the install
        raise UsageError(
            "cannot import the 'experiments' package; run jaxdl from a checkout "
            "installed with 'pip install -e .'"
        ) from error
    return pathlib.Path(next(iter(package.__path__)))


def available_experiments() -> dict[str, str]:
    """Map of experiment names (dashes) to their module paths (``experiments.<folder>``)."""
    root = _experiments_root()
    found = {}
    for folder in sorted(root.iterdir()):
        if folder.name.startswith(("_", ".")) or not folder.is_dir():
            continue
        if (folder / "train.py").exists() and (folder / "configs").is_dir():
            found[folder.name.replace("_", "-")] = f"experiments.{folder.name}"
    return found


def _folder(module_path: str) -> pathlib.Path:
    return _experiments_root() / module_path.split(".", 1)[1]


def describe(name: str) -> str:
    """The first line of the experiment's ``train.py`` docstring (read, not imported)."""
    source = (_folder(available_experiments()[name]) / "train.py").read_text()
    doc = ast.get_docstring(ast.parse(source)) or ""
    text = " ".join(doc.split("\n\n", 1)[0].split()).rstrip(".")
    return re.sub(r":\w+:`([^`]*)`|`+([^`]*)`+", lambda m: m.group(1) or m.group(2), text)


def available_configs(name: str) -> list[str]:
    """The config names of experiment ``name`` (``default`` first)."""
    folder = _folder(available_experiments()[name]) / "configs"
    names = sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))
    return sorted(names, key=lambda n: n != "default")


def _experiment_module(name: str) -> str:
    from jaxdl.experiment import closest

    experiments = available_experiments()
    if name not in experiments:
        raise UsageError(
            f"unknown experiment {name!r}{closest(name, list(experiments))} "
            "(jaxdl list shows them all)"
        )
    return experiments[name]


def _config_module(name: str, config_name: str):
    from jaxdl.experiment import closest

    module_path = _experiment_module(name)
    configs = available_configs(name)
    if config_name not in configs:
        raise UsageError(
            f"experiment {name!r} has no config {config_name!r}"
            f"{closest(config_name, configs)} (available: {', '.join(configs)})"
        )
    return importlib.import_module(f"{module_path}.configs.{config_name}")


# ---------------------------------------------------------------------------------------
# Configs: overrides, validation
# ---------------------------------------------------------------------------------------


def parse_override(text: str) -> tuple[str, str]:
    """Split ``key=value`` (the value is parsed later against the config's type).

    Example:
        >>> parse_override("optimizer.learning_rate = 0.1")
        ('optimizer.learning_rate', '0.1')
    """
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--set expects KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def _coerce(key: str, raw: str, current: Any) -> Any:
    from jaxdl.experiment import ConfigError

    if isinstance(current, bool):
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"--set {key}: expected a boolean, got {raw!r}")
    if isinstance(current, int):
        try:
            return int(raw)
        except ValueError as error:
            raise ConfigError(f"--set {key}: expected an int, got {raw!r}") from error
    if isinstance(current, float):
        try:
            return float(raw)
        except ValueError as error:
            raise ConfigError(f"--set {key}: expected a float, got {raw!r}") from error
    if isinstance(current, str):
        return raw
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError) as error:
        if current is None:
            return raw
        raise ConfigError(f"--set {key}: cannot parse {raw!r} as a Python literal") from error
    if isinstance(value, tuple):
        value = list(value)
    return value


def apply_overrides(config: Mapping[str, Any], overrides: Sequence[tuple[str, str]]) -> dict:
    """Return ``config`` with ``key=value`` overrides applied; dotted keys reach sections.

    Values are parsed by the type of the entry they replace (validation comes after).

    Raises:
        jaxdl.experiment.ConfigError: an unknown key (with the closest known one) or a
            value that does not parse.

    Example:
        >>> config = {"num_epochs": 10, "model": {"features": [8, 2]}, "name": "mlp"}
        >>> apply_overrides(config, [("num_epochs", "3"), ("model.features", "[4, 2]")])
        {'num_epochs': 3, 'model': {'features': [4, 2]}, 'name': 'mlp'}
        >>> config["num_epochs"]  # the input is left as it was
        10
    """
    from jaxdl.experiment import ConfigError, closest

    config = json.loads(json.dumps(dict(config)))
    for key, raw in overrides:
        node = config
        parts = key.split(".")
        for depth, part in enumerate(parts[:-1]):
            if not isinstance(node.get(part), dict):
                where = ".".join(parts[: depth + 1])
                raise ConfigError(f"--set {key}: {where!r} is not a section of the config")
            node = node[part]
        if parts[-1] not in node:
            raise ConfigError(f"--set {key}: unknown config key{closest(parts[-1], list(node))}")
        node[parts[-1]] = _coerce(key, raw, node[parts[-1]])
    return config


def _experiment_validator(module_path: str, config_module):
    validate = getattr(config_module, "validate", None)
    if validate is None:
        default = importlib.import_module(f"{module_path}.configs.default")
        validate = getattr(default, "validate", None)
    if validate is None:
        train = importlib.import_module(f"{module_path}.train")
        validate = getattr(train, "validate", None)
    return validate


def load_config(
    name: str,
    config_name: str = "default",
    overrides: Sequence[tuple[str, str]] = (),
    *,
    base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The validated config of experiment ``name``: ``configs/<config_name>.py`` (or
    ``base``) with ``overrides`` applied, typed by the default config.

    Raises:
        UsageError: for an unknown experiment or config, a bad override or value.
    """
    from jaxdl.experiment import ConfigError, validate_config

    module_path = _experiment_module(name)
    module = _config_module(name, config_name)
    reference = importlib.import_module(f"{module_path}.configs.default").get_config()
    try:
        config = dict(module.get_config()) if base is None else dict(base)
        config = apply_overrides(config, overrides)
        config = validate_config(config, reference)
        validate = _experiment_validator(module_path, module)
        if validate is not None:
            validate(config)
    except (ConfigError, ValueError, TypeError) as error:
        raise UsageError(str(error).splitlines()[0] if str(error) else repr(error)) from error
    return config


# ---------------------------------------------------------------------------------------
# Work directories
# ---------------------------------------------------------------------------------------


def _default_workdir(name: str) -> pathlib.Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = pathlib.Path("runs") / f"{name}-{stamp}"
    suffix = 2
    while path.exists():
        path = pathlib.Path("runs") / f"{name}-{stamp}-{suffix}"
        suffix += 1
    return path.absolute()


def _check_writable(path: pathlib.Path) -> None:
    """``path`` can be created (or written) as a directory; raises UsageError if not."""
    ancestor = path
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        what = "is a file" if ancestor == path else f"is below a file ({ancestor})"
        raise UsageError(f"workdir {path} {what}")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"workdir {path} is not writable ({ancestor} is read-only)")


def _is_empty(path: pathlib.Path) -> bool:
    return not path.exists() or not any(path.iterdir())


def _read_json(path: pathlib.Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read {path}: {error}") from error


class _Plan:
    """What ``run`` will do, decided before anything is written."""

    def __init__(self, workdir: pathlib.Path, config: dict, resume: bool, overwrite: bool):
        self.workdir, self.config, self.resume, self.overwrite = workdir, config, resume, overwrite
        self.finished = False


def plan_run(
    name: str,
    *,
    config_name: str | None = None,
    overrides: Sequence[tuple[str, str]] = (),
    workdir: str | os.PathLike | None = None,
    resume: bool = False,
    overwrite: bool = False,
) -> _Plan:
    """Validate an invocation of ``jaxdl run`` completely; touches nothing on disk."""
    _experiment_module(name)
    if resume and overwrite:
        raise UsageError("--resume and --overwrite exclude each other")
    if resume and workdir is None:
        raise UsageError("--resume needs --workdir (the run to continue)")
    path = _default_workdir(name) if workdir is None else pathlib.Path(workdir).absolute()
    _check_writable(path)
    stored = None
    if resume:
        if _is_empty(path):
            raise UsageError(f"nothing to resume: {path} is empty or missing")
        if not (path / "config.json").is_file():
            raise UsageError(f"cannot resume {path}: it has no config.json (not a jaxdl run)")
        stored = _read_json(path / "config.json")
    elif not _is_empty(path):
        if not overwrite:
            raise UsageError(
                f"workdir {path} is not empty (an earlier run?); pass --resume to continue "
                "it or --overwrite to replace it"
            )
        if not (path / "config.json").is_file():
            raise UsageError(
                f"refusing to --overwrite {path}: it has no config.json (not a jaxdl run)"
            )
        if not os.access(path, os.W_OK | os.X_OK):
            raise UsageError(f"workdir {path} is not writable")
    if stored is not None and config_name is None:
        config = load_config(name, "default", overrides, base=stored)
    else:
        config = load_config(name, config_name or "default", overrides)
    if stored is not None:
        from jaxdl.experiment import config_diff

        differing = config_diff(stored, config)
        if differing:
            raise UsageError(
                f"cannot resume {path}: the config differs from its config.json in "
                f"{', '.join(differing)} (omit --config/--set to reuse the stored one)"
            )
    plan = _Plan(path, config, resume, overwrite)
    plan.finished = resume and (path / "summary.json").exists()
    return plan


# ---------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------


def _say(message: str) -> None:
    print(f"jaxdl: {message}", file=sys.stderr, flush=True)


def enable_compilation_cache(path: str | os.PathLike | None = None) -> pathlib.Path | None:
    """:func:`jaxdl.experiment.enable_compilation_cache`, announced once on stderr.

    Small programs are cached too (no minimum compile time or size), so a repeat run
    skips nearly all compilation. ``JAXDL_NO_XLA_CACHE=1`` turns the default one off.
    """
    from jaxdl import experiment

    target = experiment.default_compilation_cache_dir() if path is None else pathlib.Path(path)
    is_new = not target.expanduser().exists()
    enabled = experiment.enable_compilation_cache(path)
    if enabled is not None and is_new:
        _say(f"caching compiled programs in {enabled} (later runs start faster)")
    return enabled


_CACHE_OPTIONS = (
    "jax_enable_compilation_cache",
    "jax_compilation_cache_dir",
    "jax_persistent_cache_min_compile_time_secs",
    "jax_persistent_cache_min_entry_size_bytes",
)


class _CompilationCache:
    """The run's compilation-cache setting; the process's previous one is restored after.

    ``jaxdl run`` is usually its own process; restoring matters when ``main`` is called
    in a longer-lived one (tests, notebooks).
    """

    def __init__(self, directory: str | None):
        self.directory = directory
        self.path: pathlib.Path | None = None

    def __enter__(self):
        import jax

        self.previous = {name: getattr(jax.config, name) for name in _CACHE_OPTIONS}
        if self.directory == "off":
            from jaxdl.experiment import disable_compilation_cache

            disable_compilation_cache()
        else:
            self.path = enable_compilation_cache(self.directory)
        return self

    def __exit__(self, *exc):
        import jax

        from jaxdl.experiment import _reset_compilation_cache

        changed = any(getattr(jax.config, k) != v for k, v in self.previous.items())
        for name, value in self.previous.items():
            jax.config.update(name, value)
        if changed:
            _reset_compilation_cache()


class _CompileClock:
    """Seconds spent tracing, lowering and compiling (JAX's monitoring events)."""

    EVENTS = (
        "/jax/core/compile/jaxpr_trace_duration",
        "/jax/core/compile/jaxpr_to_mlir_module_duration",
        "/jax/core/compile/backend_compile_duration",
    )

    def __init__(self):
        self.seconds = 0.0
        self.compilations = 0
        self.cache_hits = 0

    def __enter__(self):
        from jax import monitoring

        monitoring.register_event_duration_secs_listener(self._duration)
        monitoring.register_event_listener(self._event)
        return self

    def __exit__(self, *exc):
        from jax._src import monitoring as _monitoring

        for remove, listener in (
            ("unregister_event_duration_listener", self._duration),
            ("unregister_event_listener", self._event),
        ):
            try:
                getattr(_monitoring, remove)(listener)
            except (AttributeError, AssertionError, ValueError):  # pragma: no cover
                pass

    def _duration(self, event: str, seconds: float, **kwargs: Any) -> None:
        if event in self.EVENTS:
            self.seconds += seconds
        if event == "/jax/core/compile/backend_compile_duration":
            self.compilations += 1

    def _event(self, event: str, **kwargs: Any) -> None:
        if event == "/jax/compilation_cache/cache_hits":
            self.cache_hits += 1


def _git_commit() -> str | None:
    root = _experiments_root().parent
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def environment() -> dict[str, Any]:
    """Versions of jaxdl, jax, flax, optax, the device kind and the git commit."""
    import importlib.metadata as metadata

    import jax

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    device = jax.devices()[0]
    return {
        "jaxdl": version("jaxdl"),
        "jax": jax.__version__,
        "flax": version("flax"),
        "optax": version("optax"),
        "python": sys.version.split()[0],
        "platform": device.platform,
        "device_kind": device.device_kind,
        "device_count": jax.device_count(),
        "matmul_precision": jax.config.jax_default_matmul_precision or "default",
        "git_commit": _git_commit(),
    }


def _latest_checkpoint_step(directory: pathlib.Path) -> int | None:
    """The step of the newest checkpoint in ``directory`` (None: none, or no directory)."""
    if not directory.is_dir() or not any(directory.iterdir()):
        return None
    from jaxdl.training import Checkpointer

    try:
        with Checkpointer(str(directory)) as checkpointer:
            return checkpointer.latest_step()
    except Exception:  # an unreadable directory: fit decides (and reports) on restore
        return 0


def _raise_terminated(signum, frame):
    raise _Terminated()


def run(
    name: str,
    *,
    config_name: str | None = None,
    overrides: Sequence[tuple[str, str]] = (),
    workdir: str | os.PathLike | None = None,
    resume: bool = False,
    overwrite: bool = False,
    compilation_cache: str | None = None,
    matmul_precision: str | None = None,
) -> tuple[pathlib.Path, dict[str, Any]]:
    """Run one experiment (as ``jaxdl run``); return its work directory and summary.

    Everything is validated before the directory is created or changed (``UsageError``).
    Resuming a finished run returns its stored summary and writes nothing.

    ``compilation_cache``: the persistent compilation cache directory, ``"off"``, or
    ``None`` for the default ``<jaxdl cache>/xla`` (off when ``JAXDL_NO_XLA_CACHE`` is
    set). ``matmul_precision``: ``"default"``, ``"high"`` or ``"highest"`` for float32
    matmuls and convolutions (:func:`jaxdl.experiment.matmul_precision`); ``None`` keeps
    JAX's setting. Both are recorded in summary.json.
    """
    from jaxdl.experiment import MATMUL_PRECISIONS

    if matmul_precision is not None and matmul_precision not in MATMUL_PRECISIONS:
        raise UsageError(
            f"--matmul-precision must be one of {', '.join(MATMUL_PRECISIONS)}, "
            f"got {matmul_precision!r}"
        )
    if compilation_cache not in (None, "off"):
        cache_path = pathlib.Path(compilation_cache).expanduser().absolute()
        if cache_path.exists() and not cache_path.is_dir():
            raise UsageError(f"--compilation-cache {cache_path} is a file, not a directory")
        _check_writable(cache_path)
    plan = plan_run(
        name,
        config_name=config_name,
        overrides=overrides,
        workdir=workdir,
        resume=resume,
        overwrite=overwrite,
    )
    path = plan.workdir
    if plan.finished:
        _say(f"the run in {path} is finished (summary.json exists); nothing to do")
        return path, _read_json(path / "summary.json")
    train = importlib.import_module(f"{_experiment_module(name)}.train")
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:  # pragma: no cover - experiments extra not installed
        pass
    import jax  # noqa: F401  (imported before anything is created: a broken install writes nothing)

    from jaxdl.experiment import Run
    from jaxdl.training.logging import to_json_value

    if plan.overwrite:
        for child in path.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create workdir {path}: {error.strerror}") from error
    _CURRENT_RUN["path"] = path
    verb = "resuming" if plan.resume else "running"
    _say(f"{verb} {name} in {path}")
    if plan.resume and _latest_checkpoint_step(path / "checkpoints") is None:
        _say("no checkpoint to continue from: the run restarts (metrics.jsonl cleared)")
        (path / "metrics.jsonl").unlink(missing_ok=True)
    from jaxdl.experiment import matmul_precision as precision_context

    with _CompilationCache(compilation_cache) as cache:
        context = Run.open(path, plan.config, resume=plan.resume)
        context.logger.write_config(plan.config)
        started = time.perf_counter()
        with _CompileClock() as clock, precision_context(matmul_precision):
            metrics = train.train_and_evaluate(plan.config, context)
            env = environment()
    summary = dict(to_json_value(dict(metrics or {})))
    summary.update(
        wall_time_seconds=time.perf_counter() - started,
        compile_time_seconds=clock.seconds,
        num_compilations=clock.compilations,
        compilation_cache_hits=clock.cache_hits,
        compilation_cache_dir=None if cache.path is None else str(cache.path),
        resumed=plan.resume,
        config_hash=context.metadata["config_hash"],
        environment=env,
    )
    context.logger.write_summary(summary)
    return path, summary


# ---------------------------------------------------------------------------------------
# The closing report
# ---------------------------------------------------------------------------------------


def _shape(value: list) -> list[int]:
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return shape


def _format(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower() if isinstance(value, bool) else "-"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    if isinstance(value, list):
        if len(value) <= 4 and all(isinstance(v, int | float) for v in value):
            return "[" + ", ".join(_format(v) for v in value) + "]"
        return "array " + " x ".join(map(str, _shape(value))) + " (see summary.json)"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def summary_table(summary: Mapping[str, Any], *, max_rows: int = 40) -> str:
    """The summary as a short two-column table: rounded scalars, arrays by their shape.

    Example:
        >>> print(summary_table({"test_accuracy": 0.65123, "confusion": [[1, 2], [3, 4]]}))
        test_accuracy  0.6512
        confusion      array 2 x 2 (see summary.json)
    """
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, node: Mapping[str, Any]) -> None:
        for key, value in node.items():
            if key == "environment":
                continue
            name = f"{prefix}{key}"
            if isinstance(value, Mapping):
                walk(f"{name}.", value)
            else:
                rows.append((name, _format(value)))

    walk("", summary)
    hidden = len(rows) - max_rows
    if hidden > 0:
        rows = rows[:max_rows] + [("...", f"{hidden} more entries in summary.json")]
    width = max((len(name) for name, _ in rows), default=0)
    lines = [f"{name.ljust(width)}  {value}" for name, value in rows]
    env = summary.get("environment")
    if isinstance(env, Mapping):
        parts = [f"{k} {env[k]}" for k in ("jaxdl", "jax", "flax", "optax") if env.get(k)]
        parts.append(str(env.get("device_kind", "")))
        commit = str(env.get("git_commit") or "")
        if commit:
            dirty = " (uncommitted changes)" if commit.endswith("-dirty") else ""
            parts.append(f"git {commit[:12]}{dirty}")
        lines.append(" | ".join(parts))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and the shared usage exit code."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")


def _experiments_epilog() -> str:
    try:
        experiments = available_experiments()
    except UsageError:  # pragma: no cover
        return ""
    width = max((len(n) for n in experiments), default=0)
    lines = ["experiments (configs):"]
    for name in experiments:
        configs = ", ".join(available_configs(name))
        lines.append(f"  {name.ljust(width)}  {describe(name)} ({configs})")
    return "\n".join(lines)


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="jaxdl",
        description=_DESCRIPTION,
        epilog="Commands: 'jaxdl list', 'jaxdl show NAME', 'jaxdl run NAME'. "
        "Each has its own --help.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("list", help="list the experiments and their configs")
    show = commands.add_parser("show", help="print an experiment's config as JSON")
    show.add_argument("name", help="experiment name, e.g. mnist1d-mlp")
    show.add_argument("--config", default="default", help="config name (default: default)")
    show.add_argument(
        "--set", dest="overrides", action="append", type=parse_override, default=[],
        metavar="KEY=VALUE", help="override a config entry (repeatable)",
    )  # fmt: skip
    run_parser = commands.add_parser(
        "run",
        help="run one experiment",
        description="Run one experiment into a fresh work directory.",
        epilog=_experiments_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run_parser.add_argument("name", help="experiment name (see the list below)")
    run_parser.add_argument(
        "--config", default=None, help="config name (default: default; smoke runs in seconds)"
    )
    run_parser.add_argument(
        "--set", dest="overrides", action="append", type=parse_override, default=[],
        metavar="KEY=VALUE",
        help="override a config entry, e.g. --set learning_rate=0.01 (repeatable; dotted "
        "keys reach sections)",
    )  # fmt: skip
    run_parser.add_argument(
        "--workdir",
        default=None,
        help="run directory (default: a fresh runs/NAME-TIMESTAMP); must be empty or new",
    )
    mode = run_parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted run in --workdir with its stored config.json "
        "(--set may change only entries that do not change the run, such as progress)",
    )
    mode.add_argument(
        "--overwrite", action="store_true", help="clear --workdir (an earlier run) first"
    )
    run_parser.add_argument(
        "--json", action="store_true", help="print the summary as JSON instead of a table"
    )
    run_parser.add_argument(
        "--compilation-cache",
        default=None,
        metavar="DIR|off",
        help="persistent XLA compilation cache directory, or 'off' (default: "
        "<jaxdl cache>/xla, i.e. $JAXDL_CACHE_DIR/xla or ~/.cache/jaxdl/xla; "
        "JAXDL_NO_XLA_CACHE=1 also turns it off)",
    )
    run_parser.add_argument(
        "--matmul-precision",
        default=None,
        choices=("default", "high", "highest"),
        help="precision of float32 matmuls and convolutions: default (TPU: one bfloat16 "
        "pass, recent GPUs: TF32), high (TPU: 3 bfloat16 passes), highest (float32); "
        "no effect on CPU (default: JAX's setting)",
    )
    return parser


def _close_progress_bars() -> None:
    """End a progress bar's line, so that the interruption message is a line of its own."""
    tqdm = sys.modules.get("tqdm")
    if tqdm is None:
        return
    for bar in list(getattr(getattr(tqdm, "tqdm", None), "_instances", ()) or ()):
        try:
            bar.close()
        except Exception:  # pragma: no cover - a bar in a broken state
            pass
    print(file=sys.stderr, flush=True)  # a bar may have left the cursor on its line


def _resume_hint(name: str, workdir: pathlib.Path | None) -> str:
    if workdir is None:
        return ""
    return f"; resume with: jaxdl run {name} --workdir {workdir} --resume"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jaxdl`` command; returns the exit status."""
    args = None
    workdir = None
    previous_sigterm = None
    try:
        args = _build_parser().parse_args(argv)
        if args.command == "list":
            experiments = available_experiments()
            width = max((len(n) for n in experiments), default=0)
            for name in experiments:
                configs = ", ".join(available_configs(name))
                print(f"{name.ljust(width)}  {describe(name)} [{configs}]")
            return 0
        if args.command == "show":
            config = load_config(args.name, args.config, args.overrides)
            print(json.dumps(config, indent=2))
            return 0
        if args.workdir is not None:
            workdir = pathlib.Path(args.workdir).absolute()
        if threading_main():
            previous_sigterm = signal.signal(signal.SIGTERM, _raise_terminated)
        path, summary = run(
            args.name,
            config_name=args.config,
            overrides=args.overrides,
            workdir=args.workdir,
            resume=args.resume,
            overwrite=args.overwrite,
            compilation_cache=args.compilation_cache,
            matmul_precision=args.matmul_precision,
        )
        workdir = path
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            print(summary_table(summary))
            print(f"results written to {path}")
        return 0
    except UsageError as error:
        print(f"jaxdl: {error}", file=sys.stderr)
        return USAGE_ERROR
    except _Terminated:
        _close_progress_bars()
        _quiet_threads_at_shutdown()
        name = getattr(args, "name", "")
        print(f"jaxdl: terminated (SIGTERM){_resume_hint(name, workdir)}", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt as interrupt:
        _close_progress_bars()
        _quiet_threads_at_shutdown()
        name = getattr(args, "name", "")
        step = getattr(interrupt, "step", None)
        signum = getattr(interrupt, "signal", signal.SIGINT)
        where = f" at step {step}" if step is not None else ""
        hint = _resume_hint(name, _run_dir(workdir, args))
        print(f"jaxdl: interrupted{where}{hint}", file=sys.stderr)
        return 128 + int(signum)
    except Exception as error:
        interrupted = _training_interrupted()
        if interrupted is not None and isinstance(error, interrupted):
            _close_progress_bars()
            _quiet_threads_at_shutdown()
            name = getattr(args, "name", "")
            step = getattr(error, "step", None)
            signum = int(getattr(error, "signal", signal.SIGINT) or signal.SIGINT)
            hint = _resume_hint(name, _run_dir(workdir, args))
            where = f" at step {step}" if step is not None else ""
            print(f"jaxdl: interrupted{where}{hint}", file=sys.stderr)
            return 128 + signum
        raise
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)


def _quiet_threads_at_shutdown() -> None:
    """After an interrupt, drop the errors of background threads racing interpreter exit.

    The checkpoint was finalized before the interrupt reached the CLI; an orbax worker
    thread that wakes during shutdown can still fail with "cannot schedule new futures
    after interpreter shutdown" and would print a traceback under the one-line message.
    Other thread errors are still reported.
    """
    import threading

    previous = threading.excepthook

    def hook(args) -> None:
        if isinstance(args.exc_value, RuntimeError) and "shutdown" in str(args.exc_value):
            return
        previous(args)

    threading.excepthook = hook


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _run_dir(workdir: pathlib.Path | None, args) -> pathlib.Path | None:
    """The directory of the run being interrupted (the default one too, once created)."""
    if workdir is not None:
        return workdir
    return _CURRENT_RUN.get("path")


_CURRENT_RUN: dict[str, pathlib.Path] = {}


def _training_interrupted():
    try:
        from jaxdl.training import TrainingInterrupted  # the engine branch adds it
    except ImportError:
        return None
    return TrainingInterrupted


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
