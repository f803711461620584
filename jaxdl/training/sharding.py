"""Meshes and sharding rules: data parallel, FSDP and populations through ``jax.sharding``.

Everything distributed here is JAX's own (``jax.sharding``, the GSPMD partitioner); this
module only names the axes and decides, leaf by leaf, which array axis is split over which
mesh axis.

- **Data parallel** (a mesh with a ``"data"`` axis): the train state is replicated and every
  minibatch is split over the devices; XLA all-reduces the gradients.
- **FSDP** (a mesh with an ``"fsdp"`` axis, or explicit :class:`ShardingRules`): parameters
  *and* optimizer state are split over the ``"fsdp"`` axis by a rule on each leaf's path,
  and the batch is split over ``"data"`` and ``"fsdp"`` together. XLA all-gathers a
  parameter where a step needs it whole and reduce-scatters its gradient, so each device
  holds ``1 / fsdp`` of the state (Rajbhandari et al., *ZeRO*, 2020; Zhao et al., *PyTorch
  FSDP*, 2023).
- **Populations** (:func:`jaxdl.training.fit_many` on a mesh): the member axis is split over
  the ``"population"`` axis (or ``"data"``); each device trains its own members.

Paths are the ``'/'``-joined key paths of the tree, e.g. ``params/Dense_0/kernel`` and
``opt_state/0/mu/Dense_0/kernel`` for Adam's first moment of the same kernel. Rules are
*searched* (``re.search``), so one rule ``r"Dense_0/kernel"`` places a parameter and its
optimizer moments alike.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from jaxdl.typing import PyTree

DATA_AXIS = "data"
FSDP_AXIS = "fsdp"
POPULATION_AXIS = "population"
BATCH_AXES = (DATA_AXIS, FSDP_AXIS)  # the axes a minibatch is split over, in this order

SpecFn = Callable[[str, tuple[int, ...], Mesh], PartitionSpec]


def make_mesh(devices: Sequence[jax.Device] | None = None, **axes: int) -> Mesh:
    """A mesh over all (or the given) devices with named axes, in the order given.

    ``-1`` for one axis means "the rest": its size is the device count divided by the
    product of the others. Axes are of type ``Auto`` (the GSPMD partitioner places the
    intermediates; shardings are given for the state and the batch only).

    Args:
        devices: the devices (default: ``jax.devices()``, all of them, on every host).
        **axes: axis name -> size, e.g. ``data=2, fsdp=4`` or ``fsdp=-1``.

    Returns:
        A ``jax.sharding.Mesh`` with ``axis_names`` in the order of ``axes``.

    Raises:
        ValueError: no axes, a size that is not a positive integer or -1, more than one
            -1, or sizes whose product is not the device count.

    Example:
        >>> mesh = make_mesh(data=-1, fsdp=1)
        >>> mesh.axis_names, mesh.shape["fsdp"]
        (('data', 'fsdp'), 1)
    """
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("devices must hold at least one device, got none")
    if not axes:
        raise ValueError("make_mesh needs at least one axis, e.g. make_mesh(data=-1), got none")
    for name, size in axes.items():
        if not isinstance(size, int | np.integer) or (size < 1 and size != -1):
            raise ValueError(f"mesh axis {name!r} must have a positive size or -1, got {size!r}")
    rest = [name for name, size in axes.items() if size == -1]
    if len(rest) > 1:
        raise ValueError(f"at most one mesh axis may be -1 (the rest), got {rest}")
    known = math.prod(size for size in axes.values() if size != -1)
    sizes = dict(axes)
    if rest:
        if len(devices) % known:
            raise ValueError(
                f"mesh axis {rest[0]!r} = -1 needs the {len(devices)} devices to be divisible by "
                f"the other axes' product {known}, got {dict(axes)}"
            )
        sizes[rest[0]] = len(devices) // known
    if math.prod(sizes.values()) != len(devices):
        raise ValueError(
            f"mesh axes {sizes} hold {math.prod(sizes.values())} devices, "
            f"expected the {len(devices)} devices available"
        )
    return jax.make_mesh(
        tuple(sizes.values()),
        tuple(sizes),
        axis_types=(AxisType.Auto,) * len(sizes),
        devices=devices,
    )


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


def batch_axes(mesh: Mesh) -> tuple[str, ...]:
    """The mesh axes a minibatch is split over: ``"data"`` and ``"fsdp"``, those present.

    Example:
        >>> batch_axes(make_mesh(data=-1))
        ('data',)
    """
    return tuple(name for name in BATCH_AXES if name in mesh.axis_names)


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """The sharding that splits the leading (example) axis over the data-like axes.

    With ``"data"`` and ``"fsdp"`` both present the examples are split over their
    product, as FSDP does (every device sees a different slice of the batch).
    """
    axes = batch_axes(mesh)
    if not axes:
        raise ValueError(
            f"mesh must have an axis named {DATA_AXIS!r} or {FSDP_AXIS!r}, got {mesh.axis_names}"
        )
    return NamedSharding(mesh, PartitionSpec(axes if len(axes) > 1 else axes[0]))


def replicate(tree: PyTree, mesh: Mesh) -> PyTree:
    """Place every leaf of ``tree`` on all devices of ``mesh``."""
    return jax.device_put(tree, replicated(mesh))


def check_batch_divisible(batch_size: int | None, num_examples: int, mesh: Mesh) -> None:
    """Raise unless each minibatch splits evenly over the mesh's data-like axes."""
    axes = batch_axes(mesh)
    size = math.prod(mesh.shape[name] for name in axes)
    effective = num_examples if batch_size is None else batch_size
    if effective % size:
        name = (
            "the number of training examples (full batch)" if batch_size is None else "batch_size"
        )
        where = " x ".join(f"{mesh.shape[a]} ({a})" for a in axes)
        raise ValueError(
            f"{name} must be divisible by the {size} devices of the mesh's data axes "
            f"[{where}], got {effective}"
        )


