"""Built-in model kinds, registered like any plugin's."""

from collections.abc import Callable

from rtml import models
from rtml.plugins.hookspecs import hookimpl

KINDS = (
    models.LogisticRegression,
    models.LinearRegression,
    models.OnlineLinearClassifier,
    models.WindowedRandomForest,
    models.SoftVoting,
    models.VotingRegressor,
    models.HoeffdingTreeClassifier,
    models.HoeffdingAdaptiveTreeClassifier,
    models.HoeffdingTreeRegressor,
    models.AdaptiveRandomForestClassifier,
    models.AMFClassifier,
    models.GaussianNB,
    models.RandomSampler,
    models.LeveragingBaggingClassifier,
    models.AdaBoostClassifier,
    models.HST,
    models.OneClassSVM,
)


@hookimpl
def register_models(register: Callable[[type], None]) -> None:
    for kind in KINDS:
        register(kind)
