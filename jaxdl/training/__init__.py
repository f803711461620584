"""The training engine: train state, compiled ``fit``, early stopping, checkpoints."""

from jaxdl.optim.hyperparams import get_hyperparams, set_hyperparams
from jaxdl.training.checkpoints import Checkpointer
from jaxdl.training.early_stopping import (
    EarlyStopping,
    EarlyStoppingState,
    early_stopping_init,
    early_stopping_update,
)
from jaxdl.training.logging import RunLogger, to_json_value
from jaxdl.training.loop import (
    FitManyResult,
    FitResult,
    NonFiniteLossError,
    epochs_for_steps,
    fit,
    fit_many,
    make_train_step,
)
from jaxdl.training.objectives import SupervisedLoss, supervised_loss
from jaxdl.training.sharding import batch_sharding, data_parallel_mesh, replicate
from jaxdl.training.state import TrainState, create_train_state
from jaxdl.training.transfer import (
    RetrainResult,
    freeze,
    replace_head,
    retrain_on_all_data,
    transfer_params,
)

__all__ = [
    "RetrainResult",
    "freeze",
    "replace_head",
    "retrain_on_all_data",
    "transfer_params",
    "Checkpointer",
    "EarlyStopping",
    "EarlyStoppingState",
    "FitManyResult",
    "FitResult",
    "NonFiniteLossError",
    "RunLogger",
    "SupervisedLoss",
    "TrainState",
    "batch_sharding",
    "create_train_state",
    "data_parallel_mesh",
    "early_stopping_init",
    "early_stopping_update",
    "epochs_for_steps",
    "fit",
    "fit_many",
    "get_hyperparams",
    "make_train_step",
    "replicate",
    "set_hyperparams",
    "supervised_loss",
    "to_json_value",
]
