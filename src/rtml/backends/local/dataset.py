"""A dataset of the local engine: schema, validated pushes, dead letters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pandas as pd

from rtml.backends.base import Dataset, Records
from rtml.backends.local.schema import Column, Problem, conform, empty_frame, find_problems
from rtml.errors import SchemaError

__all__ = ["LocalDataset"]

_SHOWN = 10  # problems listed in one error message; the rest are counted


def to_frame(records: Records, dataset: str) -> pd.DataFrame:
    if isinstance(records, pd.DataFrame):
        return records.reset_index(drop=True)
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SchemaError(
            f"dataset {dataset!r}: expected a pandas DataFrame or a list of dicts, "
            f"got {type(records).__name__}"
        )
    return pd.DataFrame.from_records(records)


def describe(dataset: str, problems: list[Problem], whole: list[str]) -> str:
    lines = [f"dataset {dataset!r}: push refused, nothing was written:"]
    lines += [f"  {w}" for w in whole]
    lines += [f"  {p}" for p in problems[:_SHOWN]]
    if len(problems) > _SHOWN:
        lines.append(f"  ... and {len(problems) - _SHOWN} more problem(s)")
    return "\n".join(lines)


class LocalDataset(Dataset):
    """Records of one dataset, held by a :class:`~rtml.backends.local.LocalBackend`.

    >>> import pandas as pd, rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> tx = backend.create_dataset("tx", key="id", df=pd.DataFrame({"id": [1], "amount": [2.0]}))
    >>> tx.push([{"id": 2, "amount": 3.5}])
    1
    >>> len(tx), tx.to_pandas()["amount"].tolist()
    (2, [2.0, 3.5])
    >>> tx.push([{"id": 2, "amount": "lots"}])
    Traceback (most recent call last):
    ...
    rtml.errors.SchemaError: dataset 'tx': push refused, nothing was written:
      row 0, field 'amount': expected float, got 'lots' (str)
      row 0, field 'id': key 2 is already in the dataset
    """

    def __init__(
        self,
        name: str,
        key: str,
        schema: dict[str, Column],
        on_accept: Callable[[LocalDataset, pd.DataFrame], None],
        precheck: Callable[[LocalDataset, pd.DataFrame], list[Problem]],
    ) -> None:
        self.name = name
        self.key = key
        self._schema = schema
        self._frames: list[pd.DataFrame] = []
        self._keys: set[Any] = set()
        self._dead_letters: list[dict[str, Any]] = []
        self._on_accept = on_accept
        self._precheck = precheck

    @property
    def schema(self) -> dict[str, Column]:
        return dict(self._schema)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"<LocalDataset {self.name!r} key={self.key!r} records={len(self)}>"

    def to_pandas(self) -> pd.DataFrame:
        if not self._frames:
            return empty_frame(self._schema)
        return pd.concat(self._frames, ignore_index=True)

    def dead_letters(self) -> pd.DataFrame:
        """Records refused by pushes with ``on_error="dead_letter"``, with the reason."""
        return pd.DataFrame(self._dead_letters, columns=["record", "reason"])

    def validate(self, frame: pd.DataFrame) -> tuple[list[Problem], list[str]]:
        problems, whole = find_problems(frame, self._schema, self.key)
        if self.key in frame.columns:
            for row, value in enumerate(frame[self.key].tolist()):
                if value in self._keys:
                    problems.append(
                        Problem(row, self.key, f"key {value!r} is already in the dataset")
                    )
        if not whole:
            problems += self._precheck(self, frame)
        return problems, whole

    def push(self, records: Records, on_error: Literal["raise", "dead_letter"] = "raise") -> int:
        if on_error not in ("raise", "dead_letter"):
            raise ValueError(f"on_error must be 'raise' or 'dead_letter', got {on_error!r}")
        frame = to_frame(records, self.name)
        problems, whole = self.validate(frame)
        if whole or (problems and on_error == "raise"):
            raise SchemaError(describe(self.name, problems, whole))
        if problems:
            bad = sorted({p.row for p in problems})
            reasons = {row: "; ".join(str(p) for p in problems if p.row == row) for row in bad}
            for row in bad:
                self._dead_letters.append(
                    {"record": frame.iloc[row].to_dict(), "reason": reasons[row]}
                )
            frame = frame.drop(index=bad).reset_index(drop=True)
            # Rows dropped can change what is late or duplicated: validate the rest again.
            problems, whole = self.validate(frame)
            if problems or whole:
                raise SchemaError(describe(self.name, problems, whole))
        if frame.empty:
            return 0
        accepted = conform(frame, self._schema)
        self._on_accept(self, accepted)
        return len(accepted)

    def _append(self, frame: pd.DataFrame) -> None:
        self._frames.append(frame)
        self._keys.update(frame[self.key].tolist())
