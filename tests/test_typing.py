"""Tests of jaxdl.typing: the aliases are the JAX types they name, the protocols describe
the engine's real signatures, and every annotation written with them resolves."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdl
from jaxdl import typing as jt


def test_array_and_key_aliases_are_jax_arrays(key):
    assert isinstance(jnp.zeros(3), jt.Array)
    assert isinstance(key, jt.Key)
    assert jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)  # a typed key, not uint32
    assert jt.Array is jax.Array and jt.Key is jax.Array


@pytest.mark.parametrize("value", [1.0, 3, np.ones(2), jnp.ones(2), np.float32(2.0), True])
def test_array_like_accepts_what_jnp_asarray_accepts(value):
    assert isinstance(value, typing.get_args(jt.ArrayLike))
    jnp.asarray(value)


def test_loss_fn_protocol_matches_the_engine_losses():
    """``make_supervised_loss`` builds what ``fit`` differentiates: LossFn's parameters."""
    from jaxdl.nn import MLP
    from jaxdl.training import make_supervised_loss

    expected = list(inspect.signature(jt.LossFn.__call__).parameters)[1:]
    loss_fn = make_supervised_loss(MLP(features=(3, 2)))
    assert len(inspect.signature(loss_fn).parameters) == len(expected)
    assert expected == ["params", "model_state", "batch", "key"]
    assert list(inspect.signature(jt.EvalFn.__call__).parameters)[1:] == [
        "params",
        "model_state",
        "batch",
    ]


def test_loss_fn_protocol_contract_runs_under_jit_and_grad(key):
    """A function written to the LossFn contract returns (loss, (model_state, metrics))."""

    def loss_fn(params, model_state, batch, key):
        x, y = batch
        noise = 0.0 * jax.random.normal(key, x.shape)
        residual = (x + noise) @ params["w"] - y
        loss = jnp.mean(residual**2)
        return loss, (model_state, {"mse": loss})

    params = {"w": jnp.ones((2,))}
    batch = (jnp.eye(2), jnp.array([1.0, 3.0]))
    (loss, (model_state, metrics)), grads = jax.jit(jax.value_and_grad(loss_fn, has_aux=True))(
        params, {}, batch, key
    )
    np.testing.assert_allclose(loss, 2.0)
    np.testing.assert_allclose(grads["w"], [0.0, -2.0])
    assert model_state == {} and set(metrics) == {"mse"}


def _public_objects():
    for info in pkgutil.walk_packages(jaxdl.__path__, "jaxdl."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield module, name, obj


def test_every_public_annotation_resolves():
    """No annotation names something its module does not import (a typo, a moved name).

    Annotations are strings (``from __future__ import annotations``); each is evaluated in
    its module's namespace, so a name that only exists in another module fails here.
    """
    unresolved = []
    count = 0
    for module, name, obj in _public_objects():
        functions = [obj]
        if inspect.isclass(obj):
            functions += [
                f
                for f in vars(obj).values()
                if inspect.isfunction(f) and f.__module__ == obj.__module__
            ]
        for function in functions:
            for argument, annotation in getattr(function, "__annotations__", {}).items():
                count += 1
                if not isinstance(annotation, str):
                    continue
                try:
                    eval(annotation, vars(module))  # noqa: S307
                except Exception as error:  # noqa: BLE001
                    unresolved.append(f"{module.__name__}.{name} {argument}: {error}")
    assert count > 500  # the walk really reads the package
    assert not unresolved, "\n".join(unresolved)
