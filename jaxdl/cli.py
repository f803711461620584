"""``jaxdl list`` and ``jaxdl run NAME``: the command line for the course's experiments.

Experiments live in the checkout's ``experiments/`` package, one folder per topic with
``train.py`` (``train_and_evaluate(config, workdir) -> dict``) and ``configs/`` (one
module per config with ``get_config() -> dict``). The library itself never imports
them; this CLI finds them by name: the folder ``mnist1d_mlp`` is the experiment
``mnist1d-mlp``.
"""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import importlib
import json
import pathlib
import pkgutil
import sys
import time
from collections.abc import Sequence
from typing import Any


def _experiments_package():
    try:
        return importlib.import_module("experiments")
    except ImportError as error:  # pragma: no cover - depends on the install
        raise SystemExit(
            "jaxdl: cannot import the 'experiments' package; run jaxdl from a checkout "
            "installed with `pip install -e .`"
        ) from error


def available_experiments() -> dict[str, str]:
    """Map of experiment names (dashes) to their module paths (``experiments.<folder>``)."""
    package = _experiments_package()
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        if not info.ispkg or info.name.startswith("_"):
            continue
        folder = pathlib.Path(info.module_finder.path) / info.name  # type: ignore[attr-defined]
        if (folder / "train.py").exists() and (folder / "configs").is_dir():
            found[info.name.replace("_", "-")] = f"experiments.{info.name}"
    return dict(sorted(found.items()))


def _describe(module_path: str) -> str:
    try:
        config_module = importlib.import_module(f"{module_path}.configs.default")
    except ImportError:
        return ""
    doc = (config_module.__doc__ or "").strip().splitlines()
    return doc[0] if doc else ""


def parse_override(text: str) -> tuple[str, str]:
    """Split ``key=value`` (the value is parsed later against the config's type).

    Example:
        >>> parse_override("optimizer.learning_rate = 0.1")
        ('optimizer.learning_rate', '0.1')
    """
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--set expects key=value, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def _coerce(key: str, raw: str, current: Any) -> Any:
    if isinstance(current, bool):
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"--set {key}: expected a boolean, got {raw!r}")
    if isinstance(current, int):
        try:
            return int(raw)
        except ValueError as error:
            raise ValueError(f"--set {key}: expected an int, got {raw!r}") from error
    if isinstance(current, float):
        try:
            return float(raw)
        except ValueError as error:
            raise ValueError(f"--set {key}: expected a float, got {raw!r}") from error
    if isinstance(current, str) or current is None:
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return raw
        return value if current is None else raw
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError) as error:
        raise ValueError(f"--set {key}: cannot parse {raw!r} as a Python literal") from error
    if isinstance(current, tuple | list) and isinstance(value, tuple | list):
        return type(current)(value)
    return value


def apply_overrides(config: dict[str, Any], overrides: Sequence[tuple[str, str]]) -> dict:
    """Return ``config`` with ``key=value`` overrides applied; dotted keys reach nested dicts.

    Raises:
        KeyError: for a key the config does not have (with the available keys).

    Example:
        >>> config = {"num_epochs": 10, "model": {"features": [8, 2]}, "name": "mlp"}
        >>> apply_overrides(config, [("num_epochs", "3"), ("model.features", "[4, 2]")])
        {'num_epochs': 3, 'model': {'features': [4, 2]}, 'name': 'mlp'}
        >>> config["num_epochs"]  # the input is left as it was
        10
    """
    config = json.loads(json.dumps(config)) if _is_plain(config) else dict(config)
    for key, raw in overrides:
        node = config
        parts = key.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                raise KeyError(f"--set {key}: {part!r} is not a section of the config")
            node = node[part]
        if parts[-1] not in node:
            raise KeyError(f"--set {key}: unknown config key; available: {sorted(node)}")
        node[parts[-1]] = _coerce(key, raw, node[parts[-1]])
    return config


def _is_plain(config: Any) -> bool:
    try:
        return json.loads(json.dumps(config)) == config
    except (TypeError, ValueError):
        return False


def load_config(name: str, config_name: str = "default") -> dict[str, Any]:
    """The ``get_config()`` of experiment ``name``'s ``configs/<config_name>.py``."""
    experiments = available_experiments()
    if name not in experiments:
        raise SystemExit(f"jaxdl: unknown experiment {name!r}; available: {', '.join(experiments)}")
    try:
        module = importlib.import_module(f"{experiments[name]}.configs.{config_name}")
    except ImportError as error:
        raise SystemExit(f"jaxdl: experiment {name!r} has no config {config_name!r}") from error
    return dict(module.get_config())


def run(
    name: str,
    *,
    config_name: str = "default",
    overrides: Sequence[tuple[str, str]] = (),
    workdir: str | None = None,
) -> tuple[pathlib.Path, dict[str, Any]]:
    """Run one experiment; return its work directory and the summary it produced."""
    config = apply_overrides(load_config(name, config_name), overrides)
    if workdir is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        workdir = str(pathlib.Path("runs") / f"{name}-{stamp}")
    path = pathlib.Path(workdir)
    path.mkdir(parents=True, exist_ok=True)
    module = importlib.import_module(f"{available_experiments()[name]}.train")
    started = time.perf_counter()
    summary = dict(module.train_and_evaluate(config, str(path)) or {})
    summary.setdefault("wall_time_seconds", time.perf_counter() - started)
    summary_path = path / "summary.json"
    if not summary_path.exists():
        from jaxdl.training.logging import RunLogger

        RunLogger(path).write_summary(summary)
    return path, summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jaxdl", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the experiments")
    run_parser = commands.add_parser("run", help="run one experiment")
    run_parser.add_argument("name")
    run_parser.add_argument("--config", default="default", help="config module (default/smoke)")
    run_parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        type=parse_override,
        default=[],
        metavar="KEY=VALUE",
        help="override a config entry (repeatable)",
    )
    run_parser.add_argument("--workdir", default=None, help="output directory")
    args = parser.parse_args(argv)

    if args.command == "list":
        experiments = available_experiments()
        width = max((len(n) for n in experiments), default=0)
        for name, module_path in experiments.items():
            print(f"{name.ljust(width)}  {_describe(module_path)}")
        return 0
    try:
        path, summary = run(
            args.name, config_name=args.config, overrides=args.overrides, workdir=args.workdir
        )
    except (KeyError, ValueError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"jaxdl: {message}", file=sys.stderr)
        return 2
    from jaxdl.training.logging import to_json_value

    print(json.dumps(to_json_value(summary), indent=2, sort_keys=True))
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