# --------------------------------------------------------------------------------------
# Rules on parameter paths
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ShardLargestAxis:
    """Split a leaf's largest axis that the mesh axis divides (the FSDP default).

    Leaves with fewer than ``min_size`` elements (biases, scalars such as the step, counts
    and keys) are replicated: splitting them saves little memory and costs a collective.
    Among the divisible axes the largest wins; on a tie, the last (for a ``[in, out]``
    kernel, the output features). A leaf with no divisible axis is replicated.

    Attributes:
        axis: the mesh axis (or axes) to split over.
        min_size: the smallest leaf (in elements) that is split.
    """

    axis: str | tuple[str, ...] = FSDP_AXIS
    min_size: int = 1024

    def __call__(self, path: str, shape: tuple[int, ...], mesh: Mesh) -> PartitionSpec:
        size = _axes_size(self.axis, mesh)
        if math.prod(shape) < self.min_size or size == 1:
            return PartitionSpec()
        best = None
        for i, n in enumerate(shape):
            if n % size == 0 and (best is None or n >= shape[best]):
                best = i
        if best is None:
            return PartitionSpec()
        return PartitionSpec(*([None] * best), self.axis)


@dataclasses.dataclass(frozen=True)
class ShardingRules:
    """Ordered ``(regex, spec)`` pairs; a leaf takes the spec of the first rule whose regex
    is found in its ``'/'``-joined path, and is replicated when none matches.

    A spec is a ``PartitionSpec`` (its length must not exceed the leaf's rank; missing
    trailing axes are replicated) or a callable ``(path, shape, mesh) -> PartitionSpec``
    such as :class:`ShardLargestAxis`. Searching (not full matching) makes a rule for
    ``Dense_0/kernel`` also place ``opt_state/0/mu/Dense_0/kernel``.

    Attributes:
        rules: the ``(regex, spec)`` pairs, most specific first.

    Example:
        >>> from jax.sharding import AbstractMesh
        >>> rules = ShardingRules(((r"kernel$", PartitionSpec(None, "fsdp")),))
        >>> mesh = AbstractMesh((4,), ("fsdp",))  # the shape of a mesh, no devices needed
        >>> rules.spec_for("opt_state/0/mu/Dense_0/kernel", (4, 8), mesh)
        P(None, 'fsdp')
        >>> rules.spec_for("params/Dense_0/bias", (8,), mesh)
        P()
    """

    rules: tuple[tuple[str, PartitionSpec | SpecFn], ...] = ()

    def __post_init__(self):
        rules = tuple(tuple(rule) for rule in self.rules)
        for rule in rules:
            if len(rule) != 2 or not isinstance(rule[0], str):
                raise ValueError(f"each rule must be a (regex, spec) pair, got {rule!r}")
            if not isinstance(rule[1], PartitionSpec) and not callable(rule[1]):
                raise ValueError(
                    f"rule {rule[0]!r}: spec must be a PartitionSpec or a callable "
                    f"(path, shape, mesh) -> PartitionSpec, got {rule[1]!r}"
                )
            re.compile(rule[0])
        object.__setattr__(self, "rules", rules)

    def spec_for(self, path: str, shape: tuple[int, ...], mesh: Mesh) -> PartitionSpec:
        """The checked spec of the leaf at ``path`` with ``shape`` on ``mesh``."""
        for pattern, spec in self.rules:
            if re.search(pattern, path):
                if callable(spec):
                    spec = spec(path, shape, mesh)
                _check_spec(pattern, path, shape, spec, mesh)
                return spec
        return PartitionSpec()


