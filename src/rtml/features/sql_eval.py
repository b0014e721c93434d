"""Evaluating several SQL features over a batch in one DuckDB query.

DuckDB answers a query in about 0.2 ms at best, so a feature set evaluates all the SQL features
that are ready at the same point in one query; a batch of a few records is passed as query
parameters (cheaper than registering a DataFrame, which costs about 1 ms).
"""

from __future__ import annotations

import atexit
import threading
from typing import Any, cast

import duckdb
import numpy as np
import pandas as pd

from rtml.errors import SpecError
from rtml.features.sql import SQL
from rtml.nulls import or_none

__all__ = [
    "connection",
    "evaluate_sql",
    "evaluate_sql_row",
    "quote_name",
    "result_type",
    "sql_type",
]

SMALL_BATCH = 32  # up to this many records, rows travel as query parameters
_local = threading.local()
# Every thread's connection, held here too: one destroyed by its own thread as that thread
# ended (a server's worker, at shutdown) made DuckDB abort the process ("terminate called
# without an active exception", exit code 134). They are closed here instead: a finished
# thread's when the next connection opens, the rest at exit.
_opened: list[tuple[threading.Thread, duckdb.DuckDBPyConnection]] = []
_opened_lock = threading.Lock()


def connection() -> duckdb.DuckDBPyConnection:
    # DuckDB connections must not be shared between threads; one small in-memory one per thread.
    con = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect(":memory:")
        # Times with a zone are read in UTC, as the store holds them (not the machine's zone).
        con.execute("SET TimeZone = 'UTC'")
        _local.con = con
        with _opened_lock:
            for thread, finished in [o for o in _opened if not o[0].is_alive()]:
                finished.close()
                _opened.remove((thread, finished))
            _opened.append((threading.current_thread(), con))
    return con


@atexit.register
def _close_connections() -> None:
    with _opened_lock:
        for _, con in _opened:
            con.close()
        _opened.clear()


def sql_type(series: pd.Series) -> str | None:
    """DuckDB's type for a column's values; ``None`` for objects that are not all text."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dtype):
        return "BIGINT"
    if pd.api.types.is_float_dtype(dtype):
        return "DOUBLE"
    if pd.api.types.is_datetime64_any_dtype(dtype) and getattr(dtype, "tz", None) is None:
        return "TIMESTAMP"
    textual = pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
    if textual and all(isinstance(v, str) or v is None for v in series.tolist()):
        return "VARCHAR"
    return None


def quote_name(name: str) -> str:
    """A column or table name as SQL reads it, double-quoted.

    >>> print(quote_name('a"b'))
    "a""b"
    """
    return '"' + name.replace('"', '""') + '"'


def _columns(features: list[SQL]) -> list[str]:
    return list(dict.fromkeys(c for f in features for c in f.columns()))


def _named_columns(features: list[SQL], frame: pd.DataFrame) -> list[str] | None:
    """The columns the features name in double quotes, when ``frame`` has them all; ``None``
    when they name none or one the frame lacks (then they see the whole frame)."""
    columns = _columns(features)
    if not columns or any(c not in frame.columns for c in columns):
        return None
    return columns


def _select(features: list[SQL]) -> str:
    return ", ".join(f'({f.expr}) AS "__{i}"' for i, f in enumerate(features))


def _values_query(features: list[SQL], columns: list[str], types: list[str], rows: int) -> str:
    """The features over ``rows`` records given as parameters, each cast to its column's type."""
    select = _select(features)
    if not columns:
        return f"SELECT {select}"
    row = "(" + ", ".join(f"CAST(? AS {t})" for t in types) + ")"
    names = ", ".join(quote_name(c) for c in columns)
    return f"SELECT {select} FROM (VALUES {', '.join([row] * rows)}) AS __rtml_rows({names})"


def _parameter_query(features: list[SQL], frame: pd.DataFrame) -> tuple[str, list[Any]] | None:
    columns = _named_columns(features, frame)
    if columns is None:
        return None
    types = [sql_type(frame[c]) for c in columns]
    if any(t is None for t in types):
        return None
    params: list[Any] = []
    table = [frame[c].tolist() for c in columns]
    for record in zip(*table, strict=True):
        params.extend(map(or_none, record))  # NaN/NaT/NA are SQL NULL
    return _values_query(features, columns, cast(list[str], types), len(frame)), params


