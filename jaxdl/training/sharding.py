"""Data parallelism through ``jax.sharding``: one mesh axis over the batch.

``fit(..., mesh=data_parallel_mesh())`` replicates the train state and the (small,
device-resident) dataset on every device and constrains each minibatch to be split along
the mesh's ``"data"`` axis. XLA's SPMD partitioner then computes each device's share of
the forward and backward pass and all-reduces the gradients: the same program, the same
result as on one device (up to the order of floating-point sums).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxdl.typing import PyTree

DATA_AXIS = "data"


def data_parallel_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named ``"data"`` over ``devices`` (all local devices by default).

    Example:
        >>> mesh = data_parallel_mesh()
        >>> mesh.axis_names
        ('data',)
    """
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("devices must hold at least one device, got none")
    return Mesh(np.asarray(devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
    """The sharding that keeps a full copy on every device of ``mesh``."""
    return NamedSharding(mesh, PartitionSpec())


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """The sharding that splits the leading (example) axis over the ``"data"`` axis."""
    if DATA_AXIS not in mesh.axis_names:
        raise ValueError(f"mesh must have an axis named {DATA_AXIS!r}, got {mesh.axis_names}")
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def replicate(tree: PyTree, mesh: Mesh) -> PyTree:
    """Place every leaf of ``tree`` on all devices of ``mesh``."""
    return jax.device_put(tree, replicated(mesh))


def check_batch_divisible(batch_size: int | None, num_examples: int, mesh: Mesh) -> None:
    """Raise unless each minibatch splits evenly over the mesh's data axis."""
    size = mesh.shape[DATA_AXIS]
    effective = num_examples if batch_size is None else batch_size
    if effective % size:
        name = (
            "the number of training examples (full batch)" if batch_size is None else "batch_size"
        )
        raise ValueError(
            f"{name} must be divisible by the {size} devices of the mesh's data axis, "
            f"got {effective}"
        )
