"""Experiment support: the validated config, the run context and the plotting helper.

This layer sits between ``jaxdl.testing`` and ``jaxdl.cli``. The CLI owns a run; an
experiment is only

    def train_and_evaluate(config: dict, workdir: Run) -> dict: ...

which trains, writes its plots and returns its metrics. It never writes config.json or
summary.json, never selects a matplotlib backend and never makes a key from the seed.

The run context
    ``Run`` is what the CLI passes as ``workdir``. It is path-like (``os.fspath(workdir)``,
    ``pathlib.Path(workdir)`` and ``workdir / "loss.png"`` work), and carries:

    - ``path``: the run directory (absolute, existing);
    - ``key``: ``jax.random.key(config["seed"])``, the one key of the run: split it by
      purpose once at the top of ``train_and_evaluate``;
    - ``logger``: the :class:`jaxdl.training.RunLogger` writing ``metrics.jsonl``;
    - ``checkpoint_dir``: ``path / "checkpoints"`` (as a string, for ``fit``);
    - ``resume``: True when the CLI was asked to continue an interrupted run;
    - ``progress``: show progress bars (the config's ``progress`` entry, default True);
    - ``metadata``: the run metadata stored with checkpoints (the config hash).

    ``workdir.fit_kwargs()`` returns the keyword arguments of ``fit`` that belong to the
    run (``logger``, ``progress``, ``checkpoint_dir``, ``resume`` and, once ``fit`` accepts
    it, ``run_metadata``), so that ``jaxdl run NAME --resume`` continues from the last
    checkpoint. An experiment that calls ``fit`` several times passes
    ``fit_kwargs(checkpoint=False, logger=False)`` and logs its own records; on
    ``--resume`` such a run, having no checkpoint to continue from, is restarted by the
    CLI (its ``metrics.jsonl`` is cleared first), so no line is ever written twice.

The config
    A config is a plain JSON-like dict from ``configs/<name>.py:get_config()``. Its types
    are those of the experiment's default config: :func:`validate_config` checks every
    value against them and against rules read from the key names (see its docstring). An
    experiment adds its own checks with ``validate(config)`` in ``train.py`` or
    ``configs/default.py``, raising ``ValueError`` with a one-line message.

The plots
    :func:`figure` (a context manager over a matplotlib ``Figure``, no pyplot state) and
    :func:`line_plot` save PNGs that have axis labels on every panel with data (a panel
    without them is an error), a legend wherever a panel shows several labelled series,
    and integer ticks on axes that count (epochs, steps, sweeps, ...).
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hashlib
import json
import math
import os
import pathlib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "ConfigError",
    "Run",
    "closest",
    "config_diff",
    "config_hash",
    "enable_compilation_cache",
    "disable_compilation_cache",
    "matmul_precision",
    "decision_boundary",
    "figure",
    "history_columns",
    "image_grid",
    "line_plot",
    "validate_config",
]

# ---------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------


class ConfigError(ValueError):
    """A config value of the wrong type or out of range (the message is one line)."""


def closest(name: str, choices: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, or ``""``.

    Example:
        >>> closest("batchsize", ["batch_size", "seed"])
        "; did you mean 'batch_size'?"
    """
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f"; did you mean {match[0]!r}?" if match else ""


# Rules read from key names (the last dotted part). Each returns an error or None.
_POSITIVE_INT = re.compile(r"^(batch_size|(.+_)?num_.+|.+_steps|.*epochs.*|.+_size|.+_rounds)$")
_NON_NEGATIVE_INT = re.compile(r"^(seed|.+_seed|burn_in)$")
_POSITIVE_FLOAT = re.compile(r"^(.*learning_rates?.*)$")
_PROBABILITY = re.compile(r"^(.+_rate|rate|.*momentum.*)$")  # dropout-like: [0, 1)
_KEEP_PROBABILITY = re.compile(r"^(.*keep_probability.*)$")  # (0, 1]
_FRACTION = re.compile(r"^(.+_fraction)$")  # (0, 1)
_NON_NEGATIVE = re.compile(r"^(.+_weight|.+_strength|weight_decay|beta|.*noise.*|.+_std)$")
_COUNT_LISTS = re.compile(r"^(hidden|features|widths|depths|.+_hidden|sample_sizes)$")


