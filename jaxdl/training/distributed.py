"""Multi-host training: thin helpers over ``jax.distributed`` and global ``jax.Array``s.

One Python process runs per host (per GPU node, per TPU VM worker); together they see
every device of the job through ``jax.devices()``, and one jitted program runs on all of
them in lock-step (multi-controller SPMD). Nothing here communicates by itself: the
coordination service and the collectives are JAX's (``jax.distributed``, gloo on CPU,
NCCL on GPU, ICI/DCN on TPU), and the all-reduces of a data-parallel step are inserted by
XLA's SPMD partitioner. A multi-host data-parallel run is::

    from jaxdl.training import distributed
    distributed.initialize()                      # args, or the environment (see below)
    mesh = data_parallel_mesh()                   # all devices of all processes
    local = distributed.process_local(train)      # this process's contiguous part of the data
    train = distributed.global_data(local, mesh)  # one global array per leaf
    result = fit(key, state, loss, train, mesh=mesh, checkpoint_dir=shared_dir, ...)

Every process runs the same script with the same key and config; ``fit`` then takes the
same steps on every process, and a checkpoint directory on a shared file system is written
once (process 0 writes host arrays; orbax synchronizes the processes).

Reference: JAX documentation, "Introduction to multi-controller JAX (aka
multi-process/multi-host JAX)" and ``jax.make_array_from_process_local_data``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxdl._checks import check_positive_int
from jaxdl.training.sharding import batch_sharding
from jaxdl.typing import Batch

COORDINATOR_ENV = "JAX_COORDINATOR_ADDRESS"
NUM_PROCESSES_ENV = "JAX_NUM_PROCESSES"
PROCESS_ID_ENV = "JAX_PROCESS_ID"


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    local_device_ids: int | Sequence[int] | None = None,
    cpu_collectives: str = "gloo",
    initialization_timeout: int = 300,
) -> None:
    """Join this process to a multi-process JAX job (``jax.distributed.initialize``).

    Must run before anything else touches a device. Arguments left ``None`` are read
    from the environment: ``JAX_COORDINATOR_ADDRESS`` (read by JAX itself),
    ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID`` (read here); what is still missing is
    auto-detected by JAX on SLURM, Open MPI, Kubernetes and Cloud TPU, where
    ``initialize()`` with no arguments is enough. On CPU the cross-process collectives
    use ``cpu_collectives`` (``"gloo"`` over TCP, or ``"mpi"``).

    Args:
        coordinator_address: ``"host:port"`` of process 0's coordination service.
        num_processes: how many processes take part.
        process_id: this process's index in ``[0, num_processes)``.
        local_device_ids: the local devices this process uses (default: all).
        cpu_collectives: ``"gloo"`` or ``"mpi"`` (CPU only; ignored on GPU and TPU).
        initialization_timeout: seconds to wait for every process to connect.

    Raises:
        ValueError: for a ``cpu_collectives`` other than ``"gloo"``/``"mpi"``, or a
            ``JAX_NUM_PROCESSES`` / ``JAX_PROCESS_ID`` that is not an integer.
        RuntimeError: when JAX is already initialized as a multi-process job.

    Example:
        Two processes on one machine, one shell each (``JAX_PROCESS_ID=1`` in the second)::

            JAX_COORDINATOR_ADDRESS=localhost:1234 JAX_NUM_PROCESSES=2 JAX_PROCESS_ID=0 \\
                python -c "from jaxdl.training import distributed; distributed.initialize()"

        Arguments are checked before anything connects:

        >>> initialize("localhost:1234", 2, 0, cpu_collectives="nccl")
        Traceback (most recent call last):
        ...
        ValueError: cpu_collectives must be 'gloo' or 'mpi', got 'nccl'

    Reference:
        JAX documentation, "Introduction to multi-controller JAX (aka multi-process/
        multi-host JAX)".
    """
    if cpu_collectives not in ("gloo", "mpi"):
        raise ValueError(f"cpu_collectives must be 'gloo' or 'mpi', got {cpu_collectives!r}")
    if is_initialized():
        raise RuntimeError("jax.distributed is already initialized in this process")
    num_processes = _from_env(num_processes, NUM_PROCESSES_ENV)
    process_id = _from_env(process_id, PROCESS_ID_ENV)
    jax.config.update("jax_cpu_collectives_implementation", cpu_collectives)
    jax.distributed.initialize(
        coordinator_address,
        num_processes,
        process_id,
        local_device_ids=local_device_ids,
        initialization_timeout=initialization_timeout,
    )


def is_initialized() -> bool:
    """Whether ``jax.distributed.initialize`` has run in this process.

    Example:
        >>> is_initialized()
        False
    """
    return jax.distributed.is_initialized()


def agree(flag: bool) -> bool:
    """Process 0's ``flag``, on every process: one decision that all processes follow.

    A host-side choice that must be the same everywhere (save a checkpoint now, stop)
    but may differ between processes (it reads a clock, or whether a write finished)
    is taken by process 0 and broadcast with JAX's ``multihost_utils``. Without it, one
    process could enter a collective (an orbax save) that another skips, and both would
    hang. One process: ``flag`` itself, no communication.

    Args:
        flag: this process's choice.

    Returns:
        process 0's choice.

    Example:
        >>> agree(True)
        True
    """
    if jax.process_count() == 1:
        return bool(flag)
    return bool(multihost_utils.broadcast_one_to_all(np.asarray(bool(flag))))


def _from_env(value: int | None, name: str) -> int | None:
    if value is not None or name not in os.environ:
        return value
    text = os.environ[name]
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {text!r}") from None


def process_slice(
    num_examples: int, *, process_index: int | None = None, process_count: int | None = None
) -> slice:
    """The contiguous block of examples ``[i N / P, (i + 1) N / P)`` that process ``i`` loads.

    Blocks are in process order, so the global array assembled from them by
    :func:`global_data` is the whole dataset in its original order, whatever the number
    of processes: a multi-process run sees the same data as a single-process one.

    Args:
        num_examples: ``N``, the size of the whole dataset; divisible by ``P``.
        process_index: ``i`` (default ``jax.process_index()``).
        process_count: ``P`` (default ``jax.process_count()``).

    Returns:
        a ``slice`` of length ``N / P``.

    Raises:
        ValueError: when ``N`` is not divisible by ``P`` or ``i`` is out of range.

    Example:
        >>> process_slice(10, process_index=1, process_count=2)
        slice(5, 10, None)
        >>> process_slice(10)  # one process: everything
        slice(0, 10, None)
    """
    index = jax.process_index() if process_index is None else process_index
    count = jax.process_count() if process_count is None else process_count
    check_positive_int("num_examples", num_examples)
    check_positive_int("process_count", count)
    if not 0 <= index < count:
        raise ValueError(f"process_index must be in [0, {count}), got {index}")
    if num_examples % count:
        raise ValueError(
            f"num_examples must be divisible by the {count} processes, got {num_examples}"
        )
    size = num_examples // count
    return slice(index * size, (index + 1) * size)


def process_local(
    data: Batch, *, process_index: int | None = None, process_count: int | None = None
) -> Batch:
    """This process's block (:func:`process_slice`) of every array of ``data``.

    In a real job each process reads only its block from storage; this helper is for
    data that every process can index cheaply (in memory, memory-mapped).

    Args:
        data: a pytree of arrays with a shared leading example axis ``[N, ...]``.
        process_index: as in :func:`process_slice`.
        process_count: as in :func:`process_slice`.

    Returns:
        the same pytree with every leaf cut to ``[N / P, ...]``.

    Example:
        >>> x = np.arange(8).reshape(4, 2)
        >>> process_local((x, np.arange(4)), process_index=1, process_count=2)[1]
        array([2, 3])
    """
    leaves = jax.tree.leaves(data)
    sizes = {int(np.shape(leaf)[0]) if np.ndim(leaf) else -1 for leaf in leaves}
    if len(sizes) != 1 or -1 in sizes:
        shapes = [np.shape(leaf) for leaf in leaves]
        raise ValueError(f"data arrays must share a leading example axis, got shapes {shapes}")
    where = process_slice(sizes.pop(), process_index=process_index, process_count=process_count)
    return jax.tree.map(lambda leaf: leaf[where], data)


def global_data(local_data: Batch, mesh: Mesh, *, replicate: bool = True) -> Batch:
    """Assemble global arrays from every process's block of the data.

    Each leaf becomes ``jax.make_array_from_process_local_data(batch_sharding(mesh),
    block)``: a global array ``[N, ...]`` whose rows are the processes' blocks in process
    order, split over the mesh's ``"data"`` axis. ``fit`` keeps its (small) dataset
    resident on every device and draws minibatches from it on device, so by default the
    array is then all-gathered by XLA into a replicated one (``replicate=True``), which
    every process can also read back on the host (``fit``'s data checks do).

    Args:
        local_data: a pytree of this process's arrays ``[N / P, ...]`` (same shapes on
            every process).
        mesh: a mesh with a ``"data"`` axis over the devices of all processes
            (:func:`jaxdl.training.data_parallel_mesh`).
        replicate: gather to a replicated array (what ``fit`` uses); ``False`` keeps the
            batch-sharded array (``[N / D, ...]`` per device).

    Returns:
        the pytree of global ``jax.Array``s ``[N, ...]``.

    Example:
        >>> from jaxdl.training import data_parallel_mesh
        >>> x = global_data(np.ones((4, 2), np.float32), data_parallel_mesh())
        >>> x.shape, x.sharding.is_fully_replicated
        ((4, 2), True)
    """
    sharded = jax.tree.map(
        lambda leaf: jax.make_array_from_process_local_data(batch_sharding(mesh), np.asarray(leaf)),
        local_data,
    )
    if not replicate:
        return sharded
    everywhere = NamedSharding(mesh, PartitionSpec())
    return jax.jit(lambda tree: tree, out_shardings=everywhere)(sharded)
