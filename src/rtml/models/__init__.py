"""Model kinds (``ModelSpec``) and the interface of a built online model.

>>> import rtml
>>> rtml.models.HoeffdingTreeClassifier().kind
'HoeffdingTreeClassifier'
"""

from rtml.models.base import ModelSpec, OnlineModel, Prediction
from rtml.models.river_models import (
    HST,
    GaussianNB,
    HoeffdingTreeClassifier,
    LogisticRegression,
    RiverModel,
)

__all__ = [
    "HST",
    "GaussianNB",
    "HoeffdingTreeClassifier",
    "LogisticRegression",
    "ModelSpec",
    "OnlineModel",
    "Prediction",
    "RiverModel",
]
