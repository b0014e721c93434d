"""Every value a record can hold becomes strict JSON, and what JSON can hold survives as is."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from rtml.backends.json_records import records_of
from rtml.json_values import json_value

scalars = st.one_of(
    st.none(),
    st.just(pd.NA),
    st.just(pd.NaT),
    st.booleans(),
    st.integers(-(2**62), 2**62),
    st.integers(-(2**62), 2**62).map(np.int64),
    st.floats(),
    st.floats(width=32).map(np.float32),
    st.text(max_size=5),
    st.datetimes().map(pd.Timestamp),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(values)
def test_any_record_value_is_strict_json(value) -> None:
    json.dumps(json_value(value), allow_nan=False)  # raises on NaN, infinities, numpy or times


@given(scalars)
def test_a_scalar_keeps_its_meaning(value) -> None:
    converted = json_value(value)
    if (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float | np.floating) and not math.isfinite(float(value)))
    ):
        assert converted is None
    elif isinstance(value, pd.Timestamp):
        assert pd.Timestamp(converted) == value
    else:
        assert converted == value and type(converted) in (bool, int, float, str)


def test_a_dead_letter_is_written_as_json_holds_it(tmp_path) -> None:
    import rtml

    backend = rtml.connect("local", path=str(tmp_path / "store"))
    tx = backend.create_dataset(
        "tx", key="id", schema={"id": "int", "at": "timestamp", "x": "float"}
    )
    frame = pd.DataFrame(
        {"id": [1, 2], "at": [pd.Timestamp(0), pd.Timestamp(1)], "x": [1.0, "bad"]}
    )
    assert tx.push(frame, on_error="dead_letter") == 1
    assert tx.dead_letters()["record"].tolist() == [
        {"id": 2, "at": "1970-01-01T00:00:00.000000001", "x": "bad"}
    ]


columns = st.one_of(
    st.lists(st.integers(-(2**62), 2**62), min_size=3, max_size=3).map(pd.Series),
    st.lists(st.floats(), min_size=3, max_size=3).map(pd.Series),
    st.lists(st.floats(width=32), min_size=3, max_size=3).map(
        lambda v: pd.Series(v, dtype="float32")
    ),
    st.lists(st.booleans(), min_size=3, max_size=3).map(pd.Series),
    st.lists(st.one_of(st.none(), st.integers(-5, 5)), min_size=3, max_size=3).map(
        lambda v: pd.Series(v, dtype="Int64")
    ),
    st.lists(st.datetimes(), min_size=3, max_size=3).map(pd.Series),
    st.lists(st.one_of(st.none(), st.text(max_size=3)), min_size=3, max_size=3).map(pd.Series),
)


@given(st.lists(columns, min_size=1, max_size=4))
def test_records_of_converts_each_value_as_json_value_does(picked) -> None:
    frame = pd.DataFrame({f"c{i}": column for i, column in enumerate(picked)})
    records = records_of(frame)
    want = [{k: json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]
    assert json.dumps(records, allow_nan=False) == json.dumps(want, allow_nan=False)
