"""The feature engine: one semantics for the backfill over history and for live micro-batches.

Window features are computed per :class:`~rtml.features.window_state.Group` (features sharing
their key columns, source and value columns). A batch is processed in one of two ways that give
the same values:

- record by record, in arrival order: each record inserted into its key's window, then the
  window read (any batch; the only way for out-of-order batches and custom window kinds);
- vectorised (:mod:`rtml.features.vectorized`), for batches of built-in aggregates whose
  records come in event-time order: the windows are located by binary search over all records
  at once and reduced with numpy.

Records older than ``watermark - allowed_lateness - delay - window`` can never be read again and
are evicted, so memory is bounded by window contents, not stream length.
"""

from __future__ import annotations

import pickle
from bisect import bisect_left, bisect_right
from typing import Any, cast

import numpy as np
import pandas as pd

from rtml.errors import FeatureRowsError, SchemaError, SpecError
from rtml.features.aggregate import Aggregate
from rtml.features.base import RowFeature, WindowFeature
from rtml.features.featureset import FeatureSet
from rtml.features.row_failures import raise_located, rows_error
from rtml.features.sql import SQL
from rtml.features.sql_eval import evaluate_sql, evaluate_sql_row
from rtml.features.timestamps import nanos_of, time_problems, to_nanos
from rtml.features.vectorized import NotNumeric, can_vectorize, vectorized_group
from rtml.features.window_state import (
    Group,
    KeyWindow,
    group_features,
    key_tuples,
    record_key,
)

__all__ = [
    "EventTimeError",
    "FeatureEngine",
    "LateRecordsError",
    "disorder",
    "kind_of",
    "window_column",
]

_SWEEP_EVERY = 100_000  # records between sweeps of keys that were not touched recently
VECTORIZE_FROM = 64  # batches at least this large, in event-time order, are vectorised


class LateRecordsError(SchemaError):
    """Records arrived further behind the latest event time than the allowed lateness.

    >>> import pandas as pd, rtml
    >>> fs = rtml.FeatureSet(name="f", dataset="tx", timestamp="ts", allowed_lateness="10s",
    ...     features=[rtml.features.SQL("one", "1")])
    >>> engine = FeatureEngine(fs, key="id")
    >>> _ = engine.process(pd.DataFrame({"id": [1], "ts": [100]}))
    >>> try:
    ...     engine.process(pd.DataFrame({"id": [2, 3], "ts": [95, 50]}))
    ... except LateRecordsError as exc:
    ...     print(exc.rows)
    [1]
    """

    def __init__(self, message: str, rows: list[int], reason: str) -> None:
        super().__init__(message)
        self.rows = rows
        self.reason = reason


