"""Anomaly detectors computed by River: the score is how unusual a record is."""

from __future__ import annotations

import random
from typing import ClassVar, Literal

from pydantic import Field

from rtml.models.base import ModelSpec, OnlineModel, Task
from rtml.models.river_adapter import RiverModel

__all__ = ["HST", "OneClassSVM"]


class HST(ModelSpec):
    """Half-space trees (inputs should be scaled to [0, 1]), TurboML's parameters.

    >>> HST(n_trees=5, seed=1).build().predict_one({"x": 0.5})["score"] >= 0
    True
    """

    task: ClassVar[Task] = "anomaly_detection"
    kind: Literal["HST"] = "HST"
    n_trees: int = Field(20, ge=1)
    height: int = Field(12, ge=1)
    window_size: int = Field(50, ge=1)
    seed: int | None = None

    def build(self) -> OnlineModel:
        from river import anomaly

        seed = self.seed if self.seed is not None else random.randrange(2**31)
        estimator = anomaly.HalfSpaceTrees(
            n_trees=self.n_trees, height=self.height, window_size=self.window_size, seed=seed
        )
        return RiverModel(estimator, task="anomaly_detection")


class OneClassSVM(ModelSpec):
    """An online one-class SVM (River), after standard scaling.

    >>> model = OneClassSVM().build()
    >>> for v in (1.0, 1.1, 0.9):
    ...     model.learn_one({"x": v}, None)
    >>> isinstance(model.predict_one({"x": 5.0})["score"], float)
    True
    """

    task: ClassVar[Task] = "anomaly_detection"
    kind: Literal["OneClassSVM"] = "OneClassSVM"
    nu: float = Field(0.1, gt=0, le=1)

    def build(self) -> OnlineModel:
        from river import anomaly, preprocessing

        estimator = preprocessing.StandardScaler() | anomaly.OneClassSVM(nu=self.nu)
        return RiverModel(estimator, task="anomaly_detection")
