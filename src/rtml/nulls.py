"""One test for a missing value, whatever pandas holds it as.

``value != value`` finds NaN and NaT but raises on ``pd.NA`` (what nullable integer and boolean
columns hold), so every place that meets record values asks here instead.

>>> import numpy as np, pandas as pd
>>> [is_null(v) for v in (None, float("nan"), np.float32("nan"), pd.NaT, pd.NA, 0, "", "x")]
[True, True, True, True, True, False, False, False]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["is_null", "or_none", "python_value"]


def is_null(value: Any) -> bool:
    """SQL's NULL as it shows in pandas: ``None``, NaN, NaT or ``pd.NA``."""
    if value is None or value is pd.NA:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):  # objects whose comparison is not a boolean
        return False


def or_none(value: Any) -> Any:
    """``value``, or ``None`` when it is missing (as SQL parameters and keys want it)."""
    return None if is_null(value) else value


def python_value(value: Any) -> Any:
    """Numpy scalars as Python ones (keys and values must compare, print and pickle alike).

    >>> python_value(np.int64(3)), python_value("x")
    (3, 'x')
    """
    return value.item() if isinstance(value, np.generic) else value
