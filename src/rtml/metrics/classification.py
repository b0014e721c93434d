"""Classification metrics over a sliding window: exact AUC (ranks, never binned)."""

from __future__ import annotations

import numpy as np

from rtml.metrics.base import Metric

__all__ = ["WindowedAUC", "WindowedAccuracy", "exact_auc"]


def exact_auc(y_true: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC from ranks (ties count one half); ``None`` when only one class is present.

    >>> exact_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    positives = y_true.astype(bool)
    n_pos = int(positives.sum())
    n_neg = len(y_true) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype="float64")
    # Average ranks over runs of tied scores.
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(scores)]))
    average = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(average, ends - starts)
    rank_sum = float(ranks[positives].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


class WindowedAUC(Metric):
    """Exact ROC AUC over the last ``window_size`` labelled predictions.

    >>> m = WindowedAUC(window_size=3)
    >>> for y, s in [(1, 0.9), (0, 0.1), (1, 0.2), (0, 0.3)]:
    ...     m.update(y, s)
    >>> m.get()  # the window holds the last three pairs
    0.5
    """

    name = "WindowedAUC"

    def get(self) -> float | None:
        if not self.window:
            return None
        y = np.fromiter((bool(p[0]) for p in self.window), dtype=bool, count=len(self.window))
        s = np.fromiter((p[1] for p in self.window), dtype="float64", count=len(self.window))
        return exact_auc(y, s)


class WindowedAccuracy(Metric):
    """Share of correct predictions (score >= ``threshold`` means class 1) over the window.

    >>> m = WindowedAccuracy(window_size=10)
    >>> for y, s in [(1, 0.9), (0, 0.6)]:
    ...     m.update(y, s)
    >>> m.get()
    0.5
    """

    name = "WindowedAccuracy"

    def __init__(self, window_size: int = 1000, threshold: float = 0.5) -> None:
        super().__init__(window_size)
        self.threshold = threshold

    def get(self) -> float | None:
        if not self.window:
            return None
        hits = sum(bool(y) == (s >= self.threshold) for y, s in self.window)
        return hits / len(self.window)
