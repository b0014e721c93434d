"""A slow, obviously correct computation of feature sets, to check the engine against.

For every event, in the order records arrived, it scans every earlier-arrived record: no state,
no eviction, no cleverness. O(n^2), for small generated streams only.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import duckdb
import pandas as pd

from rtml.features import SQL, UDAF, UDF, Aggregate, FeatureSet
from rtml.features.timestamps import to_nanos


def _null(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _same_key(a: Any, b: Any) -> bool:
    return (_null(a) and _null(b)) or (not _null(a) and not _null(b) and a == b)


def _op(op: str, xs: list[Any]) -> Any:
    xs = [x for x in xs if not _null(x)]
    if op == "count":
        return len(xs)
    if op == "count_distinct":
        return len(set(xs))
    if not xs:
        return None
    if op == "sum":
        return math.fsum(xs)
    if op == "avg":
        return math.fsum(xs) / len(xs)
    if op == "min":
        return min(xs)
    if op == "max":
        return max(xs)
    if len(xs) < 2:
        return None
    var = float(statistics.variance([float(x) for x in xs]))
    return var if op == "var" else math.sqrt(var)


def reference(fs: FeatureSet, key: str, log: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """Feature values of every event of ``fs.dataset`` in ``log`` (pushes in arrival order)."""
    arrived: list[dict[str, Any]] = []  # events with their computed features, arrival order
    joined: dict[str, dict[Any, dict[str, Any]]] = {}  # source -> key -> record
    out = []
    for dataset, frame in log:
        if dataset != fs.dataset:
            for record in frame.to_dict("records"):
                joined.setdefault(dataset, {})[record[key]] = record
            continue
        times = to_nanos(frame[fs.timestamp], fs.timestamp_format).tolist()
        for record, t in zip(frame.to_dict("records"), times, strict=True):
            event = dict(record, __t=t)
            arrived.append(event)
            for f in fs.ordered():
                event[f.name] = _value(f, event, arrived, joined)
            out.append({key: event[key], **{f.name: event[f.name] for f in fs.features}})
    return pd.DataFrame(out, columns=[key, *(f.name for f in fs.features)])


def _value(
    f: Any,
    event: dict[str, Any],
    arrived: list[dict[str, Any]],
    joined: dict[str, dict[Any, dict[str, Any]]],
) -> Any:
    if isinstance(f, SQL):
        row = pd.DataFrame([{c: event[c] for c in f.columns()}])
        return duckdb.query_df(row, "r", f"SELECT ({f.expr}) AS v FROM r").fetchall()[0][0]
    if isinstance(f, UDF):
        return f.fn(*(event[a] for a in f.args))
    t = event["__t"]
    right = t - f.delay_ns
    left = right - f.window_ns
    members = []
    for position, other in enumerate(arrived):  # arrived already includes the event itself
        if not all(_same_key(other[b], event[b]) for b in f.by):
            continue
        inside = (
            left < other["__t"] <= right if f.closed == "right" else left <= other["__t"] <= right
        )
        if inside:
            members.append((other["__t"], position, other))
    members.sort(key=lambda m: (m[0], m[1]))  # event time, ties in arrival order
    if f.source:
        rows = []
        for _, _, other in members:
            label = joined.get(f.source, {}).get(other[_key_of(other)])
            rows.append(tuple(None if label is None else label[c] for c in f.value_columns()))
    else:
        rows = [tuple(other[c] for c in f.value_columns()) for _, _, other in members]
    if isinstance(f, Aggregate):
        return _op(f.op, [r[0] for r in rows])
    if isinstance(f, UDAF):
        return f.reduce(rows)
    raise TypeError(f"no reference for {type(f).__name__}")


KEY = "id"


def _key_of(record: dict[str, Any]) -> str:
    return KEY
