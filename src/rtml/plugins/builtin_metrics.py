"""Built-in evaluation metrics, registered like any plugin's."""

from collections.abc import Callable

from rtml.metrics import WindowedAccuracy, WindowedAUC
from rtml.plugins.hookspecs import hookimpl


@hookimpl
def register_metrics(register: Callable[[type], None]) -> None:
    register(WindowedAUC)
    register(WindowedAccuracy)