def _as_array(values: Any) -> np.ndarray:
    """A result column as an array: NULL as NaN among numbers, as None otherwise.

    >>> _as_array(np.ma.masked_array(["high", "x"], mask=[False, True], dtype=object)).tolist()
    ['high', None]
    """
    if isinstance(values, np.ma.MaskedArray):
        # NULLs come back masked; numbers become NaN, anything else None.
        masked: Any = values
        if masked.dtype.kind in "iubf":
            return np.asarray(masked.astype("float64").filled(np.nan))
        # Not filled(None): None there means the array's own fill value, '?' for objects, so
        # a NULL text came back as the text '?'.
        out = np.asarray(masked.data, dtype=object)
        out[np.ma.getmaskarray(masked)] = None
        return out
    return np.asarray(values)


def evaluate_sql(features: list[SQL], frame: pd.DataFrame) -> list[np.ndarray]:
    """The values of each feature over ``frame``'s records, in row order."""
    if not features:
        return []
    con = connection()
    try:
        prepared = _parameter_query(features, frame) if 0 < len(frame) <= SMALL_BATCH else None
        if prepared is not None:
            result = con.execute(*prepared).fetchnumpy()
        else:
            # Only the named columns, as a small batch passes them: the same names resolve at
            # every batch size, and DuckDB's scan of a DataFrame costs per column.
            columns = _named_columns(features, frame)
            con.register("__rtml_rows", frame if columns is None else frame[columns])
            try:
                result = con.execute(f"SELECT {_select(features)} FROM __rtml_rows").fetchnumpy()
            finally:
                con.unregister("__rtml_rows")
    except duckdb.Error as exc:
        if len(features) > 1:  # find which one failed, to name it
            for f in features:
                evaluate_sql([f], frame)
        # DuckDB follows its message with the query it ran ("LINE 1: SELECT ..."): rtml's
        # query, not the user's expression, so only the message is kept.
        message = str(exc).split("\n\nLINE ")[0].strip()
        raise SpecError(
            f"SQL feature {features[0].name!r}: {features[0].expr!r} failed: {message}"
        ) from None
    return [_as_array(result[f"__{i}"]) for i in range(len(features))]


def result_type(feature: SQL, types: dict[str, str]) -> str:
    """DuckDB's type of ``feature``'s result over columns of ``types`` (name to DuckDB type),
    planned over no rows; :class:`duckdb.Error` when DuckDB cannot run it on those types."""
    row = ", ".join(f"CAST(NULL AS {t}) AS {quote_name(c)}" for c, t in types.items()) or "1"
    query = f"SELECT ({feature.expr}) AS __value FROM (SELECT {row}) AS __rtml_rows WHERE false"
    description = connection().execute(query).description
    return str(description[0][1]).upper() if description else ""


# DuckDB before 1.2 describes every numeric result as "NUMBER".
_NUMERIC_RESULTS = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "FLOAT",
    "DOUBLE",
    "NUMBER",
)


def evaluate_sql_row(
    features: list[SQL], row: dict[str, Any], types: dict[str, str | None]
) -> list[Any] | None:
    """The features' values for one record, as :func:`evaluate_sql` would give them in a
    column of a batch; ``types`` are the DuckDB types of the record's columns. ``None`` when
    that cannot be guaranteed here (a column of unknown type, a result that is not a number,
    a boolean or text): the caller then takes the batch path.
    """
    columns = _columns(features)
    kinds = [types.get(c) for c in columns]
    if any(k is None for k in kinds) or any(c not in row for c in columns):
        return None
    params = [or_none(row[c]) for c in columns]
    query = _values_query(features, columns, cast(list[str], kinds), 1)
    try:
        cursor = connection().execute(query, params)
        values = cursor.fetchone()
        description = cursor.description
    except duckdb.Error:
        return None  # the batch path reports the error with the feature's name
    assert values is not None and description is not None
    out: list[Any] = []
    for value, column in zip(values, description, strict=True):
        kind = str(column[1]).upper()
        numeric = kind in _NUMERIC_RESULTS or kind.startswith("DECIMAL")
        if value is None:
            if not numeric:
                return None
            out.append(float("nan"))  # a batch holds NULL numbers as NaN
        elif isinstance(value, bool | int | float | str):
            out.append(value)
        elif numeric:
            out.append(float(value))  # DECIMAL: a batch reads it as a double
        else:
            return None
    return out
