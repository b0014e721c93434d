"""What a drift detector reads of a frame: its fields and key checked by name, and a column as
floats, refused with the field and row if it is not numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rtml.errors import SchemaError
from rtml.nulls import is_null

__all__ = ["check_columns", "numeric_column"]


def check_columns(
    frame: pd.DataFrame, source: str, fields: list[str], key: str | None = None
) -> None:
    """``SchemaError`` for a missing field, ``KeyError`` for a missing key column, each naming
    the frame's columns.

    >>> check_columns(pd.DataFrame({"x": [1]}), "tx", ["y"])
    Traceback (most recent call last):
    ...
    rtml.errors.SchemaError: tx: no field 'y' (fields: x)
    """
    known = ", ".join(map(str, frame.columns))
    for field in fields:
        if field not in frame.columns:
            raise SchemaError(f"{source}: no field {field!r} (fields: {known})")
    if key is not None and key not in frame.columns:
        raise KeyError(f"{source}: no key column {key!r} (columns: {known})")


def numeric_column(frame: pd.DataFrame, field: str, source: str) -> np.ndarray:
    """``frame[field]`` as float64, missing values as NaN; booleans read as 0 and 1.

    >>> numeric_column(pd.DataFrame({"x": [1, None, True]}), "x", "tx").tolist()
    [1.0, nan, 1.0]
    >>> numeric_column(pd.DataFrame({"x": [1.5, "a lot"]}), "x", "tx")
    Traceback (most recent call last):
    ...
    rtml.errors.SchemaError: tx: field 'x', row 1: expected a number, got 'a lot'
    """
    check_columns(frame, source, [field])
    column = frame[field]
    if pd.api.types.is_datetime64_any_dtype(column.dtype) or pd.api.types.is_timedelta64_dtype(
        column.dtype
    ):
        raise SchemaError(f"{source}: field {field!r} holds times, expected numbers")
    if pd.api.types.is_numeric_dtype(column.dtype):
        return column.to_numpy(dtype="float64", na_value=np.nan)
    # Object columns: numbers, booleans and missing values are read; anything else is refused
    # at its first row.
    out = np.empty(len(column))
    for row, value in enumerate(column.tolist()):
        if is_null(value):
            out[row] = np.nan
        elif isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
            out[row] = float(value)
        else:
            raise SchemaError(
                f"{source}: field {field!r}, row {row}: expected a number, got {value!r}"
            )
    return out
