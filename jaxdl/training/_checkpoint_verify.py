"""What makes a checkpoint trustworthy: its format, checksums, hashes and errors.

The private half of :mod:`jaxdl.training.checkpoints` that decides whether what was read
back is whole: the on-disk ``FORMAT`` and the names of the stored arrays
(``_array_names``), the CRC-32 of every array and of the meta JSON (``_crc``,
``_json_crc``, ``_check_meta``, ``_verify``), the JSON conversion of everything stored
beside the arrays (``_to_json``), the run hashes (:func:`config_hash`,
:func:`structure_hash`) and the metadata comparison of a resume (``_differences``), the
errors a read raises, and the one-line wording of failures (``_short``, ``_one_line``).
The public names (``FORMAT``, the errors and the two hashes) are re-exported by
:mod:`jaxdl.training.checkpoints`; import them from there.

Example:
    >>> import numpy as np
    >>> _crc(np.arange(3, dtype=np.uint8)) == _crc(np.arange(3, dtype=np.uint8))
    True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
import zlib
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from jaxdl.typing import PyTree

FORMAT = 1
"""Version of the on-disk layout written by :class:`Checkpointer`."""


# The errors are raised, caught and documented as members of the public module.
_PUBLIC_MODULE = "jaxdl.training.checkpoints"


class CheckpointError(Exception):
    """No usable checkpoint: missing, corrupt, or (subclass) written by another run."""

    __module__ = _PUBLIC_MODULE


class CheckpointMismatchError(CheckpointError):
    """The checkpoint belongs to another run: a different config, model or tree."""

    __module__ = _PUBLIC_MODULE


class CheckpointWarning(UserWarning):
    """A checkpoint was skipped (corrupt) or was written with other library versions."""

    __module__ = _PUBLIC_MODULE


class _Corrupt(Exception):
    """Raised inside verification; the message is the one-line reason."""


@dataclasses.dataclass
class _Loaded:
    """A verified checkpoint read back into host memory."""

    step: int
    arrays: list[np.ndarray]
    meta: dict[str, Any]
    extra: dict[str, Any]


_MISSING = "<missing>"


def config_hash(config: Any) -> str:
    """A short stable hash of a JSON-able config (key order does not matter).

    Example:
        >>> config_hash({"a": 1, "b": [2, 3]}) == config_hash({"b": [2, 3], "a": 1})
        True
    """
    text = json.dumps(_to_json(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def structure_hash(tree: PyTree) -> str:
    """A short hash of a tree's leaf paths, shapes and dtypes (not its values).

    Two models with the same parameter structure hash alike; another architecture or
    another optimizer state does not.

    Example:
        >>> import jax.numpy as jnp
        >>> structure_hash({"w": jnp.zeros(3)}) == structure_hash({"w": jnp.ones(3)})
        True
        >>> structure_hash({"w": jnp.zeros(3)}) == structure_hash({"w": jnp.zeros(4)})
        False
    """
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    described = [
        [jax.tree_util.keystr(path), list(np.shape(leaf)), _dtype_name(leaf)]
        for path, leaf in leaves
    ]
    return config_hash(described)


def _array_names(count: int) -> list[str]:
    # orbax cannot save an empty dict; a tree without leaves stores one empty placeholder.
    return [f"a{i}" for i in range(count)] or ["empty"]


def _dtype_name(leaf: Any) -> str:
    dtype = getattr(leaf, "dtype", None)
    return str(dtype if dtype is not None else np.asarray(leaf).dtype)


def _crc(array: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


def _json_crc(value: Any) -> int:
    return zlib.crc32(json.dumps(value, sort_keys=True).encode())


def _check_meta(meta: Any) -> None:
    if not isinstance(meta, Mapping) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, Mapping) else None
        raise _Corrupt(f"meta of format {found!r}, expected {FORMAT}")
    if not isinstance(meta.get("arrays"), list) or not isinstance(meta.get("extra"), dict):
        raise _Corrupt("meta incomplete")
    unsigned = {k: v for k, v in meta.items() if k != "meta_crc32"}
    if meta.get("meta_crc32") != _json_crc(unsigned):
        raise _Corrupt("checksum mismatch in meta")


def _verify(step: int, meta: Any, arrays: Any) -> _Loaded:
    """Check what orbax read back as checkpoint ``step`` against its own meta.

    The meta's format and checksum, its step, the array names, and each array's dtype,
    shape and CRC-32 must all agree; the first disagreement is raised as one
    ``_Corrupt`` line.
    """
    _check_meta(meta)
    if meta.get("step") != step:
        raise _Corrupt(f"meta says step {meta.get('step')}")
    records = meta["arrays"]
    if not isinstance(arrays, Mapping) or set(arrays) != set(_array_names(len(records))):
        raise _Corrupt("arrays missing or unexpected")
    values = []
    for name, record in zip(_array_names(len(records)), records, strict=False):
        array = np.asarray(arrays[name])
        if str(array.dtype) != record["dtype"] or list(array.shape) != record["shape"]:
            raise _Corrupt(
                f"{record['path']} is {array.dtype}{list(array.shape)}, "
                f"expected {record['dtype']}{record['shape']}"
            )
        if _crc(array) != record["crc32"]:
            raise _Corrupt(f"checksum mismatch in {record['path'] or 'the root leaf'}")
        values.append(array)
    return _Loaded(step, values, meta, meta["extra"])


def _to_json(value: Any) -> Any:
    """Plain JSON values (NaN and infinities kept); arrays and NumPy scalars unwrapped."""
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        array = np.asarray(value)
        return _to_json(array.item() if array.ndim == 0 else array.tolist())
    if isinstance(value, np.generic):
        return _to_json(value.item())
    if isinstance(value, pathlib.PurePath):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def _differences(
    meta: Mapping[str, Any], metadata: Mapping[str, Any], versions_now: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """How run ``metadata`` and the installed versions differ from a checkpoint's ``meta``.

    Returns:
        ``(differing, versions)``: one ``"key (checkpoint old, now new)"`` entry per
        differing key; keys ending in ``_version`` and the stored library versions
        (compared with ``versions_now`` unless ``metadata`` names them) go to ``versions``.
    """
    stored = dict(meta.get("metadata") or {})
    differing, versions = [], []
    for key in sorted(set(stored) | set(metadata)):
        old, new = stored.get(key, _MISSING), metadata.get(key, _MISSING)
        if old != new:
            (versions if key.endswith("_version") else differing).append(
                f"{key} (checkpoint {_short(old)}, now {_short(new)})"
            )
    for key, now in versions_now.items():
        old = (meta.get("versions") or {}).get(key, _MISSING)
        if old != now and key not in metadata:
            versions.append(f"{key} (checkpoint {_short(old)}, now {_short(now)})")
    return differing, versions


def _short(value: Any) -> str:
    text = value if value is _MISSING else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    first = first if len(first) <= 160 else first[:157] + "..."
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
