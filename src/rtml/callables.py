"""Python callables inside specs, written to JSON as ``"module:qualified.name"``.

A spec holding a function (a UDF, a UDAF) must still round-trip through JSON, so the function is
saved by reference. Functions that cannot be found again by that reference (lambdas, closures,
functions defined in ``__main__``) work in the process that defined them but cannot be saved.

>>> import math
>>> reference_of(math.log1p)
'math:log1p'
>>> resolve("math:log1p") is math.log1p
True
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["PyObject", "reference_of", "resolve"]


def reference_of(obj: Any) -> str:
    """``module:qualname`` of ``obj``; ``ValueError`` when it could not be imported back."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if not module or not qualname or "<" in qualname:
        raise ValueError(
            f"{obj!r} cannot be saved by reference: define it at the top level of an importable "
            f"module (lambdas and nested functions cannot be found again)"
        )
    reference = f"{module}:{qualname}"
    try:
        found = resolve(reference)
    except ValueError:
        found = None
    if found is not obj:
        raise ValueError(f"{obj!r} cannot be saved by reference: {reference} does not import back")
    return reference


def resolve(reference: str) -> Any:
    """Import ``module:qualname`` and return the object it names."""
    module_name, _, qualname = reference.partition(":")
    if not module_name or not qualname:
        raise ValueError(f"expected 'module:name', got {reference!r}")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot import {reference!r}: {exc}") from None
    return obj


def _load(value: Any) -> Any:
    if isinstance(value, str):
        return resolve(value)
    if not callable(value):
        raise ValueError(f"expected a callable or a 'module:name' string, got {value!r}")
    return value


# A field type: any callable (or module/class) in Python, its reference in JSON.
PyObject = Annotated[
    Any,
    BeforeValidator(_load),
    PlainSerializer(reference_of, return_type=str, when_used="json"),
]
