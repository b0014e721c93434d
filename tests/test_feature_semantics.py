"""Window semantics on hand-checkable streams: boundaries, ties, delays, time formats."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rtml
from rtml.errors import SpecError
from rtml.features import SQL, Aggregate, FeatureSet

from .test_kinds import CountAgg


def values(df: pd.DataFrame, *features, **options) -> dict[str, list]:
    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("tx", key="id", df=df)
    fs = FeatureSet(name="f", dataset="tx", timestamp="ts", features=list(features), **options)
    backend.materialize(fs)
    out = backend.features("f")
    return {f.name: out[f.name].tolist() for f in features}


STREAM = pd.DataFrame(
    {"id": [1, 2, 3, 4], "k": ["a"] * 4, "ts": [0, 60, 60, 120], "x": [1.0, 2.0, 4.0, 8.0]}
)


def test_window_includes_an_event_exactly_w_older() -> None:
    got = values(STREAM, Aggregate("s", column="x", op="sum", by="k", window="1m"))
    assert got["s"] == [1.0, 3.0, 7.0, 14.0]  # at t=120 the window [60, 120] holds 2, 4 and 8


def test_closed_right_excludes_it() -> None:
    got = values(STREAM, Aggregate("s", column="x", op="sum", by="k", window="1m", closed="right"))
    assert got["s"] == [1.0, 2.0, 6.0, 8.0]


def test_ties_are_broken_by_arrival() -> None:
    got = values(STREAM, Aggregate("n", column="x", op="count", by="k", window="1h"))
    assert got["n"] == [1, 2, 3, 4]  # id 2 does not see id 3, which arrived after it


def test_delay_shifts_the_window_back() -> None:
    got = values(STREAM, Aggregate("s", column="x", op="sum", by="k", window="1m", delay="1m"))
    # at t=120: [0, 60] -> 1 + 2 + 4; at t=60: [-60, 0] -> 1; at t=0: empty -> NULL
    assert got["s"][1:] == [1.0, 1.0, 7.0] and pd.isna(got["s"][0])


@pytest.mark.parametrize(
    ("column", "fmt"),
    [
        (pd.Series([0, 60_000, 60_000, 120_000]), "epoch_milliseconds"),
        (pd.to_datetime([0, 60, 60, 120], unit="s"), "auto"),
        (
            pd.to_datetime([0, 60, 60, 120], unit="s").tz_localize("UTC").tz_convert("Asia/Tokyo"),
            "auto",
        ),
        (pd.Series([0.0, 60.0, 60.0, 120.0]), "epoch_seconds"),
    ],
    ids=["ms", "datetime", "tz-aware", "float-seconds"],
)
def test_timestamp_formats_agree(column, fmt) -> None:
    df = STREAM.assign(ts=column)
    got = values(
        df, Aggregate("s", column="x", op="sum", by="k", window="1m"), timestamp_format=fmt
    )
    assert got["s"] == [1.0, 3.0, 7.0, 14.0]


def test_several_key_columns_and_null_keys() -> None:
    df = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "a": ["x", "x", None, None],
            "b": [1, 2, 1, 1],
            "ts": [0, 1, 2, 3],
            "x": [1.0, 1.0, 1.0, 1.0],
        }
    )
    got = values(df, Aggregate("n", column="x", op="count", by=["a", "b"], window="1h"))
    assert got["n"] == [1, 1, 1, 2]  # NULL keys form one group, as in SQL


def test_count_distinct_min_max_and_udaf() -> None:
    df = pd.DataFrame(
        {
            "id": range(5),
            "k": ["a"] * 5,
            "ts": range(5),
            "m": ["p", "q", "p", "r", "q"],
            "x": [3.0, 1.0, 2.0, 5.0, 4.0],
        }
    )
    got = values(
        df,
        Aggregate("d", column="m", op="count_distinct", by="k", window="2s"),
        Aggregate("lo", column="x", op="min", by="k", window="2s"),
        Aggregate("hi", column="m", op="max", by="k", window="1h"),
        rtml.features.UDAF("n", columns=["x"], functions=CountAgg, by="k", window="2s"),
    )
    assert got["d"] == [1, 2, 2, 3, 3]
    assert got["lo"] == [3.0, 1.0, 1.0, 1.0, 2.0]
    assert got["hi"] == ["p", "q", "q", "r", "r"]
    assert got["n"] == [1, 2, 3, 3, 3]


@given(
    xs=st.lists(st.floats(-1e15, 1e15, allow_nan=False), min_size=1, max_size=100),
    vectorize=st.booleans(),
)
def test_sums_stay_accurate_when_large_values_cancel(xs, vectorize) -> None:
    import math

    df = pd.DataFrame({"id": range(len(xs)), "k": "a", "ts": 0, "x": xs})
    fs = FeatureSet(
        name="f",
        dataset="tx",
        timestamp="ts",
        features=[Aggregate("s", column="x", op="sum", by="k", window="1s")],
    )
    engine = rtml.features.FeatureEngine(fs, key="id", vectorize_from=1 if vectorize else 10**9)
    got = engine.process(df)["s"].tolist()
    for i, value in enumerate(got):
        exact = math.fsum(xs[: i + 1])
        assert math.isclose(value, exact, rel_tol=1e-12, abs_tol=1e-300), (i, value, exact)


def test_state_is_bounded_by_the_window() -> None:
    n = 5_000
    df = pd.DataFrame({"id": range(n), "k": "a", "ts": range(0, n * 60, 60), "x": 1.0})
    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("tx", key="id", df=df.iloc[:10])
    backend.materialize(
        FeatureSet(
            name="f",
            dataset="tx",
            timestamp="ts",
            allowed_lateness="0s",
            features=[Aggregate("n", column="x", op="count", by="k", window="1h")],
        )
    )
    for lo in range(10, n, 250):
        backend.dataset("tx").push(df.iloc[lo : lo + 250])
    assert backend.features("f")["n"].iloc[-1] == 61
    assert backend.feature_engine("f").state_size()["n"] <= 61 + 250  # a window and a batch


@pytest.mark.parametrize("rows", [1, 5, 1_000])
def test_a_sql_feature_reads_the_same_columns_whatever_the_batch_size(rows) -> None:
    # Small batches travel as query parameters holding only the quoted columns; large ones
    # are scanned as a frame. Both see the same columns, so a name left unquoted beside quoted
    # ones fails the same way at every size instead of working only for large batches.
    frame = pd.DataFrame({"a": range(rows), "b": 2.0, "unused": "text"})
    assert SQL("s", '"a" * "b"').compute(frame).tolist() == [2.0 * i for i in range(rows)]
    with pytest.raises(SpecError, match="'mixed'"):
        SQL("mixed", '"a" + b').compute(frame)


@given(
    xs=st.lists(st.one_of(st.none(), st.floats(-5, 5)), min_size=1, max_size=80),
    cut=st.integers(0, 80),
)
def test_a_null_text_from_sql_is_missing_at_every_batch_size(xs, cut) -> None:
    """NULL text came back as the text '?' (numpy's fill value for objects), in pushes of any
    size: stored as a feature value, and a category of its own to a model."""
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float", "t": "float"})
    level = SQL("level", """CASE WHEN "x" > 1 THEN 'high' END""")
    backend.materialize(FeatureSet(name="f", dataset="tx", timestamp="t", features=[level]))
    records = [{"id": i, "x": x, "t": float(i)} for i, x in enumerate(xs)]
    for part in (records[:cut], records[cut:]):  # small pushes go as parameters, large as frames
        if part:
            tx.push(part)
    got = backend.features("f").sort_values("id")["level"].tolist()
    assert got == ["high" if x is not None and x > 1 else None for x in xs]
