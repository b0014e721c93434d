"""A River estimator behind rtml's :class:`~rtml.models.OnlineModel` interface."""

from __future__ import annotations

from typing import Any

from rtml.models.base import Prediction

__all__ = ["RiverModel", "one_hot"]


def one_hot(x: dict[str, Any], seen: dict[str, dict[str, None]]) -> dict[str, Any]:
    """Text values become indicators ``"column=value"``: 1.0 for the value present, 0.0 for every
    other value seen so far in that column (so that a scaler sees them vary); numbers pass.

    >>> seen = {}
    >>> one_hot({"amount": 3.0, "country": "FR"}, seen)
    {'amount': 3.0, 'country=FR': 1.0}
    >>> one_hot({"amount": 1.0, "country": "DE"}, seen)
    {'amount': 1.0, 'country=FR': 0.0, 'country=DE': 1.0}
    """
    if not any(isinstance(v, str) for v in x.values()):
        return x
    out: dict[str, Any] = {}
    for k, v in x.items():
        if not isinstance(v, str):
            out[k] = v
            continue
        values = seen.setdefault(k, {})
        values[v] = None
        for known in values:
            out[f"{k}={known}"] = 1.0 if known == v else 0.0
    return out


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
        self.categories: dict[str, dict[str, None]] = {}

    def _x(self, x: dict[str, Any]) -> dict[str, Any]:
        return one_hot(x, self.categories) if self.encode_categorical else x

    def probabilities_one(self, x: dict[str, Any]) -> dict[Any, float]:
        """A classifier's probability of each class, ``{}`` before it has learned anything."""
        return dict(self.estimator.predict_proba_one(self._x(x)))

    def predict_one(self, x: dict[str, Any]) -> Prediction:
        if self.task == "classification":
            # Before any learning River answers {}: a score of 0 (nothing learned yet).
            return Prediction.from_probabilities(self.probabilities_one(x) or {0: 1.0, 1: 0.0})
        x = self._x(x)
        if self.task == "anomaly_detection":
            return Prediction.from_value(self.estimator.score_one(x))
        return Prediction.from_value(self.estimator.predict_one(x))

    def learn_one(self, x: dict[str, Any], y: Any) -> None:
        x = self._x(x)
        if self.task == "anomaly_detection":
            self.estimator.learn_one(x)
        else:
            self.estimator.learn_one(x, y)
