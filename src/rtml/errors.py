"""The errors rtml raises on purpose; every one derives from :class:`RtmlError`.

Catch ``rtml.RtmlError`` to handle anything rtml refuses, or a narrower class to handle one kind
of refusal:

>>> import rtml
>>> issubclass(rtml.SpecError, rtml.RtmlError)
True
"""

from __future__ import annotations


class RtmlError(Exception):
    """Base of every error rtml raises on purpose.

    >>> try:
    ...     raise RtmlError("something was refused")
    ... except RtmlError as exc:
    ...     print(exc)
    something was refused
    """


class SpecError(RtmlError, ValueError):
    """A spec (feature set, feature, model, ...) is invalid; the message names spec and field.

    >>> import rtml
    >>> try:
    ...     rtml.features.SQL("double", '"amount" * 2', surprise=1)
    ... except rtml.SpecError as exc:
    ...     print(exc)
    SQL: field 'surprise': unknown field (allowed: name, expr)
    """


class SchemaError(RtmlError, ValueError):
    """Records do not fit a dataset's schema; the message names dataset, field and row.

    >>> import rtml
    >>> issubclass(rtml.SchemaError, ValueError)
    True
    """


class FeatureRowsError(SchemaError, SpecError):
    """A feature could not be computed for some records (a UDF raised on them, a SQL cast
    failed): ``failures`` maps each such record's row to the feature's name and why. A push
    refuses those records by row and feature (or, with ``on_error="dead_letter"``, sets them
    aside) instead of failing whole. Both a :class:`SchemaError` (these records are refused)
    and a :class:`SpecError` (a feature's definition fails on them).

    >>> import rtml
    >>> error = rtml.errors.FeatureRowsError
    >>> issubclass(error, rtml.SchemaError), issubclass(error, rtml.SpecError)
    (True, True)
    """

    def __init__(self, message: str, failures: dict[int, tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.failures = failures or {}


class BackendUnavailable(RtmlError, ImportError):
    """A backend cannot be used here, usually because its extra is not installed.

    The message gives the exact command that installs what is missing.

    >>> import rtml
    >>> issubclass(rtml.BackendUnavailable, ImportError)
    True
    """


class PluginError(RtmlError):
    """A plugin could not be loaded or conflicts with another; the message names the plugin(s).

    >>> import rtml
    >>> issubclass(rtml.PluginError, rtml.RtmlError)
    True
    """


class NotFound(RtmlError, KeyError):
    """A named object (dataset, feature set, deployment) does not exist in the backend.

    >>> import rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> try:
    ...     backend.dataset("nope")
    ... except rtml.NotFound as exc:
    ...     print(exc.args[0])
    no dataset named 'nope' (existing: none)
    """

    def __str__(self) -> str:
        # KeyError quotes its message; a user-facing error should read as a sentence.
        return str(self.args[0]) if self.args else ""
