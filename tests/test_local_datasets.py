"""Datasets of the local engine: schemas, validated pushes, refusals that write nothing."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import rtml

SCHEMA = {"id": "int", "amount": "float!", "who": "string", "ok": "bool", "at": "timestamp"}


def make(backend) -> rtml.Dataset:
    return backend.create_dataset("tx", key="id", schema=SCHEMA)


GOOD = {"id": 1, "amount": 2.5, "who": "ann", "ok": True, "at": pd.Timestamp("2024-01-01")}


def test_schema_inferred_from_a_dataframe_even_empty(backend) -> None:
    df = pd.DataFrame(
        {
            "id": pd.Series([], dtype="int64"),
            "x": pd.Series([], dtype="float64"),
            "s": pd.Series([], dtype=object),
        }
    )
    ds = backend.create_dataset("empty", key="id", df=df)
    assert {c: col.type for c, col in ds.schema.items()} == {
        "id": "int",
        "x": "float",
        "s": "string",
    }
    assert len(ds) == 0 and list(ds.to_pandas().columns) == ["id", "x", "s"]
    assert ds.push([{"id": 1, "x": 1.0, "s": "a"}]) == 1


def test_dataset_is_found_again_by_name(backend) -> None:
    ds = make(backend)
    assert backend.dataset("tx") is ds and backend.datasets() == ["tx"]
    with pytest.raises(rtml.NotFound, match="no dataset named 'nope'"):
        backend.dataset("nope")
    with pytest.raises(rtml.SchemaError, match="already exists"):
        make(backend)


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"amount": "lots"}, "amount", "expected float, got 'lots'"),
        ({"amount": None}, "amount", "got null"),
        ({"id": None}, "id", "got null"),
        ({"id": 1.5}, "id", "expected int"),
        ({"ok": "yes"}, "ok", "expected bool"),
        ({"who": 12}, "who", "expected string"),
        ({"at": "2024-01-01"}, "at", "expected timestamp"),
    ],
)
def test_bad_record_is_refused_naming_dataset_field_and_row(
    backend, change, field, expected
) -> None:
    ds = make(backend)
    ds.push([GOOD])
    bad = [dict(GOOD, id=2), {**GOOD, "id": 3, **change}]
    with pytest.raises(rtml.SchemaError) as info:
        ds.push(bad)
    message = str(info.value)
    assert "dataset 'tx'" in message and f"field {field!r}" in message
    assert "row 1" in message and expected in message
    assert len(ds) == 1  # nothing of the refused push was written


# A key of each type, and values of the other types for it.
KEYS = {
    "int": st.integers(-(2**62), 2**62),
    "string": st.text(min_size=1, max_size=5),
    "timestamp": st.datetimes(datetime(1970, 1, 1), datetime(2200, 1, 1)).map(pd.Timestamp),
}


@given(
    kind=st.sampled_from(sorted(KEYS)),
    data=st.data(),
    size=st.integers(1, 4),
)
def test_a_key_of_the_wrong_type_is_refused_naming_its_row(kind, data, size) -> None:
    """Keys are looked up in the store before a push is accepted: a key of another type is a
    problem of its row (the store cannot compare it), never the store's own error."""
    backend = rtml.connect("local", path=":memory:")
    ds = backend.create_dataset("tx", key="k", schema={"k": kind, "x": "float"})
    stored = data.draw(st.lists(KEYS[kind], min_size=1, max_size=3, unique=True))
    ds.push([{"k": k, "x": 1.0} for k in stored])
    wrong = data.draw(st.one_of(*(KEYS[other] for other in KEYS if other != kind)))
    row = data.draw(st.integers(0, size - 1))
    keys = [stored[0] if i != row else wrong for i in range(size)]
    with pytest.raises(rtml.SchemaError) as info:
        ds.push([{"k": k, "x": 2.0} for k in keys])
    message = str(info.value)
    assert "dataset 'tx'" in message and f"row {row}, field 'k': expected {kind}" in message
    # The other rows' key is looked up, and found.
    found = [i for i in range(size) if i != row]
    assert all(f"row {i}, field 'k': key" in message for i in found)
    assert message.count("is already in the dataset") == len(found)
    assert len(ds) == len(stored)


@pytest.mark.parametrize(
    ("declared", "meant"),
    [
        ("str", "string"),
        ("INTEGER", "int"),
        (float, "float"),
        ("datetime!", "timestamp"),
        ("blob", None),
    ],
)
def test_an_unknown_column_type_is_refused_naming_its_field(backend, declared, meant) -> None:
    schema = dict(SCHEMA, who=declared)
    with pytest.raises(rtml.SchemaError) as refused:
        backend.create_dataset("tx", key="id", schema=schema)
    message = str(refused.value)
    assert message.startswith("dataset 'tx', field 'who': unknown column type")
    assert (f"did you mean {meant!r}?" in message) == (meant is not None)
    assert "tx" not in backend.datasets()


