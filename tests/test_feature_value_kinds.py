"""A feature whose type only its values tell (a Python UDF's) keeps the kind of value it gave
first: a push that brings another kind is refused whole, naming the feature and the row, and
nothing is written; values of the same kind are stored and read back as given (whole numbers
widen to numbers, nulls before the first value take its type), in memory and across a
reopen. Before, the derived rows' write failed after the push was accepted, and every later
write with it, or DuckDB converted the values silently (1.5 stored as 2, 40.0 as '40.0')."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtml

KINDS = ["none", "int", "float", "text", "bool"]
FAMILY = {"int": "number", "float": "number", "text": "text", "bool": "bool"}


def value(kind: str, i: int):
    """What the UDF gives for record ``i`` of ``kind``."""
    return {"none": None, "int": i, "float": i + 0.5, "text": f"t{i}", "bool": i % 2 == 0}[kind]


def _families(kinds: list[str]) -> set[str]:
    return {FAMILY[k] for k in kinds if k != "none"}


def _same(got, want) -> bool:
    if want is None:
        return got is None or bool(pd.isna(got))
    if isinstance(want, bool | str):
        return got == want
    return float(got) == float(want)


def _open(path: str):
    return rtml.connect("local", path=path)


FEATURES = rtml.FeatureSet(
    name="f",
    dataset="tx",
    timestamp="ts",
    features=[rtml.features.UDF("u", fn=value, args=["kind", "id"])],
)


@settings(max_examples=40)
@given(
    kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=30),
    cuts=st.sets(st.integers(1, 29)),
    history=st.integers(0, 5),
    reopen_at=st.integers(0, 10),
)
def test_a_udf_keeps_the_kind_of_value_it_gave_first(
    tmp_path_factory, kinds, cuts, history, reopen_at
) -> None:
    records = pd.DataFrame({"id": range(len(kinds)), "kind": kinds, "ts": range(len(kinds))})
    history = min(history, len(kinds))
    path = str(tmp_path_factory.mktemp("store") / "s")
    backend = _open(path)
    backend.create_dataset("tx", key="id", df=records.iloc[:history])
    first = _families(kinds[:history])
    if len(first) > 1:  # history of two kinds: refused when materialized, nothing kept
        with pytest.raises(rtml.SpecError, match="a feature keeps one kind of value"):
            backend.materialize(FEATURES)
        assert backend.feature_sets() == []
        backend.close()
        return
    backend.materialize(FEATURES)
    known = next(iter(first), None)
    accepted = list(range(history))
    bounds = sorted({history, len(kinds), *(c for c in cuts if history < c < len(kinds))})
    for n, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        if n == reopen_at:
            backend.close()
            backend = _open(path)
        batch = _families(kinds[lo:hi])
        if len(batch) > 1 or (known is not None and batch and batch != {known}):
            with pytest.raises(rtml.SchemaError, match="a feature keeps one kind of value"):
                backend.dataset("tx").push(records.iloc[lo:hi])
        else:
            backend.dataset("tx").push(records.iloc[lo:hi])
            accepted += range(lo, hi)
            known = known or next(iter(batch), None)
        assert len(backend.dataset("tx")) == len(accepted)
    stored = backend.features("f")
    backend.close()
    assert stored["id"].tolist() == accepted
    for i, got in zip(accepted, stored["u"].tolist(), strict=True):
        assert _same(got, value(kinds[i], i)), (i, kinds[i], got)


def test_whole_numbers_then_fractions_are_not_rounded() -> None:
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset(
        "tx", key="id", df=pd.DataFrame({"id": [0, 1], "kind": ["int", "int"], "ts": [0, 1]})
    )
    backend.materialize(FEATURES)
    backend.flush()  # the whole numbers are stored first
    tx.push([{"id": 2, "kind": "float", "ts": 2}])
    assert backend.features("f")["u"].tolist() == [0, 1, 2.5]


@settings(max_examples=40)
@given(
    kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=30),
    cuts=st.sets(st.integers(1, 29)),
)
def test_with_dead_letters_only_the_records_of_another_kind_are_set_aside(kinds, cuts) -> None:
    """The kind a feature keeps is the first it gave; each push's records of another kind
    become dead letters naming their row, and the rest are stored as they would be alone."""
    records = pd.DataFrame({"id": range(len(kinds)), "kind": kinds, "ts": range(len(kinds))})
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", df=records.iloc[:0])
    backend.materialize(FEATURES)
    known = None
    accepted, aside = [], []
    bounds = sorted({0, len(kinds), *(c for c in cuts if c < len(kinds))})
    for lo, hi in itertools.pairwise(bounds):
        for i in range(lo, hi):
            family = FAMILY.get(kinds[i])
            known = known or family
            (aside if family not in (None, known) else accepted).append(i)
        pushed = tx.push(records.iloc[lo:hi], on_error="dead_letter")
        assert pushed == len([i for i in accepted if lo <= i < hi])
    letters = tx.dead_letters()
    assert [r["id"] for r in letters["record"]] == aside
    for i, reason in zip(aside, letters["reason"], strict=True):
        row = i - max(b for b in bounds if b <= i)
        assert reason.startswith(f"row {row}, field 'u': feature 'u'"), reason
    stored = backend.features("f")
    assert stored["id"].tolist() == accepted
    for i, got in zip(accepted, stored["u"].tolist(), strict=True):
        assert _same(got, value(kinds[i], i)), (i, kinds[i], got)
