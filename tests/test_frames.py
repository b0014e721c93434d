"""Stacking micro-batches: each column typed by its values, whichever batches are empty or
entirely missing, and no value changed."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from rtml.frames import stack_rows

KINDS = ["float", "int", "datetime", "text", "bool", "nullable int"]


def column_of(kind: str, rows: int, draw) -> pd.Series:
    if kind == "float":
        return pd.Series(draw(st.lists(st.floats(-1e6, 1e6), min_size=rows, max_size=rows)))
    if kind == "int":
        return pd.Series(draw(st.lists(st.integers(-99, 99), min_size=rows, max_size=rows)))
    if kind == "datetime":
        seconds = draw(st.lists(st.integers(0, 2**31), min_size=rows, max_size=rows))
        return pd.Series(pd.to_datetime(seconds, unit="s", utc=True))
    if kind == "text":
        return pd.Series(draw(st.lists(st.text(max_size=3), min_size=rows, max_size=rows)))
    if kind == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)))
    values = draw(st.lists(st.integers(-99, 99), min_size=rows, max_size=rows))
    return pd.Series(values, dtype="Int64")


MISSING = {
    "None": lambda rows: pd.Series([None] * rows, dtype=object),
    "NaN": lambda rows: pd.Series([np.nan] * rows),
    "NaT": lambda rows: pd.Series([pd.NaT] * rows),
}


@st.composite
def batches(draw) -> list[pd.DataFrame]:
    """Micro-batches of one table: each column of one kind, but in some batches missing on
    every row (held as None, NaN or NaT) or absent."""
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3))
    frames = []
    for _ in range(draw(st.integers(1, 5))):
        rows = draw(st.integers(0, 3))
        frame = {}
        for i, kind in enumerate(kinds):
            shape = draw(st.sampled_from(["values", "values", "missing", "absent"]))
            if shape == "values":
                frame[f"c{i}"] = column_of(kind, rows, draw)
            elif shape == "missing":
                frame[f"c{i}"] = MISSING[draw(st.sampled_from(list(MISSING)))](rows)
        frames.append(pd.DataFrame(frame, index=range(rows)))
    return frames


def expected_type(frames: list[pd.DataFrame], column: str):
    """The rule, stated on whole columns: the common type of the frames holding values,
    widened only as far as the missing rows need."""
    frames = [f for f in frames if len(f)]
    holders = [f[column] for f in frames if column in f and f[column].notna().any()]
    if not holders:
        return None  # nothing but missing values: any type that holds them
    common = pd.concat(holders, ignore_index=True).dtype
    if all(column in f and f[column].notna().any() for f in frames):
        return common
    if common == "int64":
        return np.dtype("float64")
    return np.dtype(object) if common == "bool" else common


def same(a, b, dtype) -> bool:
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    if dtype.kind == "f":
        return float(a) == float(b)
    return str(a) == str(b)  # True is not 1.0, a date is not its nanoseconds


@given(batches())
def test_columns_take_the_type_of_their_values_and_keep_every_value(frames) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # pandas' deprecated rule never applies
        stacked = stack_rows(frames)
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    assert list(stacked.columns) == columns
    assert len(stacked) == sum(len(f) for f in frames)
    for column in columns:
        want = expected_type(frames, column)
        if want is not None:
            assert stacked[column].dtype == want, column
        source = [f[column].iloc[i] if column in f else None for f in frames for i in range(len(f))]
        dtype = stacked[column].dtype
        assert all(same(a, b, dtype) for a, b in zip(stacked[column], source, strict=True))


def test_a_batch_with_nothing_to_score_does_not_turn_scores_into_text() -> None:
    waiting = pd.DataFrame({"key": [1, 2], "score": [None, None]})
    scored = pd.DataFrame({"key": [3], "score": [0.75]})
    stacked = stack_rows([waiting, scored])
    assert stacked["score"].dtype == "float64"
    assert stacked["score"].isna().tolist() == [True, True, False]


def test_a_file_column_empty_in_the_first_batch_keeps_its_values(tmp_path) -> None:
    from rtml.sources import FileSource

    rows = 10_001  # FileSource.read stacks batches of 10,000 rows
    coupons = [None] * (rows - 1) + ["SAVE10"]
    path = tmp_path / "tx.csv"
    pd.DataFrame({"id": range(rows), "coupon": coupons}).to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        read = FileSource(path).read()
    assert read["coupon"].dtype == object
    assert read["coupon"].iloc[-1] == "SAVE10" and read["coupon"].iloc[:-1].isna().all()
    assert read["id"].tolist() == list(range(rows))