class EventTimeError(SchemaError):
    """Event times rtml cannot hold: ``reasons`` maps each such row of the batch to why (see
    :func:`rtml.features.timestamps.time_problems`).

    >>> import pandas as pd, rtml
    >>> fs = rtml.FeatureSet(name="f", dataset="tx", timestamp="ts",
    ...     features=[rtml.features.SQL("one", "1")])
    >>> try:
    ...     FeatureEngine(fs, key="id").process(pd.DataFrame({"id": [1, 2], "ts": [1.7e9, 1.7e12]}))
    ... except EventTimeError as exc:
    ...     print(list(exc.reasons))
    [1]
    """

    def __init__(self, message: str, reasons: dict[int, str]) -> None:
        super().__init__(message)
        self.reasons = reasons


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

    def __init__(
        self,
        feature_set: FeatureSet,
        key: str,
        max_pending: int = 10_000_000,
        vectorize_from: int = VECTORIZE_FROM,
    ) -> None:
        self.feature_set = feature_set
        self.key = key
        self.max_pending = max_pending
        self.vectorize_from = vectorize_from
        self._order = feature_set.ordered()
        window_features = [f for f in self._order if isinstance(f, WindowFeature)]
        self._groups, self._where = group_features(window_features, key)
        self._members: list[list[WindowFeature]] = [[] for _ in self._groups]
        for f in window_features:
            self._members[self._where[f.name][0]].append(f)
        self._stages = _stages(self._order, self._where)
        self._watermark: int | None = None
        self._since_sweep = 0
        self._extra_lateness = 0

    # ---- state -------------------------------------------------------------------------
    def snapshot(self) -> bytes:
        """The engine's state as bytes (for checkpoints)."""
        return pickle.dumps((self._groups, self._watermark, self._since_sweep), protocol=5)

    def restore(self, data: bytes) -> None:
        """Continue from a :meth:`snapshot`: later batches give what they would have given."""
        declared = [g.typed for g in self._groups]
        self._groups, self._watermark, self._since_sweep = pickle.loads(data)
        for group, typed in zip(self._groups, declared, strict=True):
            group.adopt_types(typed)

    def state_size(self) -> dict[str, int]:
        """Records retained in window state, per window feature (observable memory bound)."""
        return {name: self._groups[index].size() for name, (index, _) in self._where.items()}

    @property
    def watermark(self) -> int | None:
        """The latest event time seen, in nanoseconds since the epoch."""
        return self._watermark

    def advance(self, t: int) -> None:
        """Move the watermark to event time ``t`` (nanoseconds) if it is later: records stored
        elsewhere that this engine has not processed (a gate checking lateness only)."""
        self._watermark = t if self._watermark is None else max(self._watermark, t)

    # ---- joined sources ----------------------------------------------------------------
    def apply_source(self, source: str, frame: pd.DataFrame, key: str) -> None:
        """Records of a joined dataset (e.g. labels) arrive: later windows see their values."""
        for group in self._groups:
            if group.source != source:
                continue
            columns = [frame[c].tolist() for c in group.source_columns]
            for k, *values in zip(frame[key].tolist(), *columns, strict=True):
                if not group.join(k, tuple(values)):
                    group.pending[k] = tuple(values)
                    if len(group.pending) > self.max_pending:
                        # Oldest first: a value whose event never came is the first to go.
                        del group.pending[next(iter(group.pending))]

    # ---- events ------------------------------------------------------------------------
    def event_times(self, frame: pd.DataFrame) -> np.ndarray:
        """The batch's event times in nanoseconds; :class:`SchemaError` if any is null."""
        fs = self.feature_set
        if frame[fs.timestamp].isna().any():
            rows = np.flatnonzero(frame[fs.timestamp].isna().to_numpy()).tolist()
            raise SchemaError(
                f"dataset {fs.dataset!r}: field {fs.timestamp!r} is null in row(s) {rows[:10]}: "
                f"expected an event time"
            )
        reasons = time_problems(frame[fs.timestamp], fs.timestamp_format)
        if reasons:
            row, reason = next(iter(reasons.items()))
            raise EventTimeError(
                f"dataset {fs.dataset!r}: field {fs.timestamp!r} in row(s) {list(reasons)[:10]} "
                f"(feature set {fs.name!r}): row {row}: {reason}",
                reasons,
            )
        return to_nanos(frame[fs.timestamp], fs.timestamp_format)

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
        self._extra_lateness = max(0, disorder(ts, self._watermark) - self.feature_set.lateness_ns)
        try:
            return self._run(frame, commit=True, ts=ts)
        finally:
            self._extra_lateness = 0

    def from_records_alone(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with the features each record gives on its own: the row features (SQL,
        UDFs) of the stages up to the first window. Changes no state; a
        :class:`~rtml.errors.FeatureRowsError` names the records one of them fails for (what a
        backend that computes the features elsewhere checks a push with)."""
        work = frame.reset_index(drop=True).copy(deep=False)
        for sql, rows, groups in self._stages:
            made = _row_columns(sql, rows, work)
            if made:
                work = pd.concat([work, pd.DataFrame(made, index=work.index)], axis=1)
            if groups:  # later stages may read windows
                break
        return work

    def preview(self, frame: pd.DataFrame) -> pd.DataFrame:
        """What :meth:`process` would give for each record on its own, changing no state.

        Each record sees the live windows as they are now (plus itself), not the other records
        of ``frame``: this is the value a synchronous prediction uses.
        """
        return self._run(frame, commit=False)

    def preview_record(
        self, record: dict[str, Any], types: dict[str, str]
    ) -> dict[str, Any] | None:
        """What :meth:`preview` gives for one record, without building DataFrames (the path of
        a synchronous prediction); ``types`` maps the dataset's columns to DuckDB types, as
        their columns would have. ``None`` when this feature set needs the frame path (a
        Python UDF, a null the SQL types cannot place).
        """
        fs = self.feature_set
        if any(rows for _, rows, _ in self._stages):
            return None
        t = nanos_of(record.get(fs.timestamp), fs.timestamp_format)
        if t is None:
            return None
        row = dict(record)
        kinds: dict[str, str | None] = dict(types)
        # SQL features are row-wise: each waits until a window needs its value, or the end, so
        # that as many as possible go to DuckDB in one query (a query costs ~0.4 ms here).
        waiting: list[SQL] = []

        def evaluate_waiting() -> bool:
            values = evaluate_sql_row(waiting, row, kinds)
            if values is None:
                return False
            for f, value in zip(waiting, values, strict=True):
                row[f.name] = value
                kinds[f.name] = kind_of(value)
            waiting.clear()
            return True

        for sql, _, groups in self._stages:
            names = {f.name for f in waiting}
            if any(c in names for f in sql for c in f.columns()) and not evaluate_waiting():
                return None  # one query cannot read what it computes: the earlier ones first
            waiting += sql
            for index in groups:
                group, members = self._groups[index], self._members[index]
                needed = {*group.by, *group.columns}
                if any(f.name in needed for f in waiting) and not evaluate_waiting():
                    return None
                keys = [record_key(row, group.by)]
                stored = [[row.get(c)] for c in group.columns]
                outputs = self._per_record(group, members, keys, stored, [t], commit=False)
                for f, (value,) in zip(members, outputs, strict=True):
                    row[f.name] = _scalar(f, value)
                    kinds[f.name] = kind_of(row[f.name])
        if waiting and not evaluate_waiting():
            return None
        return {f.name: row[f.name] for f in fs.features}

    def _run(self, frame: pd.DataFrame, commit: bool, ts: np.ndarray | None = None) -> pd.DataFrame:
        if ts is None:
            ts = self.check(frame) if commit else self.event_times(frame)
        work = frame.reset_index(drop=True).copy(deep=False)
        in_order = commit and _in_order(ts, self._watermark)
        for sql, rows, groups in self._stages:
            # A stage reads only earlier stages: its columns are added in one go (adding
            # DataFrame columns one by one costs more than computing them on small batches).
            made = _row_columns(sql, rows, work)
            for index in groups:
                columns = self._group_values(index, work, ts, commit, in_order)
                for member, column in zip(self._members[index], columns, strict=True):
                    made[member.name] = column
            work = pd.concat([work, pd.DataFrame(made, index=work.index)], axis=1)
        out = work[[self.key, *(f.name for f in self.feature_set.features)]]
        out.index = frame.index
        if commit and len(ts):
            top = int(ts.max())
            self._watermark = top if self._watermark is None else max(self._watermark, top)
            self._since_sweep += len(work)
            if self._since_sweep >= _SWEEP_EVERY:
                self._sweep()
        return out

    # ---- keyed execution: window state partitioned by key outside the engine -----------
    @property
    def stages(self) -> list[tuple[list[SQL], list[RowFeature], list[int]]]:
        """The features by dependency depth: (SQL features, other row features, window
        groups) per stage; each stage reads only what earlier stages computed."""
        return self._stages

    def group(self, index: int) -> Group:
        """Window group ``index`` as declared (its ``by``, ``source`` and columns), empty."""
        g = self._groups[index]
        return Group(
            by=g.by,
            source=g.source,
            columns=g.columns,
            reach=g.reach,
            source_columns=g.source_columns,
            typed=g.typed,
        )

    def members(self, index: int) -> list[WindowFeature]:
        """The window features computed by group ``index``, in their order of the set."""
        return list(self._members[index])

    def row_stage(self, stage: int, frame: pd.DataFrame) -> dict[str, Any]:
        """The row-wise features (SQL, UDF) of ``stage`` over ``frame``: name -> column."""
        sql, rows, _ = self._stages[stage]
        return _row_columns(sql, rows, frame)

    def key_step(
        self,
        index: int,
        state: Group,
        key: Any,
        stored: list[Any],
        t: int,
        watermark: int | None,
        extra_lateness: int = 0,
        commit: bool = True,
    ) -> list[Any]:
        """One record of one key through window group ``index``, committed: ``state`` holds
        only this key's window (a :meth:`group`), ``stored`` the record's values of the
        group's columns, ``watermark`` the latest event time before it (of this key or later:
        eviction is only ever later). Gives the group's feature values as :meth:`process`
        gives them. For engines that partition state by key themselves (Flink's keyed state).
        With ``commit=False`` the window is left as it was (the record is previewed, as
        :meth:`preview` does).
        """
        saved = self._watermark, self._extra_lateness
        self._watermark, self._extra_lateness = watermark, extra_lateness
        try:
            columns = self._per_record(
                state, self._members[index], [key], [[v] for v in stored], [t], commit=commit
            )
        except FeatureRowsError as exc:
            # One record alone: its row here (0) is no row of any push, so say only why.
            (why,) = (why for _, why in exc.failures.values())
            raise SpecError(why) from None
        finally:
            self._watermark, self._extra_lateness = saved
        return [_scalar(f, c[0]) for f, c in zip(self._members[index], columns, strict=True)]

    def _lateness(self) -> int:
        return self.feature_set.lateness_ns + self._extra_lateness

    def _group_values(
        self, index: int, work: pd.DataFrame, ts: np.ndarray, commit: bool, in_order: bool
    ) -> list[Any]:
        group, members = self._groups[index], self._members[index]
        if (
            in_order
            and len(ts) >= self.vectorize_from
            and all(can_vectorize(f, work) for f in members)
        ):
            final = (
                int(ts.max()) if self._watermark is None else max(self._watermark, int(ts.max()))
            )
            try:
                columns = vectorized_group(
                    group, members, self._where, work, ts, self.key, final - self._lateness()
                )
                return [window_column(f, c) for f, c in zip(members, columns, strict=True)]
            except NotNumeric:
                pass  # nothing was stored yet: the record-by-record path takes the batch
        keys = key_tuples(work, group.by)
        stored = [work[c].tolist() for c in group.columns]
        columns = self._per_record(group, members, keys, stored, ts.tolist(), commit)
        return [window_column(f, c) for f, c in zip(members, columns, strict=True)]

    def _per_record(
        self,
        group: Group,
        members: list[WindowFeature],
        keys: list[Any],
        stored: list[list[Any]],
        times: list[int],
        commit: bool,
    ) -> list[Any]:
        # A source's values sit after the event's key among the stored columns.
        base = 1 if group.source else 0
        positions = [tuple(base + i for i in self._where[f.name][1]) for f in members]
        watermark = self._watermark
        outputs: list[list[Any]] = [[] for _ in members]
        failures: dict[int, tuple[str, str]] = {}
        for i, t in enumerate(times):
            window = group.window(keys[i], create=commit)
            row = [column[i] for column in stored]
            if commit:
                watermark = t if watermark is None else max(watermark, t)
                gone = window.evict_before(watermark - self._lateness() - group.reach)
                if group.source:
                    group.forget(gone)
            pos = bisect_right(window.ts, t)  # after the records of the same time
            if group.source and commit:
                row += group.admit(row[0], keys[i], t, pos - bisect_left(window.ts, t))
            elif group.source:  # a preview: the record's values may be waiting for it
                row += group.pending.get(row[0], group.empty)
            group.insert(window, pos, t, row)
            values = _reduced(window, members, positions, t, i, failures)
            if not commit or i in failures:
                # A preview leaves the window as it was; a record whose window fails leaves
                # it too, so that later records see the window a push without it would give.
                del window.ts[pos]
                for column in window.cols:
                    del column[pos]
            for out, value in zip(outputs, values, strict=True):
                out.append(value)
        if failures:
            raise rows_error(failures)
        return outputs

    def _sweep(self) -> None:
        """Evict expired records of keys that were not touched since they expired."""
        self._since_sweep = 0
        if self._watermark is None:
            return
        for group in self._groups:
            horizon = self._watermark - self._lateness() - group.reach
            for k in list(group.windows):
                window = group.windows[k]
                gone = window.evict_before(horizon)
                if group.source:
                    group.forget(gone)
                if not window.ts:
                    del group.windows[k]


def _reduced(
    window: KeyWindow,
    members: list[WindowFeature],
    positions: list[tuple[int, ...]],
    t: int,
    row: int,
    failures: dict[int, tuple[str, str]],
) -> list[Any]:
    """Each member over the window of record ``row`` (at time ``t``). A member that raises on
    it (a UDAF: rtml's own aggregates do not) adds the record to ``failures`` with the
    feature and why, and the record gets no values: the batch goes on, so that one pass finds
    every record to refuse by row (or set aside as a dead letter), however many there are."""
    values: list[Any] = []
    for f, at in zip(members, positions, strict=True):
        try:
            values.append(_reduce(window, f, at, t))
        except SpecError as exc:
            failures[row] = (f.name, str(exc))
            return [None] * len(members)
    return values


def _reduce(window: KeyWindow, f: WindowFeature, at: tuple[int, ...], t: int) -> Any:
    """``f`` over its window at time ``t``, reading the stored columns at positions ``at``."""
    right = t - f.delay_ns
    left = right - f.window_ns
    lo = bisect_right(window.ts, left) if f.closed == "right" else bisect_left(window.ts, left)
    hi = bisect_right(window.ts, right)
    if isinstance(f, Aggregate):
        return f.reduce_column(window.cols[at[0]][lo:hi])
    return f.reduce(list(zip(*(window.cols[i][lo:hi] for i in at), strict=True)))


def _row_columns(sql: list[SQL], rows: list[RowFeature], frame: pd.DataFrame) -> dict[str, Any]:
    """The row features' values over ``frame``; a failure names the records it fails for
    (:func:`~rtml.features.row_failures.located`)."""
    made: dict[str, Any] = {}
    try:
        sql_values = evaluate_sql(sql, frame)
    except SpecError as exc:
        raise_located(sql, frame, lambda f, one: evaluate_sql([f], one), exc)
    for f, values in zip(sql, sql_values, strict=True):
        made[f.name] = values
    for row_feature in rows:
        try:
            made[row_feature.name] = row_feature.compute(frame)
        except FeatureRowsError:
            raise  # it names its records already
        except Exception as exc:
            raise_located([row_feature], frame, lambda f, one: f.compute(one), exc)
    return made


def _stages(
    order: list[Any], where: dict[str, tuple[int, tuple[int, ...]]]
) -> list[tuple[list[SQL], list[RowFeature], list[int]]]:
    """The features by dependency depth: each stage reads only what earlier stages made, so its
    SQL features go to DuckDB in one query."""
    depth: dict[str, int] = {}
    for f in order:  # order is topological: dependencies come first
        depth[f.name] = 1 + max((depth[c] for c in f.columns() if c in depth), default=-1)
    stages: list[tuple[list[SQL], list[RowFeature], list[int]]] = []
    for level in range(max(depth.values(), default=-1) + 1):
        sql: list[SQL] = []
        rows: list[RowFeature] = []
        groups: list[int] = []
        for f in order:
            if depth[f.name] != level:
                continue
            if isinstance(f, WindowFeature):
                if where[f.name][0] not in groups:
                    groups.append(where[f.name][0])
            elif type(f) is SQL:
                sql.append(f)
            else:
                rows.append(cast(RowFeature, f))
        stages.append((sql, rows, groups))
    return stages


def _behind(ts: np.ndarray, watermark: int | None) -> np.ndarray:
    """How far each event time is behind the latest one seen before it (0 if not behind)."""
    start = ts[0] if watermark is None else watermark
    running = np.maximum.accumulate(np.concatenate(([start], ts)))[:-1]
    return np.maximum(running - ts, 0)


def disorder(ts: np.ndarray, watermark: int | None = None) -> int:
    """How far (ns) the furthest record of ``ts`` is behind the latest time before it."""
    return int(_behind(ts, watermark).max()) if len(ts) else 0


def _in_order(ts: np.ndarray, watermark: int | None) -> bool:
    """Every event at or after the latest time seen before it, the batch's first included."""
    if not len(ts):
        return True
    if watermark is not None and ts[0] < watermark:
        return False
    return bool(np.all(ts[1:] >= ts[:-1]))


def _scalar(f: WindowFeature, value: Any) -> Any:
    """One window value as :func:`window_column` would hold it."""
    if isinstance(f, Aggregate) and f.op in ("count", "count_distinct"):
        return int(value)
    if value is None:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def kind_of(value: Any) -> str | None:
    """The DuckDB type a computed value's column would have in the frame path."""
    if isinstance(value, bool | np.bool_):
        return "BOOLEAN"
    if isinstance(value, int | np.integer):
        return "BIGINT"
    if isinstance(value, float | np.floating):
        return "DOUBLE"
    if isinstance(value, str):
        return "VARCHAR"
    return None


def window_column(f: WindowFeature, values: Any) -> Any:
    """A window feature's values as the column :meth:`FeatureEngine.process` gives it."""
    if isinstance(f, Aggregate) and f.op in ("count", "count_distinct"):
        return np.asarray(values, dtype="int64")
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return values
    try:
        return np.asarray([np.nan if v is None else v for v in values], dtype="float64")
    except (TypeError, ValueError):
        return pd.array(values, dtype=object)
