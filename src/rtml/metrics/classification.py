"""Classification metrics over a sliding window: exact AUC (ranks, never binned)."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections import Counter, deque
from typing import Any

import numpy as np

from rtml.metrics.base import Metric
from rtml.nulls import is_null

__all__ = [
    "WindowedAUC",
    "WindowedAccuracy",
    "WindowedAveragePrecision",
    "WindowedClassAccuracy",
    "WindowedF1",
    "WindowedLogLoss",
    "WindowedMacroF1",
    "WindowedPrecision",
    "WindowedRecall",
    "exact_auc",
]


def _no_score(score: Any) -> bool:
    """A score that is not a number (NaN, or missing): no metric of the window that holds it
    is defined, so it makes the metric NaN until it leaves the window, rather than corrupt it
    for good (a NaN in the sorted scores broke the AUC's bookkeeping for the rest of the
    stream) or read as a low score.

    >>> _no_score(float("nan")), _no_score(None), _no_score(0.0), _no_score(float("inf"))
    (True, True, False, False)
    """
    return is_null(score)


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
    """Exact ROC AUC over the last ``window_size`` labelled predictions, updated in O(log n).

    The Mann-Whitney count (pairs where the positive outscores the negative, ties one half) is
    kept up to date as pairs enter and leave the window, with the scores of each class held
    sorted, so every ``get`` is exact without re-sorting the window.

    >>> m = WindowedAUC(window_size=3)
    >>> for y, s in [(1, 0.9), (0, 0.1), (1, 0.2), (0, 0.3)]:
    ...     m.update(y, s)
    >>> m.get()  # the window holds the last three pairs
    0.5
    """

    name = "WindowedAUC"
    binary = True

    def __init__(self, window_size: int = 1000) -> None:
        super().__init__(window_size)
        self._pos: list[float] = []
        self._neg: list[float] = []
        self._wins = 0.0  # twice the Mann-Whitney U, kept integral under ties
        self._no_scores = 0  # pairs of the window whose score is not a number

    def _pairs(self, score: float, positive: bool) -> float:
        others = self._neg if positive else self._pos
        below, above = bisect_left(others, score), bisect_right(others, score)
        ties = above - below
        beaten = below if positive else len(others) - above
        return 2.0 * beaten + ties

    def update(self, y_true: Any, score: float) -> None:
        if len(self.window) == self.window_size:
            old_y, old_s = self.window[0]
            if _no_score(old_s):
                self._no_scores -= 1
            else:
                old_pos = bool(old_y)
                mine = self._pos if old_pos else self._neg
                del mine[bisect_left(mine, old_s)]
                self._wins -= self._pairs(old_s, old_pos)
        if _no_score(score):
            self._no_scores += 1
        else:
            positive = bool(y_true)
            score = float(score)
            self._wins += self._pairs(score, positive)
            insort(self._pos if positive else self._neg, score)
        self.window.append((y_true, score))

    def get(self) -> float | None:
        if self._no_scores:
            return math.nan
        if not self._pos or not self._neg:
            return None
        return self._wins / (2.0 * len(self._pos) * len(self._neg))


class _ShareRight(Metric):
    """The share of the window's pairs that ``_hit`` counts right, kept as pairs come and go."""

    def __init__(self, window_size: int = 1000) -> None:
        super().__init__(window_size)
        self._hits = 0
        self._no_scores = 0  # pairs of the window whose score is not a number

    def _hit(self, y: Any, value: Any) -> int:
        raise NotImplementedError

    def _undefined(self, value: Any) -> bool:
        """Whether ``value`` leaves the metric undefined (a score that is not a number); a
        metric of predicted classes counts a missing one as wrong instead."""
        return not self.reads_class and _no_score(value)

    def update(self, y_true: Any, score: Any) -> None:
        if len(self.window) == self.window_size:
            old_y, old = self.window[0]
            if self._undefined(old):
                self._no_scores -= 1
            else:
                self._hits -= self._hit(old_y, old)
        if self._undefined(score):
            self._no_scores += 1
        else:
            self._hits += self._hit(y_true, score)
        self.window.append((y_true, score))

    def get(self) -> float | None:
        if self._no_scores:
            return math.nan
        return self._hits / len(self.window) if self.window else None


