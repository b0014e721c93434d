"""Every value a record can hold becomes strict JSON, and what JSON can hold survives as is."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

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
