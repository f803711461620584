"""Model selection and ensembles: resampling splits, hyperparameter search, bagging, boosting.

- :mod:`jaxdl.selection.splits`: hold-out, k-fold, stratified k-fold, leave-one-out and
  bootstrap as stacked masks / counts with static shapes (vmappable folds);
- :mod:`jaxdl.selection.search`: grid and random search, cross-validated, every
  (candidate, fold) pair trained in one compiled ``fit_many``;
- :mod:`jaxdl.selection.ensembles`: bagging (parallel members on bootstrap weights),
  majority vote and probability averaging, AdaBoost SAMME with stumps or small networks.
"""

from jaxdl.selection.ensembles import (
    BaggingResult,
    BoostingResult,
    Stump,
    adaboost_samme,
    average_probabilities,
    bagging,
    boosted_predict,
    boosted_scores,
    ensemble_outputs,
    fit_stump,
    majority_vote,
    network_weak_learner,
    out_of_bag_accuracy,
    samme_alpha,
    samme_reweight,
    stump_weak_learner,
)
from jaxdl.selection.search import (
    DISTRIBUTIONS,
    SCORERS,
    Distribution,
    SearchResult,
    choice,
    cross_validate,
    grid_search,
    log_uniform,
    parameter_grid,
    random_search,
    sample_candidates,
    uniform,
)
from jaxdl.selection.splits import (
    Bootstrap,
    Folds,
    bootstrap,
    fold_indices,
    holdout,
    kfold,
    leave_one_out,
    stratified_kfold,
)

__all__ = [
    "DISTRIBUTIONS",
    "SCORERS",
    "BaggingResult",
    "Bootstrap",
    "BoostingResult",
    "Distribution",
    "Folds",
    "SearchResult",
    "Stump",
    "adaboost_samme",
    "average_probabilities",
    "bagging",
    "boosted_predict",
    "boosted_scores",
    "bootstrap",
    "choice",
    "cross_validate",
    "ensemble_outputs",
    "fit_stump",
    "fold_indices",
    "grid_search",
    "holdout",
    "kfold",
    "leave_one_out",
    "log_uniform",
    "majority_vote",
    "network_weak_learner",
    "out_of_bag_accuracy",
    "parameter_grid",
    "random_search",
    "sample_candidates",
    "samme_alpha",
    "samme_reweight",
    "stratified_kfold",
    "stump_weak_learner",
    "uniform",
]
