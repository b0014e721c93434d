"""``ModelSpec``: the declaration of an online model, and what a built model can do."""

from __future__ import annotations

import contextlib
import math
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from rtml.errors import SpecError
from rtml.spec import Spec

__all__ = [
    "BatchModel",
    "ModelSpec",
    "OnlineModel",
    "Prediction",
    "Task",
    "answer_of",
    "binary_answer",
    "class_keys",
    "is_binary",
    "label_of",
]

Task = Literal["classification", "regression", "anomaly_detection"]


def label_of(text: Any) -> Any:
    """A class label (or a key) given back as text, by JSON or TurboML: whole numbers as ints.

    >>> label_of("1"), label_of("-2"), label_of("fraud"), label_of(3)
    (1, -2, 'fraud', 3)
    """
    if isinstance(text, str) and text.lstrip("-").isdigit():
        return int(text)
    return text


def class_keys(probabilities: dict[str, float], predicted: Any) -> dict[Any, float]:
    """Class probabilities read back from JSON, whose keys are text, as the classes they were,
    which the predicted class shows: text stays text (``"7"`` too), classes of a float label
    are floats, and otherwise whole numbers are ints (0 and 1, numbered classes).

    >>> class_keys({"0": 0.2, "1": 0.8}, 1), class_keys({"7": 0.9, "12": 0.1}, "7")
    ({0: 0.2, 1: 0.8}, {'7': 0.9, '12': 0.1})
    >>> class_keys({"0.0": 0.1, "2.0": 0.9}, 2.0)
    {0.0: 0.1, 2.0: 0.9}
    """
    if isinstance(predicted, str):
        return dict(probabilities)
    if isinstance(predicted, float):
        with contextlib.suppress(ValueError):
            return {float(k): v for k, v in probabilities.items()}
    return {label_of(k): v for k, v in probabilities.items()}


def is_binary(probabilities: dict[Any, float]) -> bool:
    """Whether these are the probabilities of classes 0 and 1, numbered as ints."""
    return (
        len(probabilities) == 2
        and all(type(k) is int for k in probabilities)
        and (set(probabilities) == {0, 1})
    )


def binary_answer(p0: float, p1: float) -> tuple[float, int, dict[int, float]]:
    """A binary model's answer from its two probabilities: the score is P(class 1) with the
    two made to sum to 1, and the class is 1 when the score is above one half. So a tie is
    class 0 however the learner rounded it (0.5000000000000009 for both), and a metric reading
    the score at 0.5 reads the class the output shows.

    >>> binary_answer(0.5000000000000009, 0.5000000000000009)
    (0.5, 0, {0: 0.5, 1: 0.5})
    >>> binary_answer(0.25, 0.75)
    (0.75, 1, {0: 0.25, 1: 0.75})
    """
    total = float(p0) + float(p1)
    if total <= 0:
        return 0.0, 0, {0: 0.0, 1: 0.0}
    score = float(p1) / total
    return score, int(score > 0.5), {0: float(p0) / total, 1: score}


def answer_of(probabilities: dict[Any, float]) -> tuple[float, Any, dict[Any, float]]:
    """(score, predicted class, class probabilities) from a classifier's probabilities: what
    :meth:`Prediction.from_probabilities` holds, as a tuple for the record path, which stores
    it without building a :class:`Prediction`.

    River's binary learners answer with False/True: classes are reported as 0 and 1, both of
    them, even while the learner has seen only one (see :func:`binary_answer`, which also
    serves classes 0 and 1 numbered as ints). Other classes keep the learner's keys.

    >>> answer_of({True: 1.0})
    (1.0, 1, {0: 0.0, 1: 1.0})
    >>> answer_of({"low": 0.2, "high": 0.8})
    (0.0, 'high', {'low': 0.2, 'high': 0.8})
    """
    # The test is on the type: `True in p` would also hold for a class 1 among 0, 1, 2, ...
    if any(isinstance(k, bool) for k in probabilities):
        return binary_answer(probabilities.get(False, 0.0), probabilities.get(True, 0.0))
    if is_binary(probabilities):
        return binary_answer(probabilities[0], probabilities[1])
    probs = {k: float(v) for k, v in probabilities.items()}
    predicted = max(probs, key=probs.__getitem__) if probs else 0
    return probs.get(1, 0.0), predicted, probs


