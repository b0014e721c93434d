"""``WindowedRandomForest``: a random forest refit on the latest labelled records.

Incremental trees (Hoeffding trees, Mondrian forests) learn one record at a time but, on rare
fraud, stay behind a batch forest. This kind keeps learning as labels arrive the way fraud teams
often do it: it keeps a window of the latest labelled records and refits a scikit-learn random
forest on them on a schedule, scoring with the latest forest in between. The window and the
schedule are counted in labels, or, given an input holding each record's event time, in event
time ("the last 14 days, refit at each midnight"). On the Fraud Detection Handbook's data it
reaches the batch forest's figures (docs: Models).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from rtml.durations import parse_duration
from rtml.errors import BackendUnavailable, SpecError
from rtml.features.timestamps import to_nanos
from rtml.models.base import ModelSpec, OneRecordAtATime

__all__ = ["WindowedForest", "WindowedRandomForest"]


class WindowedRandomForest(ModelSpec):
    """A random forest refit on a window of the latest labelled records (scikit-learn:
    ``pip install "rtml[sklearn]"``).

    Counted in labels (the default): it keeps the last ``window`` labelled records and refits
    every ``refit_every`` labels. In event time, with ``time_input`` naming an input that holds
    each record's event time (epoch seconds or datetimes; it is not a feature of the forest):

    - ``refit_every="1d"`` refits when the labels reach a new day of event time (periods start
      at the Unix epoch, so days at UTC midnight), on the records labelled before that
      boundary: with labels that arrive in event-time order, each forest is the one a daily
      batch job would train at that moment;
    - ``window="14d"`` trains on the labelled records at most 14 days older than the refit's
      time (the boundary, or with a count schedule the newest labelled record's time).

    Until the first forest (``min_labels`` labelled records of both classes; with a duration
    schedule, at a boundary) it scores each record with the share of positives seen so far.
    Inputs are numbers (missing ones read as 0). A refit costs seconds on a large window;
    ``max_samples`` (the share of the window each tree's bootstrap draws) makes each tree
    cheaper, so more trees fit in the same time. ``recency="7d"`` (with a time input) weights
    each record by ``exp(-age / 7 days)``, its age counted back from the refit's time, so the
    forest leans on the latest days of the window without dropping the older ones.
    rtml's own kind: not a TurboML algorithm.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=3000), "z": rng.normal(size=3000)})
    >>> y = ((X["x"] > 1) & (X["z"] > 0)).astype(int).to_numpy()  # not linear in x and z
    >>> model = WindowedRandomForest(n_estimators=20, window=2000, refit_every=500,
    ...                              min_labels=500).build()
    >>> for lo in range(0, 3000, 500):
    ...     scores = model.predict_many(X.iloc[lo:lo + 500])
    ...     model.learn_many(X.iloc[lo:lo + 500], y[lo:lo + 500])
    >>> model.refits, round(float(model.predict_many(pd.DataFrame({"x": [2.0], "z": [1.0]}))[0]))
    (6, 1)

    The same in event time: one record a minute, refit at every hour on the last two hours.

    >>> X["ts"] = 1_700_000_000 + 60 * np.arange(3000)  # epoch seconds
    >>> model = WindowedRandomForest(n_estimators=20, time_input="ts", window="2h",
    ...                              refit_every="1h", min_labels=100).build()
    >>> for lo in range(0, 3000, 500):
    ...     model.learn_many(X.iloc[lo:lo + 500], y[lo:lo + 500])
    >>> model.refits, len(model.labels) <= 2 * 60 + 60  # 49 hour boundaries crossed
    (49, True)
    """

    kind: Literal["WindowedRandomForest"] = "WindowedRandomForest"
    n_estimators: int = Field(100, ge=1)
    max_depth: int | None = Field(None, ge=1)
    min_samples_leaf: int = Field(1, ge=1)
    max_features: float | Literal["sqrt", "log2"] = "sqrt"
    class_weight: Literal["balanced", "balanced_subsample"] | None = None
    max_samples: float | None = Field(None, gt=0, le=1)
    window: int | str = 100_000
    refit_every: int | str = 10_000
    time_input: str | None = None
    recency: str | None = None
    min_labels: int = Field(1_000, ge=1)
    n_jobs: int = 1
    seed: int | None = 0

    def label_classes(self) -> tuple[int, ...] | None:
        return (0, 1)

    @field_validator("recency")
    @classmethod
    def _positive_duration(cls, value: str | None) -> str | None:
        if value is not None and parse_duration(value) <= 0:
            raise ValueError(f"expected a positive duration, got {value!r}")
        return value

    @field_validator("window", "refit_every")
    @classmethod
    def _count_or_duration(cls, value: int | str) -> int | str:
        if isinstance(value, str):
            if parse_duration(value) <= 0:
                raise ValueError(f"expected a positive duration, got {value!r}")
        elif value < 1:
            raise ValueError(f"expected a count of at least 1, got {value}")
        return value

    @model_validator(mode="after")
    def _durations_need_time(self) -> Self:
        durations = [
            f for f in ("window", "refit_every", "recency") if isinstance(getattr(self, f), str)
        ]
        if durations and self.time_input is None:
            raise ValueError(
                f"{' and '.join(durations)} in event time needs time_input: the input that "
                "holds each record's event time"
            )
        return self

    def build(self) -> WindowedForest:
        try:
            import sklearn.ensemble  # noqa: F401
        except ImportError:
            raise BackendUnavailable(
                'WindowedRandomForest needs scikit-learn: pip install "rtml[sklearn]"'
            ) from None
        return WindowedForest(self)


class WindowedForest(OneRecordAtATime):
    """The learner a :class:`WindowedRandomForest` builds: the window of labelled records
    (with their event times when the spec names a time input) and the latest forest."""

    def __init__(self, spec: WindowedRandomForest) -> None:
        self.spec = spec
        self.columns: list[str] | None = None
        count = spec.window if isinstance(spec.window, int) else None
        self.rows: deque[np.ndarray] = deque(maxlen=count)
        self.labels: deque[int] = deque(maxlen=count)
        self.times: deque[int] = deque(maxlen=count)  # nanoseconds, with a time input
        self.window_nanos = parse_duration(spec.window) if isinstance(spec.window, str) else None
        self.period_nanos = (
            parse_duration(spec.refit_every) if isinstance(spec.refit_every, str) else None
        )
        self.period: int | None = None  # the latest period of event time labels have reached
        self.since_refit = 0
        self.refits = 0
        self.positives = 0
        self.seen = 0
        self.forest: Any = None

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        if self.columns is None:
            self.columns = [str(c) for c in frame.columns if c != self.spec.time_input]
        matrix = np.zeros((len(frame), len(self.columns)))
        for i, name in enumerate(self.columns):
            if name not in frame.columns:
                continue  # a record without the input: read as 0, like a missing value
            column = frame[name]
            if not (pd.api.types.is_numeric_dtype(column.dtype) or column.isna().all()):
                raise SpecError(
                    f"WindowedRandomForest: input {name!r} must be numeric, got {column.dtype}"
                )
            values = column.to_numpy(dtype="float64", na_value=np.nan)
            matrix[:, i] = np.nan_to_num(values, nan=0.0)
        return matrix

    def _times(self, frame: pd.DataFrame) -> np.ndarray:
        """The labelled records' event times in integer nanoseconds."""
        name = self.spec.time_input
        if name not in frame.columns or frame[name].isna().any():
            raise SpecError(
                f"WindowedRandomForest: time input {name!r} is missing in a labelled record "
                "(expected epoch seconds or a datetime in every record)"
            )
        column = frame[name]
        if not pd.api.types.is_numeric_dtype(column.dtype):
            try:  # datetimes held as objects (records rebuilt from dicts)
                column = pd.to_datetime(column, utc=True)
            except (TypeError, ValueError):
                raise SpecError(
                    f"WindowedRandomForest: time input {name!r} must hold epoch seconds or "
                    f"datetimes, got {column.dtype}"
                ) from None
        return to_nanos(column, "auto")  # epoch seconds or datetimes, as feature sets read them

    def predict_many(self, frame: pd.DataFrame) -> np.ndarray:
        """P(class 1) for each record, from the latest forest (before one: the positive share)."""
        if self.forest is None or self.columns is None:
            return np.full(len(frame), self.positives / self.seen if self.seen else 0.0)
        if not len(frame):
            return np.zeros(0)
        classes = list(self.forest.classes_)
        proba = self.forest.predict_proba(self._matrix(frame))
        return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(frame))

    def learn_many(self, frame: pd.DataFrame, y: Any) -> None:
        """Add labelled records to the window, refitting when the schedule says so."""
        labels = [int(v) for v in np.asarray(y, dtype="float64")]
        if not labels:
            return
        matrix = self._matrix(frame)
        times = self._times(frame) if self.spec.time_input is not None else None
        if self.period_nanos is None:
            self._add(matrix, labels, times)
            if self.forest is None or self.since_refit >= int(self.spec.refit_every):
                self._refit(max(self.times) if self.times else None)
            return
        assert times is not None  # a duration schedule needs a time input (the spec's check)
        periods = times // self.period_nanos
        lo = 0
        for i, period in enumerate(periods.tolist()):
            if self.period is not None and period > self.period:
                # Labels reached a new period: refit on what was labelled before its start.
                self._add(matrix[lo:i], labels[lo:i], times[lo:i])
                lo = i
                self._refit(period * self.period_nanos)
            if self.period is None or period > self.period:
                self.period = period
        self._add(matrix[lo:], labels[lo:], times[lo:])

    def _add(self, matrix: np.ndarray, labels: list[int], times: np.ndarray | None) -> None:
        self.rows.extend(matrix)
        self.labels.extend(labels)
        if times is not None:
            self.times.extend(times.tolist())
        self.positives += sum(1 for v in labels if v == 1)
        self.seen += len(labels)
        self.since_refit += len(labels)

    def _forget_before(self, start: int) -> None:
        """Drop the records whose event time is before ``start`` (a window in event time)."""
        kept = [i for i, t in enumerate(self.times) if t >= start]
        if len(kept) < len(self.times):
            self.rows = deque((self.rows[i] for i in kept), maxlen=self.rows.maxlen)
            self.labels = deque((self.labels[i] for i in kept), maxlen=self.labels.maxlen)
            self.times = deque((self.times[i] for i in kept), maxlen=self.times.maxlen)

    def _weights(self, at: int | None) -> np.ndarray | None:
        """Each record's weight ``exp(-age / recency)``, its age counted back from ``at``."""
        if self.spec.recency is None:
            return None
        assert at is not None  # recency needs a time input: every refit then has a time
        ages = at - np.asarray(self.times, dtype="int64")
        return np.exp(-ages / parse_duration(self.spec.recency))

    def _refit(self, at: int | None) -> None:
        """Fit a new forest on the window as of event time ``at`` (with a time window), if it
        holds ``min_labels`` records of both classes; else keep the current one."""
        from sklearn.ensemble import RandomForestClassifier

        spec = self.spec
        if self.window_nanos is not None and at is not None:
            self._forget_before(at - self.window_nanos)
        if len(self.labels) < spec.min_labels or len(set(self.labels)) < 2:
            return
        forest = RandomForestClassifier(
            n_estimators=spec.n_estimators,
            max_depth=spec.max_depth,
            min_samples_leaf=spec.min_samples_leaf,
            max_features=spec.max_features,
            class_weight=spec.class_weight,
            max_samples=spec.max_samples,
            n_jobs=spec.n_jobs,
            random_state=spec.seed,
        )
        forest.fit(np.asarray(self.rows), np.asarray(self.labels), sample_weight=self._weights(at))
        self.forest = forest
        self.since_refit = 0
        self.refits += 1
