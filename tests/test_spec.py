"""Specs: frozen, unknown fields refused, one readable SpecError naming spec and field."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import rtml
from rtml.features import SQL, Aggregate, FeatureSet


def test_unknown_field_is_named() -> None:
    with pytest.raises(rtml.SpecError) as info:
        FeatureSet(name="f", dataset="d", timestamp="ts", features=[], surprise=1)
    message = str(info.value)
    assert "FeatureSet" in message and "surprise" in message
    assert "\n" not in message  # one readable line for one problem


def test_spec_error_is_rtml_error_and_value_error() -> None:
    with pytest.raises(rtml.RtmlError):
        SQL("x", 3)
    with pytest.raises(ValueError):
        SQL("x", 3)


@pytest.mark.parametrize(
    ("kwargs", "field", "expected"),
    [
        ({"op": "median"}, "op", "expected one of sum, count"),
        ({"window": "24 hours"}, "window", "not a duration"),
        ({"window": "0s"}, "window", "positive window"),
        ({"delay": "soon"}, "delay", "not a duration"),
        ({"by": []}, "by", "at least one key"),
        ({"closed": "left"}, "closed", "'both' or 'right'"),
    ],
)
def test_aggregate_errors_name_the_field(kwargs: dict, field: str, expected: str) -> None:
    base = {"column": "amount", "op": "sum", "by": "card", "window": "1h"}
    with pytest.raises(rtml.SpecError) as info:
        Aggregate("a", **{**base, **kwargs})
    assert f"field {field!r}" in str(info.value)
    assert expected in str(info.value)
    assert str(info.value).startswith("Aggregate:")


def test_specs_are_frozen() -> None:
    spec = SQL("x", '"a" + 1')
    with pytest.raises(Exception, match="frozen"):
        spec.expr = "2"  # type: ignore[misc]


def test_positional_and_keyword_clash() -> None:
    with pytest.raises(rtml.SpecError, match="both by position and by name"):
        SQL("x", '"a"', expr='"b"')
    with pytest.raises(rtml.SpecError, match="at most 2 positional"):
        SQL("x", '"a"', "extra")


def test_several_problems_are_all_reported() -> None:
    with pytest.raises(rtml.SpecError) as info:
        Aggregate("a", column=1, op="median", by="k", window="1h")
    text = str(info.value)
    assert "'column'" in text and "'op'" in text


names = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True)


@given(
    name=names,
    column=names,
    op=st.sampled_from(rtml.features.aggregate.OPS),
    by=st.lists(names, min_size=1, max_size=3),
    window=st.sampled_from(["1s", "30m", "24h", "7d"]),
    delay=st.sampled_from([None, "7d", "1h"]),
    closed=st.sampled_from(["both", "right"]),
)
def test_feature_set_json_round_trip(name, column, op, by, window, delay, closed) -> None:
    assume(name != column and name not in by)
    agg = Aggregate(name, column=column, op=op, by=by, window=window, delay=delay, closed=closed)
    fs = FeatureSet(name="fs", dataset="d", timestamp="ts_col", features=[agg])
    again = FeatureSet.from_dict(json.loads(fs.model_dump_json()))
    assert again == fs
    assert again.features[0].by == tuple(by)


def test_bad_names_are_refused() -> None:
    with pytest.raises(rtml.SpecError, match="field 'name'"):
        SQL("2fast", '"a"')


def test_feature_name_used_twice() -> None:
    with pytest.raises(rtml.SpecError, match="used twice: x"):
        FeatureSet(
            name="f", dataset="d", timestamp="ts", features=[SQL("x", '"a"'), SQL("x", '"b"')]
        )


def test_cycle_between_features_is_named() -> None:
    with pytest.raises(rtml.SpecError) as info:
        FeatureSet(
            name="f",
            dataset="d",
            timestamp="ts",
            features=[SQL("a", '"b" + 1'), SQL("b", '"c" + 1'), SQL("c", '"a" + 1')],
        )
    assert "cycle" in str(info.value)
    for name in "abc":
        assert name in str(info.value)


def test_feature_reading_its_own_name_is_refused() -> None:
    with pytest.raises(rtml.SpecError, match="reads a column of its own name"):
        FeatureSet(name="f", dataset="d", timestamp="ts", features=[SQL("a", '"a" + 1')])


def test_the_sets_own_dataset_as_a_source_is_refused() -> None:
    # Its records are the set's events already: as a source they would be read twice.
    own = Aggregate("n", column="a", op="count", by="k", window="1d", source="d")
    with pytest.raises(rtml.SpecError, match=r"n name the set's own dataset 'd' as source"):
        FeatureSet(name="f", dataset="d", timestamp="ts", features=[own])
    other = Aggregate("n", column="a", op="count", by="k", window="1d", source="labels")
    assert FeatureSet(name="f", dataset="d", timestamp="ts", features=[other]).sources() == (
        "labels",
    )


def test_features_may_come_in_any_order() -> None:
    fs = FeatureSet(
        name="f", dataset="d", timestamp="ts", features=[SQL("b", '"a" * 2'), SQL("a", '"raw" + 1')]
    )
    assert [f.name for f in fs.ordered()] == ["a", "b"]


def test_unknown_feature_kind_in_json() -> None:
    with pytest.raises(rtml.SpecError, match="unknown feature kind 'nope'"):
        FeatureSet.from_dict(
            {
                "name": "f",
                "dataset": "d",
                "timestamp": "ts",
                "features": [{"kind": "nope", "name": "x"}],
            }
        )


def test_udf_with_lambda_cannot_be_saved_but_works() -> None:
    udf = rtml.features.UDF("twice", fn=lambda v: v * 2, args=["a"])
    with pytest.raises(Exception, match="cannot be saved by reference"):
        udf.model_dump_json()