def fsdp_rules(
    min_size: int = 1024,
    *,
    axis: str | tuple[str, ...] = FSDP_AXIS,
    extra: Sequence[tuple[str, PartitionSpec | SpecFn]] = (),
) -> ShardingRules:
    """The default FSDP rules: ``extra`` first, then :class:`ShardLargestAxis` for all.

    Args:
        min_size: leaves with fewer elements are replicated.
        axis: the mesh axis (or axes) the parameters are split over.
        extra: rules tried before the default one (e.g. to keep an embedding whole).

    Returns:
        A :class:`ShardingRules`.

    Example:
        >>> from jax.sharding import AbstractMesh
        >>> rules, mesh = fsdp_rules(min_size=16), AbstractMesh((4,), ("fsdp",))
        >>> rules.spec_for("params/Dense_0/kernel", (16, 64), mesh)  # the largest axis
        P(None, 'fsdp')
        >>> rules.spec_for("params/Dense_0/bias", (8,), mesh)  # under min_size: replicated
        P()
    """
    return ShardingRules((*extra, (".*", ShardLargestAxis(axis, min_size))))


def path_name(key_path: tuple) -> str:
    """The ``'/'``-joined name of a key path: ``params/Dense_0/kernel``."""
    return jax.tree_util.keystr(key_path, simple=True, separator="/")


def tree_shardings(tree: PyTree, mesh: Mesh, rules: ShardingRules | None) -> PyTree:
    """A ``NamedSharding`` for every leaf of ``tree`` by ``rules`` (replicated when ``None``).

    Leaves may be arrays or ``jax.ShapeDtypeStruct``; typed PRNG keys are replicated.
    """

    def one(key_path, leaf):
        shape = tuple(np.shape(leaf))
        if rules is None or _is_key(leaf) or not shape:
            return NamedSharding(mesh, PartitionSpec())
        return NamedSharding(mesh, rules.spec_for(path_name(key_path), shape, mesh))

    return jax.tree_util.tree_map_with_path(one, tree)


