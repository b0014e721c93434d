"""Drift of several fields together: how badly a reference's principal components rebuild
each record, watched with ADWIN."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from rtml.drift.report import DriftReport
from rtml.drift.tracker import DriftTracker

__all__ = ["multivariate"]


def multivariate(
    frame: pd.DataFrame,
    fields: Sequence[str],
    *,
    reference: int = 1000,
    variance: float = 0.9,
    key: str | None = None,
    delta: float = 0.002,
    clock: int = 32,
    source: str = "frame",
) -> DriftReport:
    """Watch several numerical fields for a change in how they vary together.

    The first ``reference`` records with every field present fix the yardstick: each field is
    standardised by its reference mean and standard deviation, and the reference's principal
    components that explain ``variance`` of its variance are kept (always fewer than the
    fields, so a record off their span shows). Each record's value is then its reconstruction
    error: the mean squared distance, in standard deviations, between the record and its
    projection on those components. ADWIN watches that error, as :func:`univariate` watches
    a field. A change of correlation shows here even when every field's own distribution
    stays the same. Records with a missing field are skipped.

    The reference is not refitted after a change: the error keeps measuring the distance from
    the reference, and ADWIN's mean settles at the new level.

    >>> import numpy as np, pandas as pd, rtml
    >>> rng = np.random.default_rng(1)
    >>> a, noise = rng.normal(size=6000), rng.normal(scale=0.3, size=6000)
    >>> b = np.r_[a[:3000], -a[3000:]] + noise       # b follows a, then its opposite
    >>> report = rtml.drift.multivariate(pd.DataFrame({"a": a, "b": b}), ["a", "b"])
    >>> report.details["components"], 3000 <= report.drifts[0] < 3100
    (1, True)
    """
    fields = list(fields)
    if len(fields) < 2 or len(set(fields)) != len(fields):
        raise ValueError(f"multivariate drift needs two or more distinct fields, got {fields}")
    tracker = DriftTracker(
        fields,
        key=key,
        delta=delta,
        clock=clock,
        reference=reference,
        variance=variance,
        source=source,
    )
    table = tracker.update(frame)
    if tracker.waiting:
        raise ValueError(
            f"{source}: the reference needs {reference} records with all of {fields} present,"
            f" there are {tracker.waiting}"
        )
    name = f"reconstruction error of {', '.join(fields)}"
    return DriftReport(name, table, tracker.details)