class Prediction(dict[str, Any]):
    """One model output: ``score``, ``predicted_class`` and ``class_probabilities``.

    >>> Prediction.from_probabilities({0: 0.25, 1: 0.75})
    {'score': 0.75, 'predicted_class': 1, 'class_probabilities': {0: 0.25, 1: 0.75}}
    >>> Prediction.from_probabilities({True: 1.0})  # River, a binary learner that saw only 1
    {'score': 1.0, 'predicted_class': 1, 'class_probabilities': {0: 0.0, 1: 1.0}}
    """

    @classmethod
    def from_probabilities(cls, probabilities: dict[Any, float]) -> Prediction:
        score, predicted, probs = answer_of(probabilities)
        return cls(score=score, predicted_class=predicted, class_probabilities=probs)

    @classmethod
    def from_value(cls, value: float) -> Prediction:
        value = float(value) if value is not None and not math.isnan(float(value)) else 0.0
        return cls(score=value, predicted_class=value, class_probabilities={})


@runtime_checkable
class OnlineModel(Protocol):
    """What a built model does: predict on a record, learn from a record and its label.

    >>> import rtml
    >>> isinstance(rtml.models.GaussianNB().build(), OnlineModel)
    True
    """

    def predict_one(self, x: dict[str, Any]) -> Prediction: ...

    def learn_one(self, x: dict[str, Any], y: Any) -> None: ...


@runtime_checkable
class BatchModel(Protocol):
    """A model that also predicts and learns whole batches (numpy speed); deployments then
    predict each pushed batch before learning any of it.

    >>> import rtml
    >>> isinstance(rtml.models.OnlineLinearClassifier().build(), BatchModel)
    True
    """

    def predict_many(self, frame: Any) -> Any: ...

    def learn_many(self, frame: Any, y: Any) -> None: ...


class OneRecordAtATime:
    """``predict_one`` / ``learn_one`` (the :class:`OnlineModel` interface) for a batch learner,
    through its ``predict_many`` / ``learn_many`` on one-record frames; P(class 1) scores."""

    def predict_many(self, frame: Any) -> Any:  # pragma: no cover - the learner's own
        raise NotImplementedError

    def learn_many(self, frame: Any, y: Any) -> None:  # pragma: no cover - the learner's own
        raise NotImplementedError

    def predict_one(self, x: dict[str, Any]) -> Prediction:
        import pandas as pd

        p = float(self.predict_many(pd.DataFrame([x]))[0])
        return Prediction.from_probabilities({0: 1.0 - p, 1: p})

    def learn_one(self, x: dict[str, Any], y: Any) -> None:
        import pandas as pd

        self.learn_many(pd.DataFrame([x]), [y])


class ModelSpec(Spec):
    """Base of every model kind: a frozen declaration that :meth:`build` turns into a learner.

    Subclasses set ``kind`` (the algorithm's name, TurboML's where it has one) and ``task``.

    >>> import rtml
    >>> spec = rtml.models.LogisticRegression()
    >>> spec.task
    'classification'
    >>> model = spec.build()
    >>> model.learn_one({"amount": 1.0}, 1)
    >>> 0.0 <= model.predict_one({"amount": 1.0})["score"] <= 1.0
    True
    """

    task: ClassVar[Task] = "classification"

    def build(self) -> OnlineModel:
        """A new, untrained learner for this spec (each model kind defines it)."""
        raise SpecError(
            f"{type(self).__name__} is not a model kind (it defines no build()): use one of "
            "rtml.models, such as rtml.models.LogisticRegression()"
        )

    def label_classes(self) -> tuple[int, ...] | None:
        """The only labels this model can learn (``(0, 1)`` for a binary classifier), or
        ``None`` when it takes any: deployments refuse the others rather than let the model
        misread them."""
        return None
