"""Shared pieces of the experiments: plots and the standard run directory."""

from __future__ import annotations

import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    path: str | pathlib.Path,
    *,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    title: str = "",
    log_y: bool = False,
    x: Sequence[float] | None = None,
) -> pathlib.Path:
    """One line per named curve, saved as a PNG."""
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for name, values in curves.items():
        values = np.asarray(values, dtype=float)
        xs = np.arange(1, len(values) + 1) if x is None else np.asarray(x)[: len(values)]
        ax.plot(xs, values, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = pathlib.Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


def history_columns(history: Sequence[Mapping[str, Any]], *names: str) -> dict[str, list[float]]:
    """Columns of a ``fit`` history (entries missing in a record are skipped)."""
    return {name: [r[name] for r in history if name in r] for name in names}


def plot_decision_boundary(
    predict,
    x: np.ndarray,
    y: np.ndarray,
    path: str | pathlib.Path,
    *,
    title: str = "",
    resolution: int = 200,
    ax=None,
):
    """Colour the plane by ``predict(points) -> class`` and scatter the 2-D data on top."""
    x = np.asarray(x)
    y = np.asarray(y)
    pad = 0.5
    lo = x.min(axis=0) - pad
    hi = x.max(axis=0) + pad
    gx, gy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    zz = np.asarray(predict(grid)).reshape(gx.shape)
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.contourf(gx, gy, zz, alpha=0.3, levels=np.arange(zz.max() + 2) - 0.5, cmap="coolwarm")
    ax.scatter(x[:, 0], x[:, 1], c=y, s=10, cmap="coolwarm", edgecolors="k", linewidths=0.2)
    if title:
        ax.set_title(title)
    if own:
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
    return path
