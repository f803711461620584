"""The training engine: train state, compiled ``fit``, early stopping, checkpoints."""

from jaxdl.optim.hyperparams import get_hyperparams, set_hyperparams
from jaxdl.training.checkpoints import (
    Checkpointer,
    CheckpointError,
    CheckpointMismatchError,
    abstract_target,
    restore_checkpoint,
)
from jaxdl.training.diagnostics import OverfitReport, overfit_small_batch_check
from jaxdl.training.early_stopping import (
    ContinueResult,
    EarlyStopping,
    EarlyStoppingInfo,
    EarlyStoppingState,
    continue_on_all_data,
    early_stopping_init,
    early_stopping_update,
)
from jaxdl.training.interrupts import TrainingInterrupted
from jaxdl.training.logging import RunLogger, to_json_value
from jaxdl.training.loop import (
    FitResult,
    NonFiniteLossError,
    NonFiniteMetricError,
    epochs_for_steps,
    fit,
)
from jaxdl.training.objectives import SupervisedLoss, make_supervised_loss
from jaxdl.training.population import FitManyResult, fit_many
from jaxdl.training.precision import (
    DynamicLossScale,
    LossScaleState,
    Policy,
    StaticLossScale,
    default_policy,
    get_policy,
    mixed_precision_step,
    with_loss_scale,
)
from jaxdl.training.rbm import cd_update_step, rbm_train_state, train_rbm
from jaxdl.training.sharding import (
    ShardingRules,
    ShardLargestAxis,
    batch_sharding,
    data_parallel_mesh,
    fsdp_rules,
    make_mesh,
    replicate,
    shard_state,
    state_shardings,
)
from jaxdl.training.state import TrainState, create_train_state
from jaxdl.training.steps import UpdateStep, make_train_step, update_step
from jaxdl.training.transfer import (
    RetrainResult,
    freeze,
    replace_head,
    retrain_on_all_data,
    transfer_params,
)

__all__ = [
    "abstract_target",
    "restore_checkpoint",
    "RetrainResult",
    "freeze",
    "replace_head",
    "retrain_on_all_data",
    "transfer_params",
    "ContinueResult",
    "continue_on_all_data",
    "CheckpointError",
    "CheckpointMismatchError",
    "Checkpointer",
    "EarlyStopping",
    "EarlyStoppingInfo",
    "EarlyStoppingState",
    "FitManyResult",
    "FitResult",
    "NonFiniteLossError",
    "OverfitReport",
    "NonFiniteMetricError",
    "TrainingInterrupted",
    "UpdateStep",
    "RunLogger",
    "SupervisedLoss",
    "TrainState",
    "batch_sharding",
    "cd_update_step",
    "create_train_state",
    "data_parallel_mesh",
    "early_stopping_init",
    "early_stopping_update",
    "epochs_for_steps",
    "fit",
    "fit_many",
    "get_hyperparams",
    "make_train_step",
    "overfit_small_batch_check",
    "rbm_train_state",
    "replicate",
    "set_hyperparams",
    "make_supervised_loss",
    "to_json_value",
    "train_rbm",
    "update_step",
    "ShardingRules",
    "ShardLargestAxis",
    "fsdp_rules",
    "make_mesh",
    "shard_state",
    "state_shardings",
    "DynamicLossScale",
    "LossScaleState",
    "Policy",
    "StaticLossScale",
    "default_policy",
    "get_policy",
    "mixed_precision_step",
    "with_loss_scale",
]
