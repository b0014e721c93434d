"""``Aggregate``: sum, count, avg, min, max, std, var or count_distinct per key over a window."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, Literal

from pydantic import field_validator

from rtml.features.base import WindowFeature
from rtml.float_sums import float_sum
from rtml.nulls import is_null

__all__ = ["NUMERIC_OPS", "OPS", "Aggregate", "sample_var"]

OPS = ("sum", "count", "avg", "min", "max", "std", "var", "count_distinct")
# The ops whose result over numbers depends only on their values as float64 (count_distinct
# does not: 2**53 and 2**53 + 1 are one float).
NUMERIC_OPS = ("sum", "count", "avg", "min", "max", "std", "var")


def sample_var(xs: list[float]) -> float | None:
    """Sample variance (n - 1), ``None`` for fewer than two values; NaN when a value is
    infinite, ``inf`` when the variance is beyond a float.

    >>> sample_var([1e308, 1e308]), sample_var([1.7e308] * 3), sample_var([1.0, float("inf")])
    (0.0, 0.0, nan)
    """
    n = len(xs)
    if n < 2:
        return None
    # Two passes with exactly rounded sums: accurate even when the mean dwarfs the spread.
    mean = float_sum(xs) / n
    if math.isinf(mean) and all(math.isfinite(x) for x in xs):
        # Values near the largest float: their mean is one, though their sum is not. It is
        # taken exactly (rare, so the cost does not matter): a mean one ulp off there gives
        # deviations whose squares overflow, and three equal values a variance of inf.
        mean = float(sum(map(Fraction, xs), Fraction(0)) / n)
    deviations = [x - mean for x in xs]
    return float_sum([d * d for d in deviations]) / (n - 1)  # d * d: inf, not OverflowError


class Aggregate(WindowFeature):
    """``op`` of ``column`` over the records of the same ``by`` key within ``window``.

    The window at an event with time ``t`` is ``[t - window, t]``: the event itself and every
    earlier-arrived record of its key at most ``window`` older (TurboML's boundary). With
    ``closed="right"`` it is ``(t - window, t]`` (pandas' rolling boundary). With ``delay`` it
    is shifted back to ``[t - delay - window, t - delay]``. NULLs are skipped, as in SQL; an
    empty window gives NULL (NaN), except ``count`` and ``count_distinct``, which give 0.

    ``source`` names a second dataset keyed like this feature set's dataset (the labels, say):
    the aggregate then reads ``column`` from that dataset's record with the same key, as far as
    it has arrived when the event is processed.

    >>> spend = Aggregate("spend_24h", column="amount", op="sum", by="card", window="24h")
    >>> spend.reduce([(10.0,), (None,), (2.5,)])
    12.5
    >>> Aggregate("n", column="amount", op="count", by="card", window="1h").reduce([])
    0
    >>> Aggregate("risk", column="is_fraud", op="avg", by="terminal", window="7d",
    ...           delay="7d", source="labels").columns()
    ('terminal',)
    """

    kind: Literal["aggregate"] = "aggregate"
    column: str
    op: str

    _positional = ("name",)

    @field_validator("op", mode="before")
    @classmethod
    def _op(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.lower()
            if value not in OPS:
                raise ValueError(f"expected one of {', '.join(OPS)}, got {value!r}")
        return value

    def value_columns(self) -> tuple[str, ...]:
        return (self.column,)

    def reduce(self, values: Sequence[tuple[Any, ...]]) -> Any:
        return self.reduce_column([v[0] for v in values])

    def reduce_column(self, values: Sequence[Any]) -> Any:
        """The aggregate of one column's values (NULLs skipped), oldest first."""
        present = [v for v in values if not is_null(v)]
        op = self.op
        if op == "count":
            return len(present)
        if op == "count_distinct":
            return len(set(present))
        if not present:
            return None
        if op == "sum":
            return float_sum(present)
        if op == "avg":
            return float_sum(present) / len(present)
        if op == "min":
            return min(present)
        if op == "max":
            return max(present)
        var = sample_var([float(x) for x in present])
        if var is None:
            return None
        return var if op == "var" else math.sqrt(var)
