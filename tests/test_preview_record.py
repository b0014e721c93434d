"""A synchronous prediction's features take a record path without DataFrames; it must give
exactly what the batch path gives for the same record and state."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import rtml
from rtml.features.engine import FeatureEngine

A, SQL = rtml.features.Aggregate, rtml.features.SQL
TYPES = {"id": "BIGINT", "card": "VARCHAR", "ts": "BIGINT", "amount": "DOUBLE"}

FEATURES = rtml.FeatureSet(
    name="f",
    dataset="tx",
    timestamp="ts",
    features=[
        SQL(name="big", expr='CASE WHEN "amount" > 50 THEN 1 ELSE 0 END'),
        SQL(name="half", expr='"amount" / 2'),
        SQL(name="maybe", expr='CASE WHEN "amount" > 90 THEN NULL ELSE "amount" END'),
        A(name="n_1h", column="amount", op="count", by="card", window="1h"),
        A(name="sum_1h", column="amount", op="sum", by="card", window="1h"),
        A(name="max_1d", column="maybe", op="max", by="card", window="1d"),
        A(name="avg_late", column="amount", op="avg", by="card", window="2h", delay="30m"),
        A(name="fraud_1d", column="y", op="sum", by="card", window="1d", source="labels"),
        SQL(name="ratio", expr='CASE WHEN "n_1h" > 0 THEN "sum_1h" / "n_1h" ELSE 0 END'),
        SQL(name="risk", expr='coalesce("fraud_1d", 0) + "big"'),
    ],
)

record = st.fixed_dictionaries(
    {
        "card": st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
        "dt": st.integers(0, 3000),
        "amount": st.one_of(st.none(), st.floats(-100, 100, allow_nan=False)),
    }
)


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b)


@given(history=st.lists(record, max_size=40), probes=st.lists(record, min_size=1, max_size=5))
def test_the_record_path_equals_the_batch_path(history, probes):
    engine = FeatureEngine(FEATURES, key="id")
    t = 1_700_000_000
    rows = []
    for i, r in enumerate(history):
        t += r["dt"]
        rows.append({"id": i, "card": r["card"], "ts": t, "amount": r["amount"]})
    labels = pd.DataFrame({"id": range(0, len(rows), 2), "y": [1] * len(range(0, len(rows), 2))})
    engine.apply_source("labels", labels, "id")
    if rows:
        frame = pd.DataFrame(rows).astype({"amount": "float64"})
        engine.process(frame)
    for j, r in enumerate(probes):
        probe = {"id": 10_000 + j, "card": r["card"], "ts": t + r["dt"], "amount": r["amount"]}
        fast = engine.preview_record(probe, TYPES)
        assert fast is not None
        batch = engine.preview(pd.DataFrame([probe]).astype({"amount": "float64"}))
        for name, value in fast.items():
            expected = batch[name].tolist()[0]
            if expected is None:  # the batch path's NULL number
                expected = float("nan")
            assert same(value, expected), (name, value, expected)
