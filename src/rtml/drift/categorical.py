"""Drift of a categorical field: have the shares of its categories changed?

ADWIN watches a mean, which a field of categories does not have. Here a chi-square test
compares the categories' counts in a reference (the first ``reference`` records) with those in
a window sliding over the latest ``window`` records, every ``clock`` records; a p-value below
``alpha`` is a change, and the records after it make the next reference.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Hashable
from typing import Any, cast

import numpy as np
import pandas as pd

from rtml.drift.chisquare import chi2_sf, homogeneity
from rtml.drift.report import DriftReport
from rtml.drift.values import check_columns
from rtml.durations import parse_duration
from rtml.errors import SchemaError
from rtml.features.timestamps import to_nanos
from rtml.nulls import is_null

__all__ = ["CategoryTracker", "categorical", "span_nanos"]


class CategoryTracker:
    """The chi-square drift test over one field, fed the stream in pieces: :meth:`update`
    returns the trace of the records it read, and a report over pieces equals one over the
    whole stream.

    Every record with a value is scored; a missing value is skipped, or with ``missing=True``
    counted as a category of its own (``None``), so that a rise in missing values is a change
    too. ``reference`` and ``window`` are numbers of records, or durations (``"7d"``, ``"1d"``)
    of the event times in column ``time``: a window of whole days sees a daily cycle as no
    change, and a record that comes after later ones leaves it when its own time is out.
    Until the reference is complete and a window after it full (at the start, and after each
    change), ``distance`` and ``p_value`` are NaN; then they are the latest test's:
    ``distance`` is the share of records that would have to change category for the window to
    look like the reference (total variation), ``p_value`` the chance of a difference at least
    as large between two samples of one distribution.

    >>> tracker = CategoryTracker("card", reference=200, window=200)
    >>> first = tracker.update(pd.DataFrame({"card": ["visa", "amex"] * 100}))
    >>> later = tracker.update(pd.DataFrame({"card": ["visa"] * 300}))
    >>> tracker.changes, later.loc[later["drift"], "row"].tolist()
    (1, [399])
    """

    def __init__(
        self,
        field: str,
        *,
        key: str | None = None,
        reference: int | str = 1000,
        window: int | str = 1000,
        alpha: float = 1e-5,
        clock: int = 32,
        missing: bool = False,
        time: str | None = None,
        source: str = "frame",
    ) -> None:
        self._reference_ns = span_nanos(reference, "reference")
        self._window_ns = span_nanos(window, "window")
        if time is None and (self._reference_ns or self._window_ns):
            raise ValueError(
                "a reference or window given as a duration needs time=, the field of event times"
            )
        if not 0 < alpha < 1:
            raise ValueError(f"alpha is a probability between 0 and 1, got {alpha!r}")
        if clock < 1:
            raise ValueError(f"clock counts records between tests, at least 1, got {clock!r}")
        self.fields = [field]
        self.key, self.source, self.time = key, source, time
        self.reference, self.window, self.alpha, self.clock = reference, window, alpha, clock
        self.missing = missing
        self.rows = 0
        self.rows_scored = 0
        self.changes = 0
        self.distance = math.nan
        self.p_value = math.nan
        self._before: dict[Hashable, int] = {}  # the reference's counts
        self._before_size = 0
        self._before_start = 0  # the reference's first event time (durations)
        self._latest: deque[tuple[Hashable, int]] = deque()  # the window: category, time
        # Over time, the records that came after a later one wait in a heap (time, arrival,
        # category) beside the window's deque, so that they too leave it on time.
        self._late: list[tuple[int, int, Hashable]] = []
        self._arrivals = 0
        self._after: dict[Hashable, int] = {}  # the window's counts
        self._window_start = 0  # the window's first event time since the reference (durations)
        self._latest_time = 0
        self._since_test = clock  # the first full window is tested at once

    @property
    def waiting(self) -> int:
        return 0  # every record with a value is scored as it comes

    @property
    def details(self) -> dict[str, Any]:
        return {
            "reference": self._before_size,
            "categories": len(self._before),
            "window": self._width(),
        }

    def status(self) -> dict[str, Any]:
        """The latest test: ``distance``, ``p_value`` (None before the first), ``width`` (the
        records in the window now)."""
        return {
            "distance": None if math.isnan(self.distance) else self.distance,
            "p_value": None if math.isnan(self.p_value) else self.p_value,
            "width": self._width(),
        }

    def _width(self) -> int:
        return len(self._latest) + len(self._late)

    def update(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Read the next records; their trace: ``row``, the key (when one was given),
        ``value``, ``distance``, ``p_value``, ``drift``."""
        field = self.fields[0]
        check_columns(frame, self.source, [field, *([self.time] if self.time else [])], self.key)
        values = frame[field].tolist()
        if self.missing:  # NaN, NaT and NA all read as the one category None
            values = [None if is_null(v) else v for v in values]
            kept = list(range(len(values)))
        else:
            kept = [i for i, v in enumerate(values) if not is_null(v)]
        for i in kept:
            if not isinstance(values[i], Hashable):
                raise SchemaError(
                    f"{self.source}: field {field!r}, row {i}: expected a category (text, "
                    f"a number or a boolean), got {values[i]!r}"
                )
        times = self._times(frame, kept)
        n = len(kept)
        distance, p_value = np.empty(n), np.empty(n)
        drift = np.zeros(n, dtype=bool)
        for j, i in enumerate(kept):
            drift[j] = self._read(values[i], times[j])
            distance[j], p_value[j] = self.distance, self.p_value
            if drift[j]:  # no test yet against the reference that comes next
                self.distance = self.p_value = math.nan
        table: dict[str, Any] = {"row": np.asarray(kept, dtype="int64") + self.rows}
        if self.key is not None:
            table[self.key] = frame[self.key].to_numpy()[kept]
        table.update(
            value=pd.Series([values[i] for i in kept], dtype=object),
            distance=distance,
            p_value=p_value,
            drift=drift,
        )
        self.rows += len(frame)
        self.rows_scored += n
        self.changes += int(drift.sum())
        return pd.DataFrame(table)

    def _times(self, frame: pd.DataFrame, kept: list[int]) -> list[int]:
        """The kept records' event times in nanoseconds (zeros when no time is read)."""
        if self.time is None:
            return [0] * len(kept)
        column = frame[self.time].iloc[kept]
        absent = np.flatnonzero(column.isna().to_numpy())
        if absent.size:
            raise SchemaError(
                f"{self.source}: field {self.time!r}, row {kept[int(absent[0])]}: expected an "
                f"event time, got {column.iloc[int(absent[0])]!r}"
            )
        if not (
            pd.api.types.is_numeric_dtype(column.dtype)
            or pd.api.types.is_datetime64_any_dtype(column.dtype)
        ):
            raise SchemaError(
                f"{self.source}: field {self.time!r} holds {column.dtype}: expected event times "
                f"(datetimes, or numbers of epoch seconds)"
            )
        return [int(t) for t in to_nanos(column, "auto").tolist()]

    def _read(self, value: Hashable, t: int) -> bool:
        """One record's category and time; True when the test finds a change with it."""
        # Time moved on: every record up to the latest time is in, so a window of time is whole
        # now (records sharing a time, such as hourly stamps, count all or none).
        timed = self._window_ns is not None
        moved_on = timed and (self._latest or self._late) and t > self._latest_time
        if moved_on and self._test_time_window():
            self._add_to_reference(value, t)  # it begins the next reference
            return True
        if not self._reference_complete(t):
            self._add_to_reference(value, t)
            return False
        if not self._latest and not self._late:
            self._window_start = self._latest_time = t
        if timed and self._latest and t < self._latest[-1][1]:  # it came after a later one
            self._arrivals += 1
            heapq.heappush(self._late, (t, self._arrivals, value))
        else:
            self._latest.append((value, t))
        self._latest_time = max(self._latest_time, t)
        self._after[value] = self._after.get(value, 0) + 1
        self._since_test += 1
        if timed:
            return False
        if len(self._latest) > cast(int, self.window):
            self._forget_oldest()
        if len(self._latest) < cast(int, self.window) or self._since_test < self.clock:
            return False
        return self._test()

    def _add_to_reference(self, value: Hashable, t: int) -> None:
        if not self._before_size:
            self._before_start = t
        self._before[value] = self._before.get(value, 0) + 1
        self._before_size += 1

    def _reference_complete(self, t: int) -> bool:
        if self._reference_ns is None:
            return self._before_size >= cast(int, self.reference)
        # A record at or after the reference's first time plus its span starts the window.
        return self._before_size > 0 and t >= self._before_start + self._reference_ns

    def _forget_oldest(self) -> None:
        self._forget(self._latest.popleft()[0])

    def _forget(self, gone: Hashable) -> None:
        self._after[gone] -= 1
        if not self._after[gone]:
            del self._after[gone]

    def _test_time_window(self) -> bool:
        """The window of time ending at the latest time, tested once it spans a whole window."""
        assert self._window_ns is not None
        cutoff = self._latest_time - self._window_ns
        while self._latest and self._latest[0][1] <= cutoff:
            self._forget_oldest()
        while self._late and self._late[0][0] <= cutoff:
            self._forget(heapq.heappop(self._late)[2])
        whole = self._latest_time - self._window_start >= self._window_ns
        if not whole or self._since_test < self.clock:
            return False
        return self._test()

    def _test(self) -> bool:
        """The chi-square test of the window against the reference; True on a change (the
        state then waits for a new reference)."""
        self._since_test = 0
        statistic, dof = homogeneity(self._before, self._after)
        self.p_value = chi2_sf(statistic, dof) if dof else 1.0
        size = self._width()
        shares = set(self._before) | set(self._after)
        self.distance = 0.5 * sum(
            abs(self._before.get(c, 0) / self._before_size - self._after.get(c, 0) / size)
            for c in shares
        )
        if self.p_value >= self.alpha:
            return False
        # The window straddles the change: the next reference is made of what comes after it.
        self._before, self._before_size = {}, 0
        self._latest, self._late, self._after = deque(), [], {}
        self._since_test = self.clock
        return True


