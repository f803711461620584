"""Restricted Boltzmann machines: model, block Gibbs kernel, CD-k/PCD training, log Z.

An RBM is an energy-based model over visible units ``v`` and binary hidden units ``h``
joined by a bipartite graph, ``P(v, h) = exp(-E(v, h)) / Z``. The package is one
namespace (``from jaxdl.probabilistic import rbm; rbm.init_params(...)``) over four
modules:

- :mod:`~jaxdl.probabilistic.rbm.model`: parameters (:func:`init_params`,
  :func:`init_gaussian_params`), energies, free energy, conditionals, monitors
  (reconstruction error, pseudo-likelihood);
- :mod:`~jaxdl.probabilistic.rbm.gibbs`: the block Gibbs kernel
  (:func:`gibbs_init`, :func:`gibbs_kernel`, :class:`RBMGibbsState`) and :func:`sample`;
- :mod:`~jaxdl.probabilistic.rbm.training`: CD-k / PCD gradients
  (:func:`contrastive_divergence`) and the pure pieces of a custom update step for
  ``jaxdl.training.fit`` (:func:`cd_step`, :func:`cd_evaluate`, :func:`cd_validate`,
  :func:`init_persistent_chains`); ``jaxdl.training.train_rbm`` runs them;
- :mod:`~jaxdl.probabilistic.rbm.partition`: exact ``log Z`` and annealed importance
  sampling as a kernel (:func:`ais_init`, :func:`ais_kernel`, :func:`ais_log_partition`).

Example:
    >>> import functools
    >>> import jax, jax.numpy as jnp
    >>> from jaxdl.probabilistic import rbm
    >>> from jaxdl.sampling import sample_chain
    >>> params = rbm.init_params(jax.random.key(0), 6, 4)
    >>> kernel = functools.partial(rbm.gibbs_kernel, params=params)
    >>> final, (states, infos) = sample_chain(
    ...     jax.random.key(1), kernel, rbm.gibbs_init(params, jnp.zeros((3, 6))), 10, burn_in=5)
    >>> states.visible.shape
    (10, 3, 6)
"""

from jaxdl.probabilistic.rbm import gibbs, model, partition, training
from jaxdl.probabilistic.rbm.gibbs import (
    RBMGibbsInfo,
    RBMGibbsState,
    gibbs_init,
    gibbs_kernel,
    sample,
)
from jaxdl.probabilistic.rbm.model import (
    AnyRBMParams,
    GaussianRBMParams,
    RBMParams,
    base_rate_visible_bias,
    energy,
    exact_pseudo_log_likelihood,
    free_energy,
    hidden_probabilities,
    init_gaussian_params,
    init_params,
    pseudo_log_likelihood,
    reconstruction_error,
    sample_hidden,
    sample_visible,
    visible_mean,
)
from jaxdl.probabilistic.rbm.partition import (
    AISInfo,
    AISResult,
    AISState,
    ais_init,
    ais_kernel,
    ais_log_partition,
    log_likelihood,
    log_partition_function,
)
from jaxdl.probabilistic.rbm.training import (
    ContrastiveDivergenceInfo,
    cd_evaluate,
    cd_step,
    cd_validate,
    contrastive_divergence,
    init_persistent_chains,
)

__all__ = [
    "AISInfo",
    "AISResult",
    "AISState",
    "AnyRBMParams",
    "ContrastiveDivergenceInfo",
    "GaussianRBMParams",
    "RBMGibbsInfo",
    "RBMGibbsState",
    "RBMParams",
    "ais_init",
    "ais_kernel",
    "ais_log_partition",
    "base_rate_visible_bias",
    "cd_evaluate",
    "cd_step",
    "cd_validate",
    "contrastive_divergence",
    "energy",
    "exact_pseudo_log_likelihood",
    "free_energy",
    "gibbs",
    "gibbs_init",
    "gibbs_kernel",
    "hidden_probabilities",
    "init_gaussian_params",
    "init_params",
    "init_persistent_chains",
    "log_likelihood",
    "log_partition_function",
    "model",
    "partition",
    "pseudo_log_likelihood",
    "reconstruction_error",
    "sample",
    "sample_hidden",
    "sample_visible",
    "training",
    "visible_mean",
]