def test_missing_and_extra_columns_are_refused(backend) -> None:
    ds = make(backend)
    without = {k: v for k, v in GOOD.items() if k != "who"}
    with pytest.raises(rtml.SchemaError, match=r"missing column.*'who'"):
        ds.push(pd.DataFrame([without]))  # a frame's columns are its schema
    with pytest.raises(rtml.SchemaError, match=r"unknown column.*'surprise'"):
        ds.push([dict(GOOD, surprise=1)])
    assert len(ds) == 0


@pytest.mark.parametrize("left_out", ["who", "ok", "at", "amount", "id"])
@pytest.mark.parametrize("others", [0, 1, 2])
def test_a_field_left_out_of_a_record_reads_as_null_whatever_the_other_records_hold(
    backend, left_out, others
) -> None:
    # A record without a nullable field was stored with it null when another record of the push
    # held the field, and the push was refused ("missing column") when none did: the same
    # record's fate hung on its neighbours (a producer that leaves nulls out, one record at a
    # time, was refused). predict read it as null all along.
    ds = make(backend)
    records = [dict(GOOD, id=10 + i) for i in range(others)]
    records.append({k: v for k, v in dict(GOOD, id=99).items() if k != left_out})
    if not SCHEMA[left_out].endswith("!") and left_out != "id":
        assert ds.push(records) == others + 1
        stored = ds.to_pandas().set_index("id")
        assert pd.isna(stored.loc[99, left_out])
        return
    with pytest.raises(rtml.SchemaError) as refused:
        ds.push(records)
    assert f"row {others}, field {left_out!r}: expected" in str(refused.value)
    assert "got null" in str(refused.value)
    assert len(ds) == 0


def test_duplicate_keys_within_a_push_and_against_stored(backend) -> None:
    ds = make(backend)
    with pytest.raises(rtml.SchemaError, match="duplicate key 1 within the push"):
        ds.push([GOOD, GOOD])
    ds.push([GOOD])
    with pytest.raises(rtml.SchemaError, match="key 1 is already in the dataset"):
        ds.push([GOOD])
    assert len(ds) == 1


def test_dead_letter_keeps_good_rows_and_the_reasons(backend) -> None:
    ds = make(backend)
    accepted = ds.push(
        [GOOD, dict(GOOD, id=2, amount="x"), dict(GOOD, id=3)], on_error="dead_letter"
    )
    assert accepted == 2 and sorted(ds.to_pandas()["id"]) == [1, 3]
    letters = ds.dead_letters()
    assert len(letters) == 1 and "amount" in letters["reason"][0]
    assert letters["record"][0]["id"] == 2


@given(
    ids=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=2, max_size=6, unique=True),
    amounts=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=6, max_size=6),
    bad=st.integers(0, 5),
)
@example(ids=[2**53 + 1, 3], amounts=[1.5, 2.0, 0.0, 0.0, 0.0, 0.5], bad=0)
def test_a_dead_letter_holds_the_record_as_pushed(ids, amounts, bad) -> None:
    """Ints beside floats stay ints (a row read as one Series was all floats: an id of
    2**53 + 1 came back as 2**53)."""
    backend = rtml.connect("local", path=":memory:")
    ds = backend.create_dataset("tx", key="id", schema={"id": "int", "amount": "float"})
    records = [{"id": i, "amount": a} for i, a in zip(ids, amounts, strict=False)]
    # A key given twice: every column stays numeric, as in a push of ints and floats.
    again = {"id": records[bad % len(records)]["id"], "amount": amounts[-1]}
    assert ds.push([*records, again], on_error="dead_letter") == len(records)
    assert ds.dead_letters()["record"].tolist() == [again]


def test_whole_push_problems_are_not_dead_lettered(backend) -> None:
    ds = make(backend)
    with pytest.raises(rtml.SchemaError, match="unknown column"):
        ds.push([dict(GOOD, extra=1)], on_error="dead_letter")


