"""Which records of a batch a row feature (SQL, a UDF) cannot be computed for.

Row features are computed over a whole batch at once. When that fails, each record is tried on
its own, so that a push is refused by row and feature (or those records set aside as dead
letters) rather than failing whole with no row named. Only a batch that failed pays for this.

>>> import pandas as pd
>>> from rtml.features import UDF
>>> def inverse(x):
...     return 1.0 / x
>>> frame = pd.DataFrame({"x": [2.0, 0.0, 4.0]})
>>> udf = UDF("inv", fn=inverse, args=["x"])
>>> try:
...     udf.compute(frame)
... except Exception as exc:
...     found = located([udf], frame, lambda f, one: f.compute(one), exc)
>>> found.failures
{1: ('inv', "UDF 'inv': 'inverse' raised ZeroDivisionError: float division by zero")}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from rtml.errors import FeatureRowsError, RtmlError

__all__ = ["located"]


def located(
    features: Sequence[Any],
    frame: pd.DataFrame,
    compute: Callable[[Any, pd.DataFrame], Any],
    error: Exception,
) -> Exception:
    """``error``, raised computing ``features`` over ``frame``, as a
    :class:`~rtml.errors.FeatureRowsError` naming the records that fail on their own (with
    the first feature each fails in); ``error`` itself when none does (what failed needs the
    batch, or is not about records)."""
    failures: dict[int, tuple[str, str]] = {}
    for row in range(len(frame)):
        one = frame.iloc[[row]]
        for feature in features:
            try:
                compute(feature, one)
            except Exception as exc:
                failures[row] = (feature.name, _reason(exc))
                break
    if not failures:
        return error
    row, (name, why) = next(iter(failures.items()))
    more = f" (and {len(failures) - 1} more record(s))" if len(failures) > 1 else ""
    return FeatureRowsError(f"feature {name!r}, row {row}: {why}{more}", failures)


def _reason(exc: Exception) -> str:
    # rtml's own errors already say which feature failed and how; others get their class.
    return str(exc) if isinstance(exc, RtmlError) else f"{type(exc).__name__}: {exc}"
