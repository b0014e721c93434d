"""A dataset schema's column read as its type's name, whatever form the schema gives it in.

Backends hand schemas around as ``Column`` objects (the local engine) or as text such as
``"int!"`` (what ``create_dataset(schema=...)`` takes); checks on both sides of the package
read them here, so that one reading serves the feature sets and the backends alike.

>>> type_of("int!"), type_of("float?"), type_of(None)
('int', 'float', None)
"""

from __future__ import annotations

from typing import Any

__all__ = ["type_of"]


def type_of(column: Any) -> str | None:
    """The type's name of a schema column (a ``Column`` or its text, the nullability mark
    ``!``/``?`` left off); ``None`` for no column."""
    if column is None:
        return None
    return str(getattr(column, "type", column)).rstrip("!?")
