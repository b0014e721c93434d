"""Regression metrics over a sliding window: mean absolute and squared errors."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from rtml.float_sums import float_sum
from rtml.metrics.base import Metric
from rtml.nulls import is_null

__all__ = ["WindowedMAE", "WindowedMSE", "WindowedRMSE"]


class _WindowedMeanError(Metric):
    """Mean of a per-pair error over the window, kept as a running sum, re-summed exactly once
    per window length and whenever its rounding could matter.

    The running sum's error is at most about machine epsilon times all it has added and taken
    away since it was last exact. A large error leaving the window (1e12 where the rest are
    near 0.1) leaves that much behind: the mean of the rest was off by 3e-5. So the sum is
    re-summed exactly once what moved through it exceeds a million times what it holds.

    >>> m = WindowedMSE(window_size=2)
    >>> for y, p in [(0.0, 1e6), (0.0, 0.1), (0.0, 0.2)]:
    ...     m.update(y, p)
    >>> m.get() == (0.1**2 + 0.2**2) / 2
    True
    """

    def __init__(self, window_size: int = 1000) -> None:
        super().__init__(window_size)
        self._errors: deque[float] = deque(maxlen=window_size)
        self._total = 0.0
        self._moved = 0.0  # sum of the errors added and taken away since the last exact sum
        self._since_exact = 0

    def error(self, y_true: float, prediction: float) -> float:
        raise NotImplementedError

    def update(self, y_true: Any, score: float) -> None:
        # A prediction that is not a number (NaN, missing) makes the error NaN: the mean is NaN
        # while the pair is in the window, and exact again once it has left (re-summed below).
        prediction = math.nan if is_null(score) else float(score)
        value = self.error(float(y_true), prediction)
        if len(self._errors) == self.window_size:
            self._total -= self._errors[0]
            self._moved += self._errors[0]
        self._errors.append(value)
        self._total += value
        self._moved += value
        self._since_exact += 1
        # Errors are never negative, so the total is what the window holds. An infinite error
        # leaving it would leave NaN behind (inf - inf): the window is then summed anew.
        if (
            self._since_exact >= self.window_size
            or self._moved > 1e6 * self._total
            or not math.isfinite(self._total)
        ):
            self._total, self._since_exact = float_sum(self._errors), 0
            self._moved = self._total
        self.window.append((y_true, score))

    def get(self) -> float | None:
        return self._total / len(self._errors) if self._errors else None


class WindowedMAE(_WindowedMeanError):
    """Mean absolute error over the window.

    >>> m = WindowedMAE(window_size=2)
    >>> for y, p in [(1.0, 3.0), (2.0, 2.5), (0.0, 1.0)]:
    ...     m.update(y, p)
    >>> m.get()
    0.75
    """

    name = "WindowedMAE"

    def error(self, y_true: float, prediction: float) -> float:
        return abs(y_true - prediction)


class WindowedMSE(_WindowedMeanError):
    """Mean squared error over the window.

    >>> m = WindowedMSE(window_size=2)
    >>> for y, p in [(1.0, 3.0), (2.0, 2.5), (0.0, 1.0)]:
    ...     m.update(y, p)
    >>> m.get()
    0.625
    """

    name = "WindowedMSE"

    def error(self, y_true: float, prediction: float) -> float:
        error = y_true - prediction
        return error * error  # inf beyond a float, where ** 2 raises OverflowError


class WindowedRMSE(WindowedMSE):
    """Root mean squared error over the window.

    >>> m = WindowedRMSE(window_size=1)
    >>> m.update(1.0, 4.0)
    >>> m.get()
    3.0
    """

    name = "WindowedRMSE"

    def get(self) -> float | None:
        mse = super().get()
        return None if mse is None else math.sqrt(mse)
