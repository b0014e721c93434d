"""``SQL``: a scalar SQL expression over each record, in DuckDB's dialect."""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import field_validator

from rtml.features.base import RowFeature
from rtml.spec import defining

__all__ = ["SQL"]

_QUOTED = re.compile(r'"((?:[^"]|"")+)"')


class SQL(RowFeature):
    """A scalar SQL expression of the record's columns, column names double-quoted.

    Any scalar DuckDB expression works: arithmetic, ``CASE WHEN``, casts, string and date
    functions. The expression sees the raw columns and the other features. One that reads
    more than its record (an aggregate, a window function, a subquery) or depends on when it
    runs (``random()``, ``now()``) is refused: its value would differ between history and live
    (see :mod:`rtml.features.sql_scalar`).

    >>> import pandas as pd
    >>> feature = SQL("amount_x_hour", '"transactionAmount" * "localHour"')
    >>> feature.columns()
    ('transactionAmount', 'localHour')
    >>> frame = pd.DataFrame({"transactionAmount": [10.0, 2.5], "localHour": [3, 4]})
    >>> feature.compute(frame).tolist()
    [30.0, 10.0]
    >>> SQL("night", 'CASE WHEN "localHour" <= 6 THEN 1 ELSE 0 END').compute(frame).tolist()
    [1, 1]
    """

    kind: Literal["sql"] = "sql"
    expr: str

    _positional = ("name", "expr")

    @field_validator("expr")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("expected a SQL expression, got an empty string")
        if ";" in value:
            raise ValueError("expected one scalar expression, not statements (found ';')")
        if defining():  # a feature read back from a store was accepted when it was defined
            from rtml.features.sql_scalar import check_scalar

            check_scalar(value)
        return value

    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.replace('""', '"') for m in _QUOTED.findall(self.expr)))

    def compute(self, frame: pd.DataFrame) -> np.ndarray:
        from rtml.features.sql_eval import evaluate_sql

        return evaluate_sql([self], frame)[0]
