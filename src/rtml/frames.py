"""Stacking the micro-batches of one table with column types that do not depend on which
batches happened to be empty or entirely missing.

pandas types a stacked column from every batch but, until a coming version, skips most batches
where the column is entirely missing, with exceptions (an empty batch of objects makes
integers objects). Batches like that are common here: a window with nothing in it yet, a UDF
that returned ``None`` on every row, a batch with no rows. ``stack_rows`` states the rule
itself: a column takes the type of the values it holds, widened only as far as its missing
rows need (integers to floats, booleans to objects), whatever the pandas version.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["stack_rows"]


def stack_rows(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The rows of ``frames`` one after another (a fresh index), each column typed by the
    values it holds.

    >>> waiting = pd.DataFrame({"k": [1], "score": [None]})  # objects: nothing scored yet
    >>> scored = pd.DataFrame({"k": [2], "score": [0.25]})
    >>> stack_rows([waiting, scored]).dtypes.astype(str).tolist()
    ['int64', 'float64']
    >>> stack_rows([scored.iloc[:0].astype({"score": object}), scored]).dtypes.astype(str).tolist()
    ['int64', 'float64']
    """
    columns = list(dict.fromkeys(c for frame in frames for c in frame.columns))
    filled = [frame for frame in frames if len(frame)]
    if not filled:
        return pd.DataFrame({c: [] for c in columns}).astype(_first_types(frames, columns))
    if len(filled) == 1 and len(filled[0].columns) == len(columns):
        # One batch with rows (a one-record push's outputs, say) holding every column: each
        # column already has the type of what it holds, so the checks below would change nothing.
        return filled[0].reset_index(drop=True)[columns]
    # Most batches hold a value in every column: one check per batch finds the others.
    missing = [_missing_columns(frame) for frame in filled]
    lacking = {
        column: [
            column not in frame.columns or column in m
            for frame, m in zip(filled, missing, strict=True)
        ]
        for column in columns
    }
    gaps = [column for column in columns if any(lacking[column])]
    if gaps:
        filled = [frame.copy() for frame in filled]
    for column in gaps:
        holders = [f[column] for f, lacks in zip(filled, lacking[column], strict=True) if not lacks]
        target = _type_beside_missing(holders, {f[column].dtype for f in filled if column in f})
        for frame, lacks in zip(filled, lacking[column], strict=True):
            if lacks:
                # Nothing to keep: missing values of the target type (NaT cannot become a float).
                frame[column] = pd.Series(index=frame.index, dtype=target)
            elif frame[column].dtype != target:
                frame[column] = frame[column].astype(target)  # integers to floats, and so on
    return pd.concat(filled, ignore_index=True)[columns]


def _missing_columns(frame: pd.DataFrame) -> set[Any]:
    """The columns of ``frame`` that hold no value. A few rows go through numpy: pandas'
    ``isna().all()`` costs about 0.2 ms a frame, and a flush stacks thousands of one-record
    batches."""
    if len(frame) <= 16:
        nulls = np.asarray(pd.isna(frame.to_numpy(dtype=object)), dtype=bool)
        flags: list[bool] = np.logical_and.reduce(nulls, axis=0).tolist()
    else:
        flags = frame.isna().all().tolist()
    return {c for c, flag in zip(frame.columns, flags, strict=True) if flag}


def _type_beside_missing(holders: list[pd.Series], types: set[Any]) -> Any:
    """The type of a column some of whose batches miss it: pandas' common type of the values
    it holds in ``holders``, integers made floats and booleans objects; with no value, the
    batches' one type (``types``), or objects when they disagree."""
    if not holders:
        return types.pop() if len(types) == 1 else np.dtype(object)
    # One value of each: the common type of the types, not of the values.
    target = pd.concat([h[h.notna()].iloc[:1] for h in holders], ignore_index=True).dtype
    if isinstance(target, np.dtype) and target.kind in "iu":
        return np.dtype("float64")
    if isinstance(target, np.dtype) and target.kind == "b":
        return np.dtype(object)
    return target


def _first_types(frames: list[pd.DataFrame], columns: list[str]) -> dict[str, Any]:
    """Each column's type in the first frame that has it (no rows anywhere)."""
    types: dict[str, Any] = {}
    for frame in frames:
        for column in frame.columns:
            types.setdefault(column, frame[column].dtype)
    return {c: types[c] for c in columns}
