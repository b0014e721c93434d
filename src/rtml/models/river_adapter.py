"""A River estimator behind rtml's :class:`~rtml.models.OnlineModel` interface."""

from __future__ import annotations

from typing import Any

from rtml.models.base import Prediction

__all__ = ["RiverModel", "one_hot"]


def one_hot(x: dict[str, Any]) -> dict[str, Any]:
    """Text values become indicator features ``"column=value": 1.0``; numbers pass through.

    >>> one_hot({"amount": 3.0, "country": "FR"})
    {'amount': 3.0, 'country=FR': 1.0}
    """
    if not any(isinstance(v, str) for v in x.values()):
        return x
    return {
        (f"{k}={v}" if isinstance(v, str) else k): (1.0 if isinstance(v, str) else v)
        for k, v in x.items()
    }


class RiverModel:
    """Wraps a River estimator: ``task`` says which River methods answer a prediction.

    Trees take categorical values natively; other learners get them one-hot encoded
    (``encode_categorical=True``).

    >>> from river import linear_model
    >>> model = RiverModel(linear_model.LogisticRegression(), task="classification")
    >>> model.learn_one({"x": 1.0, "country": "FR"}, True)
    >>> sorted(model.predict_one({"x": 1.0, "country": "FR"}))
    ['class_probabilities', 'predicted_class', 'score']
    """

    def __init__(self, estimator: Any, task: str, encode_categorical: bool = True) -> None:
        self.estimator = estimator
        self.task = task
        self.encode_categorical = encode_categorical

    def _x(self, x: dict[str, Any]) -> dict[str, Any]:
        return one_hot(x) if self.encode_categorical else x

    def predict_one(self, x: dict[str, Any]) -> Prediction:
        x = self._x(x)
        if self.task == "classification":
            # Before any learning River answers {}: a score of 0 (nothing learned yet).
            return Prediction.from_probabilities(
                self.estimator.predict_proba_one(x) or {0: 1.0, 1: 0.0}
            )
        if self.task == "anomaly_detection":
            return Prediction.from_value(self.estimator.score_one(x))
        return Prediction.from_value(self.estimator.predict_one(x))

    def learn_one(self, x: dict[str, Any], y: Any) -> None:
        x = self._x(x)
        if self.task == "anomaly_detection":
            self.estimator.learn_one(x)
        else:
            self.estimator.learn_one(x, y)
