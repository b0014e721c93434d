"""Model kinds computed by River, with TurboML's names and parameters where it has them."""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import Field

from rtml.models.base import ModelSpec, OnlineModel, Prediction

__all__ = ["HST", "GaussianNB", "HoeffdingTreeClassifier", "LogisticRegression", "RiverModel"]


class RiverModel:
    """A River estimator behind rtml's :class:`~rtml.models.OnlineModel` interface.

    >>> from river import linear_model
    >>> model = RiverModel(linear_model.LogisticRegression(), task="classification")
    >>> model.learn_one({"x": 1.0}, True)
    >>> sorted(model.predict_one({"x": 1.0}))
    ['class_probabilities', 'predicted_class', 'score']
    """

    def __init__(self, estimator: Any, task: str) -> None:
        self.estimator = estimator
        self.task = task

    def predict_one(self, x: dict[str, Any]) -> Prediction:
        if self.task == "classification":
            probs = self.estimator.predict_proba_one(x)
            # Before any learning River answers {}: every class equally likely, a score of 0.5
            # would be a lie about class 1's prior, so 0.0 it is (nothing learned yet).
            return Prediction.from_probabilities(probs or {0: 1.0, 1: 0.0})
        if self.task == "anomaly_detection":
            return Prediction.from_value(self.estimator.score_one(x))
        return Prediction.from_value(self.estimator.predict_one(x))

    def learn_one(self, x: dict[str, Any], y: Any) -> None:
        if self.task == "anomaly_detection":
            self.estimator.learn_one(x)
        else:
            self.estimator.learn_one(x, y)


class LogisticRegression(ModelSpec):
    """Standard scaling then River's logistic regression (SGD), River's defaults.

    >>> spec = LogisticRegression(l2=0.001)
    >>> spec.model_dump()
    {'kind': 'LogisticRegression', 'l2': 0.001, 'learning_rate': 0.01, 'intercept_lr': 0.01}
    """

    kind: Literal["LogisticRegression"] = "LogisticRegression"
    l2: float = Field(0.0, ge=0)
    learning_rate: float = Field(0.01, gt=0)
    intercept_lr: float = Field(0.01, ge=0)

    def build(self) -> OnlineModel:
        from river import linear_model, optim, preprocessing

        estimator = preprocessing.StandardScaler() | linear_model.LogisticRegression(
            optimizer=optim.SGD(self.learning_rate), l2=self.l2, intercept_lr=self.intercept_lr
        )
        return RiverModel(estimator, task="classification")


class HoeffdingTreeClassifier(ModelSpec):
    """A Hoeffding tree (VFDT), TurboML's parameters.

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
        return RiverModel(estimator, task="classification")


class GaussianNB(ModelSpec):
    """Gaussian naive Bayes.

    >>> GaussianNB().build().predict_one({"x": 1.0})["score"]
    0.0
    """

    kind: Literal["GaussianNB"] = "GaussianNB"
    n_classes: int = Field(2, ge=2)

    def build(self) -> OnlineModel:
        from river import naive_bayes

        return RiverModel(naive_bayes.GaussianNB(), task="classification")


class HST(ModelSpec):
    """Half-space trees anomaly detector (inputs should be scaled to [0, 1]).

    >>> HST(n_trees=5, seed=1).build().predict_one({"x": 0.5})["score"] >= 0
    True
    """

    task = "anomaly_detection"
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
