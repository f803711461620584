"""Every stochastic primitive of the course, with an explicit PRNG key as first argument.

- :mod:`~jaxdl.sampling.dropout`: dropout rules (inverted, classic + weight scaling),
  Monte Carlo dropout, renormalized geometric-mean ensembles;
- :mod:`~jaxdl.sampling.reparam`: Gaussian reparametrization, Bernoulli / categorical
  samplers, Gumbel-max, Gumbel-softmax, straight-through estimators;
- :mod:`~jaxdl.sampling.monte_carlo`: Monte Carlo averages and importance sampling;
- :mod:`~jaxdl.sampling.chain`: :func:`sample_chain`, the one driver of every kernel
  (``init(...) -> State``, ``kernel(key, state, ...) -> (State, Info)``), with burn-in
  and thinning, and :func:`sample_chains` (its vmap over independent chains);
- :mod:`~jaxdl.sampling.markov`: finite Markov chains (a kernel) and stationary distributions;
- :mod:`~jaxdl.sampling.gibbs`: generic Gibbs kernels (single-site, block); model-specific
  kernels live with their models (:mod:`jaxdl.probabilistic.ising`,
  :mod:`jaxdl.probabilistic.rbm`);
- :mod:`~jaxdl.sampling.diagnostics`: effective sample size and split R-hat.
- :mod:`~jaxdl.sampling.noise`: the one copy of each noise primitive (Gaussian noise,
  masking, salt-and-pepper, label flips, span masks) that data, nn and losses use.

The submodules ``dropout`` and ``monte_carlo`` share their names with their main
functions; call those as ``sampling.dropout.dropout(key, x, keep_probability)`` and
``sampling.monte_carlo.monte_carlo(key, f, sample_fn, n)``.

Ancestral sampling of Bayesian networks lives with the networks, in
:func:`jaxdl.probabilistic.bayesnet.ancestral_sample`.
"""

from jaxdl.sampling import (
    chain,
    diagnostics,
    dropout,
    gibbs,
    markov,
    monte_carlo,
    noise,
    reparam,
)
from jaxdl.sampling.chain import sample_chain, sample_chains
from jaxdl.sampling.diagnostics import autocorrelation, effective_sample_size, split_rhat
from jaxdl.sampling.dropout import (
    MonteCarloPrediction,
    dropout_inference,
    dropout_mask,
    enumerate_masks,
    mask_log_probabilities,
    monte_carlo_dropout,
    renormalized_geometric_mean,
)
from jaxdl.sampling.gibbs import (
    GibbsInfo,
    GibbsState,
    block_kernel,
    discrete_single_site_kernel,
    single_site_kernel,
)
from jaxdl.sampling.markov import (
    check_transition_matrix,
    empirical_distribution,
    propagate,
    stationary_distribution_eigen,
    stationary_distribution_power,
)
from jaxdl.sampling.monte_carlo import (
    ImportanceEstimate,
    MonteCarloEstimate,
    importance_sampling,
    importance_weights,
    optimal_proposal,
    sample_mean,
    weights_effective_sample_size,
)
from jaxdl.sampling.noise import (
    flip_labels,
    gaussian_noise,
    mask_random_spans,
    masking_noise,
    salt_and_pepper_noise,
)
from jaxdl.sampling.reparam import (
    bernoulli,
    categorical,
    gumbel_max,
    gumbel_softmax,
    multivariate_normal,
    multivariate_normal_from_cholesky,
    normal,
    normal_from_log_variance,
    straight_through,
    straight_through_bernoulli,
    straight_through_categorical,
)

__all__ = [
    "GibbsInfo",
    "GibbsState",
    "ImportanceEstimate",
    "MonteCarloEstimate",
    "MonteCarloPrediction",
    "autocorrelation",
    "bernoulli",
    "block_kernel",
    "categorical",
    "chain",
    "check_transition_matrix",
    "diagnostics",
    "discrete_single_site_kernel",
    "dropout",
    "dropout_inference",
    "dropout_mask",
    "effective_sample_size",
    "empirical_distribution",
    "enumerate_masks",
    "flip_labels",
    "gaussian_noise",
    "gibbs",
    "gumbel_max",
    "gumbel_softmax",
    "importance_sampling",
    "importance_weights",
    "markov",
    "mask_random_spans",
    "mask_log_probabilities",
    "masking_noise",
    "monte_carlo",
    "monte_carlo_dropout",
    "multivariate_normal",
    "noise",
    "multivariate_normal_from_cholesky",
    "normal",
    "normal_from_log_variance",
    "optimal_proposal",
    "propagate",
    "renormalized_geometric_mean",
    "reparam",
    "sample_chain",
    "sample_chains",
    "salt_and_pepper_noise",
    "sample_mean",
    "single_site_kernel",
    "split_rhat",
    "stationary_distribution_eigen",
    "stationary_distribution_power",
    "straight_through",
    "straight_through_bernoulli",
    "straight_through_categorical",
    "weights_effective_sample_size",
]
