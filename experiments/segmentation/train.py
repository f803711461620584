"""Synthetic segmentation: a fully convolutional network labels every pixel (structured output)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.experiment import Run, image_grid, line_plot
from jaxdl.nn import FullyConvolutionalNet
from jaxdl.training import create_train_state, fit, make_supervised_loss

CLASSES = ("background", "disk", "square")


def validate(config: dict) -> None:
    if config["image_size"] < 12:
        raise ValueError(f"image_size must be >= 12, got {config['image_size']}")


def make_shapes(num_images: int, size: int, noise_std: float, seed: int):
    """Noisy images with one disk and one square each; labels 0/1/2 per pixel.

    Disks and squares have the same brightness, so only their shape tells them apart.
    """
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    images = np.zeros((num_images, size, size, 1), np.float32)
    masks = np.zeros((num_images, size, size), np.int32)
    for i in range(num_images):
        radius = rng.uniform(2.5, size / 6)
        cy, cx = rng.uniform(radius, size - radius, 2)
        disk = (rows - cy) ** 2 + (cols - cx) ** 2 <= radius**2
        half = int(rng.integers(2, size // 6 + 1))
        top, left = rng.integers(0, size - 2 * half, 2)
        square = (rows >= top) & (rows < top + 2 * half) & (cols >= left) & (cols < left + 2 * half)
        masks[i][disk] = 1
        masks[i][square & ~disk] = 2
        images[i, ..., 0] = (masks[i] > 0).astype(np.float32)
    images += noise_std * rng.standard_normal(images.shape).astype(np.float32)
    return images, masks


def _iou(labels: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    out = {}
    for k, name in enumerate(CLASSES):
        union = np.sum((labels == k) | (predicted == k))
        out[name] = float(np.sum((labels == k) & (predicted == k)) / max(union, 1))
    return out


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train the per-pixel classifier; report pixel accuracy and IoU; plot predicted masks."""
    size, n = config["image_size"], config["num_train"]
    x, y = make_shapes(n + 2 * config["num_test"], size, config["noise_std"], config["data_seed"])
    x_train, y_train = x[:n], y[:n]
    x_val, y_val = x[n : n + config["num_test"]], y[n : n + config["num_test"]]
    x_test, y_test = x[n + config["num_test"] :], y[n + config["num_test"] :]
    model = FullyConvolutionalNet(
        features=tuple(config["features"]), num_classes=len(CLASSES), dilate=config["dilate"]
    )
    init_key, train_key = jax.random.split(workdir.key)
    state = create_train_state(init_key, model, x_train[:1], optax.adam(config["learning_rate"]))
    loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
    result = fit(
        train_key,
        state,
        loss_fn,
        (x_train, y_train),
        num_epochs=config["num_epochs"],
        batch_size=config["batch_size"],
        val_data=(x_val, y_val),
        epochs_per_chunk=config["epochs_per_chunk"],
        **workdir.fit_kwargs(),
    )
    params = result.state.params
    predicted = np.asarray(
        jax.jit(lambda p, x: jnp.argmax(model.apply({"params": p}, x), -1))(params, x_test)
    )
    history = result.history
    iou = _iou(y_test, predicted)
    line_plot(
        workdir / "loss.png",
        {
            "train": [r["train_loss"] for r in history],
            "val": [r["val_loss"] for r in history],
        },
        xlabel="epoch",
        ylabel="per-pixel cross-entropy (nats)",
        title="Segmentation: loss",
    )
    shown = min(6, len(x_test))
    scale = len(CLASSES) - 1
    image_grid(
        [
            list(np.clip(x_test[:shown, ..., 0], 0, 1)),
            list(y_test[:shown] / scale),
            list(predicted[:shown] / scale),
        ],
        workdir / "predicted_masks.png",
        row_titles=["input", "true mask", "predicted"],
        title="Per-pixel labels (grey: disk, black: square)",
        side=size,
    )
    return {
        "test_pixel_accuracy": float(np.mean(predicted == y_test)),
        "test_mean_iou": float(np.mean(list(iou.values()))),
        **{f"test_iou_{k}": v for k, v in iou.items()},
        "first_train_loss": history[0]["train_loss"],
        "final_train_loss": history[-1]["train_loss"],
        "num_epochs": len(history),
    }
