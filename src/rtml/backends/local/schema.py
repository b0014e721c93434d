"""Dataset schemas: column types, inference from a DataFrame, and validation of pushes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from rtml.errors import SchemaError

__all__ = [
    "INT64",
    "SQL_TYPES",
    "Column",
    "ColumnType",
    "Problem",
    "conform",
    "dataset_schema",
    "find_problems",
    "infer_schema",
    "record_problems",
    "stored_form",
    "stored_key_problems",
]

ColumnType = Literal["int", "float", "bool", "string", "timestamp"]
TYPES: tuple[ColumnType, ...] = ("int", "float", "bool", "string", "timestamp")
# Each column type as DuckDB stores it.
SQL_TYPES: dict[ColumnType, str] = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "string": "VARCHAR",
    "timestamp": "TIMESTAMP",
}
_PANDAS_DTYPE = {
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "string": "object",
    "timestamp": "datetime64[ns]",
}


@dataclass(frozen=True)
class Column:
    """One column of a dataset: its type and whether it may hold nulls.

    >>> Column("float")
    Column(type='float', nullable=True)
    """

    type: ColumnType
    nullable: bool = True

    @property
    def text(self) -> str:
        """The column as :meth:`parse` reads it back: ``"float"``, ``"int!"`` (not nullable)."""
        return f"{self.type}{'' if self.nullable else '!'}"

    @classmethod
    def parse(cls, value: Any) -> Column:
        """``"float"``, ``"int?"`` / ``"int!"``, a dict ``{"type":…, "nullable":…}`` or a Column."""
        if isinstance(value, Column):
            return value
        if isinstance(value, dict):
            return (
                cls.parse(value.get("type"))
                if "nullable" not in value
                else Column(cls.parse(value.get("type")).type, bool(value["nullable"]))
            )
        if isinstance(value, str):
            text, nullable = value.strip(), True
            if text.endswith("!"):
                text, nullable = text[:-1], False
            elif text.endswith("?"):
                text = text[:-1]
            if text in TYPES:
                return Column(text, nullable)
        meant = _MEANT.get(str(getattr(value, "__name__", value)).strip().rstrip("!?").lower())
        raise SchemaError(
            f"unknown column type {value!r}: expected one of {', '.join(TYPES)} "
            f"(suffix '!' for not nullable)" + (f"; did you mean {meant!r}?" if meant else "")
        )


# Other names of the column types (Python's, SQL's, numpy's), suggested when one is given;
# a Python type is read by its name (``int`` suggests "int").
_MEANT: dict[str, str] = {
    **{t: t for t in TYPES},
    **dict.fromkeys(["str", "text", "varchar", "object", "utf8"], "string"),
    **dict.fromkeys(["integer", "int64", "int32", "bigint", "long"], "int"),
    **dict.fromkeys(["double", "float64", "float32", "real", "number", "numeric"], "float"),
    **dict.fromkeys(["boolean", "bool_"], "bool"),
    **dict.fromkeys(["datetime", "datetime64", "date", "time"], "timestamp"),
}


def _type_of(series: pd.Series) -> ColumnType:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    present = series.dropna()
    if len(present) and all(isinstance(v, bool | np.bool_) for v in present):
        return "bool"
    if len(present) and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in present
    ):
        return "int"
    return "string"


def infer_schema(df: pd.DataFrame, key: str) -> dict[str, Column]:
    """A schema from a DataFrame's dtypes: the key not nullable, other columns nullable.

    >>> infer_schema(pd.DataFrame({"id": [1], "amount": [2.5], "who": ["a"]}), key="id")
    {'id': Column(type='int', nullable=False), 'amount': Column(type='float', nullable=True), 'who': Column(type='string', nullable=True)}
    """
    return {str(c): Column(_type_of(df[c]), nullable=(c != key)) for c in df.columns}


def dataset_schema(
    name: str, key: str, df: pd.DataFrame | None, schema: dict[str, Any] | None
) -> dict[str, Column]:
    """The columns of a new dataset: declared (``schema``) or inferred from ``df``; the key
    must be one of them and is never null. What every backend's ``create_dataset`` starts with.

    >>> dataset_schema("tx", "id", None, {"id": "int", "x": "float"})["id"]
    Column(type='int', nullable=False)
    >>> dataset_schema("tx", "id", None, {"id": "int", "who": "str"})
    Traceback (most recent call last):
    ...
    rtml.errors.SchemaError: dataset 'tx', field 'who': unknown column type 'str': expected one of int, float, bool, string, timestamp (suffix '!' for not nullable); did you mean 'string'?
    """
    if schema is not None:
        columns = {}
        for c, t in schema.items():
            try:
                columns[str(c)] = Column.parse(t)
            except SchemaError as exc:
                raise SchemaError(f"dataset {name!r}, field {str(c)!r}: {exc}") from None
    elif df is not None:
        columns = infer_schema(df, key)
    else:
        raise SchemaError(f"dataset {name!r}: give a DataFrame (df=...) or a schema (schema=...)")
    if key not in columns:
        raise SchemaError(
            f"dataset {name!r}: key {key!r} is not a column (columns: {', '.join(columns)})"
        )
    columns[key] = Column(columns[key].type, nullable=False)
    return columns


@dataclass(frozen=True)
class Problem:
    """One reason a record was refused."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, field {self.field!r}: {self.reason}"


