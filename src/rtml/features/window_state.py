"""Window state: per key, the retained records sorted by event time, ties in arrival order.

Window features that share their ``by`` columns and ``source`` share one :class:`Group`, so a
record is stored and evicted once however many features read it. A joined source's values (an
event's label) are stored in the window beside the event they belong to, written when they
arrive: reading a window never looks them up.

A column read only by numeric aggregates (:data:`~rtml.features.aggregate.NUMERIC_OPS`) is held
as a typed array of float64, NULL as NaN: a batch lays out every touched key's values as one
copy of their bytes, it takes a quarter of the memory of a list of floats, and the garbage
collector has nothing in it to walk. The first value that is not a number (booleans count as 0
and 1) turns the column back into lists for good (the values already stored read the same as
floats).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rtml.features.aggregate import NUMERIC_OPS, Aggregate
from rtml.features.base import WindowFeature
from rtml.nulls import or_none

__all__ = [
    "Group",
    "KeyWindow",
    "as_float",
    "group_features",
    "key_column",
    "key_tuples",
    "record_key",
]


def as_float(value: Any) -> float:
    """A value as a typed column holds it: a number as a float, NULL as NaN; ``TypeError``
    for anything else (text, timestamps, objects).

    >>> as_float(3), as_float(None), as_float(True)
    (3.0, nan, 1.0)
    """
    if value is None or value is pd.NA:
        return math.nan
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    raise TypeError(f"not a number: {value!r}")


@dataclass
class KeyWindow:
    """Retained records of one key: event times (sorted) and one list or float64 array per
    stored column (as its :class:`Group` types it).

    For a joined ``source`` the stored columns are the record's key in its own dataset, then
    the source's values for it (None, or NaN in an array, until they arrive). Times are a typed
    array: a batch lays out the times of every key it touches as one copy of their bytes.
    """

    ts: array[int] = field(default_factory=lambda: array("q"))
    cols: list[Any] = field(default_factory=list)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Checkpoints up to commit c3af9ce held times as lists.
        if not isinstance(state["ts"], array):
            state["ts"] = array("q", state["ts"])
        self.__dict__.update(state)

    def evict_before(self, horizon: int) -> list[Any]:
        """Drop records older than ``horizon``; returns the first stored column of those dropped."""
        cut = bisect_left(self.ts, horizon)
        if not cut:
            return []
        gone = self.cols[0][:cut] if self.cols else []
        del self.ts[:cut]
        for column in self.cols:
            del column[:cut]
        return gone


@dataclass
class Group:
    """State shared by the window features with the same ``by`` and ``source``.

    ``columns`` are the stored columns of the event (for a source: its key). ``reach`` is the
    longest ``delay + window`` of the group's features: how far back any of them can read.
    """

    by: tuple[str, ...]
    source: str | None
    columns: tuple[str, ...]
    reach: int
    source_columns: tuple[str, ...] = ()
    windows: dict[Hashable, KeyWindow] = field(default_factory=dict)
    # For a source: where each retained event is stored (its window's key, its time and its
    # rank among that window's records of the same time), and the values that arrived before
    # their event did. A rank never changes: records of one time are evicted together, and a
    # later record of the same time is stored after the earlier ones.
    home: dict[Hashable, tuple[Hashable, int, int]] = field(default_factory=dict)
    pending: dict[Hashable, tuple[Any, ...]] = field(default_factory=dict)
    # Per stored column (the event's, then the source's): held as array("d") rather than a list.
    typed: tuple[bool, ...] = ()

    @property
    def empty(self) -> tuple[Any, ...]:
        """A source's values for an event none have arrived for."""
        return (None,) * len(self.source_columns)

    def window(self, key: Hashable, create: bool = True) -> KeyWindow:
        found = self.windows.get(key)
        if found is None:
            found = KeyWindow(cols=[array("d") if t else [] for t in self.column_types()])
            if create:
                self.windows[key] = found
        return found

    def column_types(self) -> tuple[bool, ...]:
        width = len(self.columns) + len(self.source_columns)
        return self.typed or (False,) * width

    def insert(self, window: KeyWindow, pos: int, t: int, row: list[Any]) -> None:
        """Store one record (its time and stored values) at ``pos`` of ``window``."""
        for i, value in enumerate(row):
            held = self.held(i, value)  # first: it may turn the column into lists
            column = window.cols[i]
            if isinstance(column, array) and not self.column_types()[i]:
                column = window.cols[i] = list(column)  # a window outside the group (a preview)
            column.insert(pos, held)
        window.ts.insert(pos, t)

    def held(self, index: int, value: Any) -> Any:
        """``value`` as stored column ``index`` holds it; a value that is not a number turns a
        typed column into lists first."""
        if not (self.typed and self.typed[index]):
            return value
        try:
            return as_float(value)
        except TypeError:
            self.untype(index)
            return value

    def untype(self, index: int) -> None:
        """Stored column ``index`` as lists from now on, in every window."""
        for window in self.windows.values():
            window.cols[index] = list(window.cols[index])
        self.typed = tuple(t and i != index for i, t in enumerate(self.typed))

    def join(self, event: Hashable, values: tuple[Any, ...]) -> bool:
        """A source's ``values`` for ``event``: written beside it if it is retained (True);
        otherwise left to the caller to keep pending (False)."""
        found = self.home.get(event)
        if found is None:
            return False
        key, t, rank = found
        window = self.windows[key]
        pos = bisect_left(window.ts, t) + rank
        for i, value in enumerate(values, start=1):
            held = self.held(i, value)  # first: it may turn the column into lists
            window.cols[i][pos] = held
        return True

    def admit(self, event: Hashable, key: Hashable, t: int, rank: int) -> tuple[Any, ...]:
        """``event`` is stored in ``key``'s window at time ``t``, after ``rank`` records of
        that time: its values that came first."""
        self.home[event] = (key, t, rank)
        return self.pending.pop(event, self.empty)

    def forget(self, events: Iterable[Any]) -> None:
        """Evicted records of a source group: they can no longer be joined."""
        for event in events:
            self.home.pop(event, None)

    def size(self) -> int:
        return sum(len(w.ts) for w in self.windows.values())

    def adopt_types(self, wanted: tuple[bool, ...]) -> None:
        """Hold as typed arrays the columns ``wanted`` typed whose stored values are all
        numbers: state from a checkpoint written before typed columns existed."""
        typed = list(self.column_types())
        for i, want in enumerate(wanted):
            if want and not typed[i]:
                try:
                    arrays = [
                        (w, array("d", map(as_float, w.cols[i]))) for w in self.windows.values()
                    ]
                except TypeError:
                    continue
                for window, column in arrays:
                    window.cols[i] = column
                typed[i] = True
        self.typed = tuple(typed)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Checkpoints up to commit c3af9ce kept a source's values in a dict by event, looked up
        # at every read: they move into the windows, beside their events.
        if "joined" in state:
            joined, empty = state.pop("joined"), (None,) * len(state["source_columns"])
            state.pop("retained")
            state["home"] = {}
            for key, window in state["windows"].items() if state["source"] else ():
                rows = [joined.get(event, empty) for event in window.cols[0]]
                window.cols[1:] = [[row[j] for row in rows] for j in range(len(empty))]
                for i, (event, t) in enumerate(zip(window.cols[0], window.ts, strict=True)):
                    state["home"][event] = (key, t, i - bisect_left(window.ts, t))
        self.__dict__.update(state)


