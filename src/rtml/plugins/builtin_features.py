"""Built-in feature kinds, registered like any plugin's."""

from collections.abc import Callable

from rtml.features import SQL, UDAF, UDF, Aggregate
from rtml.plugins.hookspecs import hookimpl


@hookimpl
def register_features(register: Callable[[type], None]) -> None:
    for kind in (SQL, Aggregate, UDF, UDAF):
        register(kind)
