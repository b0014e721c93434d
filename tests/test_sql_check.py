"""SQL features DuckDB cannot run are refused when materialized, not at every push after."""

from __future__ import annotations

import pytest

import rtml
from rtml.features import SQL, UDF, Aggregate

SCHEMA = {"id": "int", "x": "float", "who": "string", "ts": "int"}
RECORD = {"id": 1, "x": 2.0, "who": "ann", "ts": 1_700_000_000}


def shout(who):
    return None if who is None else who.upper()


def feature_set(*features) -> rtml.FeatureSet:
    return rtml.FeatureSet(
        name="f", dataset="tx", timestamp="ts", timestamp_format="epoch_seconds", features=features
    )


@pytest.fixture(params=["memory", "disk"])
def store(request, tmp_path):
    path = ":memory:" if request.param == "memory" else str(tmp_path / "store")
    backend = rtml.connect("local", path=path)
    backend.create_dataset("tx", key="id", schema=SCHEMA)
    yield backend
    backend.close()


@pytest.mark.parametrize(
    ("features", "named", "error"),
    [
        ([SQL(name="s", expr='"x" +* 2')], "s", "+* does not exist"),
        ([SQL(name="s", expr="nope + 2")], "s", 'column "nope" not found'),
        ([SQL(name="s", expr='"who" + 2')], "s", "No function matches"),
        # a later stage: text from one SQL feature, added to a number in the next
        (
            [SQL(name="t", expr='upper("who")'), SQL(name="s", expr='"t" * 2')],
            "s",
            "No function matches",
        ),
        # over a window count (typed before any record)
        (
            [
                Aggregate(name="n", column="x", op="count", by="who", window="1h"),
                SQL(name="s", expr='"n" || 1 + "who"'),
            ],
            "s",
            "No function matches",
        ),
    ],
)
def test_sql_that_cannot_run_is_refused_when_materialized(store, features, named, error) -> None:
    # It passed materialize on an empty dataset, and then every push to the dataset was refused
    # with DuckDB's binder error: the dataset took nothing until the feature set was deleted.
    with pytest.raises(rtml.SpecError) as refused:
        store.materialize(feature_set(*features))
    message = str(refused.value)
    assert message.startswith(f"FeatureSet 'f': SQL feature {named!r}")
    assert "dataset 'tx'" in message and error in message
    assert store.feature_sets() == []
    assert store.dataset("tx").push([RECORD]) == 1


@pytest.mark.parametrize(
    ("features", "want"),
    [
        ([SQL(name="s", expr="\"who\" || '!'")], "ann!"),
        ([SQL(name="s", expr='hour(to_timestamp("ts"))')], 22),
        (
            [
                Aggregate(name="n", column="x", op="count", by="who", window="1h"),
                Aggregate(name="total", column="x", op="sum", by="who", window="1h"),
                SQL(name="s", expr='"total" / "n"'),
            ],
            2.0,
        ),
        # a UDF's values have no type before they come: SQL over them is left to the push
        ([UDF(name="loud", fn=shout, args=["who"]), SQL(name="s", expr="\"loud\" || '?'")], "ANN?"),
    ],
)
def test_sql_that_runs_is_accepted(store, features, want) -> None:
    store.materialize(feature_set(*features))
    store.dataset("tx").push([RECORD])
    assert store.features("f")["s"].tolist() == [want]
