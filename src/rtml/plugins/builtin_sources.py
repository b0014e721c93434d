"""Built-in data sources, registered like any plugin's."""

from collections.abc import Callable

from rtml.plugins.hookspecs import hookimpl
from rtml.sources import DataFrameSource, FileSource


@hookimpl
def register_sources(register: Callable[[type], None]) -> None:
    register(DataFrameSource)
    register(FileSource)
