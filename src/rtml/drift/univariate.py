"""Drift of one numerical field: ADWIN over its values in stream order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rtml.drift.adwin import run_adwin
from rtml.drift.report import DriftReport
from rtml.drift.values import numeric_column

__all__ = ["trace_table", "univariate"]


def trace_table(
    frame: pd.DataFrame,
    kept: np.ndarray,
    values: np.ndarray,
    key: str | None,
    delta: float,
    clock: int,
) -> pd.DataFrame:
    """The report table for the rows ``kept`` (a mask over ``frame``) monitoring ``values``."""
    trace = run_adwin(values.tolist(), delta=delta, clock=clock)
    table = {"row": np.flatnonzero(kept)}
    if key is not None:
        if key not in frame.columns:
            raise KeyError(f"no key column {key!r} (columns: {', '.join(map(str, frame.columns))})")
        table[key] = frame[key].to_numpy()[kept]
    table.update(value=values, mean=trace.mean, width=trace.width, drift=trace.drift)
    return pd.DataFrame(table)


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
    values are skipped. ``key`` names a column to carry into the report.

    >>> import numpy as np, pandas as pd, rtml
    >>> rng = np.random.default_rng(0)
    >>> amounts = np.r_[rng.normal(50, 10, 2000), rng.normal(80, 10, 2000)]
    >>> report = rtml.drift.univariate(pd.DataFrame({"amount": amounts}), "amount")
    >>> len(report.drifts) >= 1 and 2000 <= report.drifts[0] < 2100
    True
    >>> round(report.summary()["last_mean"])
    80
    """
    _check_detector(delta, clock)
    values = numeric_column(frame, field, source)
    kept = ~np.isnan(values)
    return DriftReport(field, trace_table(frame, kept, values[kept], key, delta, clock))


def _check_detector(delta: float, clock: int) -> None:
    if not 0 < delta < 1:
        raise ValueError(f"delta is a probability between 0 and 1, got {delta!r}")
    if clock < 1:
        raise ValueError(f"clock counts records between checks, at least 1, got {clock!r}")
