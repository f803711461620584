"""jaxdl: a deep-learning course as pure, jit-compiled JAX functions.

Sub-packages (import them explicitly, e.g. ``from jaxdl import nn``):

- ``jaxdl.nn``: flax.linen modules and activations;
- ``jaxdl.losses``: output units and objectives;
- ``jaxdl.optim``: course optimizers and schedules as optax transformations;
- ``jaxdl.training``: train state, compiled ``fit``, early stopping, checkpoints;
- ``jaxdl.metrics``: jittable, mergeable metrics;
- ``jaxdl.data``: datasets that ship with packages or are generated locally;
- ``jaxdl.testing``: gradient checking, hypothesis strategies, invariants;
- ``jaxdl.sampling`` / ``jaxdl.probabilistic``: keyed samplers and probabilistic models;
- ``jaxdl.selection``: model selection (splits, grid/random search), ensembles;
- ``jaxdl.adversarial``: FGSM and PGD attacks, robust accuracy, adversarial training.
- ``jaxdl.graphs``: graph container and batching, NN4G, spectral/Chebyshev/GCN convolutions,
  readouts, Scarselli's fixed-point GNN and the gated GNN.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
