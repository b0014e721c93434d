"""Drift of several fields together: how badly a reference's principal components rebuild
each record, watched with ADWIN."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rtml.drift.report import DriftReport
from rtml.drift.univariate import _check_detector, trace_table
from rtml.drift.values import numeric_column

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
    _check_detector(delta, clock)
    fields = list(fields)
    if len(fields) < 2 or len(set(fields)) != len(fields):
        raise ValueError(f"multivariate drift needs two or more distinct fields, got {fields}")
    if not 0 < variance < 1:
        raise ValueError(f"variance is a share between 0 and 1, got {variance!r}")
    if reference < 2:
        raise ValueError(f"the reference needs at least 2 records, got {reference!r}")
    matrix = np.column_stack([numeric_column(frame, f, source) for f in fields])
    kept = ~np.isnan(matrix).any(axis=1)
    rows = matrix[kept]
    if len(rows) < reference:
        raise ValueError(
            f"{source}: the reference needs {reference} records with all of {fields} present,"
            f" there are {len(rows)}"
        )
    base = rows[:reference]
    center = base.mean(axis=0)
    scale = base.std(axis=0)
    # A field constant in the reference keeps unit scale: any later departure still counts.
    scale[scale == 0] = 1.0
    z_base = (base - center) / scale
    _, singular, vt = np.linalg.svd(z_base, full_matrices=False)
    explained = singular**2 / max(float((singular**2).sum()), np.finfo(float).tiny)
    k = int(np.searchsorted(np.cumsum(explained), variance) + 1)
    k = min(k, len(fields) - 1)
    components = vt[:k]
    z = (rows - center) / scale
    residual = z - (z @ components.T) @ components
    errors = (residual**2).mean(axis=1)
    table = trace_table(frame, kept, errors, key, delta, clock)
    details = {
        "fields": fields,
        "reference": reference,
        "components": k,
        "explained": float(np.cumsum(explained)[k - 1]),
    }
    return DriftReport(f"reconstruction error of {', '.join(fields)}", table, details)
