"""Built-in evaluation metrics, registered like any plugin's."""

from collections.abc import Callable

from rtml import metrics
from rtml.plugins.hookspecs import hookimpl

KINDS = (
    metrics.WindowedAUC,
    metrics.WindowedAccuracy,
    metrics.WindowedClassAccuracy,
    metrics.WindowedMacroF1,
    metrics.WindowedPrecision,
    metrics.WindowedRecall,
    metrics.WindowedF1,
    metrics.WindowedAveragePrecision,
    metrics.WindowedLogLoss,
    metrics.WindowedMAE,
    metrics.WindowedMSE,
    metrics.WindowedRMSE,
)


@hookimpl
def register_metrics(register: Callable[[type], None]) -> None:
    for kind in KINDS:
        register(kind)
