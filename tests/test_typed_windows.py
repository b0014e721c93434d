"""Window columns held as float64 arrays: the values features give must not depend on it.

A column read only by numeric aggregates is stored as ``array("d")``; the first value that is
not a number (text, a timestamp) turns it back into lists. These properties feed numbers, big
integers, booleans, NULLs and text in random batches (vectorised or record by record) and
compare with the slow reference, which stores nothing.
"""

from __future__ import annotations

from array import array
from typing import Any

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import rtml
from rtml.features import Aggregate, FeatureSet
from rtml.frames import stack_rows

from .reference import KEY, reference
from .test_feature_parity import assert_same

numbers = st.one_of(
    st.none(),
    st.floats(-1e9, 1e9, allow_nan=False),
    st.integers(-(2**62), 2**62),
)
anything = st.one_of(numbers, st.booleans(), st.text(max_size=2), st.sampled_from(["1", "2.5"]))


def feature_set() -> FeatureSet:
    A = Aggregate
    return FeatureSet(
        name="fs",
        dataset="events",
        timestamp="ts",
        features=[
            A("n_any", column="v", op="count", by="k", window="10s"),
            A("sum_w", column="w", op="sum", by="k", window="10s"),
            A("max_w", column="w", op="max", by="k", window="30s"),
            A("std_w", column="w", op="std", by="k", window="30s"),
            A("labelled", column="y", op="count", by="k", window="20s", source="labels"),
        ],
    )


@st.composite
def logs(draw: Any) -> list[tuple[str, pd.DataFrame]]:
    """Events in batches (in time order), each batch's labels pushed after it."""
    log: list[tuple[str, pd.DataFrame]] = []
    t, event = 1_700_000_000, 0
    for _ in range(draw(st.integers(1, 6))):
        n = draw(st.integers(1, 8))
        ids = list(range(event, event + n))
        times = []
        for _ in ids:
            t += draw(st.integers(0, 6))
            times.append(t)
        column_v = draw(st.lists(anything, min_size=n, max_size=n))
        column_w = draw(st.lists(numbers, min_size=n, max_size=n))
        events = pd.DataFrame(
            {
                "id": ids,
                "k": draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n)),
                "ts": times,
                "v": pd.Series(column_v, dtype=object).infer_objects(),
                "w": pd.Series(column_w, dtype=object).infer_objects(),
            }
        )
        log.append(("events", events))
        labelled = [i for i in ids if draw(st.booleans())]
        if labelled:
            ys = draw(st.lists(anything, min_size=len(labelled), max_size=len(labelled)))
            labels = pd.DataFrame({"id": labelled, "y": pd.Series(ys, dtype=object)})
            log.append(("labels", labels.infer_objects()))
        event += n
    return log


def run(log: list[tuple[str, pd.DataFrame]], vectorize_from: int, split: int | None) -> Any:
    engine = rtml.features.FeatureEngine(feature_set(), key=KEY, vectorize_from=vectorize_from)
    got = []
    for i, (name, frame) in enumerate(log):
        if i == split:  # a checkpoint and a restart in between
            again = rtml.features.FeatureEngine(feature_set(), key=KEY)
            again.restore(engine.snapshot())
            engine = again
        if name == "events":
            got.append(engine.process(frame))
        else:
            engine.apply_source(name, frame, KEY)
    return stack_rows(got), engine


@given(log=logs(), vectorize_from=st.sampled_from([1, 10**9]), split=st.integers(0, 12))
def test_features_equal_the_reference_whatever_values_the_columns_receive(
    log, vectorize_from, split
) -> None:
    got, _ = run(log, vectorize_from, split)
    assert_same(got, reference(feature_set(), KEY, log), "typed windows")


@given(log=logs(), vectorize_from=st.sampled_from([1, 10**9]))
def test_a_column_is_an_array_while_it_has_held_only_numbers(log, vectorize_from) -> None:
    """The memory and speed of typed columns are real only if numbers keep them typed."""
    _, engine = run(log, vectorize_from, None)
    seen_v = [v for name, f in log if name == "events" for v in f["v"].tolist()]
    seen_y = [v for name, f in log if name == "labels" for v in f["y"].tolist()]
    by_column = {group.columns[-1] if not group.source else "y": group for group in engine._groups}
    for column, seen in (("v", seen_v), ("w", [0.0]), ("y", seen_y)):
        group = by_column[column]
        index = len(group.column_types()) - 1
        numeric = all(v is None or isinstance(v, int | float) for v in seen)
        assert group.column_types()[index] == numeric, column
        for window in group.windows.values():
            assert isinstance(window.cols[index], array) == numeric, column


def test_text_is_never_read_as_a_number_nor_empty_text_as_null() -> None:
    """The vectorised path once counted a label '' as NULL and summed '2.5' as 2.5."""
    fs = FeatureSet(
        name="fs",
        dataset="events",
        timestamp="ts",
        features=[Aggregate("n", column="y", op="count", by="k", window="20s", source="labels")],
    )
    for vectorize_from in (1, 10**9):
        engine = rtml.features.FeatureEngine(fs, key=KEY, vectorize_from=vectorize_from)
        engine.process(pd.DataFrame({"id": [1, 2], "k": ["a", "a"], "ts": [5, 6]}))
        engine.apply_source("labels", pd.DataFrame({"id": [1, 2], "y": ["", "2.5"]}), KEY)
        later = engine.process(pd.DataFrame({"id": [3], "k": ["a"], "ts": [7]}))
        assert later["n"].tolist() == [2], vectorize_from
