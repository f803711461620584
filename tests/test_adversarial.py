"""FGSM, PGD, robust accuracy and adversarial training on a small digits model."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.adversarial import fgsm, make_adversarial_loss, pgd, robust_accuracy
from jaxdl.data import load_digits
from jaxdl.data.augment import fast_gradient_sign
from jaxdl.losses import softmax_cross_entropy
from jaxdl.nn import MLP
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop
from jaxdl.training import create_train_state, fit, make_supervised_loss

pytestmark = pytest.mark.standard_dtype_promotion

EPSILON = 0.1
CLIP = (0.0, 1.0)
MODEL = MLP(features=(32, 10), activation="relu")


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return (
        data.x_train[:500] / 16.0,
        data.y_train[:500],
        data.x_test[:200] / 16.0,
        data.y_test[:200],
    )


def _train(loss_fn, x, y):
    state = create_train_state(jax.random.key(11), MODEL, x[:1], optax.adam(1e-2))
    result = fit(
        jax.random.key(12), state, loss_fn, (x, y), num_epochs=12, batch_size=50, progress=False
    )
    return {"params": result.state.params}


@pytest.fixture(scope="module")
def trained(digits):
    x, y, _, _ = digits
    return _train(make_supervised_loss(MODEL), x, y)


@pytest.fixture(scope="module")
def adversarially_trained(digits):
    x, y, _, _ = digits
    return _train(make_adversarial_loss(MODEL, EPSILON, clip_range=CLIP), x, y)


def test_fgsm_is_the_sign_step_inside_the_ball(digits, trained):
    _, _, x, y = digits
    x_adversarial = fgsm(MODEL.apply, trained, x, y, EPSILON)
    reference = fast_gradient_sign(
        lambda z: jnp.sum(softmax_cross_entropy(MODEL.apply(trained, z), y)), x, EPSILON
    )
    np.testing.assert_allclose(np.asarray(x_adversarial), np.asarray(reference))
    assert float(jnp.max(jnp.abs(x_adversarial - x))) <= EPSILON + 1e-6
    clipped = fgsm(MODEL.apply, trained, x, y, EPSILON, clip_range=CLIP)
    assert float(clipped.min()) >= 0.0 and float(clipped.max()) <= 1.0


def test_pgd_stays_in_the_ball_and_the_valid_range(digits, trained):
    _, _, x, y = digits
    x_adversarial = pgd(
        jax.random.key(1), MODEL.apply, trained, x, y, EPSILON, num_steps=5, clip_range=CLIP
    )
    assert float(jnp.max(jnp.abs(x_adversarial - x))) <= EPSILON + 1e-6
    assert float(x_adversarial.min()) >= 0.0 and float(x_adversarial.max()) <= 1.0


def test_attacks_lower_accuracy_and_pgd_is_at_least_as_strong(digits, trained):
    _, _, x, y = digits
    clean = float(robust_accuracy(None, MODEL.apply, trained, x, y, 0.0))
    fast = float(robust_accuracy(None, MODEL.apply, trained, x, y, EPSILON, clip_range=CLIP))
    projected = float(
        robust_accuracy(
            jax.random.key(2),
            MODEL.apply,
            trained,
            x,
            y,
            EPSILON,
            attack="pgd",
            num_steps=10,
            clip_range=CLIP,
        )
    )
    assert clean > 0.85
    assert fast < clean - 0.1
    # one example out of 200 of slack: PGD's random start can be unlucky on a single point
    assert projected <= fast + 1 / 200


def test_adversarial_training_raises_fgsm_robust_accuracy(digits, trained, adversarially_trained):
    _, _, x, y = digits
    plain = float(robust_accuracy(None, MODEL.apply, trained, x, y, EPSILON, clip_range=CLIP))
    robust = float(
        robust_accuracy(None, MODEL.apply, adversarially_trained, x, y, EPSILON, clip_range=CLIP)
    )
    clean = float(robust_accuracy(None, MODEL.apply, adversarially_trained, x, y, 0.0))
    assert robust > plain + 0.05
    assert clean > 0.8


def test_pgd_jit_matches_eager_and_vmap_matches_loop(key):
    model = nn.Dense(3)
    x = jax.random.normal(key, (4, 5))
    labels = jnp.asarray([0, 1, 2, 1], jnp.int32)
    variables = model.init(jax.random.key(1), x)

    def attack(inputs, targets):
        return pgd(None, model.apply, variables, inputs, targets, 0.2, num_steps=3)

    assert_jit_matches_eager(attack, x, labels)
    assert_vmap_matches_loop(jax.jit(lambda xi, yi: attack(xi[None], yi[None])[0]), x, labels)
    assert_vmap_matches_loop(
        jax.jit(lambda xi, yi: fgsm(model.apply, variables, xi[None], yi[None], 0.2)[0]), x, labels
    )


def test_adversarial_loss_gradients_and_clean_limit(key):
    model = nn.Dense(3)
    x = jax.random.normal(key, (6, 4))
    y = jnp.asarray([0, 1, 2, 0, 1, 2], jnp.int32)
    params = model.init(jax.random.key(3), x)["params"]
    loss_fn = make_adversarial_loss(model, 0.05, adversarial_weight=0.5)
    assert_grads_close(
        lambda p, xb, yb: loss_fn(p, {}, (xb, yb), None)[0], params, x, y, rtol=1e-4, atol=1e-7
    )
    clean = make_adversarial_loss(model, 0.05, adversarial_weight=0.0)(params, {}, (x, y), None)[0]
    reference = make_supervised_loss(model)(params, {}, (x, y), None)[0]
    assert float(clean) == pytest.approx(float(reference), rel=1e-6)
    loss, (_, metrics) = loss_fn(params, {}, (x, y), jax.random.key(4))
    assert float(metrics["adversarial_loss"]) > float(metrics["clean_loss"])
    expected = 0.5 * (metrics["clean_loss"] + metrics["adversarial_loss"])
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda a, v, x, y: robust_accuracy(None, a, v, x, y, 0.1, attack="cw"),
            ValueError,
            "attack must be 'fgsm' or 'pgd'",
        ),
        (lambda a, v, x, y: fgsm(a, v, x, y, -0.1), ValueError, "epsilon must be >= 0"),
        (
            lambda a, v, x, y: fgsm(a, v, x, y, 0.1, clip_range=(1.0, 0.0)),
            ValueError,
            "clip_range must be",
        ),
        (lambda a, v, x, y: pgd(None, a, v, x, y[:2], 0.1), ValueError, "same number of rows"),
        (
            lambda a, v, x, y: pgd(None, a, v, x, y, 0.1, num_steps=0),
            ValueError,
            "num_steps must be > 0",
        ),
        (lambda a, v, x, y: fgsm(a, v, y, y, 0.1), TypeError, "x must have a floating dtype"),
        (
            lambda a, v, x, y: make_adversarial_loss(MODEL, 0.1, adversarial_weight=1.5),
            ValueError,
            "adversarial_weight must lie in",
        ),
    ],
)
def test_bad_arguments_raise(key, call, error, match):
    model = nn.Dense(3)
    x = jax.random.normal(key, (4, 5))
    y = jnp.asarray([0, 1, 2, 1], jnp.int32)
    variables = model.init(jax.random.key(1), x)
    with pytest.raises(error, match=match):
        call(model.apply, variables, x, y)
