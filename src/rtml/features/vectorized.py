"""Window aggregates for a whole batch at once, for batches in event-time order.

For each key touched by the batch, its retained records and the batch's records are laid out
side by side (retained first, then the batch in arrival order: event-time order, since the batch
is in order). Each record's window is then a contiguous range of its key's segment, found by a
binary search run on every record at once, and reduced with numpy.

Sums are computed by sequential addition over each window (``np.add.reduceat``, never prefix
differences), and every sum whose error bound (n·ε·Σ|x|) exceeds 1e-12 of its value — a window
where large values cancel — is recomputed exactly rounded with ``math.fsum``, as the per-record
path computes all of them. Both paths thus agree within 1e-12 relative.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Hashable
from itertools import repeat
from typing import Any, cast

import numpy as np
import pandas as pd

from rtml.features.aggregate import NUMERIC_OPS, Aggregate, sample_var
from rtml.features.base import WindowFeature
from rtml.features.window_state import Group, KeyWindow, as_float, key_tuples
from rtml.float_sums import float_sum
from rtml.nulls import or_none

__all__ = ["NotNumeric", "can_vectorize", "vectorized_group"]

_EPS = np.finfo("float64").eps
_TOLERANCE = 1e-12
_NUMBERS = (int, float, np.integer, np.floating)


def can_vectorize(f: WindowFeature, work: pd.DataFrame) -> bool:
    """Built-in aggregates over numbers; custom kinds, count_distinct and text go record by
    record. (A joined source's values are checked when read: see :class:`NotNumeric`.)"""
    if type(f) is not Aggregate or f.op not in NUMERIC_OPS:
        return False
    if f.source:
        return True
    dtype = work[f.column].dtype
    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


class NotNumeric(ValueError):
    """A joined source holds values numpy cannot add: the group goes record by record."""


class _SegmentSearch:
    """Binary search within each key's segment of a layout sorted by (segment, time), for all
    records at once, by packing (segment, time) into one sortable int64.

    Times are packed as steps of their greatest common divisor with the window offsets (a
    second, typically) when that fits in 63 bits; otherwise as ranks among the distinct times.
    """

    def __init__(
        self, times: np.ndarray, seg_len: np.ndarray, order: np.ndarray, offsets: list[int]
    ) -> None:
        segment = np.repeat(np.arange(len(seg_len), dtype="int64"), seg_len)
        self.order = order  # the batch grouped by key, in time order: queries come sorted
        self.base = int(times.min()) - max(offsets)
        step = int(np.gcd.reduce(np.concatenate((times - self.base, offsets)).astype("int64")))
        self.step = step or 1
        span = (int(times.max()) - self.base) // self.step + 2
        self.distinct: np.ndarray | None = None
        if len(seg_len) * span < 2**62:
            self.stride = span
            self.packed = segment * span + (times - self.base) // self.step
        else:
            self.distinct, rank = np.unique(times, return_inverse=True)
            self.stride = len(self.distinct) + 1
            self.packed = segment * self.stride + rank.reshape(-1)

    def first(self, segment: np.ndarray, x: np.ndarray, after: bool) -> np.ndarray:
        """First position of each ``segment`` whose time is > x (``after``) or >= x, else the
        segment's end. Every x is a record's time minus one of the offsets."""
        seg, bound = segment[self.order], x[self.order]
        if self.distinct is None:
            steps = (bound - self.base) // self.step + (1 if after else 0)
        else:
            steps = np.searchsorted(self.distinct, bound, side="right" if after else "left")
        found = np.searchsorted(self.packed, seg * self.stride + steps, side="left")
        out = np.empty_like(found)
        out[self.order] = found
        return out


def _window_reduce(op: Any, data: np.ndarray, lo: np.ndarray, hi: np.ndarray, fill: float) -> Any:
    """``op.reduce(data[lo_i:hi_i])`` for every i (``fill`` for empty ranges)."""
    if not len(lo):
        return np.empty(0, dtype=data.dtype)
    padded = np.concatenate((data, [fill]))
    # reduceat reduces between consecutive indices: with the ranges sorted by start, the gaps
    # between them (reduced and thrown away) add up to at most the array once.
    order = np.argsort(lo, kind="stable")
    bounds = np.empty(2 * len(lo), dtype="int64")
    bounds[0::2], bounds[1::2] = lo[order], hi[order]
    reduced = op.reduceat(padded, bounds)[0::2]  # an empty range gives data[lo]: masked below
    out = np.empty(len(lo), dtype=reduced.dtype)
    out[order] = reduced
    return np.where(hi > lo, out, fill)


def _key_codes(work: pd.DataFrame, by: tuple[str, ...]) -> tuple[np.ndarray, list[Hashable]]:
    """A small integer per record's key, and the keys in code order (NULL keys are one key)."""
    if len(by) == 1:
        codes, uniques = pd.factorize(work[by[0]], use_na_sentinel=False)
        keys = [or_none(v) for v in uniques.tolist()]
        return np.asarray(codes, dtype="int64"), keys
    tuples = np.empty(len(work), dtype=object)
    tuples[:] = key_tuples(work, by)
    tuple_codes, tuple_uniques = pd.factorize(tuples, use_na_sentinel=False)
    return np.asarray(tuple_codes, dtype="int64"), list(tuple_uniques)


def vectorized_group(
    group: Group,
    members: list[WindowFeature],
    where: dict[str, tuple[int, tuple[int, ...]]],
    work: pd.DataFrame,
    ts: np.ndarray,
    key: str,
    horizon: int,
) -> list[np.ndarray]:
    """Values of ``members`` for each record of an in-order batch; the group's state updated.

    ``horizon`` (the batch's final watermark minus the allowed lateness) is where records are
    evicted after the batch: nothing a later record can read.
    """
    n = len(work)
    codes, keys = _key_codes(work, group.by)
    n_keys = len(keys)
    # A source's values that arrived before their batch record: every batch record has arrived
    # before any window is read, so they are visible (to windows without a delay). They are
    # taken from ``pending`` only once stored, after anything that may raise NotNumeric.
    arrived: list[tuple[Any, ...]] = []
    if group.source:
        pending, empty = group.pending, group.empty  # one tuple for all, not one per record
        arrived = [pending.get(event, empty) for event in work[key].tolist()]

    # Retained records of the touched keys, key after key.
    windows = [group.windows.get(k) for k in keys]
    present = [w for w in windows if w]
    state_len = np.fromiter((len(w.ts) if w else 0 for w in windows), dtype="int64", count=n_keys)
    state_ts = np.frombuffer(b"".join([w.ts for w in present]), dtype=np.int64)

    # Segment layout: per key, its retained records then its batch records in arrival order.
    order = np.argsort(codes, kind="stable")
    batch_len = np.bincount(codes, minlength=n_keys)
    seg_len = state_len + batch_len
    seg_start = np.concatenate(([0], np.cumsum(seg_len)[:-1])).astype("int64")
    total = int(seg_len.sum())
    state_pos = np.repeat(seg_start, state_len) + _ranks_within(state_len)
    batch_rank = np.empty(n, dtype="int64")
    batch_rank[order] = _ranks_within(batch_len)
    batch_pos = seg_start[codes] + state_len[codes] + batch_rank

    all_ts = np.empty(total, dtype="int64")
    all_ts[state_pos] = state_ts
    all_ts[batch_pos] = ts
    values, batch_values = _values(
        group, members, where, work, arrived, present, state_pos, batch_pos, total
    )

    offsets = [o for f in members for o in (f.delay_ns, f.delay_ns + f.window_ns)]
    search = _SegmentSearch(all_ts, seg_len, order, offsets)
    outputs = []
    for f in members:
        right = ts - f.delay_ns
        # Without a delay the window ends at the record itself: nothing that arrived after it.
        hi = batch_pos + 1 if f.delay_ns == 0 else search.first(codes, right, after=True)
        lo = np.minimum(search.first(codes, right - f.window_ns, after=f.closed == "right"), hi)
        column = values[(1 if group.source else 0) + where[f.name][1][0]]
        outputs.append(_aggregate(cast(Aggregate, f), column, lo, hi))

    _store(group, windows, keys, codes, order, ts, work, horizon, batch_values)
    return outputs


def _ranks_within(lengths: np.ndarray) -> np.ndarray:
    """0, 1, ..., len-1 for each length in turn."""
    total = int(lengths.sum())
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    return np.arange(total, dtype="int64") - np.repeat(starts, lengths)


def _values(
    group: Group,
    members: list[WindowFeature],
    where: dict[str, tuple[int, tuple[int, ...]]],
    work: pd.DataFrame,
    arrived: list[tuple[Any, ...]],
    present: list[KeyWindow],
    state_pos: np.ndarray,
    batch_pos: np.ndarray,
    total: int,
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Each needed value column over the laid-out records, as float64 with NaN for NULL, and
    the batch's part of it in batch order.

    Keyed by the stored column's position (for a source: its values come after the event's
    key). ``present`` are the batch's keys' windows, in layout order."""
    base = 1 if group.source else 0
    needed = {base + where[f.name][1][0] for f in members}
    out: dict[int, np.ndarray] = {}
    batch: dict[int, np.ndarray] = {}
    for index in needed:
        column = np.empty(total, dtype="float64")
        if group.typed and group.typed[index]:
            parts = b"".join([w.cols[index] for w in present])
            column[state_pos] = np.frombuffer(parts, dtype="float64")
        else:
            retained: list[Any] = []
            for w in present:
                retained.extend(w.cols[index])
            column[state_pos] = _floats(retained)
        if group.source:
            batch[index] = _floats([values[index - 1] for values in arrived])
        else:
            batch[index] = _floats(work[group.columns[index]])
        column[batch_pos] = batch[index]
        out[index] = column
    return out, batch


def _floats(values: Any) -> np.ndarray:
    """Values as float64, NaN for NULL; :class:`NotNumeric` for booleans, text or objects,
    which go record by record (text is never read as the number it spells, nor '' as NULL)."""
    if isinstance(values, pd.Series):  # a batch column of a numeric dtype (see can_vectorize)
        return values.to_numpy(dtype="float64", na_value=np.nan)
    for v in values:
        if v is not None and v is not pd.NA and not isinstance(v, _NUMBERS):
            raise NotNumeric(f"not a number: {v!r}")
        if isinstance(v, bool | np.bool_):
            raise NotNumeric("booleans are aggregated record by record")
    return np.asarray([np.nan if v is None or v is pd.NA else v for v in values], dtype="float64")


def _aggregate(f: Aggregate, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    present = ~np.isnan(x)
    counts = np.concatenate(([0], np.cumsum(present)))
    n = counts[hi] - counts[lo]
    if f.op == "count":
        return n
    if f.op in ("min", "max"):
        op = np.fmin if f.op == "min" else np.fmax
        out = _window_reduce(op, x, lo, hi, np.nan)
        return np.where(n > 0, out, np.nan)
    zeroed = np.where(present, x, 0.0)
    total = _checked_sums(zeroed, x, lo, hi, n)
    if f.op == "sum":
        return np.where(n > 0, total, np.nan)
    if f.op == "avg":
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, total / np.maximum(n, 1), np.nan)
    squares = _checked_sums(zeroed * zeroed, x * x, lo, hi, n)
    var = np.full(len(lo), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        fast = (squares - total * total / n) / (n - 1)
        # The one-pass formula loses digits when the spread is tiny beside the mean: recompute.
        bound = 8 * n * _EPS * squares / np.maximum(n - 1, 1)
        good = (n >= 2) & (fast > 0) & (bound <= _TOLERANCE * fast)
    var[good] = fast[good]
    for i in np.flatnonzero((n >= 2) & ~good).tolist():
        window = x[lo[i] : hi[i]]
        exact = sample_var(window[~np.isnan(window)].tolist())
        var[i] = np.nan if exact is None else exact
    return var if f.op == "var" else np.sqrt(var)


def _checked_sums(
    zeroed: np.ndarray, raw: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """Window sums, each within 1e-12 relative of exact (recomputed with fsum otherwise)."""
    sums = _window_reduce(np.add, zeroed, lo, hi, 0.0)
    # Only a bound is needed here: prefix sums of magnitudes (no cancellation) are accurate.
    prefix = np.concatenate(([0.0], np.cumsum(np.abs(zeroed))))
    magnitude = (prefix[hi] - prefix[lo]) * (1 + 1e-9)
    with np.errstate(invalid="ignore", over="ignore"):
        bound = (n + 1) * _EPS * magnitude
        # Where a sum or its bound is not finite (a value near the largest float, or infinite),
        # float addition may differ from the exact sum: recompute.
        inexact = (bound > _TOLERANCE * np.abs(sums)) | ~np.isfinite(bound) | ~np.isfinite(sums)
    for i in np.flatnonzero(inexact).tolist():
        window = raw[lo[i] : hi[i]]
        sums[i] = float_sum(window[~np.isnan(window)].tolist())
    return sums


def _ranks_among_equals(codes: np.ndarray, ts: np.ndarray) -> list[int]:
    """For records sorted by key code then time: how many before each share its code and time."""
    index = np.arange(len(ts))
    same = np.zeros(len(ts), dtype=bool)
    same[1:] = (codes[1:] == codes[:-1]) & (ts[1:] == ts[:-1])
    ranks: list[int] = (index - np.maximum.accumulate(np.where(same, 0, index))).tolist()
    return ranks


def _home(
    group: Group,
    window: KeyWindow,
    key: Hashable,
    events: list[Any],
    times: list[int],
    ranks: list[int],
) -> None:
    """Record where a key's batch records (in time order, none older than the window's) go, as
    :attr:`Group.home` holds it, before they are appended."""
    # The window's records of the batch's first time come before the batch's own.
    before = len(window.ts) - bisect_left(window.ts, times[0]) if len(window.ts) else 0
    if before:
        first = bisect_right(times, times[0])
        ranks = [r + before for r in ranks[:first]] + ranks[first:]
    # (key, time, rank) made by zip: a comprehension costs a backfill more.
    places = zip(repeat(key), times, ranks, strict=False)  # repeat is endless
    group.home.update(zip(events, places, strict=True))


def _store(
    group: Group,
    windows: list[Any],
    keys: list[Hashable],
    codes: np.ndarray,
    order: np.ndarray,
    ts: np.ndarray,
    work: pd.DataFrame,
    horizon: int,
    batch_values: dict[int, np.ndarray],
) -> None:
    """Append the batch to its keys' windows (in arrival order) and evict what expired.

    Batch records already older than the eviction limit are never stored at all.
    ``batch_values`` are the batch's needed columns as float64, by stored position.
    """
    limit = horizon - group.reach
    sorted_ts = ts[order]
    keep = sorted_ts >= limit
    typed = group.column_types()
    # Python lists and arrays sliced per key: cheaper than numpy calls on many small segments.
    stored: list[Any] = [
        _as_array(batch_values[i][order])
        if typed[i]
        else work[c].to_numpy(dtype=object)[order].tolist()
        for i, c in enumerate(group.columns)
    ]
    if group.source:
        # The values that came first are taken now (also for records too old to store).
        pending, empty = group.pending, group.empty
        rows = [pending.pop(event, empty) for event in stored[0]]
        stored += [
            _source_values(group, 1 + j, [row[j] for row in rows]) for j in range(len(empty))
        ]
        ranks = _ranks_among_equals(codes[order], sorted_ts)
    counts = np.bincount(codes, minlength=len(keys))
    bounds = np.concatenate(([0], np.cumsum(counts))).tolist()
    kept_before = np.concatenate(([0], np.cumsum(keep)))
    touched = kept_before[bounds[1:]] > kept_before[bounds[:-1]]
    ts_list = sorted_ts.tolist()
    for code in np.flatnonzero(touched).tolist():
        a, b = bounds[code], bounds[code + 1]
        a = bisect_left(ts_list, limit, a, b)  # in time order: the kept records are a suffix
        window = windows[code] or group.window(keys[code])
        if group.source:
            _home(group, window, keys[code], stored[0][a:b], ts_list[a:b], ranks[a:b])
        window.ts.extend(ts_list[a:b])
        for column, values in zip(window.cols, stored, strict=True):
            column.extend(values[a:b])
    for code, window in enumerate(windows):
        if window is not None:
            gone = window.evict_before(limit)
            if group.source:
                group.forget(gone)
            if not window.ts:
                del group.windows[keys[code]]


def _source_values(group: Group, index: int, values: list[Any]) -> Any:
    """A source's values for stored column ``index``: floats for a typed column, which turns
    into lists if one of them is not a number."""
    if group.typed and group.typed[index]:
        try:
            return array("d", [as_float(v) for v in values])
        except TypeError:
            group.untype(index)
    return values


def _as_array(values: np.ndarray) -> array[float]:
    out = array("d")
    out.frombytes(values.tobytes())
    return out
