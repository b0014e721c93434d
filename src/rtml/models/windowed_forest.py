"""``WindowedRandomForest``: a random forest refit on the latest labelled records.

Incremental trees (Hoeffding trees, Mondrian forests) learn one record at a time but, on rare
fraud, stay behind a batch forest. This kind keeps learning as labels arrive the way fraud teams
often do it: it keeps the last ``window`` labelled records and refits a scikit-learn random
forest on them every ``refit_every`` new labels, scoring with the latest forest in between. On
the Fraud Detection Handbook's data it reaches the batch forest's figures (docs: Models).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from rtml.errors import BackendUnavailable, SpecError
from rtml.models.base import ModelSpec, OneRecordAtATime

__all__ = ["WindowedForest", "WindowedRandomForest"]


class WindowedRandomForest(ModelSpec):
    """A random forest refit every ``refit_every`` labels on the last ``window`` labelled
    records (scikit-learn: ``pip install "rtml[sklearn]"``).

    Until ``min_labels`` labelled records (of both classes) have arrived it scores each record
    with the share of positives seen so far. Inputs are numbers (missing ones read as 0). A
    refit costs seconds on a large window: choose ``refit_every`` to match how fast labels come.
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
    """

    kind: Literal["WindowedRandomForest"] = "WindowedRandomForest"
    n_estimators: int = Field(100, ge=1)
    max_depth: int | None = Field(None, ge=1)
    min_samples_leaf: int = Field(1, ge=1)
    max_features: float | Literal["sqrt", "log2"] = "sqrt"
    class_weight: Literal["balanced", "balanced_subsample"] | None = None
    window: int = Field(100_000, ge=1)
    refit_every: int = Field(10_000, ge=1)
    min_labels: int = Field(1_000, ge=1)
    n_jobs: int = 1
    seed: int | None = 0

    def build(self) -> WindowedForest:
        try:
            import sklearn.ensemble  # noqa: F401
        except ImportError:
            raise BackendUnavailable(
                'WindowedRandomForest needs scikit-learn: pip install "rtml[sklearn]"'
            ) from None
        return WindowedForest(self)


class WindowedForest(OneRecordAtATime):
    """The learner a :class:`WindowedRandomForest` builds: the window of labelled records and
    the latest forest."""

    def __init__(self, spec: WindowedRandomForest) -> None:
        self.spec = spec
        self.columns: list[str] | None = None
        self.rows: deque[np.ndarray] = deque(maxlen=spec.window)
        self.labels: deque[int] = deque(maxlen=spec.window)
        self.since_refit = 0
        self.refits = 0
        self.positives = 0
        self.seen = 0
        self.forest: Any = None

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        if self.columns is None:
            self.columns = [str(c) for c in frame.columns]
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
        """Add labelled records to the window; refit when ``refit_every`` have come since."""
        labels = [int(v) for v in np.asarray(y, dtype="float64")]
        if not labels:
            return
        matrix = self._matrix(frame)
        self.rows.extend(matrix)
        self.labels.extend(labels)
        self.positives += sum(1 for v in labels if v == 1)
        self.seen += len(labels)
        self.since_refit += len(labels)
        ready = len(self.labels) >= self.spec.min_labels and len(set(self.labels)) > 1
        if ready and (self.forest is None or self.since_refit >= self.spec.refit_every):
            self._refit()

    def _refit(self) -> None:
        from sklearn.ensemble import RandomForestClassifier

        spec = self.spec
        forest = RandomForestClassifier(
            n_estimators=spec.n_estimators,
            max_depth=spec.max_depth,
            min_samples_leaf=spec.min_samples_leaf,
            max_features=spec.max_features,
            class_weight=spec.class_weight,
            n_jobs=spec.n_jobs,
            random_state=spec.seed,
        )
        forest.fit(np.asarray(self.rows), np.asarray(self.labels))
        self.forest = forest
        self.since_refit = 0
        self.refits += 1
