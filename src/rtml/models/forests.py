"""Online forests computed by River: adaptive random forest and Aggregated Mondrian Forest."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rtml.models.base import ModelSpec, OnlineModel
from rtml.models.river_adapter import RiverModel

__all__ = ["AMFClassifier", "AdaptiveRandomForestClassifier"]


class AdaptiveRandomForestClassifier(ModelSpec):
    """Adaptive random forest: Hoeffding trees with drift detectors and background trees.

    >>> spec = AdaptiveRandomForestClassifier(n_models=3, seed=42)
    >>> spec.build().predict_one({"x": 1.0})["score"]
    0.0
    """

    kind: Literal["AdaptiveRandomForestClassifier"] = "AdaptiveRandomForestClassifier"
    n_classes: int = Field(2, ge=2)
    n_models: int = Field(10, ge=1)
    max_features: Literal["sqrt", "log2"] | int = "sqrt"
    lambda_value: int = Field(6, ge=1)
    grace_period: int = Field(50, ge=1)
    seed: int | None = None

    def build(self) -> OnlineModel:
        from river import forest

        estimator = forest.ARFClassifier(
            n_models=self.n_models,
            max_features=self.max_features,
            lambda_value=self.lambda_value,
            grace_period=self.grace_period,
            seed=self.seed,
        )
        return RiverModel(estimator, task="classification", encode_categorical=False)


class AMFClassifier(ModelSpec):
    """Aggregated Mondrian Forest, TurboML's parameters.

    >>> AMFClassifier(n_estimators=2, seed=1).build().predict_one({"x": 1.0})["score"]
    0.0
    """

    kind: Literal["AMFClassifier"] = "AMFClassifier"
    n_classes: int = Field(2, ge=2)
    n_estimators: int = Field(10, ge=1)
    step: float = Field(1.0, gt=0)
    use_aggregation: bool = True
    dirichlet: float = Field(0.5, gt=0)
    split_pure: bool = False
    seed: int | None = None

    def build(self) -> OnlineModel:
        from river import forest

        estimator = forest.AMFClassifier(
            n_estimators=self.n_estimators,
            step=self.step,
            use_aggregation=self.use_aggregation,
            dirichlet=self.dirichlet,
            split_pure=self.split_pure,
            seed=self.seed,
        )
        return RiverModel(estimator, task="classification")
