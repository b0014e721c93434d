"""Linear models computed by River."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from rtml.models.base import ModelSpec, OnlineModel, Task
from rtml.models.river_adapter import RiverModel

__all__ = ["LinearRegression", "LogisticRegression"]


class LogisticRegression(ModelSpec):
    """Standard scaling then River's logistic regression (SGD), River's defaults.

    ``weight_pos`` weighs the positive class in the loss (e.g. 100 for 1 % fraud).

    >>> spec = LogisticRegression(l2=0.001)
    >>> spec.model_dump()
    {'kind': 'LogisticRegression', 'l2': 0.001, 'learning_rate': 0.01, 'intercept_lr': 0.01, 'weight_pos': 1.0}
    """

    kind: Literal["LogisticRegression"] = "LogisticRegression"
    l2: float = Field(0.0, ge=0)
    learning_rate: float = Field(0.01, gt=0)
    intercept_lr: float = Field(0.01, ge=0)
    weight_pos: float = Field(1.0, gt=0)

    def label_classes(self) -> tuple[int, ...] | None:
        return (0, 1)

    def build(self) -> OnlineModel:
        from river import linear_model, optim, preprocessing

        estimator = preprocessing.StandardScaler() | linear_model.LogisticRegression(
            optimizer=optim.SGD(self.learning_rate),
            loss=optim.losses.Log(weight_pos=self.weight_pos),
            l2=self.l2,
            intercept_lr=self.intercept_lr,
        )
        return RiverModel(estimator, task="classification")


class LinearRegression(ModelSpec):
    """Standard scaling then River's linear regression (SGD).

    >>> model = LinearRegression().build()
    >>> for _ in range(500):
    ...     model.learn_one({"x": 1.0}, 3.0)
    >>> round(model.predict_one({"x": 1.0})["score"], 1)
    3.0
    """

    task: ClassVar[Task] = "regression"
    kind: Literal["LinearRegression"] = "LinearRegression"
    l2: float = Field(0.0, ge=0)
    learning_rate: float = Field(0.01, gt=0)
    intercept_lr: float = Field(0.01, ge=0)

    def build(self) -> OnlineModel:
        from river import linear_model, optim, preprocessing

        estimator = preprocessing.StandardScaler() | linear_model.LinearRegression(
            optimizer=optim.SGD(self.learning_rate), l2=self.l2, intercept_lr=self.intercept_lr
        )
        return RiverModel(estimator, task="regression")
