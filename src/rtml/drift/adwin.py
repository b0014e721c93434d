"""ADWIN over a sequence of numbers: River's detector, run record by record, its state kept."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

__all__ = ["AdwinTrace", "run_adwin"]


class AdwinTrace(NamedTuple):
    """What ADWIN knew after each value: the mean and length of its window, and whether it
    dropped the window's older part at that value (a change detected)."""

    mean: np.ndarray
    width: np.ndarray
    drift: np.ndarray


def run_adwin(values: Sequence[float], delta: float, clock: int) -> AdwinTrace:
    """Feed ``values`` in order to one ADWIN detector.

    ``delta`` bounds the chance of a false alarm (smaller: fewer false alarms, later
    detections); ADWIN looks for a cut every ``clock`` values.

    >>> trace = run_adwin([0.0] * 500 + [1.0] * 500, delta=0.002, clock=32)
    >>> int(trace.drift.sum()) >= 1, float(trace.mean[-1])
    (True, 1.0)
    """
    # River is imported here, not at module load: `import rtml` stays quick.
    from river.drift import ADWIN

    detector = ADWIN(delta=delta, clock=clock)
    n = len(values)
    mean, width = np.empty(n), np.empty(n, dtype=np.int64)
    drift = np.zeros(n, dtype=bool)
    for i, value in enumerate(values):
        detector.update(value)
        mean[i], width[i] = detector.estimation, detector.width
        drift[i] = detector.drift_detected
    return AdwinTrace(mean, width, drift)
