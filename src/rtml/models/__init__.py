"""Model kinds (``ModelSpec``) and the interface of a built online model.

River computes the River-backed kinds locally; their names and parameters are TurboML's where
TurboML has the algorithm, so an app moves between backends unchanged.

>>> import rtml
>>> rtml.models.HoeffdingTreeClassifier().kind
'HoeffdingTreeClassifier'
"""

from rtml.models.anomaly import HST, OneClassSVM
from rtml.models.base import ModelSpec, OnlineModel, Prediction, Task
from rtml.models.bayes import GaussianNB
from rtml.models.ensembles import AdaBoostClassifier, LeveragingBaggingClassifier, RandomSampler
from rtml.models.forests import AdaptiveRandomForestClassifier, AMFClassifier
from rtml.models.linear import LinearRegression, LogisticRegression
from rtml.models.online_linear import OnlineLinearClassifier
from rtml.models.river_adapter import RiverModel
from rtml.models.trees import (
    HoeffdingAdaptiveTreeClassifier,
    HoeffdingTreeClassifier,
    HoeffdingTreeRegressor,
)
from rtml.models.voting import SoftVoting, VotingRegressor
from rtml.models.windowed_forest import WindowedRandomForest

__all__ = [
    "HST",
    "AMFClassifier",
    "AdaBoostClassifier",
    "AdaptiveRandomForestClassifier",
    "GaussianNB",
    "HoeffdingAdaptiveTreeClassifier",
    "HoeffdingTreeClassifier",
    "HoeffdingTreeRegressor",
    "LeveragingBaggingClassifier",
    "LinearRegression",
    "LogisticRegression",
    "ModelSpec",
    "OneClassSVM",
    "OnlineLinearClassifier",
    "OnlineModel",
    "Prediction",
    "RandomSampler",
    "RiverModel",
    "SoftVoting",
    "Task",
    "VotingRegressor",
    "WindowedRandomForest",
]