def state_shardings(state: PyTree, mesh: Mesh, rules: ShardingRules | None = None) -> PyTree:
    """The sharding of every leaf of a train state (or any tree) on ``mesh``.

    With ``rules=None`` the rules are :func:`fsdp_rules` when the mesh has an ``"fsdp"``
    axis, else everything is replicated (data parallel). The step, counts and keys are
    replicated by the default rule (they are scalars).

    Args:
        state: a :class:`TrainState` (or any pytree of arrays / ``ShapeDtypeStruct``).
        mesh: the device mesh.
        rules: :class:`ShardingRules`, or ``None`` for the default.

    Returns:
        A pytree like ``state`` of ``jax.sharding.NamedSharding``.

    Raises:
        ValueError: a rule names an axis the mesh lacks, or its spec does not fit a leaf
            (rank, or a dimension not divisible by the axis size); the message names the
            path, shape, spec and axis sizes.

    Example:
        >>> import jax.numpy as jnp
        >>> tree = {"params": {"kernel": jnp.zeros((8, 4))}, "step": jnp.zeros((), int)}
        >>> shardings = state_shardings(tree, make_mesh(fsdp=-1), fsdp_rules(min_size=8))
        >>> shardings["params"]["kernel"].spec, shardings["step"].spec  # 1 device here
        (P(), P())
    """
    return tree_shardings(state, mesh, default_rules(mesh, rules))


def shard_state(state: PyTree, mesh: Mesh, rules: ShardingRules | None = None) -> PyTree:
    """Place ``state`` on ``mesh`` by :func:`state_shardings` (a ``jax.device_put``).

    Example:
        >>> import jax.numpy as jnp
        >>> placed = shard_state({"w": jnp.ones((4, 2))}, make_mesh(data=-1))
        >>> placed["w"].sharding.spec
        P()
    """
    return jax.device_put(state, state_shardings(state, mesh, rules))


def default_rules(mesh: Mesh, rules: ShardingRules | None) -> ShardingRules | None:
    """``rules`` when given, else :func:`fsdp_rules` on a mesh with an ``"fsdp"`` axis."""
    if rules is not None:
        if not isinstance(rules, ShardingRules):
            raise TypeError(
                f"param_sharding must be a ShardingRules (e.g. fsdp_rules()), got {rules!r}"
            )
        return rules
    return fsdp_rules() if FSDP_AXIS in mesh.axis_names else None


def constrain(tree: PyTree, shardings: PyTree) -> PyTree:
    """``with_sharding_constraint`` over a tree (keys and static leaves pass through)."""
    return jax.tree.map(jax.lax.with_sharding_constraint, tree, shardings)


def _is_key(leaf: Any) -> bool:
    dtype = getattr(leaf, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def _axes_size(axis: str | tuple[str, ...] | None, mesh: Mesh) -> int:
    names = () if axis is None else (axis,) if isinstance(axis, str) else tuple(axis)
    unknown = [name for name in names if name not in mesh.axis_names]
    if unknown:
        raise ValueError(
            f"mesh has no axis {unknown[0]!r}: expected one of {mesh.axis_names}, got {axis!r}"
        )
    return math.prod(mesh.shape[name] for name in names)


def _check_spec(
    pattern: str, path: str, shape: tuple[int, ...], spec: PartitionSpec, mesh: Mesh
) -> None:
    if not isinstance(spec, PartitionSpec):
        raise ValueError(f"rule {pattern!r} gave {spec!r} for {path}, expected a PartitionSpec")
    if len(spec) > len(shape):
        raise ValueError(
            f"rule {pattern!r} gives {spec} ({len(spec)} axes) to {path} of shape {shape} "
            f"(rank {len(shape)})"
        )
    for dim, axis in zip(shape, spec, strict=False):
        try:
            size = _axes_size(axis, mesh)
        except ValueError as error:
            raise ValueError(f"rule {pattern!r} for {path}: {error}") from None
        if dim % size:
            sizes = {name: mesh.shape[name] for name in mesh.axis_names}
            raise ValueError(
                f"rule {pattern!r} gives {spec} to {path} of shape {shape}: dimension {dim} "
                f"is not divisible by {axis!r} of size {size} (mesh axes {sizes})"
            )


def population_axis(mesh: Mesh) -> str:
    """The mesh axis a population's members are split over: ``"population"``, else
    ``"data"``.

    Example:
        >>> population_axis(make_mesh(population=-1))
        'population'
    """
    for name in (POPULATION_AXIS, DATA_AXIS):
        if name in mesh.axis_names:
            return name
    raise ValueError(
        f"mesh must have an axis named {POPULATION_AXIS!r} or {DATA_AXIS!r} to split a "
        f"population over, got {mesh.axis_names}"
    )
