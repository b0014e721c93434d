"""``DriftTracker``: a drift detector that reads a stream in pieces and carries on where it
stopped, so a report over pushes made one at a time equals one over all of them at once.

Both the on-demand functions (:func:`~rtml.drift.univariate`,
:func:`~rtml.drift.multivariate`) and the local engine's continuous monitors run on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from rtml.drift.values import check_columns, numeric_column
from rtml.float_sums import LARGEST_INPUT

__all__ = ["DriftTracker", "check_detector"]


def check_detector(delta: float, clock: int) -> None:
    if not 0 < delta < 1:
        raise ValueError(f"delta is a probability between 0 and 1, got {delta!r}")
    if clock < 1:
        raise ValueError(f"clock counts records between checks, at least 1, got {clock!r}")


class DriftTracker:
    """ADWIN over one field, or over several fields' reconstruction error from a reference's
    principal components (fitted once the first ``reference`` complete records are in).

    :meth:`update` takes the next piece of the stream and returns the trace of the records it
    could score (``row`` counts every record read, from 0). Records of a multivariate tracker
    wait until the reference is complete, then come out with the piece that completed it.

    >>> tracker = DriftTracker(["x"])
    >>> first = tracker.update(pd.DataFrame({"x": [1.0, None, 3.0]}))
    >>> first["row"].tolist(), tracker.rows
    ([0, 2], 3)
    >>> tracker.update(pd.DataFrame({"x": [5.0]}))["row"].tolist()
    [3]
    """

    def __init__(
        self,
        fields: Sequence[str],
        *,
        key: str | None = None,
        delta: float = 0.002,
        clock: int = 32,
        reference: int = 1000,
        variance: float = 0.9,
        source: str = "frame",
    ) -> None:
        from river.drift import ADWIN

        check_detector(delta, clock)
        self.fields = list(fields)
        if not self.fields or len(set(self.fields)) != len(self.fields):
            raise ValueError(f"drift needs one or more distinct fields, got {self.fields}")
        if len(self.fields) > 1:
            if not 0 < variance < 1:
                raise ValueError(f"variance is a share between 0 and 1, got {variance!r}")
            if reference < 2:
                raise ValueError(f"the reference needs at least 2 records, got {reference!r}")
        self.key, self.source = key, source
        self.reference, self.variance = reference, variance
        self.detector = ADWIN(delta=delta, clock=clock)
        self.rows = 0  # records read so far, scored or not
        self.rows_scored = 0
        self.changes = 0
        self.details: dict[str, Any] = {}
        # Multivariate: the yardstick once fitted, and the complete records waiting for it.
        self._center: np.ndarray | None = None
        self._scale: np.ndarray | None = None
        self._components: np.ndarray | None = None
        self._waiting: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    @property
    def multivariate(self) -> bool:
        return len(self.fields) > 1

    @property
    def waiting(self) -> int:
        """Complete records read but not scored yet (a multivariate reference filling up)."""
        return sum(len(rows) for rows, _, _ in self._waiting)

    @property
    def mean(self) -> float:
        return float(self.detector.estimation)

    @property
    def width(self) -> int:
        return int(self.detector.width)

    def status(self) -> dict[str, Any]:
        """ADWIN now: its window's ``mean`` (None before any record) and ``width``."""
        return {"mean": self.mean if self.rows_scored else None, "width": self.width}

    def update(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Read the next records; the trace of those scored now: ``row``, the key (when one
        was given), ``value``, ``mean``, ``width``, ``drift``."""
        check_columns(frame, self.source, self.fields, self.key)
        matrix = np.column_stack([numeric_column(frame, f, self.source) for f in self.fields])
        # Missing values are skipped, and so are numbers ADWIN cannot average: one inf made
        # its mean inf for good, and no change was ever found after it.
        with np.errstate(invalid="ignore"):
            kept = (np.abs(matrix) <= LARGEST_INPUT).all(axis=1)  # NaN fails it too
        positions = np.flatnonzero(kept) + self.rows
        keys = frame[self.key].to_numpy()[kept] if self.key is not None else positions
        self.rows += len(frame)
        matrix = matrix[kept]
        if not self.multivariate:
            return self._trace(positions, keys, matrix[:, 0])
        if self._components is None:
            self._waiting.append((matrix, positions, keys))
            if self.waiting < self.reference:
                return self._trace(positions[:0], keys[:0], np.empty(0))
            matrix = np.concatenate([m for m, _, _ in self._waiting])
            positions = np.concatenate([p for _, p, _ in self._waiting])
            keys = np.concatenate([k for _, _, k in self._waiting])
            self._waiting = []
            self._fit(matrix[: self.reference])
        return self._trace(positions, keys, self._errors(matrix))

    def _fit(self, base: np.ndarray) -> None:
        center, scale = base.mean(axis=0), base.std(axis=0)
        # A field constant in the reference keeps unit scale: any later departure still counts.
        scale[scale == 0] = 1.0
        _, singular, vt = np.linalg.svd((base - center) / scale, full_matrices=False)
        explained = singular**2 / max(float((singular**2).sum()), np.finfo(float).tiny)
        k = int(np.searchsorted(np.cumsum(explained), self.variance) + 1)
        k = min(k, len(self.fields) - 1)
        self._center, self._scale, self._components = center, scale, vt[:k]
        self.details = {
            "fields": self.fields,
            "reference": self.reference,
            "components": k,
            "explained": float(np.cumsum(explained)[k - 1]),
        }

    def _errors(self, matrix: np.ndarray) -> np.ndarray:
        assert self._components is not None
        z = (matrix - self._center) / self._scale
        residual = z - (z @ self._components.T) @ self._components
        errors: np.ndarray = (residual**2).mean(axis=1)
        return errors

    def _trace(self, positions: np.ndarray, keys: Any, values: np.ndarray) -> pd.DataFrame:
        n = len(values)
        mean, width = np.empty(n), np.empty(n, dtype=np.int64)
        drift = np.zeros(n, dtype=bool)
        detector = self.detector
        for i, value in enumerate(values.tolist()):
            detector.update(value)
            mean[i], width[i] = detector.estimation, detector.width
            drift[i] = detector.drift_detected
        self.changes += int(drift.sum())
        self.rows_scored += n
        table: dict[str, Any] = {"row": positions.astype("int64")}
        if self.key is not None:
            table[self.key] = keys
        table.update(value=values, mean=mean, width=width, drift=drift)
        return pd.DataFrame(table)
