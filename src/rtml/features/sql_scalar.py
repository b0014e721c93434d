"""Checking that a SQL feature is a scalar expression of one record, by DuckDB's own parser.

A SQL feature is evaluated over whatever batch a push brings: the whole history at backfill,
one record live. An expression that reads more than its record gives a value that depends on
the batch, so history and live disagree without a word: an aggregate (``sum("x")`` is the
batch's sum), a window function (``lag("x") OVER ()``), a subquery, or a ``FROM``. One whose
value depends on when it runs (``random()``, ``now()``) differs between history and live too.
Each is refused when the feature is defined, naming what it reads and what to use instead.

>>> check_scalar('"amount" * 2')
>>> check_scalar('sum("amount")')
Traceback (most recent call last):
...
ValueError: sum() is an aggregate over many records, but a SQL feature reads one record (its value would depend on the batch: all of history at backfill, one record live); use rtml.features.Aggregate for a per-key window
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import duckdb

__all__ = ["check_scalar"]

# DuckDB marks error() volatile for its side effect, yet its answer depends only on the record.
_RECORD_ONLY = {"error"}
# Read unquoted, these names are the clock, not a column (DuckDB binds them so).
_CLOCK_NAMES = {"current_date", "current_time", "current_timestamp", "localtime", "localtimestamp"}
_BEYOND = "its value would depend on the batch: all of history at backfill, one record live"


@functools.lru_cache(maxsize=1)
def _functions() -> tuple[frozenset[str], frozenset[str]]:
    """The names of DuckDB's aggregate functions, and of those whose value depends on when
    they run rather than on their arguments."""
    from rtml.features.sql_eval import connection

    rows = (
        connection()
        .execute(
            "SELECT DISTINCT lower(function_name), function_type, stability FROM duckdb_functions()"
        )
        .fetchall()
    )
    aggregates = frozenset(name for name, kind, _ in rows if kind == "aggregate")
    unstable = frozenset(
        name
        for name, kind, stability in rows
        if kind in ("scalar", "macro")
        and stability in ("VOLATILE", "CONSISTENT_WITHIN_QUERY")
        and name not in _RECORD_ONLY
    )
    return aggregates, unstable


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every expression node of a serialized DuckDB parse tree, depth first."""
    if isinstance(tree, dict):
        if "class" in tree:
            yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)


def _parse(expr: str) -> dict[str, Any] | None:
    """DuckDB's parse of ``SELECT expr``; None if it does not parse (the binder says why)."""
    from rtml.features.sql_eval import connection  # sql_eval imports SQL, which imports this

    try:
        text = (
            connection()
            .execute("SELECT json_serialize_sql(?::VARCHAR)", [f"SELECT {expr}"])
            .fetchone()
        )
    except duckdb.Error:
        return None
    tree: dict[str, Any] = json.loads(text[0]) if text else {"error": True}
    statements = tree.get("statements") or []
    if tree.get("error") or len(statements) != 1:
        return None
    node: dict[str, Any] = statements[0]["node"]
    return node


def check_scalar(expr: str) -> None:
    """Raise ValueError if ``expr`` reads more than one record or depends on when it runs."""
    node = _parse(expr)
    if node is None:
        return
    clauses = ("where_clause", "having", "qualify")
    if (
        node.get("type") != "SELECT_NODE"
        or len(node.get("select_list", ())) != 1
        or (node.get("from_table") or {}).get("type") != "EMPTY"
        or any(node.get(c) for c in clauses)
        or node.get("group_expressions")
        or node.get("modifiers")
    ):
        raise ValueError(
            "expected one scalar expression of the record's columns, not a query (a FROM, "
            "WHERE, GROUP BY, UNION or several expressions)"
        )
    aggregates, unstable = _functions()
    for found in _nodes(node["select_list"]):
        name = str(found.get("function_name", "")).lower()
        if found["class"] == "WINDOW":
            raise ValueError(
                f"{name}() OVER (...) is a window function over many records, but a SQL "
                f"feature reads one record ({_BEYOND}); use rtml.features.Aggregate for a "
                "per-key window"
            )
        if found["class"] == "SUBQUERY":
            raise ValueError(
                f"a subquery reads beyond the record, but a SQL feature reads one record "
                f"({_BEYOND}); use rtml.features.Aggregate, or a UDF"
            )
        if found["class"] == "FUNCTION" and name in aggregates:
            raise ValueError(
                f"{_shown(name)} is an aggregate over many records, but a SQL feature reads one "
                f"record ({_BEYOND}); use rtml.features.Aggregate for a per-key window"
            )
        if found["class"] == "FUNCTION" and name in unstable:
            raise ValueError(_when_it_runs(f"{name}()"))
        if found["class"] == "COLUMN_REF" and _is_clock(found, expr):
            raise ValueError(_when_it_runs(str(found["column_names"][0])))


def _shown(name: str) -> str:
    return "count(*)" if name == "count_star" else f"{name}()"  # as written


def _is_clock(column: dict[str, Any], expr: str) -> bool:
    """Whether a column reference is one of the clock's names, unquoted."""
    names = column.get("column_names") or []
    at = int(column.get("query_location", -1)) - len("SELECT ")
    unquoted = 0 <= at < len(expr) and expr[at] != '"'
    return len(names) == 1 and str(names[0]).lower() in _CLOCK_NAMES and unquoted


def _when_it_runs(what: str) -> str:
    timely = any(word in what.lower() for word in ("time", "date", "now", "today"))
    instead = (
        "read the event's own time column instead"
        if timely
        else "hash() of the record's key gives a draw that is the same every time"
    )
    return (
        f"{what} depends on when it runs, not on the record, so history and live would "
        f"differ; {instead}"
    )