def _number_rule(name: str, value: float) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be finite, got {value}"
    if _NON_NEGATIVE_INT.match(name) and isinstance(value, int) and value < 0:
        return f"must be a non-negative int, got {value}"
    if _POSITIVE_INT.match(name) and isinstance(value, int) and value <= 0:
        return f"must be a positive int, got {value}"
    if _POSITIVE_FLOAT.match(name) and not value > 0:
        return f"must be positive, got {value}"
    if not _POSITIVE_FLOAT.match(name) and _PROBABILITY.match(name) and not 0 <= value < 1:
        return f"must be in [0, 1), got {value}"
    if _KEEP_PROBABILITY.match(name) and not 0 < value <= 1:
        return f"must be in (0, 1], got {value}"
    if _FRACTION.match(name) and not 0 < value < 1:
        return f"must be in (0, 1), got {value}"
    if _NON_NEGATIVE.match(name) and value < 0:
        return f"must be non-negative, got {value}"
    return None


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an int"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a section (dict)"
    return type(value).__name__


def _check(path: str, value: Any, reference: Any) -> Any:
    """``value`` checked against the type of ``reference`` (``None``: any type)."""
    name = path.rsplit(".", 1)[-1]
    where = f"config key {path!r}"
    if isinstance(reference, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where} is a section (dict); it cannot be replaced by {value!r}")
        return {str(k): _check(f"{path}.{k}", v, reference.get(k, v)) for k, v in value.items()}
    if isinstance(reference, list | tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where} must be {_type_name(reference)}, got {value!r}")
        kinds = {type(v) for v in reference}
        element = reference[0] if len(kinds) == 1 and reference else None
        checked = [_check(f"{path}[{i}]", v, element) for i, v in enumerate(value)]
        if _COUNT_LISTS.match(name):
            for i, v in enumerate(checked):
                if isinstance(v, int) and not isinstance(v, bool) and v <= 0:
                    raise ConfigError(f"{where}[{i}] must be a positive int, got {v}")
        for i, v in enumerate(checked):
            if isinstance(v, int | float) and not isinstance(v, bool):
                error = _number_rule(name, v)
                if error:
                    raise ConfigError(f"{where}[{i}] {error}")
        return checked
    if reference is None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            error = _number_rule(name, value)
            if error:
                raise ConfigError(f"{where} {error}")
        return value
    if isinstance(reference, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be a boolean, got {value!r}")
        return value
    if isinstance(reference, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an int, got {value!r}")
    elif isinstance(reference, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} must be a float, got {value!r}")
        value = float(value)
    elif isinstance(reference, str):
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        return value
    error = _number_rule(name, value)
    if error:
        raise ConfigError(f"{where} {error}")
    return value


def validate_config(
    config: Mapping[str, Any], reference: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``config`` checked and normalized (ints in float entries become floats, tuples lists).

    Types come from ``reference`` (the experiment's default config; ``config`` itself when
    ``None``): a float entry takes an int or a float, an int entry only an int, a boolean
    only a boolean, a list only a list (never a scalar; its elements typed like the
    default's elements), a section (dict) only a dict, ``None`` anything. Rules read from
    the key names (the last part of a dotted name), on ints, floats and list elements:

    - ``batch_size``, ``num_*``, ``*_num_*``, ``*_steps``, ``*epochs*``, ``*_size``,
      ``*_rounds``: positive ints;
      ``seed``, ``*_seed``, ``burn_in``: non-negative ints;
    - ``*learning_rate*``: finite and positive; other ``*_rate`` and ``*momentum*``
      (dropout-like probabilities): in [0, 1); ``*keep_probability*``: in (0, 1];
      ``*_fraction``: in (0, 1); ``*_weight``, ``*_strength``, ``weight_decay``, ``beta``,
      ``*noise*``, ``*_std``: non-negative;
    - list entries that count (``hidden``, ``features``, ``widths``, ``depths``,
      ``*_hidden``, ``sample_sizes``): positive ints; every float is finite.

    Every config needs a ``seed`` (the CLI makes the run's key from it).

    Raises:
        ConfigError: with a one-line message naming the key.

    Example:
        >>> validate_config({"seed": 0, "learning_rate": 1, "hidden": [8]},
        ...                 {"seed": 0, "learning_rate": 0.1, "hidden": [4, 4]})
        {'seed': 0, 'learning_rate': 1.0, 'hidden': [8]}
        >>> validate_config({"seed": 0, "batch_size": 0})
        Traceback (most recent call last):
        ...
        jaxdl.experiment.ConfigError: config key 'batch_size' must be a positive int, got 0
    """
    reference = config if reference is None else reference
    if "seed" not in config:
        raise ConfigError("the config has no 'seed' entry (the run's key is made from it)")
    return {str(k): _check(str(k), v, reference.get(k, v)) for k, v in config.items()}


_NOT_IN_HASH = ("progress",)  # entries that do not change what a run computes


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def config_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Dotted names of the entries that differ (``progress`` is ignored).

    Example:
        >>> config_diff({"a": 1, "s": {"b": 2}}, {"a": 1, "s": {"b": 3}, "c": 0})
        ['c', 's.b']
    """
    old_flat, new_flat = _flatten(_plain(old)), _flatten(_plain(new))
    names = sorted(set(old_flat) | set(new_flat))
    return [
        n
        for n in names
        if n not in _NOT_IN_HASH and old_flat.get(n, _MISSING) != new_flat.get(n, _MISSING)
    ]


_MISSING = object()


def _plain(config: Mapping[str, Any]) -> dict[str, Any]:
    from jaxdl.training.logging import to_json_value

    return json.loads(json.dumps(to_json_value(dict(config)), sort_keys=True))


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 (first 16 hex digits) of the config's JSON, ``progress`` left out."""
    plain = {k: v for k, v in _plain(config).items() if k not in _NOT_IN_HASH}
    return hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------
# The run context
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Run(os.PathLike):
    """One run's directory and what belongs to it (see the module docstring).

    The CLI creates it with :meth:`open`; an experiment reads it. Path-like: use it
    wherever a directory path is expected.
    """

    path: pathlib.Path
    key: Any
    logger: Any
    resume: bool = False
    progress: bool = True
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def open(cls, path: str | os.PathLike, config: Mapping[str, Any], *, resume: bool = False):
        """The context of a run of ``config`` in the existing directory ``path``."""
        import jax

        from jaxdl.training.logging import RunLogger

        path = pathlib.Path(path).absolute()
        return cls(
            path=path,
            key=jax.random.key(int(config["seed"])),
            logger=RunLogger(path),
            resume=resume,
            progress=bool(config.get("progress", True)),
            metadata={"config_hash": config_hash(config)},
        )

    def __fspath__(self) -> str:
        return str(self.path)

    def __truediv__(self, other: str) -> pathlib.Path:
        return self.path / other

    def __str__(self) -> str:
        return str(self.path)

    @property
    def checkpoint_dir(self) -> str:
        """``<run>/checkpoints``: where ``fit`` saves and, on ``--resume``, restores."""
        return str(self.path / "checkpoints")

    def fit_kwargs(self, *, checkpoint: bool = True, logger: bool = True) -> dict[str, Any]:
        """The keyword arguments of ``fit`` that belong to the run.

        ``checkpoint=False`` for a ``fit`` that is one of several in an experiment (it
        neither saves nor resumes); ``logger=False`` when the experiment logs its own
        records (several fits into one ``metrics.jsonl``).
        """
        kwargs: dict[str, Any] = {"progress": self.progress}
        if logger:
            kwargs["logger"] = self.logger
        if checkpoint:
            kwargs["checkpoint_dir"] = self.checkpoint_dir
            kwargs["resume"] = self.resume
            if _fit_accepts("run_metadata"):
                kwargs["run_metadata"] = dict(self.metadata)
        return kwargs


def _fit_accepts(name: str) -> bool:
    import inspect

    from jaxdl.training import fit

    return name in inspect.signature(fit).parameters


def history_columns(history: Sequence[Mapping[str, Any]], *names: str) -> dict[str, list[float]]:
    """Columns of a ``fit`` history; records without an entry are skipped.

    Example:
        >>> history_columns([{"a": 1.0, "b": 2.0}, {"a": 0.5}], "a", "b")
        {'a': [1.0, 0.5], 'b': [2.0]}
    """
    return {name: [r[name] for r in history if name in r] for name in names}


# ---------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------

_COUNT_LABEL = re.compile(
    r"\b(epochs?|steps?|iterations?|sweeps?|rounds?|updates?|members?|width|depth|"
    r"number of|count|hidden units)\b(?! size)",
    re.IGNORECASE,
)


class PlotError(ValueError):
    """A figure that breaks the house rules (a panel without axis labels)."""


def _integer_valued(values: np.ndarray) -> bool:
    values = np.asarray(values, dtype=float)
    return (
        values.size > 0
        and bool(np.all(np.isfinite(values)))
        and bool(np.all(values == np.round(values)))
    )


def _finish_axes(ax, where: str) -> None:
    from matplotlib.ticker import MaxNLocator

    if not ax.axison or (ax.images and not ax.get_lines()):
        return  # an image panel
    lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    series = lines + [c for c in ax.collections if not str(c.get_label()).startswith("_")]
    has_data = bool(ax.get_lines() or ax.collections or ax.patches or ax.images)
    if has_data and not (ax.get_xlabel() and ax.get_ylabel()):
        raise PlotError(f"{where}: every panel with data needs an x and a y axis label")
    if len(series) > 1 and ax.get_legend() is None:
        ax.legend(fontsize="small")
    x_count = _COUNT_LABEL.search(ax.get_xlabel()) or (
        ax.get_lines() and all(_integer_valued(line.get_xdata()) for line in ax.get_lines())
    )
    if x_count and ax.get_xscale() == "linear":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if _COUNT_LABEL.search(ax.get_ylabel()) and ax.get_yscale() == "linear":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))


@contextlib.contextmanager
def figure(
    path: str | os.PathLike,
    nrows: int = 1,
    ncols: int = 1,
    *,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
    dpi: int = 100,
    **subplot_kw: Any,
) -> Iterator[Any]:
    """A figure saved to ``path`` (PNG) on leaving the block, checked first.

    Yields one ``Axes`` for ``nrows == ncols == 1``, else the array of axes (as
    ``plt.subplots``; ``squeeze=False`` keeps it 2-D). On exit every panel with data must
    have both axis labels (put units in them: ``"time (s)"``; a panel showing an image
    turns its axes off with ``ax.set_axis_off()``); panels with several labelled series
    get a legend if they have none; counting axes (epochs, steps, ...; or x data that are
    all integers) get integer ticks. Uses the object-oriented ``Figure`` (no pyplot
    state, no backend needed).

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "demo.png"
        >>> with figure(out) as ax:
        ...     _ = ax.plot([1, 2, 3], [3.0, 2.0, 1.5], label="train")
        ...     _ = ax.set(xlabel="epoch", ylabel="loss")
        >>> out.exists()
        True
    """
    from matplotlib.figure import Figure

    if figsize is None:
        figsize = (6 * ncols, 4 * nrows)
    fig = Figure(figsize=figsize, dpi=dpi)
    squeeze = subplot_kw.pop("squeeze", True)
    axes = fig.subplots(nrows, ncols, squeeze=squeeze, **subplot_kw)
    yield axes
    for i, ax in enumerate(np.atleast_1d(axes).ravel()):
        _finish_axes(ax, f"{pathlib.Path(path).name} panel {i}")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(os.fspath(path))


def line_plot(
    path: str | os.PathLike,
    curves: Mapping[str, Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    title: str = "",
    x: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    log_x: bool = False,
    log_y: bool = False,
) -> pathlib.Path:
    """One line per named curve (x defaults to 1, 2, ...: epochs), saved as a PNG.

    ``x`` is one sequence shared by all curves or a mapping with one per curve.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "loss.png"
        >>> _ = line_plot(out, {"train": [1.0, 0.5], "val": [1.1, 0.7]},
        ...               xlabel="epoch", ylabel="cross-entropy (nats)")
        >>> out.exists()
        True
    """
    with figure(path) as ax:
        for name, values in curves.items():
            values = np.asarray(values, dtype=float)
            xs = x.get(name) if isinstance(x, Mapping) else x
            xs = np.arange(1, len(values) + 1) if xs is None else np.asarray(xs)[: len(values)]
            ax.plot(xs, values, label=name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if log_x:
            ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        if title:
            ax.set_title(title)
        ax.grid(alpha=0.3)
    return pathlib.Path(path)


def decision_boundary(
    ax, predict, x: np.ndarray, y: np.ndarray, *, title: str = "", resolution: int = 200
):
    """Colour the plane by ``predict(points) -> class`` and scatter 2-D data ``x`` on top.

    Labels the axes ``x1`` and ``x2`` (the input features, no unit).
    """
    x = np.asarray(x)
    y = np.asarray(y)
    lo = x.min(axis=0) - 0.5
    hi = x.max(axis=0) + 0.5
    gx, gy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    zz = np.asarray(predict(grid)).reshape(gx.shape)
    ax.contourf(gx, gy, zz, alpha=0.3, levels=np.arange(zz.max() + 2) - 0.5, cmap="coolwarm")
    ax.scatter(x[:, 0], x[:, 1], c=y, s=10, cmap="coolwarm", edgecolors="k", linewidths=0.2)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    if title:
        ax.set_title(title)
    return ax


def image_grid(
    rows: Sequence[np.ndarray],
    path: str | os.PathLike,
    *,
    row_titles: Sequence[str] | None = None,
    title: str = "",
    side: int = 8,
    cmap: str = "gray_r",
    value_range: tuple[float, float] | None = (0.0, 1.0),
) -> pathlib.Path:
    """Save a grid of ``side x side`` images, one figure row per array of images.

    Values are clipped to ``value_range`` (``None``: each image's own range, e.g. filters
    shown with ``cmap="RdBu_r"``).
    """
    num_rows = len(rows)
    num_cols = max(len(r) for r in rows)
    figsize = (num_cols * 0.7 + 1.2, num_rows * 0.75 + 0.5)
    with figure(path, num_rows, num_cols, figsize=figsize, squeeze=False, title=title) as axes:
        for i, images in enumerate(rows):
            for j in range(num_cols):
                ax = axes[i, j]
                ax.set_xticks([])
                ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_visible(False)
                if j < len(images):
                    image = np.asarray(images[j], dtype=float).reshape(side, side)
                    limits = {}
                    if value_range is not None:
                        image = np.clip(image, *value_range)
                        limits = {"vmin": value_range[0], "vmax": value_range[1]}
                    ax.imshow(image, cmap=cmap, interpolation="nearest", **limits)
            if row_titles:
                axes[i, 0].set_ylabel(
                    row_titles[i], rotation=0, ha="right", va="center", fontsize=8
                )
    return pathlib.Path(path)


# ---------------------------------------------------------------------------------------
# Compilation cache and float32 matmul precision (the CLI's --compilation-cache and
# --matmul-precision; notebooks call them directly)
# ---------------------------------------------------------------------------------------


def default_compilation_cache_dir() -> pathlib.Path:
    """``<jaxdl cache>/xla``: ``$JAXDL_CACHE_DIR/xla`` or ``~/.cache/jaxdl/xla``."""
    from jaxdl.data import cache_dir

    return cache_dir() / "xla"


def enable_compilation_cache(path: str | os.PathLike | None = None) -> pathlib.Path | None:
    """Turn on JAX's persistent compilation cache, so that a repeat run skips compiling.

    Every compiled program (small ones too: no minimum compile time or size) is written
    to ``path`` keyed by its HLO, the JAX/XLA versions, the device and the compile
    options; a later process that compiles the same program reads it back instead. A run
    reports its ``compile_time_seconds`` and ``compilation_cache_hits`` in summary.json.

    Args:
        path: the cache directory (created if missing). ``None``: the default
            ``<jaxdl cache>/xla`` (:func:`default_compilation_cache_dir`), unless the
            environment variable ``JAXDL_NO_XLA_CACHE`` is set, which turns the cache off.

    Returns:
        The cache directory, or ``None`` when ``JAXDL_NO_XLA_CACHE`` turned it off.

    Example:
        >>> import tempfile, jax
        >>> previous = jax.config.jax_compilation_cache_dir
        >>> path = enable_compilation_cache(tempfile.mkdtemp())
        >>> jax.config.jax_compilation_cache_dir == str(path)
        True
        >>> _ = enable_compilation_cache(previous) if previous else disable_compilation_cache()
    """
    import jax

    if path is None:
        if os.environ.get("JAXDL_NO_XLA_CACHE"):
            return None
        path = default_compilation_cache_dir()
    path = pathlib.Path(path).expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise ValueError(f"path must be a directory for the compilation cache, got file {path}")
    path.mkdir(parents=True, exist_ok=True)
    changed = jax.config.jax_compilation_cache_dir != str(path)
    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    if changed:  # JAX opens its cache once per process: reopen it in the new directory
        _reset_compilation_cache()
    return path


def disable_compilation_cache() -> None:
    """Turn JAX's persistent compilation cache off for the rest of the process.

    Example:
        >>> import jax
        >>> previous = jax.config.jax_enable_compilation_cache
        >>> disable_compilation_cache(); jax.config.jax_enable_compilation_cache
        False
        >>> jax.config.update("jax_enable_compilation_cache", previous)
    """
    import jax

    jax.config.update("jax_enable_compilation_cache", False)
    _reset_compilation_cache()


def _reset_compilation_cache() -> None:
    from jax.experimental.compilation_cache import compilation_cache

    compilation_cache.reset_cache()


MATMUL_PRECISIONS = ("default", "high", "highest")


@contextlib.contextmanager
def matmul_precision(precision: str | None) -> Iterator[None]:
    """Run the block with this float32 matmul and convolution precision.

    JAX computes float32 matmuls and convolutions at the platform's fastest precision by
    default. ``precision`` picks another for every program traced inside the block:

    ========== ============================ ============================= ========
    precision  TPU                          GPU (Ampere or newer)         CPU
    ========== ============================ ============================= ========
    default    one bfloat16 pass            TensorFloat-32 (10-bit)       float32
    high       3 bfloat16 passes (~16 bits) TensorFloat-32                float32
    highest    6 bfloat16 passes (float32)  float32                       float32
    ========== ============================ ============================= ========

    It does not change dtypes (bfloat16 inputs compute in bfloat16 whatever it says).
    ``None`` leaves the current setting. Outside a block use
    ``jax.config.update("jax_default_matmul_precision", "highest")``.

    Args:
        precision: ``"default"``, ``"high"``, ``"highest"`` or ``None``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> with matmul_precision("highest"):
        ...     y = jax.jit(lambda a: a @ a)(jnp.ones((2, 2)))
        >>> float(y[0, 0])
        2.0

    Reference: JAX documentation, "Matmul precision" (``jax.default_matmul_precision``).
    """
    if precision is None:
        yield
        return
    if precision not in MATMUL_PRECISIONS:
        raise ValueError(
            f"precision must be one of {', '.join(MATMUL_PRECISIONS)}, got {precision!r}"
        )
    import jax

    with jax.default_matmul_precision(precision):
        yield