INT64 = (-(2**63), 2**63 - 1)  # the whole numbers a stored int column holds


def _check_value(value: Any, kind: ColumnType) -> bool:
    if kind == "int":
        if isinstance(value, bool | np.bool_):
            return False
        if isinstance(value, int | np.integer):
            return bool(INT64[0] <= int(value) <= INT64[1])  # stored as a 64-bit integer
        return bool(
            isinstance(value, float | np.floating)
            and float(value).is_integer()
            and INT64[0] <= value <= INT64[1]
        )
    if kind == "float":
        if isinstance(value, int) and not isinstance(value, bool):
            return abs(value) <= 2**1023  # larger Python ints do not fit in a double
        return isinstance(value, float | np.integer | np.floating) and not isinstance(
            value, bool | np.bool_
        )
    if kind == "bool":
        return isinstance(value, bool | np.bool_)
    if kind == "string":
        return isinstance(value, str)
    return isinstance(value, datetime | pd.Timestamp | np.datetime64)


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _a(word: str) -> str:
    """``word`` after its article: 'an int', 'a float'."""
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def find_problems(
    df: pd.DataFrame, schema: dict[str, Column], key: str
) -> tuple[list[Problem], list[str]]:
    """Problems per row, and the problems of the push as a whole (missing/extra columns)."""
    whole: list[str] = []
    missing = [c for c in schema if c not in df.columns]
    extra = [str(c) for c in df.columns if c not in schema]
    if missing:
        whole.append(f"missing column(s) {', '.join(map(repr, missing))}")
    if extra:
        whole.append(
            f"unknown column(s) {', '.join(map(repr, extra))} (the schema has "
            f"{', '.join(map(repr, schema))}; extra columns are refused)"
        )
    problems: list[Problem] = []
    for name, column in schema.items():
        if name not in df.columns:
            continue
        series = df[name]
        nulls = series.isna().to_numpy()
        if nulls.any() and (not column.nullable or name == key):
            for row in np.flatnonzero(nulls).tolist():
                problems.append(Problem(row, name, f"expected {_a(column.type)} value, got null"))
        dtype_kind = _type_of(series) if series.dtype != object else None
        if dtype_kind is not None and _compatible(dtype_kind, column.type, series):
            continue
        values = series.tolist()
        for row, value in enumerate(values):
            if nulls[row]:
                continue
            if not _check_value(value, column.type):
                problems.append(
                    Problem(row, name, f"expected {column.type}, got {_describe(value)}")
                )
    if key in df.columns:
        dupes = df[key].duplicated(keep="first").to_numpy()
        keys = df[key].tolist()
        for row in np.flatnonzero(dupes).tolist():
            problems.append(Problem(row, key, f"duplicate key {keys[row]!r} within the push"))
    return problems, whole


