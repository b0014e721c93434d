"""A refused push, or a record set aside as a dead letter, changes nothing: the model, windows,
pending joins, drift monitors and labels held by a pause go on exactly as if it had never been
tried, however many are refused, on a memory store as on disk. (A memory store restored its
state from one checkpoint's objects, which the model went on mutating: every refused push after
the first left the model where the earlier recovery had taken it.)"""

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
    store.watch(rtml.drift.Monitor(name="scores", deployment="m", clock=1, delta=0.5))
    return store


def _replay(
    store: rtml.Backend,
    batches: list[int],
    bad_after: set[int] = frozenset(),  # type: ignore[assignment]
    dead_letters: bool = False,
    pause: tuple[int, int] | None = None,
    reopen_at: int | None = None,
) -> rtml.Backend:
    """Events in ``batches`` of these sizes, each followed by its labels. With each batch in
    ``bad_after`` comes a record the UDF fails on (x = 0): pushed after the batch on its own
    and refused, or, with ``dead_letters``, inside the batch and set aside. The deployment is
    paused before batch ``pause[0]`` and resumed before batch ``pause[1]``; a store on disk is
    closed and opened again before batch ``reopen_at``. The store, as last opened."""
    n = 0
    model = store.deployment("m")
    for b, size in enumerate(batches):
        if b == reopen_at:
            store.close()
            store = rtml.connect("local", path=store.path)
            model = store.deployment("m")
        if pause and b == pause[0]:
            model.pause()
        if pause and b == pause[1]:
            model.resume()
        events = [
            {"id": n + i, "ts": 60 * (n + i), "card": "ab"[(n + i) % 2], "x": 1.0 + (n + i) % 7}
            for i in range(size)
        ]
        bad = {"id": 10_000 + b, "ts": 60 * (n + size - 1), "card": "a", "x": 0.0}
        if dead_letters and b in bad_after:
            mixed = [*events[: size // 2], bad, *events[size // 2 :]]
            assert store.dataset("tx").push(mixed, on_error="dead_letter") == size
        else:
            store.dataset("tx").push(events)
        store.dataset("lb").push([{"id": e["id"], "y": int(e["x"] > 4)} for e in events])
        n += size
        if b in bad_after and not dead_letters:
            try:
                store.dataset("tx").push([bad])
            except rtml.SchemaError:
                pass
            else:
                raise AssertionError("the push of x = 0 was accepted")
    return store


def _state(store: rtml.Backend) -> tuple[list[pd.DataFrame], list[Any]]:
    """What the runs compare: the stored frames, a prediction and the monitor's state (ADWIN's
    records, mean and width, which move at every output)."""
    model, monitor = store.deployment("m"), store.monitor("scores")
    frames = [store.features("f"), model.outputs(), model.labelled(), monitor.changes()]
    probe = {"id": -1, "ts": 10**6, "card": "a", "x": 3.0}
    return frames, [model.predict(probe), monitor.status()]


@settings(max_examples=25)  # each example deploys twice and replays up to 48 events
@given(
    batches=st.lists(st.integers(1, 6), min_size=1, max_size=8),
    bad=st.sets(st.integers(0, 7), max_size=8),
    dead_letters=st.booleans(),
    pause=st.none() | st.tuples(st.integers(0, 8), st.integers(0, 8)),
    on_disk=st.booleans(),
    reopen_at=st.none() | st.integers(0, 7),
)
def test_refused_records_leave_no_trace(
    batches: list[int],
    bad: set[int],
    dead_letters: bool,
    pause: tuple[int, int] | None,
    on_disk: bool,
    reopen_at: int | None,
) -> None:
    clean = _store(":memory:")
    _replay(clean, batches, pause=pause)
    path = tempfile.mkdtemp() if on_disk else ":memory:"
    try:
        tried = _replay(
            _store(path), batches, bad, dead_letters, pause, reopen_at if on_disk else None
        )
        (frames, values), (wanted_frames, wanted_values) = _state(tried), _state(clean)
        for got, want in zip(frames, wanted_frames, strict=True):
            pd.testing.assert_frame_equal(got, want)
        assert values == wanted_values
        tried.close()
    finally:
        if on_disk:
            shutil.rmtree(path)
