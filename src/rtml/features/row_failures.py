"""Which records of a batch a row feature (SQL, a UDF) cannot be computed for.

Row features are computed over a whole batch at once. When that fails, the records that fail
on their own are found (halving the batch), so that a push is refused by row and feature (or
those records set aside as dead letters) rather than failing whole with no row named. Only a
batch that failed pays for this.

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
>>> try:
...     udf.compute(frame)
... except Exception as exc:
...     raise_located([udf], frame, lambda f, one: f.compute(one), exc)
Traceback (most recent call last):
...
rtml.errors.FeatureRowsError: feature 'inv', row 1: UDF 'inv': 'inverse' raised ZeroDivisionError: float division by zero
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import pandas as pd

from rtml.errors import FeatureRowsError, RtmlError

__all__ = ["located", "raise_located", "rows_error"]


def located(
    features: Sequence[Any],
    frame: pd.DataFrame,
    compute: Callable[[Any, pd.DataFrame], Any],
    error: Exception,
) -> Exception:
    """``error``, raised computing ``features`` over ``frame``, as a
    :class:`~rtml.errors.FeatureRowsError` naming the records that fail on their own (with
    the first feature each fails in); ``error`` itself when none does (what failed needs the
    batch, or is not about records).

    The batch is halved until the parts that fail are single records: a few bad records in a
    large batch cost some batches' worth of computing, not one call per record."""
    failures: dict[int, tuple[str, str]] = {}
    _search(features, frame, compute, 0, len(frame), failures)
    if not failures:
        return error
    return rows_error(failures)


def rows_error(failures: dict[int, tuple[str, str]]) -> FeatureRowsError:
    """The error refusing the records of ``failures`` (row -> feature, why): named by the
    first, the others counted.

    >>> str(rows_error({3: ("f", "no"), 1: ("g", "bad")}))
    "feature 'g', row 1: bad (and 1 more record(s))"
    """
    row, (name, why) = min(failures.items())
    more = f" (and {len(failures) - 1} more record(s))" if len(failures) > 1 else ""
    return FeatureRowsError(
        f"feature {name!r}, row {row}: {why}{more}", dict(sorted(failures.items()))
    )


def raise_located(
    features: Sequence[Any],
    frame: pd.DataFrame,
    compute: Callable[[Any, pd.DataFrame], Any],
    error: Exception,
) -> NoReturn:
    """Raise what :func:`located` finds for ``error``: the records named, caused by
    ``error``, or ``error`` itself."""
    found = located(features, frame, compute, error)
    if found is error:
        raise error
    raise found from error


def _search(
    features: Sequence[Any],
    frame: pd.DataFrame,
    compute: Callable[[Any, pd.DataFrame], Any],
    lo: int,
    hi: int,
    failures: dict[int, tuple[str, str]],
) -> None:
    """Add to ``failures`` the records of ``frame[lo:hi]`` that fail on their own."""
    if hi - lo == 1:
        one = frame.iloc[[lo]]
        for feature in features:
            try:
                compute(feature, one)
            except Exception as exc:
                failures[lo] = (feature.name, _reason(exc))
                return
        return
    part = frame.iloc[lo:hi]
    try:
        for feature in features:
            compute(feature, part)
    except Exception:
        middle = (lo + hi) // 2
        _search(features, frame, compute, lo, middle, failures)
        _search(features, frame, compute, middle, hi, failures)


def _reason(exc: Exception) -> str:
    # rtml's own errors already say which feature failed and how; others get their class.
    return str(exc) if isinstance(exc, RtmlError) else f"{type(exc).__name__}: {exc}"