def stored_form(value: Any) -> Any:
    """A key as the store holds it: a time with a zone as UTC without one (the store keeps
    times in UTC), any other value as it is.

    >>> stored_form(pd.Timestamp("2024-01-01 10:00", tz="Europe/Paris"))
    Timestamp('2024-01-01 09:00:00')
    >>> stored_form(7)
    7
    """
    if isinstance(value, datetime) and value.tzinfo is not None:
        return pd.Timestamp(value).tz_convert("UTC").tz_localize(None)
    return value


def stored_key_problems(keys: list[Any], stored: set[Any], key: str) -> list[Problem]:
    """A problem for each of ``keys`` (a push's key column, in row order) already stored.

    >>> stored_key_problems([1, 2], {2}, "id")
    [Problem(row=1, field='id', reason='key 2 is already in the dataset')]
    """
    return [
        Problem(row, key, f"key {value!r} is already in the dataset")
        for row, value in enumerate(keys)
        if value in stored
    ]


def record_problems(record: dict[str, Any], schema: dict[str, Column], row: int) -> list[Problem]:
    """What :func:`find_problems` says of one record given as a dict, without a DataFrame
    (missing fields read as null; unknown fields refused).

    >>> record_problems({"id": 1, "x": "2"}, {"id": Column("int", False), "x": Column("float")}, 0)
    [Problem(row=0, field='x', reason="expected float, got '2' (str)")]
    """
    problems = [
        Problem(row, str(name), "unknown field (not in the dataset's schema)")
        for name in record
        if name not in schema
    ]
    for name, column in schema.items():
        value = record.get(name)
        if value is None or (isinstance(value, float) and value != value):
            if not column.nullable:
                problems.append(Problem(row, name, f"expected {_a(column.type)} value, got null"))
        elif not _check_value(value, column.type):
            problems.append(Problem(row, name, f"expected {column.type}, got {_describe(value)}"))
    return problems


def _compatible(actual: ColumnType, wanted: ColumnType, series: pd.Series) -> bool:
    unsigned = actual == "int" and pd.api.types.is_unsigned_integer_dtype(series.dtype)
    if unsigned and len(series) and int(series.max()) > INT64[1]:
        return False  # beyond a 64-bit signed integer: checked value by value
    if actual == wanted:
        return True
    if wanted == "float" and actual == "int":
        return True
    if wanted == "int" and actual == "float":
        present = series.dropna().to_numpy()
        return bool(np.all(np.mod(present, 1) == 0))
    return False


def conform(df: pd.DataFrame, schema: dict[str, Column]) -> pd.DataFrame:
    """The validated records with the schema's column order and dtypes."""
    out: dict[str, pd.Series] = {}
    for name, column in schema.items():
        series = df[name]
        if column.type == "int":
            has_nulls = bool(series.isna().any())
            out[name] = series.astype("Int64" if has_nulls else "int64")
        elif column.type == "float":
            out[name] = series.astype("float64")
        elif column.type == "bool":
            out[name] = series.astype("boolean" if series.isna().any() else "bool")
        elif column.type == "timestamp":
            out[name] = pd.to_datetime(series)
        else:
            out[name] = series.astype(object)
    return pd.DataFrame(out, index=df.index)


def empty_frame(schema: dict[str, Column]) -> pd.DataFrame:
    """No records, with the schema's columns and dtypes."""
    return pd.DataFrame(
        {name: pd.Series([], dtype=_PANDAS_DTYPE[c.type]) for name, c in schema.items()}
    )
