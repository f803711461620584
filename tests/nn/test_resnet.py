"""ResNet-18..152: published parameter counts, table multiply-adds, blocks and shortcuts."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.nn import count_multiply_adds, count_params
from jaxdl.nn.resnet import (
    RESNET_STAGES,
    BasicBlock,
    BottleneckBlock,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    small_resnet,
)

PUBLISHED = {  # depth: (parameters with the 1000-class head, multiply-adds in table 1)
    18: (11_689_512, 1.8e9),
    34: (21_797_672, 3.6e9),
    50: (25_557_032, 3.8e9),
    101: (44_549_160, 7.6e9),
    152: (60_192_808, 11.3e9),
}
FACTORIES = {18: resnet18, 34: resnet34, 50: resnet50, 101: resnet101, 152: resnet152}


def _abstract_variables(model, shape):
    key = jax.eval_shape(jax.random.key, 0)
    return jax.eval_shape(model.init, key, jax.ShapeDtypeStruct(shape, jnp.float32))


@pytest.mark.parametrize("depth", sorted(PUBLISHED))
def test_published_parameter_counts_and_multiply_adds(depth):
    model = FACTORIES[depth]()
    assert (model.block, tuple(model.stage_sizes)) == RESNET_STAGES[depth]
    params, macs = PUBLISHED[depth]
    assert count_params(_abstract_variables(model, (1, 224, 224, 3))["params"]) == params
    counted = count_multiply_adds(model, (224, 224, 3))
    assert abs(counted - macs) / macs < 0.05, f"ResNet-{depth}: {counted:.3e} vs {macs:.1e}"


def test_blocks_shortcuts_and_small_input_resnets():
    key = jax.random.key(0)
    x = jax.random.normal(key, (2, 8, 8, 4))
    # identity shortcut: a block whose residual branch is zero passes relu(x) through
    block = BasicBlock(features=4)
    variables = jax.jit(block.init)(jax.random.key(1), x)
    zeroed = jax.tree_util.tree_map_with_path(
        lambda path, v: (
            jnp.zeros_like(v)
            if "BatchNorm_1" in jax.tree_util.keystr(path) and path[-1].key == "scale"
            else v
        ),
        variables,
    )
    np.testing.assert_allclose(jax.jit(block.apply)(zeroed, x), jax.nn.relu(x), atol=1e-6)
    assert "projection" not in variables["params"]
    # training mode updates the statistics of both batch-norm layers
    _, state = jax.jit(lambda v, x: block.apply(v, x, train=True, mutable=["batch_stats"]))(
        variables, x
    )
    for name in ("BatchNorm_0", "BatchNorm_1"):
        assert bool(jnp.any(state["batch_stats"][name]["mean"] != 0.0))
    # projection shortcuts where the shape changes
    strided = _abstract_variables(BasicBlock(features=8, strides=2), (1, 8, 8, 4))
    assert strided["params"]["projection"]["kernel"].shape == (1, 1, 4, 8)
    bottleneck = _abstract_variables(BottleneckBlock(features=2), (1, 8, 8, 4))
    assert bottleneck["params"]["projection"]["kernel"].shape == (1, 1, 4, 8)
    # 32x32 ResNets: stage 1 keeps the resolution, 6n + 2 layers
    resnet20 = small_resnet(20)
    assert tuple(resnet20.stage_sizes) == (3, 3, 3)
    variables = _abstract_variables(resnet20, (1, 32, 32, 3))
    assert count_params(variables["params"]) == 272_474  # the paper's "0.27M"
    out = jax.eval_shape(
        lambda v, x: resnet18(10, stem="small").apply(v, x),
        _abstract_variables(resnet18(10, stem="small"), (1, 32, 32, 3)),
        jax.ShapeDtypeStruct((4, 32, 32, 3), jnp.float32),
    )
    assert out.shape == (4, 10)
    with pytest.raises(ValueError, match="depth must be 6 n \\+ 2"):
        small_resnet(21)
    with pytest.raises(ValueError, match="block must be"):
        ResNet(stage_sizes=(1,), block="wide").init(jax.random.key(2), jnp.ones((1, 8, 8, 3)))
