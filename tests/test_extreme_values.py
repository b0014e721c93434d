"""Values at the edge of a float: infinite, or near the largest one.

Each used to fail a push with a raw error (``OverflowError: intermediate overflow in fsum``
from a window sum; ``OverflowError`` inside River's adaptive trees) or to poison a model for
good (one ``inf`` made every later score of a logistic regression NaN).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import rtml
from rtml.float_sums import LARGEST_INPUT, float_sum
from rtml.metrics import WindowedMSE

EXTREMES = [math.inf, -math.inf, 1.7e308, -1.7e308, 1e308, 1e200, -1e160, 2 * LARGEST_INPUT]
ordinary = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([0.0, 0.5, -3.0]))
extreme_or_ordinary = st.one_of(ordinary, st.sampled_from(EXTREMES))


def _rounded(total: Fraction) -> float:
    """An exact sum rounded to a float, as float addition would round it: inf beyond one."""
    try:
        return float(total)
    except OverflowError:
        return math.inf if total > 0 else -math.inf


def reference_sum(xs: list[float]) -> float:
    infinite = {x for x in xs if math.isinf(x)}
    if infinite:
        return math.nan if len(infinite) == 2 else infinite.pop()
    return _rounded(sum((Fraction(x) for x in xs), Fraction(0)))


def reference_var(xs: list[float]) -> float:
    if any(math.isinf(x) for x in xs):
        return math.nan
    exact = [Fraction(x) for x in xs]
    mean = sum(exact, Fraction(0)) / len(exact)
    return _rounded(sum(((x - mean) ** 2 for x in exact), Fraction(0)) / (len(exact) - 1))


def same(a: float, b: float, abs_tol: float = 1e-300) -> bool:
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=abs_tol)


@given(st.lists(extreme_or_ordinary, max_size=12))
@example([1e308, 1e308, -1e308])  # fsum raised: its running sum left the floats
@example([math.inf, -math.inf])  # fsum raised ValueError
def test_float_sum_is_the_exact_sum_rounded(xs) -> None:
    assert same(float_sum(xs), reference_sum(xs))
    assert same(float_sum(iter(xs)), reference_sum(xs))  # a generator is read twice if need be


def feature_set(window: str) -> rtml.FeatureSet:
    ops = ["sum", "avg", "std", "var", "min", "max", "count"]
    return rtml.FeatureSet(
        name="f",
        dataset="tx",
        timestamp="t",
        features=[
            rtml.features.Aggregate(op, column="x", op=op, by="k", window=window) for op in ops
        ],
    )


def expected(frame: pd.DataFrame, window_s: int) -> dict[str, list[float]]:
    """Each event's window ``[t - w, t]`` of its key, every op by the references above."""
    out: dict[str, list[float]] = {op: [] for op in ("sum", "avg", "std", "var", "min", "max")}
    out["spread"] = []  # how far the spread may be from exact: the mean is rounded once
    rows = list(frame.itertuples(index=False))
    for i, row in enumerate(rows):
        xs = [r.x for r in rows[: i + 1] if r.k == row.k and row.t - window_s <= r.t <= row.t]
        out["spread"].append(1e-15 * max((abs(x) for x in xs if math.isfinite(x)), default=0.0))
        total = reference_sum(xs)
        out["sum"].append(total)
        out["avg"].append(total / len(xs))
        out["min"].append(min(xs))
        out["max"].append(max(xs))
        var = reference_var(xs) if len(xs) > 1 else math.nan
        out["var"].append(var)
        out["std"].append(math.sqrt(var) if not math.isnan(var) else math.nan)
    return out


@st.composite
def streams(draw):
    n = draw(st.integers(1, 25))
    return pd.DataFrame(
        {
            "id": range(n),
            "k": draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n)),
            "t": [
                float(t) for t in sorted(draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)))
            ],
            "x": draw(st.lists(extreme_or_ordinary, min_size=n, max_size=n)),
        }
    )


@settings(max_examples=40, deadline=None)
@given(stream=streams(), cuts=st.sets(st.integers(1, 25)))
@example(  # the push that raised OverflowError: two values of 1e308 in one window
    stream=pd.DataFrame({"id": [0, 1], "k": ["a", "a"], "t": [0.0, 1.0], "x": [1e308, 1e308]}),
    cuts=set(),
)
def test_window_aggregates_of_extreme_values_live_and_backfilled(stream, cuts) -> None:
    """Live pushes (record by record or in batches) and the backfill (the vectorised path) give
    every event the exact aggregate of its window, rounded as float addition would round it."""
    schema = {"id": "int", "k": "string", "t": "float", "x": "float"}
    live = rtml.connect("local", path=":memory:")
    tx = live.create_dataset("tx", key="id", schema=schema)
    live.materialize(feature_set("10s"))
    bounds = [0, *sorted(c for c in cuts if c < len(stream)), len(stream)]
    for lo, hi in itertools.pairwise(bounds):
        if hi > lo:
            assert tx.push(stream.iloc[lo:hi]) == hi - lo
    batch = rtml.connect("local", path=":memory:")
    batch.create_dataset("tx", key="id", df=stream.astype({"t": "float64", "x": "float64"}))
    batch.materialize(feature_set("10s"))
    want = expected(stream, 10)
    spread = want.pop("spread")
    for backend in (live, batch):
        got = backend.features("f").set_index("id").loc[stream["id"]]
        for op, values in want.items():
            for event, (a, b) in enumerate(zip(got[op].tolist(), values, strict=True)):
                # Two-pass variance with a mean rounded once: each deviation is off by up to an
                # ulp of the mean, so a variance of exactly 0 may come out as (ulp)^2.
                bound = 4 * spread[event]
                tol = {"std": bound, "var": bound * bound}.get(op, 1e-300)
                assert same(float(a), b, tol), f"{op} at event {event}: {a!r} != {b!r}"


