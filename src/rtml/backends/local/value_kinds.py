"""The kind of value a computed column holds (number, text, boolean or time), which it keeps.

A feature whose type only its values tell (a Python UDF's, a UDAF's) is stored in a table whose
column type the first values decide. Values of another kind later could not be stored: DuckDB
refused them when the derived rows were written, after the push was accepted, and every later
write failed with it; or converted them without a word (1.5 into a column of whole numbers
is 2, a number into a column of text is text). So the push that brings another kind is refused
instead, naming the feature and the row, and a column's type follows its values as far as
that loses nothing: whole numbers widen to numbers, a column that held only nulls takes the
type of its first values.

>>> column_kind(pd.Series([1.0, None, 2]))
('number', None)
>>> column_kind(pd.Series([1.0, "x"], dtype=object))
('number', 1)
>>> stored_type(pd.Series([None, 2.5], dtype=object))
'DOUBLE'
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from rtml.features.sql_eval import sql_type
from rtml.nulls import is_null

__all__ = [
    "column_kind",
    "dtype_kind",
    "keys_from_text",
    "kind_of",
    "kind_of_type",
    "stored_type",
    "widened",
]

_TYPES = {"number": "DOUBLE", "text": "VARCHAR", "bool": "BOOLEAN", "time": "TIMESTAMP"}


def kind_of(value: Any) -> str | None:
    """A single value's kind, or None for a missing value or one of no kind here."""
    if is_null(value):
        return None
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | float | np.integer | np.floating):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dt.datetime | np.datetime64):
        return "time"
    return None


def kind_of_type(duckdb_type: str) -> str | None:
    """The kind of the values a DuckDB column type holds.

    >>> kind_of_type("UBIGINT"), kind_of_type("DECIMAL(18,3)"), kind_of_type("INTERVAL")
    ('number', 'number', None)
    """
    name = duckdb_type.upper()
    if name == "BOOLEAN":
        return "bool"
    if name == "VARCHAR":
        return "text"
    if name.startswith("TIMESTAMP") or name == "DATE":
        return "time"
    if name in _NUMBER_TYPES or name.startswith("DECIMAL"):
        return "number"
    return None  # an interval, a list, ...


_WHOLE = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
_NUMBER_TYPES = {*_WHOLE, *("U" + t for t in _WHOLE), "FLOAT", "REAL", "DOUBLE"}


# The kind every value of a numpy column has, by the dtype's kind letter (objects: any).
_DTYPE_KINDS = {"i": "number", "u": "number", "f": "number", "b": "bool", "M": "time"}


def dtype_kind(dtype: Any) -> str | None:
    """The kind every non-null value of a column of ``dtype`` has; None for objects, whose
    values say it (see :func:`column_kind`).

    >>> dtype_kind(np.dtype("int64")), dtype_kind(np.dtype("O"))
    ('number', None)
    """
    return _DTYPE_KINDS.get(getattr(dtype, "kind", ""))


def column_kind(series: pd.Series) -> tuple[str | None, int | None]:
    """The kind of a column's values (None if all are missing), and the position of the first
    value of another kind than the first (None if there is none)."""
    typed = dtype_kind(series.dtype)
    if typed == "bool":
        return "bool", None
    if typed is not None:
        return (typed if series.notna().any() else None), None
    first: str | None = None
    for row, value in enumerate(series.tolist()):
        kind = kind_of(value)
        if kind is None:
            continue
        if first is None:
            first = kind
        elif kind != first:
            return first, row
    return first, None


def stored_type(series: pd.Series) -> str | None:
    """The DuckDB type to store a computed column's values as; None while they are all missing
    (any type holds them)."""
    known = sql_type(series)
    if known is not None and (known != "VARCHAR" or series.notna().any()):
        return known
    kind, other = column_kind(series)
    if kind is None or other is not None:
        return None
    if kind == "number" and all(
        isinstance(v, int | np.integer) for v in series.tolist() if not is_null(v)
    ):
        return "BIGINT"
    return _TYPES[kind]


def widened(have: str, want: str) -> bool:
    """Whether a column of type ``have`` becomes ``want`` without losing a value it holds
    (whole numbers to numbers); a column holding only nulls becomes anything (not decided
    here)."""
    return have.upper() == "BIGINT" and want.upper() == "DOUBLE"


def keys_from_text(texts: list[str], kind: str | None) -> list[Any]:
    """Keys given as text (in a URL) as keys of ``kind``; one that cannot be of that kind is
    left out (it names no record).

    >>> keys_from_text(["7", "2.5", "abc"], "number"), keys_from_text(["7"], "text")
    ([7, 2.5], ['7'])
    """
    if kind == "text":
        return list(texts)
    keys: list[Any] = []
    for text in texts:
        if kind == "bool" and text.lower() in ("true", "false"):
            keys.append(text.lower() == "true")
        elif kind == "number":
            for read in (int, float):
                try:
                    keys.append(read(text))
                    break
                except ValueError:
                    continue
    return keys
