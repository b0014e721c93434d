"""A refused push changes nothing: the model, windows and pending joins go on exactly as if it
had never been tried, however many pushes are refused, on a memory store as on disk. (A memory
store restored its state from one checkpoint's objects, which the model went on mutating: every
refused push after the first left the model where the earlier recovery had taken it.)"""

from __future__ import annotations

import shutil
import tempfile
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import rtml


def inverse(x: float) -> float:
    return 1.0 / x


def _store(path: str) -> rtml.Backend:
    store = rtml.connect("local", path=path)
    store.create_dataset(
        "tx", key="id", schema={"id": "int", "ts": "int", "card": "string", "x": "float"}
    )
    store.create_dataset("lb", key="id", schema={"id": "int", "y": "int"})
    store.materialize(
        rtml.FeatureSet(
            name="f",
            dataset="tx",
            timestamp="ts",
            features=[
                rtml.features.UDF("inv", fn=inverse, args=["x"]),
                rtml.features.Aggregate("avg", column="x", op="avg", by="card", window="1h"),
            ],
        )
    )
    store.deploy(
        "m",
        rtml.models.LogisticRegression(),
        inputs=rtml.Inputs("f", numerical=["x", "inv", "avg"]),
        labels=rtml.Labels("lb", field="y"),
    )
    return store


def _replay(store: rtml.Backend, batches: list[int], refused_after: set[int]) -> None:
    """Events in ``batches`` of these sizes, each followed by its labels; after the batches in
    ``refused_after``, a push the UDF fails on (x = 0), refused whole."""
    n = 0
    for b, size in enumerate(batches):
        events = [
            {"id": n + i, "ts": 60 * (n + i), "card": "ab"[(n + i) % 2], "x": 1.0 + (n + i) % 7}
            for i in range(size)
        ]
        store.dataset("tx").push(events)
        store.dataset("lb").push([{"id": e["id"], "y": int(e["x"] > 4)} for e in events])
        n += size
        if b in refused_after:
            bad = {"id": 10_000 + b, "ts": 60 * n, "card": "a", "x": 0.0}
            try:
                store.dataset("tx").push([bad])
            except rtml.SchemaError:
                pass
            else:
                raise AssertionError("the push of x = 0 was accepted")


def _state(store: rtml.Backend) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    model = store.deployment("m")
    return (
        store.features("f"),
        model.outputs(),
        model.predict({"id": -1, "ts": 10**6, "card": "a", "x": 3.0}),
    )


@settings(max_examples=25)  # each example deploys twice and replays up to 48 events
@given(
    batches=st.lists(st.integers(1, 6), min_size=1, max_size=8),
    refused=st.sets(st.integers(0, 7), max_size=8),
    on_disk=st.booleans(),
)
def test_refused_pushes_leave_no_trace(
    batches: list[int], refused: set[int], on_disk: bool
) -> None:
    clean = _store(":memory:")
    _replay(clean, batches, set())
    path = tempfile.mkdtemp() if on_disk else ":memory:"
    try:
        tried = _store(path)
        _replay(tried, batches, refused)
        (f1, o1, p1), (f2, o2, p2) = _state(clean), _state(tried)
        pd.testing.assert_frame_equal(f1, f2)
        pd.testing.assert_frame_equal(o1, o2)
        assert p1 == p2
        tried.close()
    finally:
        if on_disk:
            shutil.rmtree(path)
