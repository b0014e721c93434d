"""``FileSource``: records in a CSV or Parquet file, read in batches without loading it all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pandas as pd

from rtml.sources.base import Batch, DataSource, check_batching

__all__ = ["FileSource"]


class FileSource(DataSource):
    """A CSV or Parquet file (``format`` guessed from the suffix unless given).

    >>> import pandas as pd, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "tx.csv")
    >>> pd.DataFrame({"id": [1, 2, 3], "amount": [1.5, 2.0, 9.9]}).to_csv(path, index=False)
    >>> ids = [b.frame["id"].tolist() for b in FileSource(path).batches(batch_size=2)]
    >>> ids
    [[1, 2], [3]]
    """

    kind = "file"

    def __init__(self, path: str | Path, format: Literal["csv", "parquet"] | None = None) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower().lstrip(".")
        chosen = format or {"csv": "csv", "parquet": "parquet", "pq": "parquet"}.get(suffix)
        if chosen not in ("csv", "parquet"):
            raise ValueError(
                f"cannot tell the format of {str(self.path)!r}: pass format='csv' or 'parquet'"
            )
        self.format: Literal["csv", "parquet"] = chosen  # type: ignore[assignment]

    def batches(self, batch_size: int = 10_000, start: int = 0) -> Iterator[Batch]:
        check_batching(batch_size, start)
        position = 0
        for frame in self._chunks(batch_size):
            lo, hi = position, position + len(frame)
            position = hi
            if hi <= start:
                continue
            if lo < start:
                frame = frame.iloc[start - lo :]
            yield Batch(frame.reset_index(drop=True), hi)

    def _chunks(self, batch_size: int) -> Iterator[pd.DataFrame]:
        if self.format == "csv":
            yield from pd.read_csv(self.path, chunksize=batch_size)
            return
        import pyarrow.parquet as pq

        with pq.ParquetFile(self.path) as file:
            for record_batch in file.iter_batches(batch_size=batch_size):
                yield record_batch.to_pandas()
