"""Record values as JSON can hold them, for everything rtml writes as JSON: server responses,
records the HTTP and TurboML clients send, and the dead letters of a push.

>>> import numpy as np, pandas as pd
>>> json_value(np.float64("nan")), json_value(np.int64(3)), json_value(pd.Timestamp(0))
(None, 3, '1970-01-01T00:00:00')
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from rtml.nulls import is_null

__all__ = ["json_columns", "json_value", "timestamp_value"]


def json_value(value: Any) -> Any:
    """A value as JSON holds it: missing values (``None``, NaN, NaT, ``pd.NA``) and infinities
    as null, numpy scalars as Python's, times as ISO 8601 text, containers element by element.

    >>> json_value({"at": [float("inf"), np.float32(1.5)]})
    {'at': [None, 1.5]}
    """
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if is_null(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        # JSON has no infinities (json.dumps would write the non-standard `Infinity`).
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def json_columns(frame: pd.DataFrame, columns: list[str]) -> dict[str, list[Any]]:
    """``frame``'s ``columns`` as JSON lists, column by column (responses that send a table).

    >>> json_columns(pd.DataFrame({"row": [3], "mean": [np.nan]}), ["row", "mean"])
    {'row': [3], 'mean': [None]}
    """
    return {c: json_value(frame[c].tolist()) for c in columns}


def timestamp_value(value: Any) -> Any:
    """A timestamp field of a JSON record: ISO 8601 text read as a time, the rest as it is."""
    # JSON has no timestamps: ISO 8601 text is read as one; anything else is left for the
    # schema check to refuse with the field and row named.
    if isinstance(value, str):
        try:
            return pd.Timestamp(value)
        except ValueError:
            return value
    return value
