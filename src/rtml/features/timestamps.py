"""Event times as integer nanoseconds since the epoch, whatever the column holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["nanos_of", "to_nanos"]


def to_nanos(series: pd.Series, fmt: str) -> np.ndarray:
    """``series`` as int64 nanoseconds since the epoch (UTC); NaN/NaT become -1 masked by caller.

    ``fmt`` is a :class:`~rtml.FeatureSet` ``timestamp_format``: ``auto`` reads datetimes as
    datetimes and numbers as epoch seconds (TurboML's default).

    >>> to_nanos(pd.Series([1, 2]), "auto").tolist()
    [1000000000, 2000000000]
    >>> to_nanos(pd.Series([1500]), "epoch_milliseconds").tolist()
    [1500000000]
    >>> to_nanos(pd.Series(pd.to_datetime(["1970-01-01 00:00:03"])), "auto").tolist()
    [3000000000]
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.dt.tz_convert("UTC").dt.tz_localize(None) if series.dt.tz else series
        return values.astype("datetime64[ns]").to_numpy().view("int64")
    if fmt == "datetime":
        return to_nanos(pd.to_datetime(series), "auto")
    scale = 1_000_000 if fmt == "epoch_milliseconds" else 1_000_000_000
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.to_numpy(dtype="int64") * scale
    floats = series.to_numpy(dtype="float64")
    return np.round(floats * scale).astype("int64")


def nanos_of(value: Any, fmt: str) -> int | None:
    """One event time as :func:`to_nanos` reads it in a column; ``None`` if null or not a time.

    >>> nanos_of(2, "auto"), nanos_of(1.5, "epoch_milliseconds"), nanos_of(None, "auto")
    (2000000000, 1500000, None)
    >>> nanos_of(pd.Timestamp("1970-01-01 00:00:03"), "auto")
    3000000000
    """
    if value is None or isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, datetime | np.datetime64) or fmt == "datetime":
        try:
            stamp = pd.Timestamp(value)
        except (TypeError, ValueError):
            return None
        if stamp is pd.NaT:
            return None
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return int(stamp.as_unit("ns").value)
    scale = 1_000_000 if fmt == "epoch_milliseconds" else 1_000_000_000
    if isinstance(value, int | np.integer):
        return int(value) * scale
    if isinstance(value, float | np.floating) and value == value:
        return int(np.round(np.float64(value) * scale))
    return None
