"""Window state: per key, the retained records sorted by event time, ties in arrival order.

Window features that share their ``by`` columns and ``source`` share one :class:`Group`, so a
record is stored and evicted once however many features read it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rtml.features.base import WindowFeature
from rtml.nulls import or_none

__all__ = ["Group", "KeyWindow", "group_features", "key_column", "key_tuples", "record_key"]


@dataclass
class KeyWindow:
    """Retained records of one key: event times (sorted) and one list per stored column.

    For a joined ``source`` the only stored column is the record's key in its own dataset, by
    which the source's values are looked up when the window is read.
    """

    ts: list[int] = field(default_factory=list)
    cols: list[list[Any]] = field(default_factory=list)

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

    ``columns`` are the stored columns (for a source: the event key). ``reach`` is the longest
    ``delay + window`` of the group's features: how far back any of them can read.
    """

    by: tuple[str, ...]
    source: str | None
    columns: tuple[str, ...]
    reach: int
    source_columns: tuple[str, ...] = ()
    windows: dict[Hashable, KeyWindow] = field(default_factory=dict)
    # For a source: its values by event key, for events still retained (or pending arrival).
    joined: dict[Hashable, tuple[Any, ...]] = field(default_factory=dict)
    pending: dict[Hashable, tuple[Any, ...]] = field(default_factory=dict)
    retained: set[Hashable] = field(default_factory=set)

    def window(self, key: Hashable, create: bool = True) -> KeyWindow:
        found = self.windows.get(key)
        if found is None:
            found = KeyWindow(cols=[[] for _ in self.columns])
            if create:
                self.windows[key] = found
        return found

    def forget(self, events: list[Any]) -> None:
        """Evicted records of a source group: their joined values can go too."""
        for event in events:
            self.retained.discard(event)
            self.joined.pop(event, None)

    def size(self) -> int:
        return sum(len(w.ts) for w in self.windows.values())


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
        for column in f.value_columns():
            if column not in wanted[index]:
                wanted[index].append(column)
    for index, group in enumerate(groups):
        group.columns = (key,) if group.source else tuple(wanted[index])
        group.source_columns = tuple(wanted[index]) if group.source else ()
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
