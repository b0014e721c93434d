"""Drift of a categorical field: have the shares of its categories changed?

ADWIN watches a mean, which a field of categories does not have. Here a chi-square test
compares the categories' counts in a reference (the first ``reference`` records) with those in
a window sliding over the latest ``window`` records, every ``clock`` records; a p-value below
``alpha`` is a change, and the records after it make the next reference.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from rtml.drift.chisquare import chi2_sf, homogeneity
from rtml.drift.report import DriftReport
from rtml.errors import SchemaError
from rtml.nulls import is_null

__all__ = ["CategoryTracker", "categorical"]


class CategoryTracker:
    """The chi-square drift test over one field, fed the stream in pieces: :meth:`update`
    returns the trace of the records it read, and a report over pieces equals one over the
    whole stream.

    Every record with a value is scored; a missing value is skipped, or with ``missing=True``
    counted as a category of its own (``None``), so that a rise in missing values is a change
    too. Until the reference is
    complete and a window after it full (at the start, and after each change), ``distance``
    and ``p_value`` are NaN; then they are those of the latest test: ``distance`` is the share of records that would have to
    change category for the window to look like the reference (total variation), ``p_value``
    the chance of a difference at least as large between two samples of one distribution.

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
        reference: int = 1000,
        window: int = 1000,
        alpha: float = 1e-5,
        clock: int = 32,
        missing: bool = False,
        source: str = "frame",
    ) -> None:
        if reference < 2 or window < 2:
            raise ValueError(
                f"reference and window need at least 2 records each, got {reference} and {window}"
            )
        if not 0 < alpha < 1:
            raise ValueError(f"alpha is a probability between 0 and 1, got {alpha!r}")
        if clock < 1:
            raise ValueError(f"clock counts records between tests, at least 1, got {clock!r}")
        self.fields = [field]
        self.key, self.source = key, source
        self.reference, self.window, self.alpha, self.clock = reference, window, alpha, clock
        self.missing = missing
        self.rows = 0
        self.rows_scored = 0
        self.changes = 0
        self.distance = math.nan
        self.p_value = math.nan
        self._before: dict[Hashable, int] = {}  # the reference's counts
        self._before_size = 0
        self._latest: deque[Hashable] = deque()
        self._after: dict[Hashable, int] = {}  # the window's counts
        self._since_test = clock  # the first full window is tested at once

    @property
    def waiting(self) -> int:
        return 0  # every record with a value is scored as it comes

    @property
    def details(self) -> dict[str, Any]:
        return {
            "reference": self._before_size,
            "categories": len(self._before),
            "window": len(self._latest),
        }

    def status(self) -> dict[str, Any]:
        """The latest test: ``distance``, ``p_value`` (None before the first), ``width``."""
        return {
            "distance": None if math.isnan(self.distance) else self.distance,
            "p_value": None if math.isnan(self.p_value) else self.p_value,
            "width": len(self._latest),
        }

    def update(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Read the next records; their trace: ``row``, the key (when one was given),
        ``value``, ``distance``, ``p_value``, ``drift``."""
        field = self.fields[0]
        if field not in frame.columns:
            known = ", ".join(map(str, frame.columns))
            raise SchemaError(f"{self.source}: no field {field!r} (fields: {known})")
        if self.key is not None and self.key not in frame.columns:
            known = ", ".join(map(str, frame.columns))
            raise KeyError(f"{self.source}: no key column {self.key!r} (columns: {known})")
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
        n = len(kept)
        distance, p_value = np.empty(n), np.empty(n)
        drift = np.zeros(n, dtype=bool)
        for j, i in enumerate(kept):
            drift[j] = self._read(values[i])
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

    def _read(self, value: Hashable) -> bool:
        """One record's category; True when the test finds a change with it."""
        if self._before_size < self.reference:
            self._before[value] = self._before.get(value, 0) + 1
            self._before_size += 1
            return False
        self._latest.append(value)
        self._after[value] = self._after.get(value, 0) + 1
        if len(self._latest) > self.window:
            gone = self._latest.popleft()
            self._after[gone] -= 1
            if not self._after[gone]:
                del self._after[gone]
        if len(self._latest) < self.window:
            return False
        self._since_test += 1
        if self._since_test < self.clock:
            return False
        self._since_test = 0
        statistic, dof = homogeneity(self._before, self._after)
        self.p_value = chi2_sf(statistic, dof) if dof else 1.0
        shares = set(self._before) | set(self._after)
        self.distance = 0.5 * sum(
            abs(self._before.get(c, 0) / self._before_size - self._after.get(c, 0) / self.window)
            for c in shares
        )
        if self.p_value >= self.alpha:
            return False
        # The window straddles the change: the next reference is made of what comes after it.
        self._before, self._before_size = {}, 0
        self._latest, self._after = deque(), {}
        self._since_test = self.clock
        return True


def categorical(
    frame: pd.DataFrame,
    field: str,
    *,
    key: str | None = None,
    reference: int = 1000,
    window: int = 1000,
    alpha: float = 1e-5,
    clock: int = 32,
    missing: bool = False,
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
    a category of their own (a rise in missing values is then a change).

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
        source=source,
    )
    return DriftReport(field, tracker.update(frame), tracker.details)
