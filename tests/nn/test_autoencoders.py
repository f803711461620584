"""Tests of jaxdl.nn.autoencoders: PCA match, penalties, corruptions, contractive estimators."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.linalg

from jaxdl.losses.penalties import (
    hutchinson_jacobian_frobenius_squared,
    jacobian_frobenius_squared,
    l1_code_penalty,
)
from jaxdl.nn.autoencoders import (
    Autoencoder,
    make_autoencoder_loss,
    pca_basis,
    principal_angles,
)
from jaxdl.nn.registry import registered_models
from jaxdl.testing import (
    assert_grads_close,
    assert_jit_matches_eager,
    assert_vmap_matches_loop,
)


def _low_rank_data(key, num_examples=200, scales=(3.0, 2.0, 0.3, 0.2, 0.1, 0.05)):
    """Gaussian data with a clear spectral gap after the second direction, rotated."""
    rotation_key, data_key = jax.random.split(key)
    dim = len(scales)
    q, _ = jnp.linalg.qr(jax.random.normal(rotation_key, (dim, dim)))
    z = jax.random.normal(data_key, (num_examples, dim)) * jnp.asarray(scales)[None, :]
    return z @ q.T + 1.5


def _train(key, loss_fn, params, x, *, num_steps, learning_rate):
    """Full-batch Adam on ``loss_fn`` as one lax.scan; a fresh key per step (fold_in)."""
    tx = optax.adam(learning_rate)

    def step(carry, index):
        params, opt_state = carry
        (loss, _), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, {}, x, jax.random.fold_in(key, index)
        )
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    (params, _), losses = jax.jit(
        lambda p: jax.lax.scan(step, (p, tx.init(p)), jnp.arange(num_steps))
    )(params)
    return params, losses


# --------------------------------------------------------------------------------------
# The module
# --------------------------------------------------------------------------------------


def test_autoencoder_shapes_jit_and_vmap(key):
    model = Autoencoder(encoder_features=(6, 3), decoder_features=(6, 5), activation="tanh")
    x = jax.random.normal(key, (4, 5))
    variables = model.init(jax.random.key(1), x)
    code = model.apply(variables, x, method=Autoencoder.encode)
    assert code.shape == (4, 3)
    reconstruction = model.apply(variables, code, method=Autoencoder.decode)
    np.testing.assert_allclose(model.apply(variables, x), reconstruction, rtol=1e-6)
    out = model.apply(variables, x, method=Autoencoder.encode_decode)
    np.testing.assert_allclose(out.code, code, rtol=1e-6)
    assert_jit_matches_eager(lambda v, x: model.apply(v, x), variables, x)
    assert_vmap_matches_loop(lambda x: model.apply(variables, x), x)


def test_linear_autoencoder_matches_linear_map(key):
    # One linear layer per side: r = W_d (W_e x + b_e) + b_d exactly.
    model = Autoencoder(encoder_features=(2,), decoder_features=(4,), activation="linear")
    x = jax.random.normal(key, (3, 4))
    params = model.init(jax.random.key(1), x)["params"]
    encoder, decoder = params["encoder_0"], params["decoder_0"]
    expected = (
        (np.asarray(x) @ np.asarray(encoder["kernel"]) + np.asarray(encoder["bias"]))
        @ np.asarray(decoder["kernel"])
    ) + np.asarray(decoder["bias"])
    np.testing.assert_allclose(model.apply({"params": params}, x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.standard_dtype_promotion
def test_linear_autoencoder_spans_pca_subspace(key):
    data_key, init_key, train_key = jax.random.split(key, 3)
    x = _low_rank_data(data_key)
    model = Autoencoder(
        encoder_features=(2,), decoder_features=(6,), activation="linear", code_activation="linear"
    )
    params = model.init(init_key, x)["params"]
    loss_fn = make_autoencoder_loss(model)
    params, losses = _train(train_key, loss_fn, params, x, num_steps=1500, learning_rate=3e-2)
    assert float(losses[-1]) < 0.2 * float(losses[0])
    decoder_span = np.asarray(params["decoder_0"]["kernel"]).T  # [D, k]
    # Reference: top-2 right singular vectors of the centred data, from NumPy.
    x_np = np.asarray(x, dtype=np.float64)
    _, singular_values, vt = np.linalg.svd(x_np - x_np.mean(0), full_matrices=False)
    angles = scipy.linalg.subspace_angles(decoder_span, vt[:2].T)
    assert np.max(angles) < 0.05, angles
    # The optimal reconstruction error equals the discarded variance (Eckart-Young).
    discarded = np.sum(singular_values[2:] ** 2) / x_np.size
    mse = float(jnp.mean(jnp.square(model.apply({"params": params}, x) - x)))
    assert mse == pytest.approx(discarded, rel=0.05)


# --------------------------------------------------------------------------------------
# PCA helpers
# --------------------------------------------------------------------------------------


def test_pca_basis_matches_numpy_svd(key):
    x = _low_rank_data(key, num_examples=50)
    basis = pca_basis(x, 3)
    assert basis.shape == (6, 3)
    np.testing.assert_allclose(basis.T @ basis, np.eye(3), atol=1e-5)
    x_np = np.asarray(x, dtype=np.float64)
    _, _, vt = np.linalg.svd(x_np - x_np.mean(0), full_matrices=False)
    # Compare projectors (signs of singular vectors are arbitrary).
    np.testing.assert_allclose(basis @ basis.T, vt[:3].T @ vt[:3], atol=1e-4)


def test_principal_angles_match_scipy(key):
    a_key, b_key = jax.random.split(key)
    a = jax.random.normal(a_key, (7, 3))
    b = jax.random.normal(b_key, (7, 2))
    expected = np.sort(scipy.linalg.subspace_angles(np.asarray(a), np.asarray(b)))
    np.testing.assert_allclose(principal_angles(a, b), expected, atol=1e-5)
    # A basis and a scaled, mixed copy of it span the same space.
    mixed = a @ jnp.array([[2.0, 1.0, 0.0], [0.0, 1.0, 0.5], [1.0, 0.0, 3.0]])
    np.testing.assert_allclose(principal_angles(a, mixed), np.zeros(3), atol=2e-3)


def test_pca_and_angle_errors():
    with pytest.raises(ValueError, match="num_components must be <= min"):
        pca_basis(jnp.ones((4, 3)), 5)
    with pytest.raises(TypeError, match="num_components must be an int"):
        pca_basis(jnp.ones((4, 3)), 1.5)
    with pytest.raises(ValueError, match="x must have rank 2"):
        pca_basis(jnp.ones(4), 1)
    with pytest.raises(ValueError, match="same number of rows"):
        principal_angles(jnp.ones((4, 2)), jnp.ones((3, 2)))


# --------------------------------------------------------------------------------------
# Sparsity penalties
# --------------------------------------------------------------------------------------


def _train_with_penalty_weights(key, model, penalty, x, weights, *, num_steps, learning_rate):
    """Train one model per penalty weight, all in one compiled, vmapped run.

    ``loss = mean squared error + weight * penalty(params, code)``.
    """
    params = model.init(key, x)["params"]
    tx = optax.adam(learning_rate)

    def loss_fn(params, weight):
        out = model.apply({"params": params}, x, method=Autoencoder.encode_decode)
        return jnp.mean(jnp.square(out.reconstruction - x)) + weight * penalty(params, out.code)

    def train(weight):
        def step(carry, _):
            params, opt_state = carry
            grads = jax.grad(loss_fn)(params, weight)
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), None

        return jax.lax.scan(step, (params, tx.init(params)), None, length=num_steps)[0][0]

    return params, jax.jit(jax.vmap(train))(jnp.asarray(weights))


@pytest.mark.standard_dtype_promotion
def test_l1_penalty_produces_sparse_codes(key):
    data_key, init_key = jax.random.split(key)
    x = jax.random.normal(data_key, (64, 6))
    model = Autoencoder(encoder_features=(12,), decoder_features=(6,), code_activation="relu")
    _, trained = _train_with_penalty_weights(
        init_key,
        model,
        lambda params, code: jnp.mean(l1_code_penalty(code)),
        x,
        [0.0, 0.5],
        num_steps=300,
        learning_rate=1e-2,
    )
    codes = jax.vmap(lambda p: model.apply({"params": p}, x, method=Autoencoder.encode))(trained)
    zero_fraction = jnp.mean(codes <= 1e-6, axis=(1, 2))
    assert float(zero_fraction[1]) > float(zero_fraction[0]) + 0.2


@pytest.mark.standard_dtype_promotion
def test_kl_penalty_drives_mean_activation_to_target(key):
    data_key, init_key, train_key = jax.random.split(key, 3)
    x = jax.random.normal(data_key, (64, 6))
    model = Autoencoder(encoder_features=(10,), decoder_features=(6,), code_activation="sigmoid")
    params = model.init(init_key, x)["params"]
    loss_fn = make_autoencoder_loss(model, kl_sparsity_strength=3.0, sparsity_target=0.05)
    trained, _ = _train(train_key, loss_fn, params, x, num_steps=300, learning_rate=3e-2)
    code = model.apply({"params": trained}, x, method=Autoencoder.encode)
    mean_activation = jnp.mean(code, axis=0)
    before = jnp.mean(model.apply({"params": params}, x, method=Autoencoder.encode), axis=0)
    assert float(jnp.max(jnp.abs(before - 0.05))) > 0.2
    assert float(jnp.max(jnp.abs(mean_activation - 0.05))) < 0.1


# --------------------------------------------------------------------------------------
# Corruptions
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# Contractive penalty
# --------------------------------------------------------------------------------------


def test_hutchinson_matches_exact_on_a_network(key):
    model = Autoencoder(encoder_features=(8, 3), decoder_features=(8, 5), activation="tanh")
    init_key, x_key, probe_key = jax.random.split(key, 3)
    x = jax.random.normal(x_key, (3, 5))
    variables = model.init(init_key, x)

    def encoder(v):
        return model.apply(variables, v, method=Autoencoder.encode)

    exact = jacobian_frobenius_squared(encoder, x)
    estimate = hutchinson_jacobian_frobenius_squared(
        probe_key, encoder, x, num_probes=4000, probe="gaussian"
    )
    # Gaussian-probe standard error <= sqrt(2 / P) * ||J||_F^2.
    np.testing.assert_allclose(estimate, exact, rtol=4 * np.sqrt(2 / 4000))


@pytest.mark.standard_dtype_promotion
def test_contractive_penalty_shrinks_encoder_jacobian(key):
    data_key, init_key = jax.random.split(key)
    x = jax.random.normal(data_key, (64, 5))
    model = Autoencoder(encoder_features=(8,), decoder_features=(5,), code_activation="tanh")

    def jacobian_norm(params):
        return jnp.mean(
            jacobian_frobenius_squared(
                lambda v: model.apply({"params": params}, v, method=Autoencoder.encode), x
            )
        )

    _, trained = _train_with_penalty_weights(
        init_key,
        model,
        lambda params, code: jacobian_norm(params),
        x,
        [0.0, 1.0],
        num_steps=200,
        learning_rate=1e-2,
    )
    norms = jax.vmap(jacobian_norm)(trained)
    assert float(norms[1]) < 0.5 * float(norms[0])


# --------------------------------------------------------------------------------------
# Loss function and code dropout
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {
            "reconstruction": "mse",
            "l1_strength": 0.1,
            "contractive_strength": 0.2,
            "corruption": "gaussian",
            "corruption_level": 0.1,
        },
        {
            "reconstruction": "bce",
            "kl_sparsity_strength": 0.5,
            "contractive_strength": 0.2,
            "contractive_num_probes": 3,
            "corruption": "masking",
            "corruption_level": 0.3,
        },
    ],
)
def test_autoencoder_loss_gradients_with_fixed_key(key, options):
    model = Autoencoder(
        encoder_features=(4, 3),
        decoder_features=(4, 5),
        activation="tanh",
        code_activation="sigmoid",
        code_dropout_rate=0.2,
    )
    init_key, x_key, loss_key = jax.random.split(key, 3)
    x = jax.nn.sigmoid(jax.random.normal(x_key, (4, 5)))
    params = model.init(init_key, x)["params"]
    loss_fn = make_autoencoder_loss(model, **options)

    def objective(params, x, loss_key):
        return loss_fn(params, {}, (x,), loss_key)[0]

    assert_grads_close(objective, params, x, loss_key, rtol=1e-4, atol=1e-7)


def test_autoencoder_loss_metrics(key):
    model = Autoencoder(encoder_features=(2,), decoder_features=(4,), activation="linear")
    x = jax.random.normal(key, (6, 4))
    params = model.init(jax.random.key(1), x)["params"]
    loss_fn = make_autoencoder_loss(model)
    loss, (state, metrics) = loss_fn(params, {}, x, jax.random.key(2))
    assert_jit_matches_eager(lambda p, x, k: loss_fn(p, {}, x, k), params, x, jax.random.key(3))
    reconstruction = model.apply({"params": params}, x)
    expected = float(jnp.mean(jnp.square(reconstruction - x)))
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    assert float(metrics["reconstruction_error"]) == pytest.approx(expected, rel=1e-6)
    assert float(metrics["penalty"]) == 0.0
    assert state == {}


def test_code_dropout(key):
    model = Autoencoder(encoder_features=(16,), decoder_features=(4,), code_dropout_rate=0.5)
    x = jax.random.normal(key, (3, 4))
    variables = model.init(jax.random.key(1), x)
    np.testing.assert_array_equal(model.apply(variables, x), model.apply(variables, x))
    with pytest.raises(ValueError, match="needs a 'dropout' rng"):
        model.apply(variables, x, train=True)
    k1, k2 = jax.random.split(jax.random.key(2))
    a = model.apply(variables, x, train=True, rngs={"dropout": k1})
    b = model.apply(variables, x, train=True, rngs={"dropout": k2})
    assert not np.allclose(a, b)
    # Inverted dropout keeps the code's expectation: average many masks.
    keys = jax.random.split(jax.random.key(3), 2000)
    mean = jnp.mean(
        jax.vmap(lambda k: model.apply(variables, x, train=True, rngs={"dropout": k}))(keys),
        axis=0,
    )
    np.testing.assert_allclose(mean, model.apply(variables, x), atol=0.15)


def test_autoencoder_errors(key):
    x = jnp.ones((2, 4))
    with pytest.raises(ValueError, match=r"encoder_features\[1\] must be > 0"):
        Autoencoder(encoder_features=(3, 0), decoder_features=(4,)).init(key, x)
    with pytest.raises(ValueError, match="encoder_features must be a non-empty sequence"):
        Autoencoder(encoder_features=(), decoder_features=(4,)).init(key, x)
    with pytest.raises(ValueError, match=r"decoder_features\[-1\] must equal the input size 4"):
        Autoencoder(encoder_features=(2,), decoder_features=(5,)).init(key, x)
    with pytest.raises(ValueError, match="code_dropout_rate must lie in"):
        Autoencoder(encoder_features=(2,), decoder_features=(4,), code_dropout_rate=1.0).init(
            key, x
        )
    with pytest.raises(ValueError, match="code_activation: activation must be one of"):
        Autoencoder(encoder_features=(2,), decoder_features=(4,), code_activation="swish").init(
            key, x
        )
    model = Autoencoder(encoder_features=(2,), decoder_features=(4,))
    with pytest.raises(ValueError, match="l1_strength must be >= 0"):
        make_autoencoder_loss(model, l1_strength=-1.0)
    with pytest.raises(ValueError, match="kl_sparsity_strength must be >= 0"):
        make_autoencoder_loss(model, kl_sparsity_strength=-0.1)
    with pytest.raises(ValueError, match="contractive_strength must be >= 0"):
        make_autoencoder_loss(model, contractive_strength=-2.0)
    with pytest.raises(ValueError, match=r"sparsity_target must lie in \(0.0, 1.0\)"):
        make_autoencoder_loss(model, sparsity_target=1.0)
    with pytest.raises(ValueError, match=r"sparsity_target must lie in \(0.0, 1.0\)"):
        make_autoencoder_loss(model, sparsity_target=0.0)
    with pytest.raises(ValueError, match="corruption must be None or one of"):
        make_autoencoder_loss(model, corruption="blur")
    with pytest.raises(ValueError, match="reconstruction must be"):
        make_autoencoder_loss(model, reconstruction="l1")
    with pytest.raises(ValueError, match="contractive_num_probes must be > 0"):
        make_autoencoder_loss(model, contractive_num_probes=0)


def test_autoencoder_is_registered():
    assert "Autoencoder" in registered_models()
