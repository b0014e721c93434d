"""Checking, when a feature set is materialized, that DuckDB can run its SQL features.

A SQL feature that DuckDB cannot bind (a column it does not know, left unquoted; text added to
a number; a function that does not exist) used to pass ``materialize`` on a dataset with no
rows yet, and then refuse every push to the dataset, each with the binder's error: the dataset
could take no record until the feature set was deleted. DuckDB binds a query without reading
a row, so each SQL feature is planned here over no rows of the columns' types.

Only what is typed before any record comes is checked: the dataset's columns, window counts
and sums, and SQL features built on those. A feature reading a Python UDF's or a UDAF's output
(whose type only its values tell) is left to the first push.

>>> import rtml
>>> from rtml.features import SQL
>>> fs = rtml.FeatureSet(name="f", dataset="tx", timestamp="ts",
...                      features=[SQL(name="twice", expr="amount * 2")])
>>> check_sql_features(fs, {"ts": "BIGINT", "amount": "VARCHAR"})
Traceback (most recent call last):
...
rtml.errors.SpecError: FeatureSet 'f': SQL feature 'twice' ('amount * 2') cannot run on the columns of dataset 'tx': Binder Error: No function matches the given name and argument types '*(VARCHAR, INTEGER_LITERAL)'...
>>> check_sql_features(fs, {"ts": "BIGINT", "amount": "DOUBLE"})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from rtml.errors import SpecError
from rtml.features.aggregate import Aggregate
from rtml.features.featureset import FeatureSet
from rtml.features.sql import SQL
from rtml.features.sql_eval import result_type

__all__ = ["check_sql_features"]

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
_INTEGERS |= {"U" + name for name in _INTEGERS}  # and the unsigned ones


def check_sql_features(feature_set: FeatureSet, column_types: Mapping[str, str]) -> None:
    """Raise :class:`SpecError` naming the first SQL feature of ``feature_set`` that DuckDB
    cannot run on the dataset's columns (``column_types``: name to DuckDB type, as stored)."""
    # Each column's DuckDB type, as a batch holds it; None where only the values tell.
    types: dict[str, str | None] = dict(column_types)
    pending = list(feature_set.features)
    while pending:  # features in dependency order: each round adds those whose inputs are known
        ready = [f for f in pending if all(c in types for c in f.columns())]
        if not ready:
            return  # a cycle is refused elsewhere
        # (a subclass of SQL computes its own way: the engine runs it as a row feature)
        sql = [f for f in ready if type(f) is SQL]
        for f in ready:
            if type(f) is not SQL:
                types[f.name] = _window_type(f, types)
        checkable = [f for f in sql if all(types[c] is not None for c in f.columns())]
        for f in sql:
            types[f.name] = None
        for f, kind in zip(checkable, _bind(feature_set, checkable, types), strict=True):
            types[f.name] = kind
        pending = [f for f in pending if f not in ready]


def _window_type(feature: Any, types: Mapping[str, str | None]) -> str | None:
    """The type a window feature's column has in a batch (counts, numbers); None for others."""
    if not isinstance(feature, Aggregate):
        return None  # a UDF's, UDAF's or plugin's values
    if feature.op in ("count", "count_distinct"):
        return "BIGINT"
    if feature.op in ("sum", "avg", "std", "var"):
        return "DOUBLE"
    column = types.get(feature.column)
    numeric = column in ("BIGINT", "DOUBLE", "BOOLEAN")
    return "DOUBLE" if numeric and not feature.source else None


def _bind(feature_set: FeatureSet, features: list[SQL], types: Mapping[str, str | None]) -> list:
    """The type a next stage reads each feature's result as, planning it over ``types``."""
    columns = {c: t for c, t in types.items() if t is not None}
    kinds = []
    for f in features:
        try:
            kinds.append(_batch_type(result_type(f, columns)))
        except duckdb.Error as exc:
            raise SpecError(
                f"FeatureSet {feature_set.name!r}: SQL feature {f.name!r} ({f.expr!r}) "
                f"cannot run on the columns of dataset {feature_set.dataset!r}: "
                f"{str(exc).splitlines()[0]}"
            ) from None
    return kinds


def _batch_type(kind: str) -> str | None:
    """The type the next stage reads a SQL result as (a batch's column of it)."""
    if kind in _INTEGERS:
        return "BIGINT"
    if kind in ("FLOAT", "DOUBLE") or kind.startswith("DECIMAL"):
        return "DOUBLE"
    if kind in ("BOOLEAN", "VARCHAR", "TIMESTAMP"):
        return kind
    if kind == "DATE" or kind.startswith("TIMESTAMP"):
        return "TIMESTAMP"
    return None
