"""Durations written as short strings (``"30m"``, ``"24h"``, ``"7d"``), parsed exactly.

>>> parse_duration("24h")
86400000000000
>>> parse_duration("1.5d") // 3_600_000_000_000
36
>>> format_duration(parse_duration("90m"))
'90m'
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["LONGEST", "NANOS", "format_duration", "parse_duration"]

# Nanoseconds per unit: windows are kept in integer nanoseconds so that boundaries are exact.
NANOS = {
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
    "d": 86400 * 1_000_000_000,
    "w": 7 * 86400 * 1_000_000_000,
}

# The longest duration (2**61 ns, 26,687 days, some 73 years). Event times lie within 2**62 ns
# of 1970 (see rtml.features.timestamps), so a time minus a delay and a window (at most two
# durations) still fits the int64 nanoseconds windows are computed in.
LONGEST = 2**61

_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")


def parse_duration(text: str) -> int:
    """The duration in integer nanoseconds; ``ValueError`` with the accepted forms otherwise,
    or beyond ``LONGEST``.

    >>> parse_duration("100000d")
    Traceback (most recent call last):
    ...
    ValueError: '100000d' is longer than the longest duration rtml keeps, 26687d (some 73 years)
    """
    match = _PATTERN.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration: expected a number and a unit, one of "
            f"{', '.join(NANOS)} (e.g. '30m', '24h', '7d')"
        )
    try:
        amount = Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the regex admits only decimals
        raise ValueError(f"{text!r} is not a duration") from None
    nanos = int(amount * NANOS[match.group(2)])
    if nanos > LONGEST:
        raise ValueError(
            f"{text!r} is longer than the longest duration rtml keeps, {LONGEST // NANOS['d']}d "
            "(some 73 years)"
        )
    return nanos


def format_duration(nanos: int) -> str:
    """The shortest exact string for a duration in nanoseconds."""
    for unit in ("w", "d", "h", "m", "s", "ms"):
        if nanos % NANOS[unit] == 0 and nanos:
            return f"{nanos // NANOS[unit]}{unit}"
    return f"{nanos / NANOS['s']}s"
