"""Sums of floats that are exact where a float can hold them, and IEEE's answer where not.

``math.fsum`` rounds a sum exactly, but raises where float addition gives an answer: a running
sum beyond the largest float, or ``inf`` meeting ``-inf``. A feature, a metric or a vote that
raised there would refuse the push holding the value; these sums answer as DuckDB's ``sum``
does instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["LARGEST_INPUT", "SCALE", "float_sum"]

# The largest magnitude a model or a drift detector reads (beyond it a value is read as
# missing): its square (1e300), and a billion of them summed, still fit a float (1.8e308).
LARGEST_INPUT = 1e150

# An exact power of two: scaling by it changes no digit of a float far from underflow.
SCALE = 2.0**-64


def float_sum(xs: Iterable[float]) -> float:
    """The exactly rounded sum of ``xs``; as float addition gives it where that is not a float:
    ``inf`` (or ``-inf``) when it overflows, NaN when it meets both ``inf`` and ``-inf``.

    >>> float_sum([0.1] * 10), float_sum([1e308, 1e308]), float_sum([1e308, 1e308, -1e308])
    (1.0, inf, 1e+308)
    >>> float_sum([float("inf"), float("-inf")])
    nan
    """
    values = xs if isinstance(xs, list) else list(xs)  # read twice on overflow
    try:
        return math.fsum(values)
    except ValueError:  # inf and -inf
        return math.nan
    except OverflowError:
        pass
    # fsum refuses a running sum beyond a float: sum the values scaled down, then scale up (a
    # product beyond a float is inf; an infinite value stays one, and inf with -inf is NaN).
    try:
        return math.fsum(x * SCALE for x in values) / SCALE
    except ValueError:
        return math.nan
