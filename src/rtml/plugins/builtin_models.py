"""Built-in model kinds, registered like any plugin's."""

from collections.abc import Callable

from rtml.models import HST, GaussianNB, HoeffdingTreeClassifier, LogisticRegression
from rtml.plugins.hookspecs import hookimpl


@hookimpl
def register_models(register: Callable[[type], None]) -> None:
    for kind in (LogisticRegression, HoeffdingTreeClassifier, GaussianNB, HST):
        register(kind)