class WindowedAccuracy(_ShareRight):
    """Share of correct predictions (a score above ``threshold`` means class 1) over the window.

    At the default threshold this is the share of labels equal to the predicted class a binary
    model shows: both read a score of exactly 0.5 (a model that has learned nothing) as class 0.

    Labels other than 0 and 1 (more classes, or text) are not refused: an evaluation then
    counts the predictions whose predicted class is the label (:class:`WindowedClassAccuracy`),
    as it does once the model has predicted a class other than 0 and 1.

    >>> m = WindowedAccuracy(window_size=10)
    >>> for y, s in [(1, 0.9), (0, 0.6)]:
    ...     m.update(y, s)
    >>> m.get()
    0.5
    """

    name = "WindowedAccuracy"
    binary = True
    for_classes = "WindowedClassAccuracy"

    def __init__(self, window_size: int = 1000, threshold: float = 0.5) -> None:
        super().__init__(window_size)
        self.threshold = threshold

    def _hit(self, y: Any, value: Any) -> int:
        return int(bool(y) == (value > self.threshold))


class WindowedClassAccuracy(_ShareRight):
    """Share of labelled predictions whose predicted class is the label, over the window: any
    classes (numbered, text, more than two). A prediction of no class (a model that has learned
    nothing yet) counts as wrong.

    >>> m = WindowedClassAccuracy(window_size=3)
    >>> for y, predicted in [("cat", "dog"), ("cat", "cat"), ("bird", "bird"), (2, 2)]:
    ...     m.update(y, predicted)
    >>> m.get()  # the last three: cat, bird and 2 were right
    1.0
    """

    name = "WindowedClassAccuracy"
    reads_class = True

    def _hit(self, y: Any, value: Any) -> int:
        return int(not is_null(value) and bool(value == y))


class WindowedMacroF1(Metric):
    """F1 of each class in the window, averaged with equal weights (any classes): a rare class
    counts as much as a common one. A prediction of no class is a miss of the true class and
    no class's false alarm.

    >>> m = WindowedMacroF1(window_size=4)
    >>> for y, predicted in [("a", "a"), ("a", "b"), ("b", "b"), ("c", None)]:
    ...     m.update(y, predicted)
    >>> round(m.get(), 4)  # a and b: 2/3 each, c: 0
    0.4444
    """

    name = "WindowedMacroF1"
    reads_class = True

    def __init__(self, window_size: int = 1000) -> None:
        super().__init__(window_size)
        self._right: Counter[Any] = Counter()  # by class: predicted and true
        self._alarms: Counter[Any] = Counter()  # predicted, but another class was true
        self._missed: Counter[Any] = Counter()  # true, but not predicted

    def _count(self, y: Any, predicted: Any, sign: int) -> None:
        if not is_null(predicted) and predicted == y:
            self._right[y] += sign
            return
        self._missed[y] += sign
        if not is_null(predicted):
            self._alarms[predicted] += sign

    def update(self, y_true: Any, score: Any) -> None:
        if len(self.window) == self.window_size:
            self._count(*self.window[0], -1)
        self._count(y_true, score, 1)
        self.window.append((y_true, score))

    def get(self) -> float | None:
        scores = []
        for c in {*self._right, *self._alarms, *self._missed}:
            right, wrong = self._right[c], self._alarms[c] + self._missed[c]
            if right or wrong:  # a class still in the window
                scores.append(2 * right / (2 * right + wrong))
        return sum(scores) / len(scores) if scores else None


class _Thresholded(Metric):
    """Counts of a confusion matrix at ``threshold`` (a score above it means class 1, as the
    predicted class reads it), kept as pairs enter and leave."""

    binary = True

    def __init__(self, window_size: int = 1000, threshold: float = 0.5) -> None:
        super().__init__(window_size)
        self.threshold = threshold
        self.tp = self.fp = self.fn = 0
        self._no_scores = 0  # pairs of the window whose score is not a number

    def _count(self, y: Any, score: float, sign: int) -> None:
        if _no_score(score):
            self._no_scores += sign
            return
        actual, predicted = bool(y), score > self.threshold
        if actual and predicted:
            self.tp += sign
        elif predicted:
            self.fp += sign
        elif actual:
            self.fn += sign

    def update(self, y_true: Any, score: float) -> None:
        if len(self.window) == self.window_size:
            self._count(*self.window[0], -1)
        self._count(y_true, score, 1)
        self.window.append((y_true, score))

    def get(self) -> float | None:
        return math.nan if self._no_scores else self._from_counts()

    def _from_counts(self) -> float | None:
        raise NotImplementedError


