"""Jittable metrics and mergeable metric states (``jaxdl.metrics``).

- :mod:`~jaxdl.metrics.classification`: accuracy, error rate, confusion matrix,
  precision / recall / F-beta (binary, micro, macro, weighted), classification report,
  cost-weighted error and minimum-expected-cost decisions;
- :mod:`~jaxdl.metrics.ranking`: precision-recall and ROC curves, average precision,
  ROC AUC;
- :mod:`~jaxdl.metrics.coverage`: accuracy at a coverage with a reject option and the
  accuracy-coverage curve;
- :mod:`~jaxdl.metrics.regression`: MSE, RMSE, MAE, R^2;
- :mod:`~jaxdl.metrics.states`: ``Accuracy``, ``ConfusionMatrix``, ``Mean`` /
  ``Average``, ``MSE`` states with ``empty / from_batch / update / merge / compute``.

Every function equals its scikit-learn counterpart on concrete input (tests check it)
and takes the truth first, as scikit-learn: ``(labels, predictions)`` (``scores`` for
rankings, ``probabilities`` for coverage), ``(targets, predictions)`` for regression.
"""

from jaxdl.metrics.classification import (
    PRFS,
    accuracy,
    classification_report,
    confusion_matrix,
    cost_sensitive_predictions,
    cost_weighted_error,
    error_rate,
    f1_score,
    fbeta_score,
    normalize_confusion_matrix,
    precision,
    precision_recall_fscore_support,
    prfs_from_confusion_matrix,
    recall,
    report_from_confusion_matrix,
)
from jaxdl.metrics.coverage import accuracy_coverage_curve, coverage_accuracy
from jaxdl.metrics.ranking import (
    average_precision,
    binary_counts_at_scores,
    precision_recall_curve,
    roc_auc,
    roc_curve,
)
from jaxdl.metrics.regression import (
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)
from jaxdl.metrics.states import MSE, Accuracy, Average, ConfusionMatrix, Mean, compute, merge

__all__ = [
    "MSE",
    "PRFS",
    "Accuracy",
    "Average",
    "ConfusionMatrix",
    "Mean",
    "accuracy",
    "accuracy_coverage_curve",
    "average_precision",
    "binary_counts_at_scores",
    "classification_report",
    "compute",
    "confusion_matrix",
    "cost_sensitive_predictions",
    "cost_weighted_error",
    "coverage_accuracy",
    "error_rate",
    "f1_score",
    "fbeta_score",
    "mean_absolute_error",
    "mean_squared_error",
    "merge",
    "normalize_confusion_matrix",
    "precision",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "prfs_from_confusion_matrix",
    "r2_score",
    "recall",
    "report_from_confusion_matrix",
    "roc_auc",
    "roc_curve",
    "root_mean_squared_error",
]
