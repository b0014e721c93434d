"""Evaluation metrics over a sliding window of labelled predictions.

>>> from rtml.metrics import WindowedAUC
>>> WindowedAUC.kind_name()
'WindowedAUC'
"""

from rtml.metrics.base import Metric
from rtml.metrics.classification import WindowedAccuracy, WindowedAUC, exact_auc

__all__ = ["Metric", "WindowedAUC", "WindowedAccuracy", "exact_auc"]