def span_nanos(value: int | str, name: str) -> int | None:
    """A reference or window: None for a number of records (at least 2), its nanoseconds for a
    duration."""
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise ValueError(f"{name} is a number of records, at least 2, or a duration, got {value!r}")
    return None


def categorical(
    frame: pd.DataFrame,
    field: str,
    *,
    key: str | None = None,
    reference: int | str = 1000,
    window: int | str = 1000,
    alpha: float = 1e-5,
    clock: int = 32,
    missing: bool = False,
    time: str | None = None,
    source: str = "frame",
) -> DriftReport:
    """Watch a field of categories (text, codes, flags) for a change in their shares.

    The first ``reference`` records with a value are the reference; then, every ``clock``
    records, Pearson's chi-square test compares it with the latest ``window`` records
    (categories too rare for the test pooled). A p-value below ``alpha`` is a change; the
    ``reference`` records after it become the new reference, and the test resumes once a
    window after them is full. ``alpha`` is small because the test runs thousands of times
    over a long stream, on overlapping windows.

    ``frame`` is read in row order; missing values are skipped, or with ``missing=True`` are
    a category of their own (a rise in missing values is then a change). ``reference`` and
    ``window`` may be durations of the event times in field ``time`` (``"7d"``, ``"1d"``): a
    field with a daily cycle (the hour of day, a channel used more at night) changes every few
    hours over windows of records, and not at all over windows of whole days.

    >>> import numpy as np, pandas as pd, rtml
    >>> rng = np.random.default_rng(0)
    >>> before = rng.choice(["visa", "mastercard", "amex"], 3000, p=[0.5, 0.4, 0.1])
    >>> after = rng.choice(["visa", "mastercard", "amex"], 3000, p=[0.4, 0.3, 0.3])
    >>> report = rtml.drift.categorical(pd.DataFrame({"card": np.r_[before, after]}), "card")
    >>> report.drifts
    [3439]
    >>> report.table.loc[report.table["drift"], ["distance", "p_value"]].round(8).values.tolist()
    [[0.082, 2.8e-07]]
    """
    tracker = CategoryTracker(
        field,
        key=key,
        reference=reference,
        window=window,
        alpha=alpha,
        clock=clock,
        missing=missing,
        time=time,
        source=source,
    )
    return DriftReport(field, tracker.update(frame), tracker.details)
