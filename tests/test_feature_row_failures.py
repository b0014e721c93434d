"""A feature that cannot be computed for some records of a push (a UDF raises on them, a SQL
cast fails) refuses those records by row and feature, or sets them aside with
``on_error="dead_letter"``; the rest of the push is unaffected. It used to fail the whole push
with no row named, even with dead letters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rtml
from rtml.errors import FeatureRowsError
from rtml.testing.server import running_server


def inverse(x: float) -> float:
    return 1.0 / x


def inverse_all(x: np.ndarray) -> np.ndarray:
    if (x == 0).any():
        raise ZeroDivisionError("a zero among the values")
    return 1.0 / x


def _store(vectorized: bool = False) -> tuple[rtml.Backend, Any]:
    store = rtml.connect("local", path=":memory:")
    tx = store.create_dataset(
        "tx", key="id", schema={"id": "int", "ts": "int", "x": "float", "code": "string"}
    )
    store.materialize(
        rtml.FeatureSet(
            name="f",
            dataset="tx",
            timestamp="ts",
            features=[
                rtml.features.SQL("n", 'CAST("code" AS INTEGER)'),
                rtml.features.UDF(
                    "inv",
                    fn=inverse_all if vectorized else inverse,
                    args=["x"],
                    vectorized=vectorized,
                ),
                rtml.features.Aggregate("total", column="n", op="sum", by="code", window="1h"),
            ],
        )
    )
    return store, tx


# One record: its id, and what makes it fail: nothing, a zero (the UDF), text (the cast), or an
# id of the wrong type (the schema: refused before any feature is computed).
_RECORD = st.sampled_from(["ok", "zero", "text", "bad_id"])


def _records(kinds: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "id": "no" if kind == "bad_id" else i,
            "ts": i,
            "x": 0.0 if kind == "zero" else 1.0 + i,
            "code": "x" if kind == "text" else str(i % 3),
        }
        for i, kind in enumerate(kinds)
    ]


@given(st.lists(_RECORD, min_size=1, max_size=12), st.booleans())
def test_records_a_feature_fails_for_are_refused_by_row_or_set_aside(
    kinds: list[str], vectorized: bool
) -> None:
    records = _records(kinds)
    failing = {i: k for i, k in enumerate(kinds) if k != "ok"}
    fields = {"zero": "inv", "text": "n", "bad_id": "id"}

    store, tx = _store(vectorized)
    if failing:
        with pytest.raises(rtml.SchemaError) as refused:
            tx.push(records)
        assert len(tx.to_pandas()) == 0 and len(store.features("f")) == 0  # nothing written
        message = str(refused.value)
        lines = [line.strip() for line in message.splitlines()[1:]]
        named = {int(line.split(",")[0].split()[1]) for line in lines if line.startswith("row")}
        # Schema problems are found first; then the SQL feature is computed, then the UDF:
        # the first to fail names every record it fails for, by its row in the push.
        for kind in ("bad_id", "text", "zero"):
            rows = {i for i, k in failing.items() if k == kind}
            if rows:
                break
        assert named == set(list(sorted(rows))[:10])
        assert isinstance(refused.value, FeatureRowsError) == (kind != "bad_id")
        assert f"row {min(rows)}, field {fields[kind]!r}" in message
    else:
        assert tx.push(records) == len(records)

    store, tx = _store(vectorized)
    pushed = tx.push(records, on_error="dead_letter")
    letters = tx.dead_letters()
    assert pushed == len(records) - len(failing)
    assert [r["id"] for r in letters["record"]] == [records[i]["id"] for i in sorted(failing)]
    for (i, kind), reason in zip(sorted(failing.items()), letters["reason"], strict=True):
        assert reason.startswith(f"row {i}, field {fields[kind]!r}"), reason
    # What was accepted is what a push of those records alone gives.
    clean, clean_tx = _store(vectorized)
    clean_tx.push([r for i, r in enumerate(records) if i not in failing])
    pd.testing.assert_frame_equal(store.features("f"), clean.features("f"))


def test_a_udf_that_reads_a_window_is_refused_by_row_too() -> None:
    store = rtml.connect("local", path=":memory:")
    tx = store.create_dataset("tx", key="id", schema={"id": "int", "ts": "int", "x": "float"})
    store.materialize(
        rtml.FeatureSet(
            name="f",
            dataset="tx",
            timestamp="ts",
            features=[
                rtml.features.Aggregate("low", column="x", op="min", by="id", window="1h"),
                rtml.features.UDF("inv", fn=inverse, args=["low"]),
            ],
        )
    )
    records = [{"id": i, "ts": i, "x": float(i % 3)} for i in range(7)]
    with pytest.raises(FeatureRowsError, match=r"row 0, field 'inv'.*ZeroDivisionError"):
        tx.push(records)
    assert tx.push(records, on_error="dead_letter") == 4
    assert store.features("f")["id"].tolist() == [1, 2, 4, 5]


def test_history_a_udf_fails_for_refuses_the_materialize_naming_the_row() -> None:
    store = rtml.connect("local", path=":memory:")
    store.create_dataset(
        "tx", key="id", df=pd.DataFrame({"id": [1, 2, 3], "ts": [1, 2, 3], "x": [1.0, 0.0, 2.0]})
    )
    fs = rtml.FeatureSet(
        name="f",
        dataset="tx",
        timestamp="ts",
        features=[rtml.features.UDF("inv", fn=inverse, args=["x"])],
    )
    refused = r"at the record of 'tx' whose 'id' is 2, feature 'inv': UDF 'inv'.*ZeroDivision"
    with pytest.raises(rtml.SpecError, match=refused):
        store.materialize(fs)
    assert store.feature_sets() == []


def test_over_http_the_same_refusal_and_dead_letters() -> None:
    records = _records(["ok", "zero", "text", "ok"])
    local, local_tx = _store()
    with pytest.raises(FeatureRowsError) as on_local:
        local_tx.push(records)
    local_tx.push(records, on_error="dead_letter")
    with running_server(":memory:", trusted_modules=(__name__,)) as url:
        client = rtml.connect(url)
        tx = client.create_dataset(
            "tx", key="id", schema={"id": "int", "ts": "int", "x": "float", "code": "string"}
        )
        client.materialize(local.feature_set("f"))
        with pytest.raises(FeatureRowsError) as over_http:
            tx.push(records)
        assert tx.push(records, on_error="dead_letter") == 2
        assert str(on_local.value) in str(over_http.value)
        assert over_http.value.failures == on_local.value.failures != {}
        # Every failing record comes back, not only the ten the message names.
        with pytest.raises(FeatureRowsError) as many:
            tx.push([{**r, "id": 100 + r["id"]} for r in _records(["text"] * 15)])
        assert sorted(many.value.failures) == list(range(15))
        assert {feature for feature, _ in many.value.failures.values()} == {"n"}
        pd.testing.assert_frame_equal(tx.dead_letters(), local_tx.dead_letters())
        pd.testing.assert_frame_equal(client.features("f"), local.features("f"))
        client.close()


@given(st.lists(st.sampled_from([0.0, 1.0, 2.5, -4.0]), min_size=1, max_size=300))
def test_the_records_found_are_exactly_those_that_fail_alone(values: list[float]) -> None:
    from rtml.features.row_failures import located

    frame = pd.DataFrame({"x": values})
    udf = rtml.features.UDF("inv", fn=inverse, args=["x"])
    error = ValueError("the batch failed")
    found = located([udf], frame, lambda f, one: f.compute(one), error)
    zeros = [i for i, v in enumerate(values) if v == 0.0]
    if not zeros:
        assert found is error
        return
    assert isinstance(found, FeatureRowsError) and list(found.failures) == zeros
    assert str(found).startswith(f"feature 'inv', row {zeros[0]}: UDF 'inv'")


class InverseSum:
    """A UDAF that fails on an amount of 0."""

    @staticmethod
    def create_state() -> float:
        return 0.0

    @staticmethod
    def accumulate(state: float, x: float) -> float:
        return state + 1.0 / x

    @staticmethod
    def retract(state: float, x: float) -> float:
        return state - 1.0 / x

    @staticmethod
    def merge_states(a: float, b: float) -> float:
        return a + b

    @staticmethod
    def finish(state: float) -> float:
        return state


def _udaf_store() -> tuple[rtml.Backend, Any]:
    store = rtml.connect("local", path=":memory:")
    tx = store.create_dataset(
        "tx", key="id", schema={"id": "int", "ts": "int", "card": "string", "x": "float"}
    )
    udaf = rtml.features.UDAF("inv", columns=["x"], functions=InverseSum, by="card", window="1h")
    store.materialize(rtml.FeatureSet(name="f", dataset="tx", timestamp="ts", features=[udaf]))
    return store, tx


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b"]), st.sampled_from([0.0, 1.0, 2.5, -4.0])),
        min_size=1,
        max_size=10,
    )
)
def test_a_udaf_that_raises_refuses_the_record_by_row(records: list[tuple[str, float]]) -> None:
    """A UDAF raising on a record's window refuses that record by row, naming the UDAF, and
    with dead letters sets it aside; the windows after it are computed without it. Before, the
    whole push was refused, dead letters or not."""
    pushed = [{"id": i, "ts": i, "card": c, "x": x} for i, (c, x) in enumerate(records)]
    zeros = [i for i, (_, x) in enumerate(records) if x == 0.0]
    store, tx = _udaf_store()
    if zeros:
        with pytest.raises(FeatureRowsError) as refused:
            tx.push(pushed)
        # Every record whose window fails, each left out of the windows after it, in one pass.
        assert list(refused.value.failures) == zeros
        assert f"row {zeros[0]}, field 'inv': UDAF 'inv': 'InverseSum' raised Zero" in str(
            refused.value
        )
        assert len(tx) == 0 and len(store.features("f")) == 0
    store, tx = _udaf_store()
    assert tx.push(pushed, on_error="dead_letter") == len(records) - len(zeros)
    assert [r["id"] for r in tx.dead_letters()["record"]] == zeros
    clean, clean_tx = _udaf_store()
    clean_tx.push([r for r in pushed if r["x"] != 0.0])
    pd.testing.assert_frame_equal(store.features("f"), clean.features("f"))


def test_keyed_steps_say_a_udafs_failure_without_a_row() -> None:
    """Flink's keyed path steps one record at a time: its row in that step (0) is no row of a
    push, so the failure is said by the UDAF alone."""
    from rtml.features.engine import FeatureEngine

    udaf = rtml.features.UDAF("inv", columns=["x"], functions=InverseSum, by="card", window="1h")
    fs = rtml.FeatureSet(name="f", dataset="tx", timestamp="ts", features=[udaf])
    engine = FeatureEngine(fs, key="id")
    state = engine.group(0)
    assert engine.key_step(0, state, ("a",), [2.0], t=1, watermark=None) == [0.5]
    with pytest.raises(rtml.SpecError) as refused:
        engine.key_step(0, state, ("a",), [0.0], t=2, watermark=1)
    assert not isinstance(refused.value, FeatureRowsError)
    assert str(refused.value).startswith("UDAF 'inv': 'InverseSum' raised ZeroDivisionError")


class AlwaysFails(InverseSum):
    """A UDAF with a bug every window meets."""

    @staticmethod
    def finish(state: float) -> float:
        raise KeyError("no such field")


def test_a_udaf_failing_on_every_record_sets_them_all_aside_at_once() -> None:
    """One pass finds them all: a push of 500 is set aside in one round, not 500 (each of
    which rebuilt the state and computed the rest again)."""
    store = rtml.connect("local", path=":memory:")
    tx = store.create_dataset("tx", key="id", schema={"id": "int", "ts": "int", "x": "float"})
    udaf = rtml.features.UDAF("bad", columns=["x"], functions=AlwaysFails, by="id", window="1h")
    store.materialize(rtml.FeatureSet(name="f", dataset="tx", timestamp="ts", features=[udaf]))
    records = [{"id": i, "ts": i, "x": 1.0} for i in range(500)]
    with pytest.raises(FeatureRowsError, match=r"and 490 more problem") as refused:
        tx.push(records)
    assert sorted(refused.value.failures) == list(range(500))
    assert tx.push(records, on_error="dead_letter") == 0
    assert len(tx.dead_letters()) == 500 and len(tx) == 0
