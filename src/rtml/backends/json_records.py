"""Records between JSON and DataFrames: what the server reads from requests and writes back,
and what the HTTP client sends and reads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rtml.backends.local.dataset import records_frame, with_absent_fields
from rtml.backends.local.schema import Column
from rtml.json_values import json_value, timestamp_value

__all__ = ["columns_of", "frame_from_columns", "frame_from_json", "records_of"]


def frame_from_json(records: list[dict[str, Any]], schema: dict[str, Column]) -> pd.DataFrame:
    """The records of a request as a DataFrame the dataset can validate.

    >>> from rtml.backends.local.schema import Column
    >>> frame = frame_from_json([{"id": 1, "at": "2025-01-02T03:04:05"}],
    ...                         {"id": Column("int"), "at": Column("timestamp")})
    >>> frame["at"].iloc[0]
    Timestamp('2025-01-02 03:04:05')
    """
    if not records:
        return _read_timestamps(pd.DataFrame(columns=list(schema)), schema)
    return _read_timestamps(with_absent_fields(records_frame(records), schema), schema)


def frame_from_columns(columns: dict[str, list[Any]], schema: dict[str, Column]) -> pd.DataFrame:
    """A request's columns (field -> values, all of one length) as :func:`frame_from_json`
    reads the same records.

    >>> from rtml.backends.local.schema import Column
    >>> frame_from_columns({"id": [1, 2], "x": [0.5, None]}, {"id": Column("int"),
    ...                    "x": Column("float")})["x"].tolist()
    [0.5, nan]
    """
    if not columns:
        return pd.DataFrame(columns=list(schema))
    try:
        frame = pd.DataFrame(columns)
    except OverflowError:  # an integer beyond 64 bits: left for validation to refuse by row
        frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in columns.items()})
    return _read_timestamps(frame, schema)


def _read_timestamps(frame: pd.DataFrame, schema: dict[str, Column]) -> pd.DataFrame:
    for name, column in schema.items():
        if column.type == "timestamp" and name in frame.columns:
            frame[name] = pd.Series(
                [timestamp_value(v) for v in frame[name].tolist()], index=frame.index, dtype=object
            )
    return frame


def records_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame's rows as JSON-ready dicts.

    >>> records_of(pd.DataFrame({"n": [1, 2], "x": [0.5, float("nan")]}))
    [{'n': 1, 'x': 0.5}, {'n': 2, 'x': None}]
    """
    columns = [str(c) for c in frame.columns]
    rows = zip(*(_json_column(frame.iloc[:, i]) for i in range(frame.shape[1])), strict=True)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def columns_of(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """A DataFrame's columns as JSON-ready lists.

    >>> columns_of(pd.DataFrame({"n": [1, 2], "x": [0.5, float("nan")]}))
    {'n': [1, 2], 'x': [0.5, None]}
    """
    return {str(c): _json_column(frame.iloc[:, i]) for i, c in enumerate(frame.columns)}


def _json_column(series: pd.Series) -> list[Any]:
    # Integers, booleans and finite floats of a numpy column are plain Python numbers once
    # listed: only other columns need each value converted (a push's records are on the
    # client's hot path).
    values = series.tolist()
    kind = series.dtype.kind if isinstance(series.dtype, np.dtype) else "O"
    if kind in "iub" or (kind == "f" and bool(np.isfinite(series.to_numpy()).all())):
        return values
    return [json_value(v) for v in values]