def group_features(
    features: list[WindowFeature], key: str
) -> tuple[list[Group], dict[str, tuple[int, tuple[int, ...]]]]:
    """The groups of ``features`` and, per feature, its group index and column positions.

    For a source group the positions index the source's value columns, not stored columns.
    """
    groups: list[Group] = []
    where: dict[str, tuple[int, tuple[int, ...]]] = {}
    by_id: dict[tuple[tuple[str, ...], str | None, tuple[str, ...]], int] = {}
    wanted: dict[int, list[str]] = {}
    numeric: dict[int, bool] = {}
    for f in features:
        # Features share state only when they read the same columns: then every stored column
        # is computed before the first of them, whatever the order of the feature set.
        ident = (f.by, f.source, f.value_columns())
        if ident not in by_id:
            by_id[ident] = len(groups)
            groups.append(Group(by=f.by, source=f.source, columns=(), reach=0))
            wanted[by_id[ident]] = []
        index = by_id[ident]
        group = groups[index]
        group.reach = max(group.reach, f.delay_ns + f.window_ns)
        # (exactly Aggregate: a subclass may read its values otherwise)
        read_as_numbers = type(f) is Aggregate and f.op in NUMERIC_OPS
        numeric[index] = numeric.get(index, True) and read_as_numbers
        for column in f.value_columns():
            if column not in wanted[index]:
                wanted[index].append(column)
    for index, group in enumerate(groups):
        group.columns = (key,) if group.source else tuple(wanted[index])
        group.source_columns = tuple(wanted[index]) if group.source else ()
        values = (numeric[index],) * len(wanted[index])
        group.typed = (False, *values) if group.source else values  # a source's event key: any
    for f in features:
        index = by_id[(f.by, f.source, f.value_columns())]
        where[f.name] = (index, tuple(wanted[index].index(c) for c in f.value_columns()))
    return groups, where


def key_column(series: pd.Series) -> list[Any]:
    # NULL keys form one group, as in SQL's PARTITION BY (NaN objects never compare equal).
    values = series.tolist()
    if series.hasnans:
        return [or_none(v) for v in values]
    return values


def key_tuples(frame: pd.DataFrame, by: tuple[str, ...]) -> list[Hashable]:
    if len(by) == 1:
        return key_column(frame[by[0]])
    return list(zip(*(key_column(frame[c]) for c in by), strict=True))


def record_key(row: dict[str, Any], by: tuple[str, ...]) -> Hashable:
    """One record's window key, as :func:`key_tuples` reads it from a frame."""
    if len(by) == 1:
        return or_none(row.get(by[0]))
    return tuple(or_none(row.get(c)) for c in by)
