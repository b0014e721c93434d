"""Whole-number options (a window, a batch size, a position), checked alike everywhere."""

from __future__ import annotations

import numpy as np

__all__ = ["is_whole"]


def is_whole(value: object, least: int) -> bool:
    """Whether ``value`` is a whole number of at least ``least``: a Python or numpy integer,
    never a bool (``True`` is 1 to Python, never a count to a user).

    >>> is_whole(3, 1), is_whole(np.int64(0), 0), is_whole(True, 1), is_whole(2.0, 1)
    (True, True, False, False)
    """
    return (
        isinstance(value, int | np.integer) and not isinstance(value, bool) and bool(value >= least)
    )
