"""Event times as integer nanoseconds since the epoch, whatever the column holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["nanos_of", "parse_dates", "time_problems", "to_nanos"]

# Event times are int64 nanoseconds since the epoch, kept less than 2**62 from it (1823-11-12 to
# 2116-02-20): then the gap between two times, and a time minus a window and a delay (see
# rtml.durations.LONGEST), are int64 too, where the full range would overflow silently.
_LARGEST_NS = 2**62
_RANGE = "the event times rtml holds (1823-11-12 to 2116-02-20)"
_FIRST, _LAST = pd.Timestamp(-_LARGEST_NS), pd.Timestamp(_LARGEST_NS)


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
        return to_nanos(parse_dates(series), "auto")
    scale = 1_000_000 if fmt == "epoch_milliseconds" else 1_000_000_000
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.to_numpy(dtype="int64") * scale
    floats = series.to_numpy(dtype="float64")
    return np.round(floats * scale).astype("int64")


def parse_dates(series: pd.Series) -> pd.Series:
    """Text dates as times in UTC (a date with a zone converted, one without read as UTC), each
    parsed on its own: pandas otherwise infers one format from the first, so a push mixing
    forms failed, and the same text could read differently in another batch.

    >>> parse_dates(pd.Series(["2024-01-01T01:00:00+01:00", "2024-01-01 00:30"])).tolist()
    [Timestamp('2024-01-01 00:00:00'), Timestamp('2024-01-01 00:30:00')]
    """
    return pd.to_datetime(series, format="mixed", utc=True).dt.tz_localize(None)


def nanos_of(value: Any, fmt: str) -> int | None:
    """One event time as :func:`to_nanos` reads it in a column; ``None`` if null, not a time,
    or beyond the times rtml holds (see :func:`time_problems`).

    >>> nanos_of(2, "auto"), nanos_of(1.5, "epoch_milliseconds"), nanos_of(None, "auto")
    (2000000000, 1500000, None)
    >>> nanos_of(pd.Timestamp("1970-01-01 00:00:03"), "auto")
    3000000000
    >>> nanos_of(1_700_000_000_000, "auto") is None  # milliseconds read as seconds
    True
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
        if not _FIRST < stamp < _LAST:
            return None
        return int(stamp.as_unit("ns").value)
    scale = 1_000_000 if fmt == "epoch_milliseconds" else 1_000_000_000
    if isinstance(value, int | np.integer):
        nanos = int(value) * scale
    elif isinstance(value, float | np.floating) and abs(float(value)) * scale < _LARGEST_NS:
        nanos = int(np.round(np.float64(value) * scale))  # NaN and inf fail the test above
    else:
        return None
    return nanos if -_LARGEST_NS < nanos < _LARGEST_NS else None


def time_problems(series: pd.Series, fmt: str) -> dict[int, str]:
    """The rows of ``series`` (no nulls) whose event time :func:`to_nanos` cannot hold, each
    with the reason: beyond int64 nanoseconds, infinite, or text that is not a date. An epoch
    in milliseconds read as seconds is the common case, and the reason says so.

    >>> time_problems(pd.Series([1_700_000_000, 1_700_000_000_000]), "auto")[1]
    "1700000000000 is beyond the event times rtml holds (1823-11-12 to 2116-02-20) read as epoch seconds; in milliseconds, it would be 2023-11-14 22:13:20: set timestamp_format='epoch_milliseconds'"
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.dt.tz_convert("UTC").dt.tz_localize(None) if series.dt.tz else series
        beyond = np.flatnonzero(((values <= _FIRST) | (values >= _LAST)).to_numpy()).tolist()
        return {row: f"{series.iloc[row]} is beyond {_RANGE}" for row in beyond}
    if fmt == "datetime":
        try:
            parsed = parse_dates(series)  # as to_nanos reads them: all at once
        except (ValueError, TypeError, OverflowError):  # OutOfBoundsDatetime is a ValueError
            return _date_problems(series)  # one by one, to name each
        rows = list(time_problems(parsed, "auto"))
        found = _date_problems(series.iloc[rows]) if rows else {}
        return {rows[i]: reason for i, reason in found.items()}
    scale = 1_000_000 if fmt == "epoch_milliseconds" else 1_000_000_000
    unit = "milliseconds" if fmt == "epoch_milliseconds" else "seconds"
    if pd.api.types.is_integer_dtype(series.dtype):
        ints = series.to_numpy(dtype="int64")
        bad = (ints > _LARGEST_NS // scale) | (ints < -(_LARGEST_NS // scale))
    else:
        floats = series.to_numpy(dtype="float64")
        with np.errstate(invalid="ignore", over="ignore"):
            bad = ~(np.abs(floats * scale) < _LARGEST_NS)  # NaN (infinite inputs) fails it too
    problems = {}
    for row in np.flatnonzero(bad).tolist():  # usually none: no list is made then
        value = series.iloc[row]
        value = value.item() if isinstance(value, np.generic) else value
        reason = f"{value!r} is beyond {_RANGE} read as epoch {unit}"
        problems[row] = reason + (_milliseconds_hint(value) if unit == "seconds" else "")
    return problems


def _milliseconds_hint(value: Any) -> str:
    """What an epoch in seconds out of range would be in milliseconds, when that is in range."""
    if not abs(float(value)) * 1_000_000 < _LARGEST_NS:
        return ""
    when = pd.Timestamp(round(float(value) * 1_000_000), unit="ns")
    return f"; in milliseconds, it would be {when}: set timestamp_format='epoch_milliseconds'"


def _date_problems(series: pd.Series) -> dict[int, str]:
    problems = {}
    for row, value in enumerate(series.tolist()):
        try:
            stamp = pd.Timestamp(value)
            if stamp is not pd.NaT and stamp.tzinfo is not None:
                stamp = stamp.tz_convert("UTC").tz_localize(None)
            if stamp is not pd.NaT and not _FIRST < stamp < _LAST:
                raise ValueError(f"{stamp} is outside that range")
        except (ValueError, TypeError, OverflowError) as exc:  # OutOfBoundsDatetime is one
            problems[row] = f"{value!r} is not a date within {_RANGE}: {exc}"
    return problems
