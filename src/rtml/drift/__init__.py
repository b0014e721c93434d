"""Drift monitoring: has a field, a set of fields, a field's categories or a model's score
changed over the stream?

Each detector reads a frame in stream order and returns a :class:`DriftReport`. The frames
come from any backend (``Dataset.to_pandas()``, ``Backend.features(name)``,
``Deployment.outputs()``), so the numbers are the same wherever the stream ran;
``Deployment.drift()`` watches a deployment's scores.

>>> import pandas as pd, rtml
>>> report = rtml.drift.univariate(pd.DataFrame({"x": [1.0] * 300 + [9.0] * 300}), "x")
>>> report.drifts[0] >= 300
True
"""

from rtml.drift.categorical import CategoryTracker, categorical
from rtml.drift.monitor import Monitor
from rtml.drift.multivariate import multivariate
from rtml.drift.report import DriftReport
from rtml.drift.tracker import DriftTracker
from rtml.drift.univariate import univariate

__all__ = [
    "CategoryTracker",
    "DriftReport",
    "DriftTracker",
    "Monitor",
    "categorical",
    "multivariate",
    "univariate",
]
