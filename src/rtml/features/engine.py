"""The feature engine: one algorithm for the backfill over history and for live micro-batches.

Every batch, whatever its size, is processed record by record in arrival order for the window
features (each record inserted into its key's window, then the window read), and vectorised for
the row features. Because the per-record steps are the same whatever the batch boundaries, the
backfill (history as one batch) and any sequence of live pushes give the same values.

Window state keeps, per feature and key, the retained records sorted by event time (ties in
arrival order). Records older than ``watermark - allowed_lateness - delay - window`` can never
be read again and are evicted, so memory is bounded by window contents, not stream length.
"""

from __future__ import annotations

import pickle
from bisect import bisect_left, bisect_right
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from rtml.errors import SchemaError
from rtml.features.aggregate import Aggregate
from rtml.features.base import RowFeature, WindowFeature
from rtml.features.featureset import FeatureSet
from rtml.features.timestamps import to_nanos

__all__ = ["FeatureEngine", "LateRecordsError"]

_SWEEP_EVERY = 100_000  # records between sweeps of keys that were not touched recently


class LateRecordsError(SchemaError):
    """Records arrived further behind the latest event time than the allowed lateness."""

    def __init__(self, message: str, rows: list[int], reason: str) -> None:
        super().__init__(message)
        self.rows = rows
        self.reason = reason


@dataclass
class _Window:
    """Retained records of one key: event times (sorted) and their values."""

    ts: list[int] = field(default_factory=list)
    rows: list[Any] = field(default_factory=list)

    def evict_before(self, horizon: int) -> list[Any]:
        cut = bisect_left(self.ts, horizon)
        if not cut:
            return []
        gone = self.rows[:cut]
        del self.ts[:cut]
        del self.rows[:cut]
        return gone


@dataclass
class _FeatureState:
    """State of one window feature: windows per key; joined source values when ``source``."""

    windows: dict[Hashable, _Window] = field(default_factory=dict)
    joined: dict[Hashable, tuple[Any, ...]] = field(default_factory=dict)
    pending: dict[Hashable, tuple[Any, ...]] = field(default_factory=dict)
    retained: set[Hashable] = field(default_factory=set)


