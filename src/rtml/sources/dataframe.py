"""``DataFrameSource``: records held in a pandas DataFrame."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from rtml.sources.base import Batch, DataSource, check_batching

__all__ = ["DataFrameSource"]


class DataFrameSource(DataSource):
    """Records of a DataFrame, optionally ordered by ``sort_by`` (e.g. the event time).

    >>> import pandas as pd
    >>> src = DataFrameSource(pd.DataFrame({"t": [3, 1, 2]}), sort_by="t")
    >>> src.read()["t"].tolist()
    [1, 2, 3]
    """

    kind = "dataframe"

    def __init__(self, df: pd.DataFrame, sort_by: str | list[str] | None = None) -> None:
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"DataFrameSource expects a pandas DataFrame, got {type(df).__name__}")
        if sort_by is not None:
            df = df.sort_values(sort_by, kind="stable")
        self.df = df.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.df)

    def batches(self, batch_size: int = 10_000, start: int = 0) -> Iterator[Batch]:
        check_batching(batch_size, start)
        for lo in range(start, len(self.df), batch_size):
            hi = min(lo + batch_size, len(self.df))
            yield Batch(self.df.iloc[lo:hi].reset_index(drop=True), hi)
