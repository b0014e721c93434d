"""Drift of one numerical field: ADWIN over its values in stream order."""

from __future__ import annotations

import pandas as pd

from rtml.drift.report import DriftReport
from rtml.drift.tracker import DriftTracker

__all__ = ["univariate"]


def univariate(
    frame: pd.DataFrame,
    field: str,
    *,
    key: str | None = None,
    delta: float = 0.002,
    clock: int = 32,
    source: str = "frame",
) -> DriftReport:
    """Watch one numerical field for a change in its mean, record by record, with ADWIN
    (adaptive windowing: the window grows while its two parts agree and drops the older part
    when they differ by more than chance allows at confidence ``delta``).

    ``frame`` is read in row order, which is the stream's order for what rtml returns
    (``Dataset.to_pandas()``, ``Backend.features(name)``, ``Deployment.outputs()``). Missing
    values are skipped, and so are numbers ADWIN cannot average (infinite, or beyond ±1e150).
    ``key`` names a column to carry into the report.

    >>> import numpy as np, pandas as pd, rtml
    >>> rng = np.random.default_rng(0)
    >>> amounts = np.r_[rng.normal(50, 10, 2000), rng.normal(80, 10, 2000)]
    >>> report = rtml.drift.univariate(pd.DataFrame({"amount": amounts}), "amount")
    >>> len(report.drifts) >= 1 and 2000 <= report.drifts[0] < 2100
    True
    >>> round(report.summary()["last_mean"])
    80
    """
    tracker = DriftTracker([field], key=key, delta=delta, clock=clock, source=source)
    return DriftReport(field, tracker.update(frame))