class FeatureEngine:
    """Computes a :class:`FeatureSet` over batches of records, keeping window state between them.

    ``key`` is the dataset's key column (used to join ``source`` datasets such as labels).

    >>> import pandas as pd, rtml
    >>> fs = rtml.FeatureSet(name="f", dataset="tx", timestamp="ts", features=[
    ...     rtml.features.Aggregate("n_1h", column="amount", op="count", by="card", window="1h")])
    >>> engine = FeatureEngine(fs, key="id")
    >>> engine.process(pd.DataFrame({"id": [1, 2], "card": ["a", "a"], "ts": [0, 3600],
    ...                              "amount": [1.0, 2.0]}))["n_1h"].tolist()
    [1, 2]
    >>> engine.process(pd.DataFrame({"id": [3], "card": ["a"], "ts": [7201],
    ...                              "amount": [5.0]}))["n_1h"].tolist()
    [1]
    """

    def __init__(self, feature_set: FeatureSet, key: str, max_pending: int = 10_000_000) -> None:
        self.feature_set = feature_set
        self.key = key
        self.max_pending = max_pending
        self._order = feature_set.ordered()
        self._window_features = [f for f in self._order if isinstance(f, WindowFeature)]
        self._states: dict[str, _FeatureState] = {
            f.name: _FeatureState() for f in self._window_features
        }
        self._watermark: int | None = None
        self._since_sweep = 0
        self._extra_lateness = 0

    # ---- state -------------------------------------------------------------------------
    def snapshot(self) -> bytes:
        """The engine's state as bytes (for checkpoints)."""
        return pickle.dumps((self._states, self._watermark, self._since_sweep), protocol=5)

    def restore(self, data: bytes) -> None:
        """Continue from a :meth:`snapshot`: later batches give what they would have given."""
        self._states, self._watermark, self._since_sweep = pickle.loads(data)

    def state_size(self) -> dict[str, int]:
        """Records retained in window state, per window feature (observable memory bound)."""
        return {
            name: sum(len(w.ts) for w in s.windows.values()) for name, s in self._states.items()
        }

    @property
    def watermark(self) -> int | None:
        """The latest event time seen, in nanoseconds since the epoch."""
        return self._watermark

    # ---- joined sources ----------------------------------------------------------------
    def apply_source(self, source: str, frame: pd.DataFrame, key: str) -> None:
        """Records of a joined dataset (e.g. labels) arrive: later windows see their values."""
        for f in self._window_features:
            if f.source != source:
                continue
            state = self._states[f.name]
            columns = [frame[c].tolist() for c in f.value_columns()]
            for k, *values in zip(frame[key].tolist(), *columns, strict=True):
                if k in state.retained:
                    state.joined[k] = tuple(values)
                else:
                    state.pending[k] = tuple(values)
                    if len(state.pending) > self.max_pending:
                        # Oldest first: a label whose event never came is the first to go.
                        del state.pending[next(iter(state.pending))]

    # ---- events ------------------------------------------------------------------------
    def check(self, frame: pd.DataFrame) -> np.ndarray:
        """Event times of ``frame``; :class:`LateRecordsError` if any record is too late.

        Nothing is changed, so a refused batch leaves the engine as it was.
        """
        fs = self.feature_set
        ts = self.event_times(frame)
        if len(ts):
            late = np.flatnonzero(_behind(ts, self._watermark) > fs.lateness_ns)
            if late.size:
                rows = late.tolist()
                reason = (
                    f"more than allowed_lateness={fs.allowed_lateness} (feature set {fs.name!r}) "
                    f"behind the latest event time; expected a later time"
                )
                raise LateRecordsError(
                    f"dataset {fs.dataset!r}: field {fs.timestamp!r} in row(s) {rows[:10]} is "
                    f"{reason}",
                    rows,
                    reason,
                )
        return ts

    def process(self, frame: pd.DataFrame, enforce_lateness: bool = True) -> pd.DataFrame:
        """Feature values of each record of ``frame`` (in arrival order): key + feature columns.

        With ``enforce_lateness=False`` (history loaded in bulk) no record is refused as late:
        the window state keeps whatever the batch's disorder needs.
        """
        if enforce_lateness:
            return self._run(frame, commit=True)
        ts = self.event_times(frame)
        disorder = _disorder(ts, self._watermark)
        self._extra_lateness = max(0, disorder - self.feature_set.lateness_ns)
        try:
            return self._run(frame, commit=True, ts=ts)
        finally:
            self._extra_lateness = 0

    def preview(self, frame: pd.DataFrame) -> pd.DataFrame:
        """What :meth:`process` would give for each record on its own, changing no state.

        Each record sees the live windows as they are now (plus itself), not the other records
        of ``frame``: this is the value a synchronous prediction uses.
        """
        return self._run(frame, commit=False)

    def _run(self, frame: pd.DataFrame, commit: bool, ts: np.ndarray | None = None) -> pd.DataFrame:
        if ts is None:
            ts = self.check(frame) if commit else self.event_times(frame)
        work = frame.reset_index(drop=True).copy(deep=False)
        for f in self._order:
            if isinstance(f, WindowFeature):
                work[f.name] = self._window_values(f, work, ts, commit)
            else:
                work[f.name] = cast(RowFeature, f).compute(work)
        out = work[[self.key, *(f.name for f in self.feature_set.features)]]
        out.index = frame.index
        if not commit:
            return out
        if len(ts):
            top = int(ts.max())
            self._watermark = top if self._watermark is None else max(self._watermark, top)
        self._since_sweep += len(work)
        if self._since_sweep >= _SWEEP_EVERY:
            self._sweep()
        return out

    def event_times(self, frame: pd.DataFrame) -> np.ndarray:
        fs = self.feature_set
        if frame[fs.timestamp].isna().any():
            raise SchemaError(f"dataset {fs.dataset!r}: field {fs.timestamp!r} is null")
        return to_nanos(frame[fs.timestamp], fs.timestamp_format)

    def _horizon(self, f: WindowFeature, watermark: int) -> int:
        lateness = self.feature_set.lateness_ns + self._extra_lateness
        return watermark - lateness - f.delay_ns - f.window_ns

    def _window_values(
        self, f: WindowFeature, work: pd.DataFrame, ts: np.ndarray, commit: bool
    ) -> Any:
        state = self._states[f.name]
        keys = _key_tuples(work, f.by)
        events = work[self.key].tolist()
        if f.source:
            rows: list[Any] = events
        else:
            rows = list(zip(*(work[c].tolist() for c in f.value_columns()), strict=True))
        width, delay = f.window_ns, f.delay_ns
        right_open_left = f.closed == "right"
        watermark = self._watermark
        values: list[Any] = []
        empty: tuple[Any, ...] = (None,) * len(f.value_columns())
        for i, t in enumerate(ts.tolist()):
            watermark = t if watermark is None else max(watermark, t)
            window = state.windows.get(keys[i])
            if window is None:
                window = _Window()
                if commit:
                    state.windows[keys[i]] = window
            if not commit:
                values.append(self._peek(f, state, window, t, rows[i], empty))
                continue
            gone = window.evict_before(self._horizon(f, watermark))
            if f.source:
                for k in gone:
                    state.retained.discard(k)
                    state.joined.pop(k, None)
                k = events[i]
                state.retained.add(k)
                if k in state.pending:
                    state.joined[k] = state.pending.pop(k)
            pos = bisect_right(window.ts, t)
            window.ts.insert(pos, t)
            window.rows.insert(pos, rows[i])
            right = t - delay
            left = right - width
            lo = bisect_right(window.ts, left) if right_open_left else bisect_left(window.ts, left)
            hi = bisect_right(window.ts, right)
            inside = window.rows[lo:hi]
            if f.source:
                inside = [state.joined.get(k, empty) for k in inside]
            values.append(f.reduce(inside))
        return _column(f, values)

    def _peek(
        self,
        f: WindowFeature,
        state: _FeatureState,
        window: _Window,
        t: int,
        row: Any,
        empty: tuple[Any, ...],
    ) -> Any:
        """The value with the record inserted, then the window put back as it was."""
        pos = bisect_right(window.ts, t)
        window.ts.insert(pos, t)
        window.rows.insert(pos, row)
        try:
            right = t - f.delay_ns
            left = right - f.window_ns
            lo = (
                bisect_right(window.ts, left)
                if f.closed == "right"
                else bisect_left(window.ts, left)
            )
            inside = window.rows[lo : bisect_right(window.ts, right)]
            if f.source:
                inside = [
                    state.joined.get(k, state.pending.get(k, empty))
                    if k == row
                    else state.joined.get(k, empty)
                    for k in inside
                ]
            return f.reduce(inside)
        finally:
            del window.ts[pos]
            del window.rows[pos]

    def _sweep(self) -> None:
        """Evict expired records of keys that were not touched since they expired."""
        self._since_sweep = 0
        if self._watermark is None:
            return
        for f in self._window_features:
            state = self._states[f.name]
            horizon = self._horizon(f, self._watermark)
            for k in list(state.windows):
                window = state.windows[k]
                for event in window.evict_before(horizon):
                    if f.source:
                        state.retained.discard(event)
                        state.joined.pop(event, None)
                if not window.ts:
                    del state.windows[k]


