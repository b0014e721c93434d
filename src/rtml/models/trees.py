"""Hoeffding trees computed by River, with TurboML's parameter names."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from rtml.models.base import ModelSpec, OnlineModel, Task
from rtml.models.river_adapter import RiverModel

__all__ = ["HoeffdingAdaptiveTreeClassifier", "HoeffdingTreeClassifier", "HoeffdingTreeRegressor"]


class HoeffdingTreeClassifier(ModelSpec):
    """A Hoeffding tree (VFDT), TurboML's parameters; categorical inputs split natively.

    On heavily imbalanced data (fraud) an untuned tree may never split: wrap it in
    :class:`~rtml.models.RandomSampler`.

    >>> HoeffdingTreeClassifier(grace_period=100).grace_period
    100
    >>> HoeffdingTreeClassifier(split_method="entropy")
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: HoeffdingTreeClassifier: field 'split_method': expected 'gini', 'info_gain' or 'hellinger' (got 'entropy')
    """

    kind: Literal["HoeffdingTreeClassifier"] = "HoeffdingTreeClassifier"
    n_classes: int = Field(2, ge=2)
    grace_period: int = Field(200, ge=1)
    delta: float = Field(1e-7, gt=0, lt=1)
    tau: float = Field(0.05, ge=0)
    leaf_pred_method: Literal["mc", "nb", "nba"] = "mc"
    split_method: Literal["gini", "info_gain", "hellinger"] = "gini"

    def build(self) -> OnlineModel:
        from river import tree

        estimator = tree.HoeffdingTreeClassifier(
            grace_period=self.grace_period,
            delta=self.delta,
            tau=self.tau,
            leaf_prediction=self.leaf_pred_method,
            split_criterion=self.split_method,
        )
        return RiverModel(estimator, task="classification", encode_categorical=False)


class HoeffdingAdaptiveTreeClassifier(ModelSpec):
    """A Hoeffding tree that replaces branches when ADWIN detects drift (River).

    >>> HoeffdingAdaptiveTreeClassifier(seed=1).build().predict_one({"x": 1.0})["score"]
    0.0
    """

    kind: Literal["HoeffdingAdaptiveTreeClassifier"] = "HoeffdingAdaptiveTreeClassifier"
    n_classes: int = Field(2, ge=2)
    grace_period: int = Field(200, ge=1)
    delta: float = Field(1e-7, gt=0, lt=1)
    tau: float = Field(0.05, ge=0)
    leaf_pred_method: Literal["mc", "nb", "nba"] = "nba"
    split_method: Literal["gini", "info_gain", "hellinger"] = "info_gain"
    bootstrap_sampling: bool = True
    seed: int | None = None

    def build(self) -> OnlineModel:
        from river import tree

        estimator = tree.HoeffdingAdaptiveTreeClassifier(
            grace_period=self.grace_period,
            delta=self.delta,
            tau=self.tau,
            leaf_prediction=self.leaf_pred_method,
            split_criterion=self.split_method,
            bootstrap_sampling=self.bootstrap_sampling,
            seed=self.seed,
        )
        return RiverModel(estimator, task="classification", encode_categorical=False)


class HoeffdingTreeRegressor(ModelSpec):
    """A Hoeffding tree for regression, TurboML's parameters.

    >>> model = HoeffdingTreeRegressor().build()
    >>> model.learn_one({"x": 1.0}, 2.0)
    >>> model.predict_one({"x": 1.0})["score"]
    2.0
    """

    task: ClassVar[Task] = "regression"
    kind: Literal["HoeffdingTreeRegressor"] = "HoeffdingTreeRegressor"
    grace_period: int = Field(200, ge=1)
    delta: float = Field(1e-7, gt=0, lt=1)
    tau: float = Field(0.05, ge=0)
    leaf_pred_method: Literal["mean", "model", "adaptive"] = "mean"

    def build(self) -> OnlineModel:
        from river import tree

        estimator = tree.HoeffdingTreeRegressor(
            grace_period=self.grace_period,
            delta=self.delta,
            tau=self.tau,
            leaf_prediction=self.leaf_pred_method,
        )
        return RiverModel(estimator, task="regression", encode_categorical=False)
