"""The numbers a deployed model reads: floats it can learn from, or missing.

A numerical input a learner cannot take is left out of the record, as a missing one is: NaN,
``inf`` and ``-inf``, and numbers so large that their square overflows a float (beyond
``LARGEST_INPUT``). River's scalers and tree statistics keep running sums of squares: one
such value turns them into ``inf``, and a linear model's weights into NaN for every record
after it, with no error. Some other learners raise ``OverflowError`` instead, which would
refuse every push holding the value. The stored record keeps the value as pushed; only the
model does not see it.

>>> import pandas as pd
>>> input_number(2), input_number(float("inf")), input_number(-1e200)
(2.0, nan, nan)
>>> input_numbers(pd.Series([1.5, None, float("-inf"), 1e149]))
[1.5, nan, nan, 1e+149]

A label that is not finite is not learned either, and not evaluated: it is skipped as a
missing label is.

>>> learnable_label(1), learnable_label("fraud"), learnable_label(float("inf")), learnable_label(None)
(True, True, False, False)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

import numpy as np
import pandas as pd

from rtml.errors import FeatureRowsError
from rtml.features.timestamps import nanos_of, to_nanos
from rtml.float_sums import LARGEST_INPUT
from rtml.nulls import is_null

__all__ = [
    "input_number",
    "input_numbers",
    "learnable_frame",
    "learnable_label",
    "not_a_number_error",
    "not_numbers",
]


def input_number(value: Any) -> float:
    """A numerical input as a float, NaN when the model cannot take it (missing, not finite
    or beyond ``LARGEST_INPUT``); a datetime reads as epoch seconds."""
    if is_null(value):
        return math.nan
    if isinstance(value, datetime):
        nanos = nanos_of(value, "auto")
        return math.nan if nanos is None else nanos / 1e9
    number = float(value)
    return number if abs(number) <= LARGEST_INPUT else math.nan  # NaN fails the test too


def input_numbers(column: pd.Series) -> list[float]:
    """:func:`input_number` of each value of a column (vectorised)."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        seconds = to_nanos(column, "auto") / 1e9
        return cast(list[float], np.where(column.isna(), np.nan, seconds).tolist())
    values = column.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        usable = np.abs(values) <= LARGEST_INPUT
    if not usable.all():
        values = np.where(usable, values, np.nan)
    return cast(list[float], values.tolist())


def learnable_frame(frame: pd.DataFrame, numerical: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """``frame`` (a batch learner's inputs) with each numerical value the model cannot take
    set to NaN, as :func:`input_numbers` does; datetimes and text are left as they are.

    >>> learnable_frame(pd.DataFrame({"x": [1.0, float("inf")], "c": ["a", "b"]}), ["x"])
         x  c
    0  1.0  a
    1  NaN  b
    """
    replaced: dict[str, list[Any]] = {}
    for name in numerical:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            continue
        if pd.api.types.is_float_dtype(column.dtype):
            values = column.to_numpy()
            with np.errstate(invalid="ignore"):
                if (np.abs(values[~np.isnan(values)]) <= LARGEST_INPUT).all():
                    continue  # the common case: nothing to copy
        elif pd.api.types.is_integer_dtype(column.dtype) or pd.api.types.is_bool_dtype(
            column.dtype
        ):
            continue  # a 64-bit integer is at most 9.2e18
        replaced[name] = [
            v if isinstance(v, datetime) else input_number(v) for v in column.tolist()
        ]
    if not replaced:
        return frame
    return frame.assign(**{name: pd.Series(v, index=frame.index) for name, v in replaced.items()})


def learnable_label(y: Any) -> bool:
    """Whether a model learns label ``y``: not missing, and finite if it is a float."""
    if is_null(y):
        return False
    return not isinstance(y, float | np.floating) or math.isfinite(y)


def not_numbers(values: list[Any]) -> Iterator[tuple[int, Any]]:
    """Each row and value of ``values`` that :func:`input_number` cannot read (text, say).

    >>> list(not_numbers([1.5, "low", None, "high"]))
    [(1, 'low'), (3, 'high')]
    """
    for row, value in enumerate(values):
        try:
            input_number(value)
        except (TypeError, ValueError):
            yield row, value


def not_a_number_error(deployment: str, column: str, values: list[Any]) -> FeatureRowsError:
    """The refusal of a numerical input holding something that is not a number (a feature of
    text): by input and row, every such row in ``failures``, not float()'s message.

    >>> error = not_a_number_error("m", "level", [1.0, "high"])
    >>> print(error)
    deployment 'm': numerical input 'level', row 1: expected a number, got 'high' (str); a model reads numbers there (text goes in categorical=[...])
    >>> list(error.failures)
    [1]
    """
    failures = {
        row: (
            column,
            f"deployment {deployment!r}: numerical input {column!r}: expected a number, got "
            f"{value!r} ({type(value).__name__}); a model reads numbers there (text goes in "
            f"categorical=[...])",
        )
        for row, value in not_numbers(values)
    }
    # None failing: the caller's conversion failed elsewhere; the first value is shown.
    row = min(failures, default=0)
    value = values[row] if values else None
    return FeatureRowsError(
        f"deployment {deployment!r}: numerical input {column!r}, row {row}: expected a "
        f"number, got {value!r} ({type(value).__name__}); a model reads numbers there "
        f"(text goes in categorical=[...])",
        failures,
    )