MODELS = {
    "LogisticRegression": rtml.models.LogisticRegression(),
    "OnlineLinearClassifier": rtml.models.OnlineLinearClassifier(),
    "HoeffdingAdaptiveTreeClassifier": rtml.models.HoeffdingAdaptiveTreeClassifier(seed=1),
    "AdaptiveRandomForestClassifier": rtml.models.AdaptiveRandomForestClassifier(seed=1),
    "AMFClassifier": rtml.models.AMFClassifier(seed=1),
    "GaussianNB": rtml.models.GaussianNB(),
}


def scores(spec: rtml.ModelSpec, events: pd.DataFrame, labels: pd.DataFrame) -> list[float]:
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float", "z": "float"})
    lb = backend.create_dataset("lb", key="id", schema={"id": "int", "y": "float"})
    model = backend.deploy(
        "m",
        spec,
        inputs=rtml.Inputs("tx", numerical=["x", "z"]),
        labels=rtml.Labels("lb", field="y"),
    )
    for lo in range(0, len(events), 5):  # labels first: each event is scored, then learned
        lb.push(labels.iloc[lo : lo + 5])
        tx.push(events.iloc[lo : lo + 5])
    return model.outputs()["score"].tolist()


@pytest.mark.parametrize("name", sorted(MODELS))
@settings(max_examples=8, deadline=None)
@given(
    at=st.lists(st.integers(0, 39), min_size=1, max_size=3, unique=True),
    value=st.sampled_from(EXTREMES),
)
def test_a_number_no_model_can_take_is_read_as_missing(name, at, value) -> None:
    """A push holding inf, -inf or a number beyond 1e150 is accepted, and the model scores
    every record as if that value were missing: never NaN, never an error."""
    n = 40
    events = pd.DataFrame(
        {"id": range(n), "x": [float(i % 2) for i in range(n)], "z": [0.1 * i for i in range(n)]}
    )
    labels = pd.DataFrame({"id": range(n), "y": [float(i % 2) for i in range(n)]})
    with_value = events.assign(x=[value if i in at else x for i, x in enumerate(events["x"])])
    missing = events.assign(x=[None if i in at else x for i, x in enumerate(events["x"])])
    got = scores(MODELS[name], with_value, labels)
    assert not any(math.isnan(s) for s in got)
    assert got == scores(MODELS[name], missing, labels)


def test_an_infinite_label_is_skipped_as_a_missing_one() -> None:
    n = 30
    events = pd.DataFrame({"id": range(n), "x": [float(i % 3) for i in range(n)], "z": 0.0})
    y = [float(i % 3) for i in range(n)]
    infinite = pd.DataFrame(
        {"id": range(n), "y": [math.inf if i == 12 else v for i, v in enumerate(y)]}
    )
    missing = pd.DataFrame({"id": range(n), "y": [None if i == 12 else v for i, v in enumerate(y)]})
    spec = rtml.models.LinearRegression()
    got = scores(spec, events, infinite)
    assert all(math.isfinite(s) for s in got)
    assert got == scores(spec, events, missing)


def test_an_infinite_error_leaving_the_mse_window_leaves_nothing_behind() -> None:
    metric = WindowedMSE(window_size=2)
    for y, p in [(0.0, 1e200), (0.0, 0.1), (0.0, 0.2)]:  # 1e200 squared is inf
        metric.update(y, p)
    assert metric.get() == pytest.approx((0.1**2 + 0.2**2) / 2, rel=1e-12)


@settings(max_examples=10, deadline=None)
@given(
    at=st.lists(st.integers(0, 1999), min_size=1, max_size=3, unique=True),
    value=st.sampled_from(EXTREMES),
)
def test_drift_detection_skips_what_it_cannot_average(at, value) -> None:
    """A watched field with inf or 1e200 among its values finds the changes it finds with the
    value missing: before, ADWIN's mean became inf for good and the shift went unseen."""
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 1, 1000), rng.normal(5, 1, 1000)]
    with_value = pd.DataFrame(
        {"id": range(2000), "x": [value if i in at else v for i, v in enumerate(x)]}
    )
    missing = with_value.assign(x=[None if i in at else v for i, v in enumerate(x)])
    want = rtml.drift.univariate(missing, "x", key="id")
    assert want.drifts and 1000 <= want.drifts[0] < 1100
    assert rtml.drift.univariate(with_value, "x", key="id").drifts == want.drifts
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    monitor = backend.watch(rtml.drift.Monitor("m", source="tx", fields=["x"]))
    for lo in range(0, 2000, 500):
        tx.push(with_value.iloc[lo : lo + 500])
    assert monitor.changes()["row"].tolist() == want.drifts
