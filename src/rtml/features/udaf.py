"""``UDAF``: a user-defined aggregate over a window per key, in TurboML's five-function shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import field_validator

from rtml.callables import PyObject
from rtml.errors import SpecError
from rtml.features.base import WindowFeature

__all__ = ["UDAF"]

_FUNCTIONS = ("create_state", "accumulate", "retract", "merge_states", "finish")


class UDAF(WindowFeature):
    """A user-defined aggregate of ``columns`` per ``by`` key over a window.

    ``functions`` is a module or class with TurboML's five functions: ``create_state()``,
    ``accumulate(state, *values)``, ``retract(state, *values)``, ``merge_states(a, b)`` and
    ``finish(state)``. The value at an event is computed from its window's records, oldest
    first, by ``create_state``, ``accumulate`` and ``finish``; ``retract`` and ``merge_states``
    are required so that the same definition runs on TurboML, which uses them.

    >>> class WeightedMean:
    ...     @staticmethod
    ...     def create_state(): return (0.0, 0.0)
    ...     @staticmethod
    ...     def accumulate(s, value, weight): return (s[0] + value * weight, s[1] + weight)
    ...     @staticmethod
    ...     def retract(s, value, weight): return (s[0] - value * weight, s[1] - weight)
    ...     @staticmethod
    ...     def merge_states(a, b): return (a[0] + b[0], a[1] + b[1])
    ...     @staticmethod
    ...     def finish(s): return s[0] / s[1] if s[1] else None
    >>> f = UDAF("wmean", columns=["price", "qty"], functions=WeightedMean, by="item",
    ...          window="1h")
    >>> f.reduce([(2.0, 1.0), (4.0, 3.0)])
    3.5
    """

    kind: Literal["udaf"] = "udaf"
    columns_: tuple[str, ...] = ()
    functions: PyObject

    _positional = ("name",)

    def __init__(self, /, *args: Any, **data: Any) -> None:
        # ``columns`` is the natural argument name but also a method of every feature.
        if "columns" in data:
            data["columns_"] = data.pop("columns")
        super().__init__(*args, **data)

    @field_validator("columns_", mode="before")
    @classmethod
    def _columns_tuple(cls, value: Any) -> Any:
        if isinstance(value, str):
            return (value,)
        return tuple(value) if isinstance(value, list) else value

    @field_validator("functions")
    @classmethod
    def _has_functions(cls, value: Any) -> Any:
        missing = [f for f in _FUNCTIONS if not callable(getattr(value, f, None))]
        if missing:
            raise ValueError(
                f"expected an object with {', '.join(_FUNCTIONS)}; missing {', '.join(missing)}"
            )
        return value

    def value_columns(self) -> tuple[str, ...]:
        return self.columns_

    def reduce(self, values: Sequence[tuple[Any, ...]]) -> Any:
        try:
            state = self.functions.create_state()
            for row in values:
                state = self.functions.accumulate(state, *row)
            return self.functions.finish(state)
        except Exception as exc:  # the user's code: said as a UDF's failure is, by name
            owner = getattr(self.functions, "__name__", type(self.functions).__name__)
            raise SpecError(
                f"UDAF {self.name!r}: {owner!r} raised {type(exc).__name__}: {exc}"
            ) from exc
