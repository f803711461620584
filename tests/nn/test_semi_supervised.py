"""SemiSupervisedAutoencoder: an encoder shared by a decoder and a classifier."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.losses import semi_supervised_loss
from jaxdl.nn.semi_supervised import SemiSupervisedAutoencoder
from tests._fixtures import optax_steps


def test_semi_supervised_autoencoder_shares_the_encoder(key):
    model = SemiSupervisedAutoencoder(encoder_features=(8, 2), num_classes=3)
    x = jnp.ones((4, 6))
    params = model.init(key, x)
    logits, reconstruction = model.apply(params, x)
    assert logits.shape == (4, 3) and reconstruction.shape == (4, 6)
    per_output = jax.jit(
        lambda p: [jax.grad(lambda q, i=i: jnp.sum(model.apply(q, x)[i] ** 2))(p) for i in (0, 1)]
    )(params)
    for grads in per_output:
        assert np.any(np.asarray(grads["params"]["encoder_0"]["kernel"]) != 0)


def test_semi_supervised_training_with_few_labels(key):
    data_key, init_key = jax.random.split(key)
    x = jax.random.normal(data_key, (40, 6))
    labels = (x[:, 0] + x[:, 1] > 0).astype(jnp.int32)
    labelled = jnp.arange(40) < 6  # 6 labelled examples out of 40
    model = SemiSupervisedAutoencoder(encoder_features=(8, 3), num_classes=2)
    params = model.init(init_key, x)

    @jax.jit
    def parts(p):
        logits, x_hat = model.apply(p, x)
        return semi_supervised_loss(logits, x_hat, x, labels, labelled, 1.0), jnp.mean(
            jnp.square(x_hat - x)
        )

    trained = optax_steps(optax.sgd(0.1), params, lambda p: parts(p)[0], 200)
    assert parts(trained)[0] < parts(params)[0]
    assert parts(trained)[1] < parts(params)[1]  # the unlabelled rows were used
