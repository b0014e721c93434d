"""``UDF``: a Python function of some columns, per record or vectorised."""

from __future__ import annotations

from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from pydantic import field_validator

from rtml.callables import PyObject
from rtml.errors import FeatureRowsError, SpecError
from rtml.features.base import RowFeature

__all__ = ["UDF"]


class UDF(RowFeature):
    """A Python function applied to each record's ``args`` columns.

    With ``vectorized=True`` the function receives whole numpy arrays (one per argument) and must
    return an array of the same length: much faster on large batches. Both forms give the same
    values in backfill and live, since both engines call the same function on the same rows.

    >>> import math
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"amount": [0.0, math.e - 1]})
    >>> UDF("log_amount", fn=math.log1p, args=["amount"]).compute(frame).tolist()
    [0.0, 1.0]
    >>> import numpy as np
    >>> UDF("log_amount", fn=np.log1p, args=["amount"], vectorized=True).compute(frame).tolist()
    [0.0, 1.0]
    """

    kind: Literal["udf"] = "udf"
    fn: PyObject
    args: tuple[str, ...]
    vectorized: bool = False

    _positional = ("name", "fn", "args")

    @field_validator("args", mode="before")
    @classmethod
    def _args_tuple(cls, value: object) -> object:
        if isinstance(value, str):
            return (value,)
        return tuple(value) if isinstance(value, list) else value

    def columns(self) -> tuple[str, ...]:
        return self.args

    def compute(self, frame: pd.DataFrame) -> np.ndarray:
        n = len(frame)
        try:
            if self.vectorized:
                out = np.asarray(self.fn(*(frame[a].to_numpy() for a in self.args)))
                if out.shape != (n,):
                    raise SpecError(
                        f"UDF {self.name!r}: the vectorised function returned shape {out.shape}, "
                        f"expected ({n},)"
                    )
                return out
            columns = [frame[a].tolist() for a in self.args]
            values = [self.fn(*row) for row in zip(*columns, strict=True)]
            return self._column(values)
        except SpecError:
            raise
        except Exception as exc:
            raise SpecError(
                f"UDF {self.name!r}: {getattr(self.fn, '__name__', self.fn)!r} raised "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _column(self, values: list[object]) -> np.ndarray:
        """The values of one call per record, as a column: refused by row where one is not a
        single value (a list would make a 2-D array, refused later by pandas without a name)."""
        fn = getattr(self.fn, "__name__", self.fn)
        failures = {
            row: (
                self.name,
                f"UDF {self.name!r}: {fn!r} returned {value!r} ({type(value).__name__}); a "
                f"feature value is one number, text, boolean, time or null",
            )
            for row, value in enumerate(values)
            if isinstance(value, list | tuple | dict | set) or np.ndim(cast(Any, value)) > 0
        }
        if failures:
            row, (_, why) = next(iter(failures.items()))
            raise FeatureRowsError(why.replace(": ", f": row {row}: ", 1), failures)
        out = np.asarray(values)
        if out.dtype.kind in "US" and not all(isinstance(v, str) for v in values):
            # numpy would write the numbers among text as text: 1 became '1'.
            out = np.asarray(values, dtype=object)
        elif out.dtype.kind in "iuf" and any(isinstance(v, bool | np.bool_) for v in values):
            # ... and booleans among numbers as numbers (True became 1): kept as given, for
            # the backend to refuse two kinds of value in one feature.
            out = np.asarray(values, dtype=object)
        return out
