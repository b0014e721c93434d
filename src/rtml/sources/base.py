"""``DataSource``: records read in batches from a position that can be reported and resumed."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from rtml.frames import stack_rows
from rtml.whole_numbers import is_whole

__all__ = ["Batch", "DataSource", "check_batching"]


@dataclass(frozen=True)
class Batch:
    """Records read from a source and the position just after them (resume from it).

    >>> import pandas as pd
    >>> Batch(pd.DataFrame({"x": [1, 2]}), position=2).position
    2
    """

    frame: pd.DataFrame
    position: int


class DataSource(ABC):
    """Base of every source of records: a table, a file, a topic.

    A source may be unbounded (a topic never ends), so it is read in batches, each with the
    position to resume from. Subclasses set ``kind`` and implement :meth:`batches`.

    >>> import pandas as pd
    >>> from rtml.sources import DataFrameSource
    >>> source = DataFrameSource(pd.DataFrame({"x": range(5)}))
    >>> sizes = [(len(b.frame), b.position) for b in source.batches(batch_size=2)]
    >>> sizes
    [(2, 2), (2, 4), (1, 5)]
    >>> rest = [b.frame["x"].tolist() for b in source.batches(batch_size=10, start=3)]
    >>> rest
    [[3, 4]]
    """

    kind: ClassVar[str] = ""
    bounded: ClassVar[bool] = True

    @classmethod
    def kind_name(cls) -> str:
        return cls.kind or cls.__name__

    @abstractmethod
    def batches(self, batch_size: int = 10_000, start: int = 0) -> Iterator[Batch]:
        """Batches of at most ``batch_size`` records, from position ``start`` on."""

    def read(self) -> pd.DataFrame:
        """Every record of a bounded source as one DataFrame."""
        if not self.bounded:
            raise TypeError(f"{type(self).__name__} is unbounded: read it with batches()")
        frames = [b.frame for b in self.batches()]
        if not frames:
            return pd.DataFrame()
        return stack_rows(frames)  # a column empty in one batch keeps its type


def check_batching(batch_size: object, start: object) -> None:
    """A source's batches are a whole number of records >= 1, from a position >= 0.

    >>> check_batching(2.5, 0)
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be a whole number >= 1, got 2.5
    """
    if not is_whole(batch_size, 1):
        raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
    if not is_whole(start, 0):
        raise ValueError(f"start must be a whole number >= 0 (a position), got {start!r}")
