"""Evaluation metrics over a sliding window of labelled predictions, updated incrementally.

>>> from rtml.metrics import WindowedAUC
>>> WindowedAUC.kind_name()
'WindowedAUC'
"""

from rtml.metrics.base import Metric
from rtml.metrics.classification import (
    WindowedAccuracy,
    WindowedAUC,
    WindowedAveragePrecision,
    WindowedClassAccuracy,
    WindowedF1,
    WindowedLogLoss,
    WindowedMacroF1,
    WindowedPrecision,
    WindowedRecall,
    exact_auc,
)
from rtml.metrics.regression import WindowedMAE, WindowedMSE, WindowedRMSE

__all__ = [
    "Metric",
    "WindowedAUC",
    "WindowedAccuracy",
    "WindowedAveragePrecision",
    "WindowedClassAccuracy",
    "WindowedF1",
    "WindowedLogLoss",
    "WindowedMAE",
    "WindowedMSE",
    "WindowedMacroF1",
    "WindowedPrecision",
    "WindowedRMSE",
    "WindowedRecall",
    "exact_auc",
]
