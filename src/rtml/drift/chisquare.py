"""Pearson's chi-square test of two samples of categories, and the chi-square distribution's
upper tail (numpy and the standard library only: scipy is not a dependency)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["chi2_sf", "homogeneity"]

_MIN_EXPECTED = 5.0  # the usual validity rule of the chi-square approximation
_EPS = 1e-15
_ITERATIONS = 10_000


def chi2_sf(x: float, dof: int) -> float:
    """P(X > x) for X chi-square with ``dof`` degrees of freedom: the regularized upper
    incomplete gamma function Q(dof/2, x/2).

    >>> round(chi2_sf(3.841458820694124, 1), 6)
    0.05
    >>> chi2_sf(0.0, 3)
    1.0
    """
    if dof < 1:
        raise ValueError(f"degrees of freedom are at least 1, got {dof!r}")
    a, z = dof / 2.0, x / 2.0
    if z <= 0:  # (x/2 of the smallest subnormal is 0)
        return 1.0
    log_front = a * math.log(z) - z - math.lgamma(a)
    if z < a + 1:
        # The series of the lower function P converges fast below its peak: Q = 1 - P.
        term = total = 1.0 / a
        n = a
        for _ in range(_ITERATIONS):
            n += 1
            term *= z / n
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return max(0.0, 1.0 - math.exp(log_front) * total)
    # Above it, Q's continued fraction (evaluated by Lentz's method).
    tiny = 1e-300
    b = z + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, _ITERATIONS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        step = d * c
        h *= step
        if abs(step - 1.0) < _EPS:
            break
    return min(1.0, math.exp(log_front) * h)


def homogeneity(before: Mapping[Any, int], after: Mapping[Any, int]) -> tuple[float, int]:
    """Pearson's chi-square statistic that two samples of categories (counts per category)
    come from one distribution, and its degrees of freedom.

    Categories too rare for the test (an expected count below 5 in either sample) are pooled
    into one; a pool still too small joins the smallest category. Fewer than two categories
    left: ``(0.0, 0)``, nothing to test.

    >>> homogeneity({"a": 50, "b": 50}, {"a": 50, "b": 50})
    (0.0, 1)
    >>> stat, dof = homogeneity({"a": 80, "b": 20}, {"a": 50, "b": 50})
    >>> round(stat, 3), dof
    (19.78, 1)
    """
    n1, n2 = sum(before.values()), sum(after.values())
    if not n1 or not n2:
        return 0.0, 0
    categories = set(before) | set(after)
    smaller = min(n1, n2) / (n1 + n2)
    bins: list[tuple[int, int]] = []
    pooled = [0, 0]
    for c in categories:
        x, y = before.get(c, 0), after.get(c, 0)
        if (x + y) * smaller < _MIN_EXPECTED:
            pooled[0] += x
            pooled[1] += y
        else:
            bins.append((x, y))
    if sum(pooled):
        if sum(pooled) * smaller >= _MIN_EXPECTED or not bins:
            bins.append((pooled[0], pooled[1]))
        else:
            i = min(range(len(bins)), key=lambda j: sum(bins[j]))
            bins[i] = (bins[i][0] + pooled[0], bins[i][1] + pooled[1])
    if len(bins) < 2:
        return 0.0, 0
    total = n1 + n2
    stat = 0.0
    for x, y in bins:
        column = x + y
        for observed, row in ((x, n1), (y, n2)):
            expected = row * column / total
            stat += (observed - expected) ** 2 / expected
    return stat, len(bins) - 1
