"""Image grids shared by the generative experiments (vae, gan, autoencoders)."""

from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def image_grid(
    rows: list[np.ndarray],
    path: str | pathlib.Path,
    *,
    row_titles: list[str] | None = None,
    title: str = "",
    side: int = 8,
) -> pathlib.Path:
    """Save a grid of ``side x side`` grey images in [0, 1], one figure row per array."""
    num_rows = len(rows)
    num_cols = max(len(r) for r in rows)
    fig, axes = plt.subplots(
        num_rows,
        num_cols,
        figsize=(num_cols * 0.7 + 1.2, num_rows * 0.75 + 0.5),
        dpi=100,
        squeeze=False,
    )
    for i, images in enumerate(rows):
        for j in range(num_cols):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(images):
                image = np.clip(np.asarray(images[j]).reshape(side, side), 0.0, 1.0)
                ax.imshow(image, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
        if row_titles:
            axes[i, 0].set_ylabel(row_titles[i], rotation=0, ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = pathlib.Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
