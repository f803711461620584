"""Probabilistic models: graphical models, energies and likelihoods.

- :mod:`~jaxdl.probabilistic.bayesnet`: discrete Bayesian networks (CPTs, chain rule,
  ancestral sampling, exact inference by enumeration, parameter counts);
- :mod:`~jaxdl.probabilistic.undirected`: factor graphs, energy-based models,
  partition functions by enumeration, the Ising model.
"""

from jaxdl.probabilistic import bayesnet, undirected
from jaxdl.probabilistic.bayesnet import (
    BayesianNetwork,
    ancestral_sample,
    bayesian_network,
    num_parameters,
    num_parameters_full_table,
    topological_order,
)
from jaxdl.probabilistic.undirected import (
    Factor,
    FactorGraph,
    IsingModel,
    boltzmann_probabilities,
    enumerate_states,
    exact_energy_model,
    factor,
    factor_graph,
    ising_energy,
    ising_exact,
    ising_local_field,
    log_partition_function,
    log_unnormalized_probability,
    magnetization,
    partition_function,
)

__all__ = [
    "BayesianNetwork",
    "Factor",
    "FactorGraph",
    "IsingModel",
    "ancestral_sample",
    "bayesian_network",
    "bayesnet",
    "boltzmann_probabilities",
    "enumerate_states",
    "exact_energy_model",
    "factor",
    "factor_graph",
    "ising_energy",
    "ising_exact",
    "ising_local_field",
    "log_partition_function",
    "log_unnormalized_probability",
    "magnetization",
    "num_parameters",
    "num_parameters_full_table",
    "partition_function",
    "topological_order",
    "undirected",
]
