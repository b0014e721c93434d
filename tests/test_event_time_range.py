"""Event times rtml cannot hold are refused by row, not wrapped around.

Event times are int64 nanoseconds since the epoch. An epoch in milliseconds read as seconds
(1.7e12 "seconds") used to overflow silently: an int wrapped to another time, a float became
the smallest int64. Windows were then computed over times that meant nothing.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import rtml
from rtml.testing.server import running_server

NANOS = 2**62
FEATURES = [rtml.features.Aggregate("n_1h", column="x", op="count", by="card", window="1h")]


def holdable(t: float | int, scale: int) -> bool:
    return math.isfinite(t) and abs(t) * scale < NANOS


times = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.sampled_from(
        [1_700_000_000, 1_700_000_000_000, 1.7e12, 4_611_686_018, 4_611_686_019, -4_611_686_018]
    ),
)


def store(backend: rtml.Backend, kind: str, fmt: str = "auto") -> rtml.Dataset:
    tx = backend.create_dataset(
        "tx", key="id", schema={"id": "int", "card": "string", "t": kind, "x": "float"}
    )
    features = rtml.FeatureSet(
        name="f", dataset="tx", timestamp="t", timestamp_format=fmt, features=FEATURES
    )
    backend.materialize(features)
    return tx


@settings(max_examples=60, deadline=None)
# The first and last times it holds: their gap fits int64 (with the full int64 range, it
# overflowed and the later one was refused as late).
@example(values=[-4_611_686_018, 4_611_686_018], fmt="auto")
@given(
    values=st.lists(times, min_size=1, max_size=6),
    fmt=st.sampled_from(["auto", "epoch_milliseconds"]),
)
def test_a_time_is_accepted_exactly_when_it_can_be_held(values, fmt) -> None:
    kind = "int" if all(isinstance(v, int) for v in values) else "float"
    backend = rtml.connect("local", path=":memory:")
    tx = store(backend, kind, fmt)
    scale = 1_000_000 if fmt == "epoch_milliseconds" else 1_000_000_000
    # Each in its own push after the one before, so that none is refused as late.
    ordered = sorted(values)
    records = [{"id": i + 1, "card": "a", "t": t, "x": 1.0} for i, t in enumerate(ordered)]
    accepted = []
    for record in records:
        if holdable(record["t"], scale):
            assert tx.push([record]) == 1
            accepted.append(record["id"])
        else:
            with pytest.raises(rtml.SchemaError) as refused:
                tx.push([record])
            message = str(refused.value)
            assert "row 0, field 't'" in message and "beyond the event times" in message
            hinted = "set timestamp_format='epoch_milliseconds'" in message
            assert hinted == (fmt == "auto" and holdable(record["t"], 1_000_000))
    assert backend.features("f")["id"].tolist() == accepted


def test_milliseconds_read_as_seconds_are_refused_with_the_setting_that_reads_them() -> None:
    backend = rtml.connect("local", path=":memory:")
    tx = store(backend, "int")
    with pytest.raises(rtml.SchemaError, match="timestamp_format='epoch_milliseconds'"):
        tx.push([{"id": 1, "card": "a", "t": 1_700_000_000_000, "x": 1.0}])
    assert len(tx) == 0


def test_refused_times_are_dead_lettered_by_row_and_the_rest_kept() -> None:
    backend = rtml.connect("local", path=":memory:")
    tx = store(backend, "float")
    pushed = [
        {"id": 1, "card": "a", "t": 10.0, "x": 1.0},
        {"id": 2, "card": "a", "t": math.inf, "x": 1.0},
        {"id": 3, "card": "a", "t": 1.7e12, "x": 1.0},
        {"id": 4, "card": "a", "t": 20.0, "x": 1.0},
    ]
    assert tx.push(pushed, on_error="dead_letter") == 2
    letters = tx.dead_letters()
    assert [r["id"] for r in letters["record"]] == [2, 3]
    assert letters["reason"].str.contains("row [12], field 't'").all()
    assert backend.features("f")["id"].tolist() == [1, 4]


def test_a_history_of_times_it_cannot_hold_is_refused_when_materialized() -> None:
    backend = rtml.connect("local", path=":memory:")
    history = pd.DataFrame(
        {"id": [1, 2], "card": ["a", "a"], "t": [1_700_000_000_000, 1_700_000_060_000], "x": 1.0}
    )
    backend.create_dataset("tx", key="id", df=history)
    features = rtml.FeatureSet(name="f", dataset="tx", timestamp="t", features=FEATURES)
    with pytest.raises(rtml.SchemaError, match=r"row\(s\) \[0, 1\].*epoch_milliseconds"):
        backend.materialize(features)
    assert backend.feature_sets() == []
    backend.materialize(features.model_copy(update={"timestamp_format": "epoch_milliseconds"}))
    assert backend.features("f")["n_1h"].tolist() == [1, 2]  # one minute apart


def test_text_dates_beyond_the_range_are_refused_by_row() -> None:
    backend = rtml.connect("local", path=":memory:")
    tx = store(backend, "string", fmt="datetime")
    with pytest.raises(rtml.SchemaError, match=r"row 1, field 't': '3000-01-01' is not a date"):
        tx.push(
            [
                {"id": 1, "card": "a", "t": "2024-01-01", "x": 1.0},
                {"id": 2, "card": "a", "t": "3000-01-01", "x": 1.0},
            ]
        )
    assert len(tx) == 0


def test_rtml_serve_refuses_them_by_row_too() -> None:
    with running_server(":memory:") as url:
        backend = rtml.connect(url)
        tx = store(backend, "int")
        with pytest.raises(rtml.SchemaError, match=r"row 0, field 't'.*epoch_milliseconds"):
            tx.push([{"id": 1, "card": "a", "t": 1_700_000_000_000, "x": 1.0}])
        assert len(tx) == 0
        backend.close()


def test_a_duration_beyond_the_longest_is_refused_by_name() -> None:
    with pytest.raises(rtml.SpecError, match="longer than the longest duration rtml keeps"):
        rtml.features.Aggregate("n", column="x", op="count", by="card", window="99999999999d")


def test_text_dates_of_mixed_forms_read_the_same_in_one_push_or_apart() -> None:
    """pandas infers one format from a batch's first date: a push mixing forms failed with its
    ValueError, and the same text could read differently in another batch."""
    dates = ["2024-01-01T01:00:00+01:00", "2024-01-01 00:30", "2024-01-01T00:45:00Z"]

    def counts(pushes: list[list[int]]) -> list[int]:
        backend = rtml.connect("local", path=":memory:")
        tx = store(backend, "string", fmt="datetime")
        for rows in pushes:
            tx.push([{"id": i, "card": "a", "t": dates[i], "x": 1.0} for i in rows])
        return backend.features("f").sort_values("id")["n_1h"].tolist()

    # 00:00, 00:30 and 00:45 UTC: each sees those before it within the hour.
    assert counts([[0, 1, 2]]) == counts([[0], [1], [2]]) == [1, 2, 3]
