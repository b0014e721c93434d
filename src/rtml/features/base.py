"""The two shapes a feature kind takes: a function of one record, or a window per key.

A feature kind is a :class:`~rtml.spec.Spec` (what to compute) that also knows how to compute
itself. The engine calls the same methods for the backfill over history and for live pushes,
which is what makes the two agree.

- :class:`RowFeature`: the value depends on the record only (SQL, UDF). ``compute`` receives a
  DataFrame of records (raw columns plus earlier features) and returns one value per row.
- :class:`WindowFeature`: the value depends on the earlier records of the same key within a time
  window (Aggregate, UDAF). ``reduce`` receives the window's values, oldest first, ties in
  arrival order, and returns one value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import field_validator

from rtml.durations import parse_duration
from rtml.spec import Spec

__all__ = ["Feature", "RowFeature", "WindowFeature"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Feature(Spec):
    """Base of every feature kind. Subclass :class:`RowFeature` or :class:`WindowFeature`.

    >>> import rtml
    >>> isinstance(rtml.features.SQL("x2", '"x" * 2'), Feature)
    True
    """

    name: str

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"expected a name of letters, digits and underscores not starting with a digit, "
                f"got {value!r}"
            )
        return value

    def columns(self) -> tuple[str, ...]:
        """The columns of the record (or earlier features of the set) this feature reads."""
        raise NotImplementedError


class RowFeature(Feature):
    """A feature computed from each record alone; subclasses implement :meth:`compute`.

    >>> from typing import Literal
    >>> import pandas as pd
    >>> class Upper(RowFeature):
    ...     kind: Literal["upper"] = "upper"
    ...     column: str
    ...     def columns(self):
    ...         return (self.column,)
    ...     def compute(self, frame):
    ...         return frame[self.column].str.upper().to_numpy()
    >>> Upper(name="who_up", column="who").compute(pd.DataFrame({"who": ["ann"]})).tolist()
    ['ANN']
    """

    def compute(self, frame: pd.DataFrame) -> np.ndarray | pd.Series:
        """One value per row of ``frame`` (raw columns plus earlier features), in row order."""
        raise NotImplementedError


class WindowFeature(Feature):
    """A feature over the earlier records of the same key within an event-time window.

    At an event with time ``t`` the window holds the records of the same ``by`` value with time
    in ``[t - delay - window, t - delay]`` (``closed="both"``, the default) or
    ``(t - delay - window, t - delay]`` (``closed="right"``), that arrived no later than the event.

    >>> from typing import Literal
    >>> class Last(WindowFeature):
    ...     kind: Literal["last"] = "last"
    ...     column: str
    ...     def value_columns(self):
    ...         return (self.column,)
    ...     def reduce(self, values):
    ...         last_record = values[-1] if values else (None,)
    ...         return last_record[0]
    >>> Last(name="last_amount", column="amount", by="card", window="1h").reduce([(3.0,), (4.0,)])
    4.0
    """

    by: tuple[str, ...]
    window: str
    delay: str | None = None
    closed: Literal["both", "right"] = "both"
    source: str | None = None

    @field_validator("by", mode="before")
    @classmethod
    def _by_tuple(cls, value: Any) -> Any:
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list):
            return tuple(value)
        return value

    @field_validator("by")
    @classmethod
    def _by_not_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("expected at least one key column")
        return value

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        if parse_duration(value) <= 0:
            raise ValueError(f"expected a positive window, got {value!r}")
        return value

    @field_validator("delay")
    @classmethod
    def _delay(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @property
    def window_ns(self) -> int:
        return parse_duration(self.window)

    @property
    def delay_ns(self) -> int:
        return parse_duration(self.delay) if self.delay else 0

    def value_columns(self) -> tuple[str, ...]:
        """The columns whose values the window keeps for :meth:`reduce`."""
        raise NotImplementedError

    def columns(self) -> tuple[str, ...]:
        own = () if self.source else self.value_columns()
        return tuple(dict.fromkeys((*self.by, *own)))

    def reduce(self, values: Sequence[tuple[Any, ...]]) -> Any:
        """The feature's value from the window's rows of :meth:`value_columns`, oldest first."""
        raise NotImplementedError
