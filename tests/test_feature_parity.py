"""Online/offline parity: live pushes in random micro-batches == backfill == a slow reference."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import rtml
from rtml.features import SQL, UDF, Aggregate, FeatureSet
from rtml.features.aggregate import OPS
from rtml.frames import stack_rows

from .reference import KEY, reference

EVENT_SCHEMA = {"id": "int", "k": "string", "k2": "int", "ts": "int", "v": "float"}
LABEL_SCHEMA = {"id": "int", "y": "float"}
LATENESS = 25  # seconds; generated disorder stays within it

values = st.one_of(
    st.none(),
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    st.sampled_from([0.0, -0.0, 1e15, -1e15, 0.1, 3.0]),
    st.integers(-5, 5).map(float),
)


@st.composite
def streams(draw: Any, disorder: int = LATENESS - 5, max_n: int = 40) -> dict[str, Any]:
    n = draw(st.integers(1, max_n))
    steps = draw(st.lists(st.integers(0, 15), min_size=n, max_size=n))
    jitter = draw(st.lists(st.integers(0, disorder), min_size=n, max_size=n))
    base = np.cumsum(steps)
    ts = [int(b - j) + 1_700_000_000 for b, j in zip(base, jitter, strict=True)]
    events = pd.DataFrame(
        {
            "id": range(n),
            "k": draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n)),
            "k2": draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
            "ts": ts,
            "v": draw(st.lists(values, min_size=n, max_size=n)),
        }
    )
    events["v"] = events["v"].astype("float64")
    labelled = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    labels = pd.DataFrame(
        {
            "id": [i for i in range(n) if labelled[i]],
            "y": draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n))[
                : sum(labelled)
            ],
        }
    )
    # Where each label arrives among the events: before, with or after its event.
    label_after = draw(st.lists(st.integers(-3, 10), min_size=len(labels), max_size=len(labels)))
    return {"events": events, "labels": labels, "label_after": label_after}


@st.composite
def feature_sets(draw: Any) -> FeatureSet:
    features: list[Any] = []
    for i in range(draw(st.integers(1, 5))):
        features.append(
            Aggregate(
                f"agg{i}",
                column="v",
                op=draw(st.sampled_from(OPS)),
                by=draw(st.sampled_from([["k"], ["k", "k2"]])),
                window=draw(st.sampled_from(["1s", "5s", "10s", "1m"])),
                delay=draw(st.sampled_from([None, None, "3s", "10s"])),
                closed=draw(st.sampled_from(["both", "right"])),
            )
        )
    features.append(
        Aggregate(
            "risk_cnt",
            column="y",
            op="count",
            by="k",
            window="30s",
            delay=draw(st.sampled_from([None, "5s"])),
            source="labels",
        )
    )
    features.append(
        Aggregate(
            "risk_sum",
            column="y",
            op="sum",
            by="k",
            window="30s",
            delay=draw(st.sampled_from([None, "5s"])),
            source="labels",
        )
    )
    features.append(SQL("risk", 'CASE WHEN "risk_cnt" > 0 THEN "risk_sum" / "risk_cnt" END'))
    features.append(Aggregate("avg_of_sql", column="risk", op="avg", by="k", window="10s"))
    features.append(UDF("abs_v", fn=abs_or_none, args=["v"]))
    return FeatureSet(
        name="fs",
        dataset="events",
        timestamp="ts",
        features=features,
        allowed_lateness=f"{LATENESS}s",
    )


def abs_or_none(v: float | None) -> float | None:
    return None if v is None or v != v else abs(v)


def arrival_log(stream: dict[str, Any]) -> list[tuple[str, pd.DataFrame]]:
    """One record per entry, labels placed relative to their events, in arrival order."""
    events, labels = stream["events"], stream["labels"]
    slots: list[tuple[float, int, str, int]] = [(i, 0, "events", i) for i in range(len(events))]
    for j, (event_id, after) in enumerate(zip(labels["id"], stream["label_after"], strict=True)):
        slots.append((event_id + after + 0.5, 1, "labels", j))
    slots.sort()
    frames = {"events": events, "labels": labels}
    return [(name, frames[name].iloc[[row]]) for _, _, name, row in slots]


def batches(log: list[tuple[str, pd.DataFrame]], cuts: list[int]) -> list[tuple[str, pd.DataFrame]]:
    """Consecutive records of one dataset grouped into micro-batches at random cut points."""
    out: list[tuple[str, list[pd.DataFrame]]] = []
    for position, (name, frame) in enumerate(log):
        if out and out[-1][0] == name and position not in cuts:
            out[-1][1].append(frame)
        else:
            out.append((name, [frame]))
    return [(name, pd.concat(frames, ignore_index=True)) for name, frames in out]


def close(a: Any, b: Any) -> bool:
    a_null = a is None or (isinstance(a, float) and math.isnan(a))
    b_null = b is None or (isinstance(b, float) and math.isnan(b))
    if a_null or b_null:
        return a_null and b_null
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)


def assert_same(got: pd.DataFrame, want: pd.DataFrame, what: str) -> None:
    got = got.sort_values(KEY).reset_index(drop=True)
    want = want.sort_values(KEY).reset_index(drop=True)
    assert got[KEY].tolist() == want[KEY].tolist(), what
    for column in want.columns:
        for i, (a, b) in enumerate(zip(got[column].tolist(), want[column].tolist(), strict=True)):
            assert close(a, b), f"{what}: {column} of event {want[KEY][i]}: {a!r} != {b!r}"


def live(
    fs: FeatureSet, log: list[tuple[str, pd.DataFrame]], materialize_first: bool
) -> pd.DataFrame:
    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("events", key="id", schema=EVENT_SCHEMA)
    backend.create_dataset("labels", key="id", schema=LABEL_SCHEMA)
    if materialize_first:
        backend.materialize(fs)
    for name, frame in log:
        assert backend.dataset(name).push(frame) == len(frame)
    if not materialize_first:
        backend.materialize(fs)
    return backend.features("fs")


@given(stream=streams(), fs=feature_sets(), cuts=st.sets(st.integers(0, 120)))
def test_live_equals_backfill_equals_reference(stream, fs, cuts) -> None:
    log = arrival_log(stream)
    want = reference(fs, KEY, log)
    pushes = batches(log, sorted(cuts))
    assert_same(live(fs, pushes, materialize_first=True), want, "live, random micro-batches")
    assert_same(live(fs, pushes, materialize_first=False), want, "backfill replaying the log")


@given(stream=streams(), fs=feature_sets())
def test_history_backfill_equals_reference(stream, fs) -> None:
    """History given at creation: labels count as arrived before any event of the history."""
    events, labels = stream["events"], stream["labels"]
    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("events", key="id", df=events)
    backend.create_dataset(
        "labels", key="id", df=labels.astype({"y": "float64"}), schema=LABEL_SCHEMA
    )
    backend.materialize(fs)
    want = reference(fs, KEY, [("labels", labels), ("events", events)])
    assert_same(backend.features("fs"), want, "history backfill")


@given(stream=streams(), fs=feature_sets(), split=st.integers(0, 60))
def test_snapshot_restore_continues_identically(stream, fs, split) -> None:
    log = arrival_log(stream)
    split = min(split, len(log))
    key = "id"
    whole = rtml.features.FeatureEngine(fs, key=key)
    first = rtml.features.FeatureEngine(fs, key=key)
    for name, frame in log[:split]:
        for engine in (whole, first):
            if name == "events":
                engine.process(frame)
            else:
                engine.apply_source(name, frame, key)
    restored = rtml.features.FeatureEngine(fs, key=key)
    restored.restore(first.snapshot())
    for name, frame in log[split:]:
        if name == "events":
            assert_same(restored.process(frame), whole.process(frame), "restored engine")
        else:
            whole.apply_source(name, frame, key)
            restored.apply_source(name, frame, key)


@given(stream=streams(disorder=0, max_n=80), fs=feature_sets(), cuts=st.sets(st.integers(0, 160)))
def test_vectorized_batches_equal_the_reference(stream, fs, cuts) -> None:
    """In-order batches take the vectorised path (from one record on, here) and must agree."""
    log = arrival_log(stream)
    assert_same(engine_run(fs, log, cuts, 1), reference(fs, KEY, log), "vectorised")


def engine_run(fs: FeatureSet, log: list, cuts: set[int], vectorize_from: int) -> pd.DataFrame:
    """The log in batches cut at ``cuts`` through one engine: the features of every event."""
    engine = rtml.features.FeatureEngine(fs, key="id", vectorize_from=vectorize_from)
    got = []
    for name, frame in batches(log, sorted(cuts)):
        if name == "events":
            got.append(engine.process(frame))
        else:
            engine.apply_source(name, frame, "id")
    return stack_rows(got)


@given(
    stream=streams(disorder=0, max_n=80),
    fs=feature_sets(),
    cuts=st.sets(st.integers(0, 160)),
    run=st.integers(2, 12),
    vectorize_from=st.sampled_from([1, 10**9]),
)
def test_each_label_lands_on_its_own_event_among_equal_times(
    stream, fs, cuts, run, vectorize_from
) -> None:
    """Many events of one key at one time, their labels arriving in any order: each label must
    reach its own event's stored row (the engine finds it by time and rank among equals)."""
    events = stream["events"]
    events["ts"] = 1_700_000_000 + np.arange(len(events)) // run * 2
    events["k"] = "a"
    log = arrival_log(stream)
    got = engine_run(fs, log, cuts, vectorize_from)
    assert_same(got, reference(fs, KEY, log), "equal times")