class WindowedPrecision(_Thresholded):
    """Precision at ``threshold`` over the window (``None`` before any positive prediction).

    >>> m = WindowedPrecision(window_size=10)
    >>> for y, s in [(1, 0.9), (0, 0.7), (1, 0.2)]:
    ...     m.update(y, s)
    >>> m.get()
    0.5
    """

    name = "WindowedPrecision"

    def _from_counts(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None


class WindowedRecall(_Thresholded):
    """Recall at ``threshold`` over the window (``None`` before any positive label).

    >>> m = WindowedRecall(window_size=10)
    >>> for y, s in [(1, 0.9), (0, 0.7), (1, 0.2)]:
    ...     m.update(y, s)
    >>> m.get()
    0.5
    """

    name = "WindowedRecall"

    def _from_counts(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


class WindowedF1(_Thresholded):
    """F1 at ``threshold`` over the window.

    >>> m = WindowedF1(window_size=10)
    >>> for y, s in [(1, 0.9), (0, 0.7), (1, 0.2)]:
    ...     m.update(y, s)
    >>> m.get()
    0.5
    """

    name = "WindowedF1"

    def _from_counts(self) -> float | None:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else None


class WindowedAveragePrecision(WindowedAUC):
    """Average precision (area under the precision-recall curve, as scikit-learn computes it)
    over the window, from the sorted scores kept for the AUC: O(positives · log n) per read.

    >>> m = WindowedAveragePrecision(window_size=10)
    >>> for y, s in [(1, 0.9), (0, 0.8), (1, 0.4), (0, 0.1)]:
    ...     m.update(y, s)
    >>> round(m.get(), 4)
    0.8333
    """

    name = "WindowedAveragePrecision"

    def get(self) -> float | None:
        if self._no_scores:
            return math.nan
        positives, negatives = self._pos, self._neg
        if not positives:
            return None
        total_pos, total_neg = len(positives), len(negatives)
        area, previous_recall = 0.0, 0.0
        # Thresholds at each distinct positive score, highest first: recall moves only there.
        for threshold in sorted(set(positives), reverse=True):
            tp = total_pos - bisect_left(positives, threshold)
            fp = total_neg - bisect_left(negatives, threshold)
            recall = tp / total_pos
            area += (recall - previous_recall) * tp / (tp + fp)
            previous_recall = recall
        return area


class WindowedLogLoss(Metric):
    """Mean log loss of the predicted probability of class 1 over the window (clipped at 1e-15).

    >>> m = WindowedLogLoss(window_size=10)
    >>> m.update(1, 0.5)
    >>> round(m.get(), 4)
    0.6931
    """

    name = "WindowedLogLoss"
    binary = True

    def __init__(self, window_size: int = 1000) -> None:
        super().__init__(window_size)
        # A pair whose score is not a number holds NaN here and adds nothing to the total.
        self._losses: deque[float] = deque(maxlen=window_size)
        self._total = 0.0
        self._since_exact = 0
        self._no_scores = 0

    def update(self, y_true: Any, score: float) -> None:
        if _no_score(score):
            loss = math.nan
        else:
            p = min(max(float(score), 1e-15), 1 - 1e-15)
            loss = -math.log(p) if y_true else -math.log(1 - p)
        if len(self._losses) == self.window_size:
            leaving = self._losses[0]
            if leaving != leaving:
                self._no_scores -= 1
            else:
                self._total -= leaving
        self._losses.append(loss)
        if loss != loss:
            self._no_scores += 1
        else:
            self._total += loss
        self._since_exact += 1
        if self._since_exact >= self.window_size:  # wash out rounding drift now and then
            self._total = math.fsum(v for v in self._losses if v == v)
            self._since_exact = 0
        self.window.append((y_true, score))

    def get(self) -> float | None:
        if self._no_scores:
            return math.nan
        return self._total / len(self._losses) if self._losses else None
