"""A dataset of the local engine: schema, validated pushes, dead letters."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from rtml.backends.base import Dataset, Records
from rtml.backends.local.schema import (
    Column,
    Problem,
    conform,
    empty_frame,
    find_problems,
    stored_form,
    stored_key_problems,
)
from rtml.errors import FeatureRowsError, SchemaError
from rtml.json_values import json_value

if TYPE_CHECKING:
    from rtml.backends.local.backend import LocalBackend

__all__ = ["LocalDataset"]

_SHOWN = 10  # problems listed in one error message; the rest are counted


def to_frame(records: Records, dataset: str, schema: dict[str, Column]) -> pd.DataFrame:
    """A push's records as a DataFrame; no records (an empty list) as no rows of the schema's
    columns, a push of nothing rather than one missing every column."""
    if isinstance(records, pd.DataFrame):
        return records.reset_index(drop=True)
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SchemaError(
            f"dataset {dataset!r}: expected a pandas DataFrame or a list of dicts, "
            f"got {type(records).__name__}"
        )
    if not records:
        return empty_frame(schema)
    return with_absent_fields(records_frame(records), schema)


def with_absent_fields(frame: pd.DataFrame, schema: dict[str, Column]) -> pd.DataFrame:
    """Records' ``frame`` with each schema field that no record holds as nulls: a field left
    out of a record reads as null, whether or not other records of the push hold it (and as a
    prediction reads it); a field that may not be null is then refused by row. (A DataFrame
    pushed without a column is refused as a whole instead: its columns are its schema.)

    >>> frame = with_absent_fields(pd.DataFrame({"id": [1]}), {"id": Column("int", False),
    ...                            "who": Column("string")})
    >>> frame.to_dict("records")
    [{'id': 1, 'who': None}]
    """
    absent = [name for name in schema if name not in frame.columns]
    if not absent:
        return frame
    nulls = {
        name: pd.Series([None] * len(frame), index=frame.index, dtype=object) for name in absent
    }
    return frame.assign(**nulls)


def records_frame(records: list[dict[str, Any]], columns: list[str] | None = None) -> pd.DataFrame:
    """Records as a DataFrame; a value pandas cannot convert (an integer beyond 64 bits) leaves
    its column as Python objects, for validation to refuse by field and row."""
    try:
        return pd.DataFrame.from_records(records, columns=columns)
    except OverflowError:
        names = columns or list(dict.fromkeys(k for r in records for k in r))
        return pd.DataFrame(
            {c: pd.Series([r.get(c) for r in records], dtype=object) for c in names}
        )


def describe(
    dataset: str,
    problems: list[Problem],
    whole: list[str],
    refused: str = "push refused, nothing was written",
) -> str:
    lines = [f"dataset {dataset!r}: {refused}:"]
    lines += [f"  {w}" for w in whole]
    lines += [f"  {p}" for p in problems[:_SHOWN]]
    if len(problems) > _SHOWN:
        lines.append(f"  ... and {len(problems) - _SHOWN} more problem(s)")
    return "\n".join(lines)


def checked_history(
    name: str, key: str, columns: dict[str, Column], df: pd.DataFrame | None
) -> pd.DataFrame:
    """The records given to ``create_dataset``, index reset, checked whole against ``columns``
    (a :class:`SchemaError` naming field and row); empty when there are none. Every backend
    checks the history this way before it writes any of it."""
    frame = df.reset_index(drop=True) if df is not None else pd.DataFrame()
    if len(frame):
        problems, whole = find_problems(frame, columns, key)
        if problems or whole:
            raise SchemaError(describe(name, problems, whole))
    return frame


def set_aside(
    frame: pd.DataFrame, problems: list[Problem], places: list[int] | None = None
) -> tuple[pd.DataFrame, list[tuple[dict[str, Any], str]]]:
    """The rows of ``frame`` without a problem (index reset), and the others as dead letters:
    ``(record, reasons)``, the record's values as JSON can hold them; a reason names the row
    as ``places`` says (each row's place in the push), else by its position in ``frame``."""
    bad = sorted({p.row for p in problems})
    letters = []
    for row in bad:
        shown = row if places is None else places[row]
        reason = "; ".join(str(Problem(shown, p.field, p.reason)) for p in problems if p.row == row)
        # One row as a frame, not a Series: a Series of ints and floats is all floats.
        record = json_value(frame.iloc[[row]].to_dict("records")[0])
        letters.append((record, reason))
    return frame.drop(index=bad).reset_index(drop=True), letters


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
        self, backend: LocalBackend, name: str, key: str, schema: dict[str, Column]
    ) -> None:
        self.name = name
        self.key = key
        self._schema = schema
        self._backend = backend

    @property
    def table(self) -> str:
        return f"ds__{self.name}"

    @property
    def schema(self) -> dict[str, Column]:
        return dict(self._schema)

    def __len__(self) -> int:
        return self._backend.store.count(self.table)

    def __repr__(self) -> str:
        return f"<LocalDataset {self.name!r} key={self.key!r} records={len(self)}>"

    def to_pandas(self) -> pd.DataFrame:
        stored = self._backend.store.read(self.table)
        if stored.empty:
            return empty_frame(self._schema)
        return conform(stored, self._schema)

    def to_rows(self, seq: int) -> pd.DataFrame:
        """The records of one push, in the order they were pushed."""
        return conform(self._backend.store.read(self.table, seq=seq), self._schema)

    def dead_letters(self) -> pd.DataFrame:
        """Records refused by pushes with ``on_error="dead_letter"``, with the reason."""
        rows = self._backend.store.con.execute(
            "SELECT record, reason FROM rtml_dead_letters WHERE dataset = ? ORDER BY seq",
            [self.name],
        ).fetchall()
        return pd.DataFrame(
            [(json.loads(record), reason) for record, reason in rows], columns=["record", "reason"]
        )

    def validate(
        self, frame: pd.DataFrame, lateness: bool = True
    ) -> tuple[list[Problem], list[str]]:
        problems, whole = find_problems(frame, self._schema, self.key)
        if self.key in frame.columns:
            keys = [stored_form(k) for k in frame[self.key].tolist()]
            # Only keys of the key's type are looked up: the store cannot compare an int key
            # with a text one (such a row already has its problem).
            refused = {p.row for p in problems if p.field == self.key}
            stored = self._backend.store.existing_keys(
                self.table,
                self.key,
                [k for row, k in enumerate(keys) if row not in refused and k is not None],
            )
            problems += stored_key_problems(keys, stored, self.key)
        if not whole and lateness:
            problems += self._backend.precheck(self, frame)
        return problems, whole

    def push_history(self, records: Records) -> int:
        """Add more history, as if it had come with ``create_dataset``: allowed until the first
        live push and before any feature set or deployment reads the dataset (a large history
        uploaded in parts). Validated like a push, never refused as late.

        >>> import rtml
        >>> backend = rtml.connect("local", path=":memory:")
        >>> tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
        >>> tx.push_history([{"id": 1, "x": 0.5}]), tx.push([{"id": 2, "x": 1.0}])
        (1, 1)
        >>> tx.push_history([{"id": 3, "x": 0.5}])
        Traceback (most recent call last):
        ...
        rtml.errors.SchemaError: dataset 'tx': history can be added only before its first live push and before a feature set or deployment reads it
        """
        if not self._backend.history_open(self.name):
            raise SchemaError(
                f"dataset {self.name!r}: history can be added only before its first live push "
                f"and before a feature set or deployment reads it"
            )
        frame = to_frame(records, self.name, self._schema)
        problems, whole = self.validate(frame, lateness=False)
        if problems or whole:
            raise SchemaError(describe(self.name, problems, whole))
        if len(frame):
            self._backend.accept_history(self, conform(frame, self._schema))
        return len(frame)

    def push(self, records: Records, on_error: Literal["raise", "dead_letter"] = "raise") -> int:
        if on_error not in ("raise", "dead_letter"):
            raise ValueError(f"on_error must be 'raise' or 'dead_letter', got {on_error!r}")
        frame = to_frame(records, self.name, self._schema)
        problems, whole = self.validate(frame)
        if whole or (problems and on_error == "raise"):
            raise SchemaError(describe(self.name, problems, whole))
        # Records set aside, by their row in the push (dead letters are kept in push order).
        aside: dict[int, tuple[dict[str, Any], str]] = {}
        rows = list(range(len(frame)))  # each remaining record's row in the push
        if problems:
            frame, rows = self._set_aside(frame, problems, rows, aside)
            # Rows dropped can change what is late or duplicated: validate the rest again.
            problems, whole = self.validate(frame)
            if problems or whole:
                shown = [Problem(rows[p.row], p.field, p.reason) for p in problems]
                raise SchemaError(describe(self.name, shown, whole))
        accepted = conform(frame, self._schema) if len(frame) else frame
        while True:
            try:
                self._backend.accept(self, accepted, [aside[r] for r in sorted(aside)])
                return len(accepted)
            except FeatureRowsError as exc:
                # Nothing was written. Records a feature cannot be computed for are refused by
                # row, or set aside, and the rest pushed again (each round drops at least one).
                if not exc.failures:
                    raise  # it names no record to set aside
                failed = [Problem(r, name, why) for r, (name, why) in exc.failures.items()]
                if on_error == "raise":
                    shown = [Problem(rows[p.row], p.field, p.reason) for p in failed]
                    raise FeatureRowsError(
                        describe(self.name, shown, []),
                        {p.row: (p.field, p.reason) for p in shown},
                    ) from None
                accepted, rows = self._set_aside(accepted, failed, rows, aside)

    @staticmethod
    def _set_aside(
        frame: pd.DataFrame,
        problems: list[Problem],
        rows: list[int],
        aside: dict[int, tuple[dict[str, Any], str]],
    ) -> tuple[pd.DataFrame, list[int]]:
        """The records of ``frame`` without a problem, and their rows in the push; the others
        go to ``aside`` under theirs."""
        kept, letters = set_aside(frame, problems, rows)
        bad = sorted({p.row for p in problems})
        aside.update(zip((rows[b] for b in bad), letters, strict=True))
        dropped = set(bad)
        return kept, [r for i, r in enumerate(rows) if i not in dropped]