@given(
    amounts=st.lists(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(max_size=3),
            st.none(),
            st.booleans(),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_a_push_is_all_or_nothing(amounts) -> None:
    backend = rtml.connect("local", path=":memory:")
    ds = backend.create_dataset("tx", key="id", schema={"id": "int", "amount": "float!"})
    records = [{"id": i, "amount": a} for i, a in enumerate(amounts)]
    valid = all(isinstance(a, float) for a in amounts)
    if valid:
        assert ds.push(records) == len(records)
        assert ds.to_pandas()["amount"].tolist() == amounts
    else:
        with pytest.raises(rtml.SchemaError):
            ds.push(records)
        assert len(ds) == 0 and ds.to_pandas().empty


def test_late_record_is_refused_when_features_are_materialized(backend) -> None:
    ds = backend.create_dataset("tx", key="id", schema={"id": "int", "k": "string", "ts": "int"})
    backend.materialize(
        rtml.FeatureSet(
            name="f",
            dataset="tx",
            timestamp="ts",
            allowed_lateness="10s",
            features=[rtml.features.Aggregate("n", column="id", op="count", by="k", window="1m")],
        )
    )
    ds.push([{"id": 1, "k": "a", "ts": 100}])
    with pytest.raises(rtml.SchemaError, match=r"field 'ts'.*allowed_lateness=10s"):
        ds.push([{"id": 2, "k": "a", "ts": 95}, {"id": 3, "k": "a", "ts": 80}])
    assert len(ds) == 1 and len(backend.features("f")) == 1
    assert (
        ds.push(
            [{"id": 2, "k": "a", "ts": 95}, {"id": 3, "k": "a", "ts": 80}], on_error="dead_letter"
        )
        == 1
    )
    assert backend.features("f")["n"].tolist() == [1, 1]  # ts 100 is after ts 95: not seen


def test_failing_udf_refuses_the_push_and_keeps_state(backend) -> None:
    ds = backend.create_dataset(
        "tx", key="id", schema={"id": "int", "k": "string", "ts": "int", "x": "float"}
    )
    backend.materialize(
        rtml.FeatureSet(
            name="f",
            dataset="tx",
            timestamp="ts",
            features=[
                rtml.features.Aggregate("n", column="x", op="count", by="k", window="1m"),
                rtml.features.UDF("inv", fn=invert, args=["x"]),
            ],
        )
    )
    ds.push([{"id": 1, "k": "a", "ts": 1, "x": 1.0}])
    with pytest.raises(rtml.SpecError, match="ZeroDivisionError"):
        ds.push([{"id": 2, "k": "a", "ts": 2, "x": 0.0}])
    assert len(ds) == 1
    ds.push([{"id": 3, "k": "a", "ts": 3, "x": 2.0}])
    assert backend.features("f")["n"].tolist() == [1, 2]  # the refused record never counted


def invert(x: float) -> float:
    return 1.0 / x


def pair(x: float) -> float | list[float]:
    return [x, x] if x > 1 else x


def test_a_udf_giving_more_than_one_value_is_refused_by_name_and_row(backend) -> None:
    """It used to fail inside pandas ("Data must be 1-dimensional"), naming neither."""
    ds = backend.create_dataset("tx", key="id", schema={"id": "int", "ts": "int", "x": "float"})
    udf = rtml.features.UDF("both", fn=pair, args=["x"])
    backend.materialize(rtml.FeatureSet(name="f", dataset="tx", timestamp="ts", features=[udf]))
    refused = r"row 1, field 'both': UDF 'both': 'pair' returned \[2.0, 2.0\] \(list\); a feature"
    records = [{"id": 1, "ts": 1, "x": 0.5}, {"id": 2, "ts": 2, "x": 2.0}]
    with pytest.raises(rtml.SpecError, match=refused):
        ds.push(records)
    assert len(ds) == 0
    assert ds.push(records, on_error="dead_letter") == 1  # the other one set aside
    assert ds.dead_letters()["reason"].str.match(refused).all()


def test_a_udf_mixing_numbers_and_text_keeps_the_numbers() -> None:
    udf = rtml.features.UDF("size", fn=lambda x: 1 if x < 5 else "big", args=["x"])
    assert udf.compute(pd.DataFrame({"x": [1.0, 7.0]})).tolist() == [1, "big"]  # not '1'


@pytest.mark.parametrize("size", [1, 3, 40])  # small pushes travel as query parameters
def test_null_integers_are_accepted_and_read_as_null(backend, size) -> None:
    tx = backend.create_dataset("tx", key="id", schema={"id": "int", "n": "int", "ts": "int"})
    backend.materialize(
        rtml.FeatureSet(
            name="f",
            dataset="tx",
            timestamp="ts",
            features=[
                rtml.features.SQL(name="n2", expr='"n" * 2'),
                rtml.features.Aggregate(name="s", column="n", op="sum", by="n", window="1h"),
            ],
        )
    )
    model = backend.deploy(
        "m", rtml.models.GaussianNB(), inputs=rtml.Inputs(source="f", numerical=["n", "n2"])
    )
    records = [{"id": i, "n": None if i % 2 == 0 else i, "ts": i} for i in range(size)]
    assert tx.push(records) == size
    assert tx.push(pd.DataFrame(records).assign(id=lambda f: f["id"] + 100)) == size
    stored = tx.to_pandas()
    assert stored["n"].isna().tolist() == [r["n"] is None for r in records] * 2
    values = backend.features("f")
    assert values["n2"].isna().tolist() == [r["n"] is None for r in records] * 2
    assert len(model.outputs()) == 2 * size
    assert model.predict({"id": -1, "n": None, "ts": size})["score"] >= 0.0


def test_a_dead_letter_with_a_null_integer_is_kept(backend) -> None:
    tx = backend.create_dataset("tx", key="id", schema={"id": "int", "n": "int", "x": "float"})
    frame = pd.DataFrame(
        {"id": [1, 2], "n": pd.array([None, None], dtype="Int64"), "x": [1.0, "bad"]}
    )
    assert tx.push(frame, on_error="dead_letter") == 1
    letters = tx.dead_letters()
    assert letters["record"].tolist() == [{"id": 2, "n": None, "x": "bad"}]
