"""The pydantic base of every rtml spec: frozen, no unknown fields, one readable error.

A spec is a declaration (what to compute), never the computation itself, so it can be
validated when it is written, compared, hashed, and sent to another backend as JSON.

>>> from typing import Self, Literal
>>> class Ping(Spec):
...     kind: Literal["ping"] = "ping"
...     target: str
...     _positional = ("target",)
>>> Ping("localhost")
Ping(kind='ping', target='localhost')
>>> Ping(target=3)
Traceback (most recent call last):
...
rtml.errors.SpecError: Ping: field 'target': expected a string (got 3)
"""

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from rtml.errors import SpecError

__all__ = ["Spec", "defining", "format_validation_error", "reading_stored"]

_READING_STORED: ContextVar[bool] = ContextVar("rtml_reading_stored", default=False)


@contextlib.contextmanager
def reading_stored() -> Iterator[None]:
    """Specs built inside are read back (from a store, a catalog, a server), accepted when they
    were defined: a check that refuses new definitions only (see :func:`defining`), added to
    rtml since, lets them through, so what an earlier rtml stored still opens.

    >>> defining()
    True
    >>> with reading_stored():
    ...     defining()
    False
    """
    token = _READING_STORED.set(True)
    try:
        yield
    finally:
        _READING_STORED.reset(token)


def defining() -> bool:
    """Whether a spec being built is a new definition, not one read back by
    :func:`reading_stored`."""
    return not _READING_STORED.get()


# Pydantic's error types, reworded for people who did not write the model.
_EXPECTED = {
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "missing": "required but missing",
    "literal_error": "expected one of the allowed values",
    "greater_than": "too small",
    "greater_than_equal": "too small",
    "less_than": "too large",
    "less_than_equal": "too large",
    "callable_type": "expected a callable",
}


def format_validation_error(spec_name: str, exc: ValidationError, allowed: list[str]) -> str:
    """One message naming the spec, each offending field and what was expected."""
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(spec)"
        kind = error["type"]
        if kind == "extra_forbidden":
            what = f"unknown field (allowed: {', '.join(allowed)})"
        elif kind in ("value_error", "assertion_error"):
            what = str(error.get("ctx", {}).get("error", error["msg"]))
        else:
            expected = _EXPECTED.get(kind, error["msg"])
            if kind == "literal_error":
                expected = f"expected {error.get('ctx', {}).get('expected', 'an allowed value')}"
            what = expected if kind == "missing" else f"{expected} (got {error.get('input')!r})"
        lines.append(
            f"{spec_name}: field {field!r}: {what}" if error["loc"] else f"{spec_name}: {what}"
        )
    return "\n".join(lines)


class Spec(BaseModel):
    """Base of all specs: immutable, unknown fields refused, errors raised as :class:`SpecError`.

    Subclasses declare ``kind`` as a ``Literal`` (the tag that names them in JSON and in the
    plugin registry) and may list ``_positional`` field names so that they can be written as
    ``SQL("name", "expr")`` as well as with keywords.

    >>> import rtml
    >>> spec = rtml.features.SQL("x2", '"x" * 2')
    >>> spec.model_dump(mode="json")
    {'name': 'x2', 'kind': 'sql', 'expr': '"x" * 2'}
    >>> rtml.features.SQL.from_dict({"name": "x2", "expr": '"x" * 2'}) == spec
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    _positional: ClassVar[tuple[str, ...]] = ()

    def __init__(self, /, *args: Any, **data: Any) -> None:
        name = type(self).__name__
        positional = type(self)._positional
        if len(args) > len(positional):
            raise SpecError(
                f"{name}: takes at most {len(positional)} positional argument(s) "
                f"({', '.join(positional) or 'none'}), got {len(args)}"
            )
        for field, value in zip(positional, args, strict=False):
            if field in data:
                raise SpecError(f"{name}: field {field!r} given both by position and by name")
            data[field] = value
        try:
            super().__init__(**data)
        except ValidationError as exc:
            allowed = [f for f in type(self).model_fields if f != "kind"]
            raise SpecError(format_validation_error(name, exc, allowed)) from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Build the spec from a mapping (e.g. parsed JSON), with the same readable errors."""
        return cls(**data)

    @classmethod
    def kind_name(cls) -> str:
        """The ``kind`` tag of this spec class."""
        field = cls.model_fields.get("kind")
        if field is None or not isinstance(field.default, str):
            raise SpecError(f"{cls.__name__}: a spec kind needs a 'kind' field with a default tag")
        return field.default
