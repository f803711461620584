"""Autoencoders: undercomplete, deep, sparse, denoising, contractive and code dropout.

An autoencoder is a pair of maps trained to copy their input: an encoder
``h = f(x)`` produces a code and a decoder ``r = g(h)`` a reconstruction, and the
loss ``L(x, g(f(x)))`` penalises the difference. Copying is made non-trivial either
by the architecture (an *undercomplete* code, ``dim h < dim x``) or by a regulariser
added to the loss (for *overcomplete* codes):

- sparse:       ``L(x, g(f(x))) + Omega(h)`` with an L1 or a KL(rho || rho_hat) penalty;
- denoising:    ``L(x, g(f(x~)))`` where ``x~`` is a keyed corruption of ``x``;
- contractive:  ``L(x, g(f(x))) + lambda ||df/dx||_F^2`` (exact or Hutchinson estimate);
- code dropout: dropout on ``h`` while training.

With a linear decoder and the squared error, an undercomplete autoencoder spans the
same subspace as the top principal components (PCA / truncated SVD); see
:func:`pca_basis` and :func:`principal_angles` to measure the match.

Reference: Goodfellow, Bengio & Courville, *Deep Learning* (2016), chapter 14;
Vincent et al., "Extracting and composing robust features with denoising
autoencoders" (2008); Rifai et al., "Contractive auto-encoders" (2011).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl._checks import (
    check_floating,
    check_in_range,
    check_positive,
    check_positive_int,
    check_rank,
)
from jaxdl.losses.objective import Objective
from jaxdl.losses.penalties import (
    hutchinson_jacobian_frobenius_squared,
    jacobian_frobenius_squared,
    kl_sparsity_penalty,
    l1_code_penalty,
)
from jaxdl.nn.activations import _resolve_activation
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.sampling.dropout import dropout
from jaxdl.sampling.noise import gaussian_noise, masking_noise, salt_and_pepper_noise
from jaxdl.typing import Array, Key, PyTree


def _check_features(argument: str, features: Sequence[int]) -> None:
    if isinstance(features, int) or len(tuple(features)) == 0:
        raise ValueError(
            f"{argument} must be a non-empty sequence of layer sizes, got {features!r}"
        )
    for i, size in enumerate(features):
        check_positive_int(f"{argument}[{i}]", size)


class AutoencoderOutput(NamedTuple):
    """What :meth:`Autoencoder.encode_decode` returns.

    Attributes:
        reconstruction: ``g(h)``, shape ``[..., D]`` (logits when trained with ``"bce"``).
        code: ``h = f(x)`` before code dropout, shape ``[..., H]``.
    """

    reconstruction: Array
    code: Array


class Autoencoder(nn.Module):
    """Encoder and decoder MLPs, ``r = g(f(x))``, optionally with dropout on the code.

    ``f`` is a stack of dense layers with sizes ``encoder_features`` (the last one is
    the code size), ``g`` one with sizes ``decoder_features`` (the last one must equal
    the input size). Hidden layers use ``activation``; the code layer
    ``code_activation`` (``"sigmoid"`` for a KL sparsity penalty, ``"relu"`` for L1
    sparsity); the output layer ``output_activation``. With a single linear layer on
    each side this is the linear autoencoder that recovers the PCA subspace.

    Attributes:
        encoder_features: layer sizes of the encoder, the last being the code size.
        decoder_features: layer sizes of the decoder, the last being the input size.
        activation: hidden-layer activation (name or callable).
        code_activation: activation of the code layer.
        output_activation: activation of the reconstruction (``"linear"`` for MSE, or
            when the loss takes logits).
        code_dropout_rate: probability of dropping each code unit in training (needs
            the ``'dropout'`` rng stream).

    Example:
        >>> model = Autoencoder(encoder_features=(16, 2), decoder_features=(16, 8))
        >>> variables = model.init(jax.random.key(0), jnp.ones((4, 8)))
        >>> model.apply(variables, jnp.ones((4, 8))).shape
        (4, 8)

    Reference: Goodfellow, Bengio & Courville, *Deep Learning* (2016), section 14.1.
    """

    encoder_features: Sequence[int]
    decoder_features: Sequence[int]
    activation: str | Callable[[Array], Array] = "relu"
    code_activation: str | Callable[[Array], Array] = "linear"
    output_activation: str | Callable[[Array], Array] = "linear"
    code_dropout_rate: float = 0.0

    def setup(self) -> None:
        _check_features("encoder_features", self.encoder_features)
        _check_features("decoder_features", self.decoder_features)
        check_in_range("code_dropout_rate", self.code_dropout_rate, 0.0, 1.0, high_inclusive=False)
        self._hidden = _resolve_activation(self.activation, "activation")
        self._code = _resolve_activation(self.code_activation, "code_activation")
        self._output = _resolve_activation(self.output_activation, "output_activation")
        self.encoder_layers = [
            nn.Dense(int(size), name=f"encoder_{i}") for i, size in enumerate(self.encoder_features)
        ]
        self.decoder_layers = [
            nn.Dense(int(size), name=f"decoder_{i}") for i, size in enumerate(self.decoder_features)
        ]

    def encode(self, x: Array) -> Array:
        """The code ``h = f(x)``: ``[..., D] -> [..., H]``."""
        check_floating("x", x)
        h = x
        for layer in self.encoder_layers[:-1]:
            h = self._hidden(layer(h))
        return self._code(self.encoder_layers[-1](h))

    def decode(self, code: Array) -> Array:
        """The reconstruction ``r = g(h)``: ``[..., H] -> [..., D]``."""
        r = code
        for layer in self.decoder_layers[:-1]:
            r = self._hidden(layer(r))
        return self._output(self.decoder_layers[-1](r))

    def encode_decode(self, x: Array, *, train: bool = False) -> AutoencoderOutput:
        """Code and reconstruction in one pass; code dropout acts only when ``train``."""
        if x.shape[-1] != self.decoder_features[-1]:
            raise ValueError(
                f"decoder_features[-1] must equal the input size {x.shape[-1]} of x, "
                f"got {self.decoder_features[-1]}"
            )
        code = self.encode(x)
        kept = code
        if train and self.code_dropout_rate > 0.0:
            if not self.has_rng("dropout"):
                raise ValueError(
                    "Autoencoder with code_dropout_rate > 0 called with train=True needs a "
                    "'dropout' rng: pass rngs={'dropout': key} to apply"
                )
            kept = dropout(self.make_rng("dropout"), code, 1.0 - self.code_dropout_rate)
        return AutoencoderOutput(reconstruction=self.decode(kept), code=code)

    def __call__(self, x: Array, *, train: bool = False) -> Array:
        """The reconstruction ``g(f(x))``: ``[..., D] -> [..., D]``."""
        return self.encode_decode(x, train=train).reconstruction


# --------------------------------------------------------------------------------------
# Loss in the training engine's contract
# --------------------------------------------------------------------------------------

_CORRUPTIONS = {
    "masking": masking_noise,
    "gaussian": gaussian_noise,
    "salt_and_pepper": salt_and_pepper_noise,
}


def _reconstruction_error(kind: str, reconstruction: Array, x: Array) -> Array:
    if kind == "mse":
        return jnp.mean(jnp.square(reconstruction - x), axis=-1)
    if kind == "half_mse":
        return 0.5 * jnp.sum(jnp.square(reconstruction - x), axis=-1)
    # Bernoulli cross-entropy on logits, stable in logit space.
    return jnp.sum(jax.nn.softplus(reconstruction) - x * reconstruction, axis=-1)


def make_autoencoder_loss(
    model: Autoencoder,
    *,
    reconstruction: str = "mse",
    l1_strength: float = 0.0,
    kl_sparsity_strength: float = 0.0,
    sparsity_target: float = 0.05,
    contractive_strength: float = 0.0,
    contractive_num_probes: int | None = None,
    contractive_probe: str = "rademacher",
    corruption: str | None = None,
    corruption_level: float = 0.0,
) -> Objective:
    """Build ``loss_fn(params, model_state, batch, key)`` for any regularised autoencoder.

    ``loss = mean_i [ L(x_i, g(f(x~_i))) + l1_strength ||h_i||_1
    + contractive_strength ||J_f(x_i)||_F^2 ] + kl_sparsity_strength sum_j KL(rho || rho_hat_j)``
    where ``x~`` is ``x`` corrupted by ``corruption`` (denoising) or ``x`` itself.

    Args:
        model: an :class:`Autoencoder`.
        reconstruction: ``"mse"`` (mean over features), ``"half_mse"`` (half the sum)
            or ``"bce"`` (Bernoulli cross-entropy; the decoder then outputs logits).
        l1_strength: weight of the L1 code penalty, >= 0.
        kl_sparsity_strength: weight of the KL sparsity penalty, >= 0.
        sparsity_target: target mean activation ``rho`` in (0, 1) for the KL penalty.
        contractive_strength: weight of the squared Frobenius norm of the encoder
            Jacobian, >= 0.
        contractive_num_probes: ``None`` for the exact Jacobian (``jacfwd``), or a
            number of Hutchinson probes.
        contractive_probe: ``"rademacher"`` or ``"gaussian"`` Hutchinson probes.
        corruption: ``None``, ``"masking"``, ``"gaussian"`` or ``"salt_and_pepper"``.
        corruption_level: the masking / salt-and-pepper rate or the Gaussian stddev.

    Returns:
        A loss function; ``batch`` is ``x`` of shape ``[B, D]`` or a tuple whose first
        item is ``x``; metrics are ``reconstruction_error`` (MSE of the reconstruction
        against the clean input), ``code_l1`` and ``penalty``. Its ``evaluate(params,
        model_state, batch)`` gives the loss and metrics in inference mode (clean
        inputs, no code dropout, exact Jacobian norm).

    Example:
        >>> model = Autoencoder(encoder_features=(2,), decoder_features=(4,))
        >>> params = model.init(jax.random.key(0), jnp.ones((3, 4)))["params"]
        >>> loss_fn = make_autoencoder_loss(model, corruption="gaussian", corruption_level=0.1)
        >>> loss, (_, metrics) = loss_fn(params, {}, jnp.ones((3, 4)), jax.random.key(1))

    Reference: Goodfellow, Bengio & Courville, *Deep Learning* (2016), chapter 14.
    """
    if reconstruction not in ("mse", "half_mse", "bce"):
        raise ValueError(
            f"reconstruction must be 'mse', 'half_mse' or 'bce', got {reconstruction!r}"
        )
    check_positive("l1_strength", l1_strength, allow_zero=True)
    check_positive("kl_sparsity_strength", kl_sparsity_strength, allow_zero=True)
    check_positive("contractive_strength", contractive_strength, allow_zero=True)
    check_in_range(
        "sparsity_target", sparsity_target, 0.0, 1.0, low_inclusive=False, high_inclusive=False
    )
    if contractive_num_probes is not None:
        check_positive_int("contractive_num_probes", contractive_num_probes)
    if contractive_probe not in ("rademacher", "gaussian"):
        raise ValueError(
            f"contractive_probe must be 'rademacher' or 'gaussian', got {contractive_probe!r}"
        )
    if corruption is not None and corruption not in _CORRUPTIONS:
        raise ValueError(
            f"corruption must be None or one of {sorted(_CORRUPTIONS)}, got {corruption!r}"
        )
    check_positive("corruption_level", corruption_level, allow_zero=True)

    def loss_and_metrics(
        params: PyTree, model_state: PyTree, batch: PyTree, key: Key | None
    ) -> tuple[Array, dict[str, Array]]:
        # key None: inference mode (no corruption, no code dropout, exact Jacobian norm).
        x = batch[0] if isinstance(batch, tuple | list) else batch
        variables = {"params": params, **model_state}
        inputs = x
        if key is None:
            probe_key = None
            out = model.apply(variables, x, train=False, method=Autoencoder.encode_decode)
        else:
            noise_key, dropout_key, probe_key = jax.random.split(key, 3)
            if corruption is not None:
                inputs = _CORRUPTIONS[corruption](noise_key, x, corruption_level)
            out = model.apply(
                variables,
                inputs,
                train=True,
                rngs={"dropout": dropout_key},
                method=Autoencoder.encode_decode,
            )
        per_example = _reconstruction_error(reconstruction, out.reconstruction, x)
        penalty = jnp.zeros((), dtype=per_example.dtype)
        if l1_strength > 0.0:
            penalty = penalty + l1_strength * jnp.mean(l1_code_penalty(out.code))
        if kl_sparsity_strength > 0.0:
            penalty = penalty + kl_sparsity_strength * kl_sparsity_penalty(
                out.code, sparsity_target
            )
        if contractive_strength > 0.0:

            def encoder(v: Array) -> Array:
                return model.apply(variables, v, method=Autoencoder.encode)

            if contractive_num_probes is None or probe_key is None:
                norms = jacobian_frobenius_squared(encoder, x)
            else:
                norms = hutchinson_jacobian_frobenius_squared(
                    probe_key,
                    encoder,
                    x,
                    num_probes=contractive_num_probes,
                    probe=contractive_probe,
                )
            penalty = penalty + contractive_strength * jnp.mean(norms)
        output = out.reconstruction
        if reconstruction == "bce":
            output = jax.nn.sigmoid(output)
        metrics = {
            "reconstruction_error": jnp.mean(jnp.square(output - x)),
            "code_l1": jnp.mean(l1_code_penalty(out.code)),
            "penalty": penalty,
        }
        return jnp.mean(per_example) + penalty, metrics

    def loss_fn(
        params: PyTree, model_state: PyTree, batch: PyTree, key: Key
    ) -> tuple[Array, tuple[PyTree, dict[str, Array]]]:
        loss, metrics = loss_and_metrics(params, model_state, batch, key)
        return loss, (model_state, metrics)

    def evaluate(params: PyTree, model_state: PyTree, batch: PyTree) -> dict[str, Array]:
        loss, metrics = loss_and_metrics(params, model_state, batch, None)
        return {"loss": loss, **metrics}

    return Objective(loss_fn, evaluate)


# --------------------------------------------------------------------------------------
# PCA reference: principal subspace and principal angles
# --------------------------------------------------------------------------------------


def pca_basis(x: Array, num_components: int) -> Array:
    """Orthonormal basis of the top principal subspace of ``x`` (truncated SVD).

    With ``X_c = X - mean(X) = U S V^T``, returns the first ``k`` right singular
    vectors ``V[:, :k]`` (the directions of largest variance).

    Args:
        x: data, shape ``[N, D]``.
        num_components: ``k``, between 1 and ``min(N, D)``.

    Returns:
        A ``[D, k]`` matrix with orthonormal columns.

    Example:
        >>> x = jnp.array([[1.0, 0.0], [-1.0, 0.0], [2.0, 0.1], [-2.0, -0.1]])
        >>> pca_basis(x, 1).shape
        (2, 1)

    Reference: Eckart & Young, "The approximation of one matrix by another of lower
    rank" (1936).
    """
    check_floating("x", x)
    check_rank("x", x, 2)
    check_positive_int("num_components", num_components)
    if num_components > min(x.shape):
        raise ValueError(
            f"num_components must be <= min(N, D) = {min(x.shape)} for x of shape {x.shape}, "
            f"got {num_components}"
        )
    centered = x - jnp.mean(x, axis=0, keepdims=True)
    _, _, vt = jnp.linalg.svd(centered, full_matrices=False)
    return vt[:num_components].T


def principal_angles(basis_a: Array, basis_b: Array) -> Array:
    """Principal angles between the column spaces of two matrices, smallest first.

    With ``Q_a, Q_b`` orthonormal bases (QR) the cosines of the angles are the
    singular values of ``Q_a^T Q_b``; all angles are 0 when the spaces coincide.

    Args:
        basis_a: ``[D, k_a]`` spanning vectors (need not be orthonormal).
        basis_b: ``[D, k_b]`` spanning vectors.

    Returns:
        ``min(k_a, k_b)`` angles in radians, ascending.

    Example:
        >>> a = jnp.array([[1.0], [0.0]])
        >>> float(principal_angles(a, jnp.array([[2.0], [0.0]]))[0])
        0.0

    Reference: Björck & Golub, "Numerical methods for computing angles between
    linear subspaces" (1973).
    """
    check_rank("basis_a", basis_a, 2)
    check_rank("basis_b", basis_b, 2)
    if basis_a.shape[0] != basis_b.shape[0]:
        raise ValueError(
            f"basis_a and basis_b must have the same number of rows, got {basis_a.shape[0]} "
            f"and {basis_b.shape[0]}"
        )
    q_a, _ = jnp.linalg.qr(basis_a)
    q_b, _ = jnp.linalg.qr(basis_b)
    cosines = jnp.linalg.svd(q_a.T @ q_b, compute_uv=False)
    return jnp.arccos(jnp.clip(cosines, -1.0, 1.0))


register_model(
    ModelSpec(
        name="Autoencoder",
        make=lambda: Autoencoder(
            encoder_features=(6, 2), decoder_features=(6, 5), code_dropout_rate=0.1
        ),
        input_shape=(5,),
        apply_kwargs={"train": False},
    )
)

__all__ = [
    "Autoencoder",
    "AutoencoderOutput",
    "make_autoencoder_loss",
    "pca_basis",
    "principal_angles",
]
