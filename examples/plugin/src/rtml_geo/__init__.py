"""rtml-geo: a haversine distance feature and a base-rate model, registered as an rtml plugin."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

import rtml

EARTH_RADIUS_KM = 6371.0088


class Haversine(rtml.features.RowFeature):
    """Great-circle distance in km between two points given in degrees.

    >>> import pandas as pd
    >>> f = Haversine("d", lat1="a_lat", lon1="a_lon", lat2="b_lat", lon2="b_lon")
    >>> frame = pd.DataFrame({"a_lat": [0.0], "a_lon": [0.0], "b_lat": [0.0], "b_lon": [1.0]})
    >>> round(float(f.compute(frame)[0]), 1)
    111.2
    """

    kind: Literal["haversine"] = "haversine"
    lat1: str
    lon1: str
    lat2: str
    lon2: str

    _positional = ("name",)

    def columns(self) -> tuple[str, ...]:
        return (self.lat1, self.lon1, self.lat2, self.lon2)

    def compute(self, frame: pd.DataFrame) -> np.ndarray:
        lat1, lon1, lat2, lon2 = (
            np.radians(frame[c].to_numpy(dtype=float)) for c in self.columns()
        )
        a = (
            np.sin((lat2 - lat1) / 2) ** 2
            + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        )
        return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


class BaseRate:
    """The learner: the share of positive labels among the last ``window`` labels."""

    def __init__(self, window: int) -> None:
        self.labels: deque[int] = deque(maxlen=window)

    def predict_one(self, x: dict[str, Any]) -> rtml.models.Prediction:
        rate = sum(self.labels) / len(self.labels) if self.labels else 0.0
        return rtml.models.Prediction.from_probabilities({0: 1.0 - rate, 1: rate})

    def learn_one(self, x: dict[str, Any], y: Any) -> None:
        self.labels.append(int(bool(y)))


class BaseRateClassifier(rtml.ModelSpec):
    """Scores every record with the recent rate of positive labels: a baseline to beat.

    >>> model = BaseRateClassifier(window=4).build()
    >>> for y in (0, 1, 1, 0):
    ...     model.learn_one({}, y)
    >>> model.predict_one({})["score"]
    0.5
    """

    kind: Literal["BaseRateClassifier"] = "BaseRateClassifier"
    window: int = Field(1000, ge=1)

    def build(self) -> BaseRate:
        return BaseRate(self.window)

    def label_classes(self) -> tuple[int, ...]:
        # It reads each label as a truth value: a 2 would count as 1 without a word.
        return (0, 1)


@rtml.hookimpl
def register_features(register: Callable[[type], None]) -> None:
    register(Haversine)


@rtml.hookimpl
def register_models(register: Callable[[type], None]) -> None:
    register(BaseRateClassifier)