def _behind(ts: np.ndarray, watermark: int | None) -> np.ndarray:
    """How far each event time is behind the latest one seen before it (0 if not behind)."""
    start = ts[0] if watermark is None else watermark
    running = np.maximum.accumulate(np.concatenate(([start], ts)))[:-1]
    return np.maximum(running - ts, 0)


def _disorder(ts: np.ndarray, watermark: int | None) -> int:
    return int(_behind(ts, watermark).max()) if len(ts) else 0


def _key_column(series: pd.Series) -> list[Any]:
    # NULL keys form one group, as in SQL's PARTITION BY (NaN objects never compare equal).
    values = series.tolist()
    if series.hasnans:
        return [None if v is None or v != v else v for v in values]
    return values


def _key_tuples(frame: pd.DataFrame, by: tuple[str, ...]) -> list[Hashable]:
    if len(by) == 1:
        return _key_column(frame[by[0]])
    return list(zip(*(_key_column(frame[c]) for c in by), strict=True))


def _column(f: WindowFeature, values: list[Any]) -> Any:
    if isinstance(f, Aggregate) and f.op in ("count", "count_distinct"):
        return np.asarray(values, dtype="int64")
    try:
        return np.asarray([np.nan if v is None else v for v in values], dtype="float64")
    except (TypeError, ValueError):
        return pd.array(values, dtype=object)
