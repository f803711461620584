"""Course optimizers, schedules and optimization diagnostics (``jaxdl.optim``).

Optimizers are ``optax.GradientTransformation`` aliases (:mod:`.alias`) built from
optax pieces and the course-specific ``scale_by_*`` transformations
(:mod:`.transforms`); the exact, loss-evaluating Nesterov step lives in
:mod:`.function_optimizers`, Newton's method and conjugate gradients in :mod:`.second_order`,
and gradient-norm traces and Hessian diagnostics in :mod:`.diagnostics`.
"""

from jaxdl.optim.alias import (
    adagrad,
    adam,
    delta_bar_delta,
    momentum,
    nesterov,
    rmsprop,
    with_schedule_logging,
)
from jaxdl.optim.constraints import (
    l1_proximal,
    l1_proximal_sgd,
    max_norm,
    project_max_norm,
    soft_threshold,
)
from jaxdl.optim.diagnostics import (
    CRITICAL_POINT_KINDS,
    CriticalPoint,
    GradientNormTrace,
    classify_critical_point,
    condition_number,
    critical_point_name,
    gradient_norm_trace,
    hessian_eigenvalues,
    hessian_matrix,
)
from jaxdl.optim.function_optimizers import (
    FunctionOptimizer,
    NesterovInfo,
    NesterovState,
    exact_nesterov,
    lookahead_params,
)
from jaxdl.optim.hyperparams import current_learning_rate, get_hyperparams, set_hyperparams
from jaxdl.optim.schedules import (
    as_optax_linear_schedule,
    constant,
    hyperbolic_decay,
    linear_decay,
)
from jaxdl.optim.second_order import (
    ConjugateGradientResult,
    NewtonResult,
    conjugate_gradient,
    newton_method,
)
from jaxdl.optim.transforms import (
    ScaleByCourseAdagradState,
    ScaleByDeltaBarDeltaState,
    scale_by_course_adagrad,
    scale_by_delta_bar_delta,
)

__all__ = [
    "l1_proximal",
    "l1_proximal_sgd",
    "max_norm",
    "project_max_norm",
    "soft_threshold",
    "CRITICAL_POINT_KINDS",
    "ConjugateGradientResult",
    "CriticalPoint",
    "FunctionOptimizer",
    "GradientNormTrace",
    "NesterovInfo",
    "NesterovState",
    "NewtonResult",
    "ScaleByCourseAdagradState",
    "ScaleByDeltaBarDeltaState",
    "adagrad",
    "adam",
    "as_optax_linear_schedule",
    "classify_critical_point",
    "condition_number",
    "conjugate_gradient",
    "constant",
    "critical_point_name",
    "current_learning_rate",
    "get_hyperparams",
    "set_hyperparams",
    "delta_bar_delta",
    "exact_nesterov",
    "gradient_norm_trace",
    "hessian_eigenvalues",
    "hessian_matrix",
    "hyperbolic_decay",
    "linear_decay",
    "lookahead_params",
    "momentum",
    "nesterov",
    "newton_method",
    "rmsprop",
    "scale_by_course_adagrad",
    "scale_by_delta_bar_delta",
    "with_schedule_logging",
]
