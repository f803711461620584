"""Generic tests over every registered model, and a check that none is left unregistered.

Importing this module imports every submodule of the model packages, so that their
``register_model`` calls have run before the registry is read.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.nn.registry import ModelSpec, registered_models
from jaxdl.testing import assert_jit_matches_eager, assert_vmap_matches_loop

MODEL_PACKAGES = (
    "jaxdl.nn",
    "jaxdl.probabilistic",
    "jaxdl.graphs",
    "jaxdl.pretraining",
    "jaxdl.training",
)
BATCH = 3


def _import_model_modules() -> tuple[list[ModuleType], dict[str, str]]:
    """Every module of the model packages (absent packages skipped) and import errors."""
    modules: list[ModuleType] = []
    errors: dict[str, str] = {}
    for package_name in MODEL_PACKAGES:
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError as error:
            if error.name == package_name:
                continue  # the package does not exist (yet)
            errors[package_name] = repr(error)
            continue
        except Exception as error:  # noqa: BLE001 - reported by test_model_modules_import
            errors[package_name] = repr(error)
            continue
        modules.append(package)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            try:
                modules.append(importlib.import_module(info.name))
            except Exception as error:  # noqa: BLE001
                errors[info.name] = repr(error)
    return modules, errors


MODULES, IMPORT_ERRORS = _import_model_modules()
SPECS = registered_models()


def _public_module_classes() -> dict[str, str]:
    """Public flax Module subclasses defined in the model packages: name -> module path."""
    found = {}
    for module in MODULES:
        for name, obj in vars(module).items():
            if (
                isinstance(obj, type)
                and issubclass(obj, nn.Module)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found[name] = module.__name__
    return found


def test_model_modules_import():
    assert not IMPORT_ERRORS, f"model modules failed to import: {IMPORT_ERRORS}"


def test_every_public_model_is_registered():
    classes = _public_module_classes()
    assert "MLP" in classes  # the walk does find the models
    missing = {name: path for name, path in classes.items() if name not in SPECS}
    assert not missing, (
        f"public flax modules without a register_model(ModelSpec(...)) entry: {missing}"
    )


def test_specs_build_the_class_they_name():
    # Every spec builds an instance of the class it is named after.
    for name, spec in SPECS.items():
        assert isinstance(spec, ModelSpec)
        assert type(spec.make()).__name__ == name, f"{name}: make() built {type(spec.make())}"


def _example_inputs(key, spec: ModelSpec, leading: tuple[int, ...]) -> jax.Array:
    shape = leading + tuple(spec.input_shape)
    if jnp.issubdtype(jnp.dtype(spec.input_dtype), jnp.integer):
        return jax.random.randint(key, shape, 0, 2).astype(spec.input_dtype)
    return jax.random.normal(key, shape).astype(spec.input_dtype)


def _rngs(key, names: tuple[str, ...]) -> dict[str, jax.Array]:
    keys = jax.random.split(key, len(names))
    return {name: keys[i] for i, name in enumerate(names)}


def _setup(key, spec: ModelSpec):
    k_x, k_init, k_apply = jax.random.split(key, 3)
    model = spec.make()
    if spec.cell:  # a recurrent cell runs over sequences through flax's RNN
        model = nn.RNN(model)
    leading = (BATCH,) if spec.batched else ()
    x = _example_inputs(k_x, spec, leading)
    kwargs = dict(spec.apply_kwargs)
    variables = model.init(_rngs(k_init, ("params", *spec.rngs)), x, **kwargs)
    apply_rngs = _rngs(k_apply, tuple(spec.rngs))

    def apply(variables, inputs, rngs):
        return model.apply(variables, inputs, rngs=rngs or None, **kwargs)

    return model, x, variables, apply_rngs, apply


def _floating_leaves(tree) -> list[jax.Array]:
    leaves = [jnp.asarray(leaf) for leaf in jax.tree_util.tree_leaves(tree)]
    return [leaf for leaf in leaves if jnp.issubdtype(leaf.dtype, jnp.inexact)]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_registered_model_generic(key, name):
    spec = SPECS[name]
    _, x, variables, rngs, apply = _setup(key, spec)
    output = apply(variables, x, jax.tree_util.tree_map(jax.random.clone, rngs))
    leaves = jax.tree_util.tree_leaves(output)
    assert leaves, f"{name} returned no arrays"
    for leaf in _floating_leaves(output):
        assert bool(jnp.all(jnp.isfinite(leaf))), f"{name} returned non-finite values"
    if spec.batched:
        for leaf in leaves:
            assert jnp.ndim(leaf) >= 1 and jnp.shape(leaf)[0] == BATCH, (
                f"{name}: output leaf of shape {jnp.shape(leaf)} has no leading batch of {BATCH}"
            )
    assert_jit_matches_eager(apply, variables, x, rngs, rtol=1e-4, atol=1e-5)

    if spec.batched:

        def per_example(variables, inputs, rngs):
            out = apply(variables, inputs[None], rngs)
            return jax.tree_util.tree_map(lambda leaf: leaf[0], out)

        assert_vmap_matches_loop(
            per_example, variables, x, rngs, in_axes=(None, 0, None), rtol=1e-4, atol=1e-5
        )
    else:
        stacked = _example_inputs(jax.random.fold_in(key, 1), spec, (BATCH,))
        assert_vmap_matches_loop(
            apply, variables, stacked, rngs, in_axes=(None, 0, None), rtol=1e-4, atol=1e-5
        )
    # Same shapes out of one example as out of the batch (batched models).
    if spec.batched:
        single = apply(variables, x[:1], jax.tree_util.tree_map(jax.random.clone, rngs))
        np.testing.assert_equal(
            [jnp.shape(leaf)[1:] for leaf in jax.tree_util.tree_leaves(single)],
            [jnp.shape(leaf)[1:] for leaf in leaves],
        )
