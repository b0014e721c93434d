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

import contextlib
import importlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["PyObject", "UntrustedReference", "only_from", "reference_of", "resolve"]

# The module prefixes a reference may name while an :func:`only_from` block is active; ``None``
# outside one (everything importable may be named, as in the owner's own Python code).
_TRUSTED: ContextVar[tuple[str, ...] | None] = ContextVar("rtml_trusted_modules", default=None)


class UntrustedReference(ValueError):
    """A spec named a function in a module the reader does not trust (see :func:`only_from`)."""


@contextlib.contextmanager
def only_from(modules: tuple[str, ...] | list[str]) -> Iterator[None]:
    """Within the block, references resolve only inside ``modules`` (and their submodules),
    checked before anything is imported: how ``rtml serve`` reads specs sent over the wire, so
    a request can name the owner's UDFs but never run other code.

    >>> with only_from(["math"]):
    ...     resolve("math:sqrt")(9.0)
    3.0
    >>> with only_from([]):
    ...     resolve("os:system")
    Traceback (most recent call last):
    ...
    rtml.callables.UntrustedReference: 'os:system' is not in a trusted module (trusted: none); the store's owner can allow it: rtml serve --trust-module os
    """
    token = _TRUSTED.set(tuple(modules))
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def _check_trusted(module_name: str, reference: str) -> None:
    trusted = _TRUSTED.get()
    if trusted is None:
        return
    if any(module_name == m or module_name.startswith(f"{m}.") for m in trusted):
        return
    raise UntrustedReference(
        f"{reference!r} is not in a trusted module (trusted: {', '.join(trusted) or 'none'}); "
        f"the store's owner can allow it: rtml serve --trust-module {module_name.split('.')[0]}"
    )


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
    _check_trusted(module_name, reference)
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot import {reference!r}: {exc}") from None
    if _TRUSTED.get() is not None:
        # A trusted module's attribute can be something it imported (``mod:os.system``): the
        # object itself must be defined in a trusted module too.
        if qualname.startswith("_") or "._" in qualname:
            raise UntrustedReference(f"{reference!r}: private names cannot be referenced")
        _check_trusted(str(getattr(obj, "__module__", "")), reference)
    return obj


def _load(value: Any) -> Any:
    if isinstance(value, str):
        return resolve(value)
    if _TRUSTED.get() is not None:
        raise UntrustedReference(f"expected a 'module:name' reference, got {value!r}")
    if not callable(value):
        raise ValueError(f"expected a callable or a 'module:name' string, got {value!r}")
    return value


# A field type: any callable (or module/class) in Python, its reference in JSON.
PyObject = Annotated[
    Any,
    BeforeValidator(_load),
    PlainSerializer(reference_of, return_type=str, when_used="json"),
]
