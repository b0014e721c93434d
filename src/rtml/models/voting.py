"""Averaging ensembles: ``SoftVoting`` (classifiers' probabilities) and ``VotingRegressor``
(regressors' predictions).

Averaging models that err differently (a forest on the whole window and one leaning on the last
days, a tree and a linear model) predicts better than either often enough that fraud and pricing
teams keep it as a standard move. Each member learns every label; the ensemble's output is the
weighted mean of the members' P(class 1) (their probabilities of each class, when every member
learns any class), or of their predicted values.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd
from pydantic import Field, SerializeAsAny, field_validator, model_validator

from rtml.float_sums import float_sum
from rtml.models.base import (
    BatchModel,
    ModelSpec,
    OneRecordAtATime,
    OnlineModel,
    Prediction,
    Task,
)
from rtml.nulls import is_null

__all__ = [
    "SoftVoting",
    "SoftVotingByClass",
    "SoftVotingModel",
    "VotingRegressor",
    "VotingRegressorModel",
]


class _Averaging(ModelSpec):
    """Members of one task and their weights: what both averaging kinds declare and check."""

    models: tuple[SerializeAsAny[ModelSpec], ...] = Field(min_length=2)
    weights: tuple[float, ...] | None = None

    @field_validator("models", mode="before")
    @classmethod
    def _members(cls, value: Any) -> Any:
        from rtml.plugins import spec_from_dict

        if not isinstance(value, list | tuple):
            return value
        return tuple(spec_from_dict("models", v) for v in value)

    @field_validator("models")
    @classmethod
    def _same_task(cls, value: tuple[ModelSpec, ...]) -> tuple[ModelSpec, ...]:
        wanted = {"classification": "classifiers", "regression": "regressors"}[cls.task]
        for spec in value:
            if spec.task != cls.task:
                raise ValueError(f"expected {wanted}, got {type(spec).__name__} ({spec.task})")
        return value

    @model_validator(mode="after")
    def _one_weight_each(self) -> Self:
        if self.weights is not None:
            if len(self.weights) != len(self.models):
                raise ValueError(
                    f"weights: expected one per model ({len(self.models)}), got {len(self.weights)}"
                )
            if any(not 0 < w < math.inf for w in self.weights):
                raise ValueError(f"weights: expected positive numbers, got {list(self.weights)}")
        return self

    def _built(self) -> tuple[list[OnlineModel], list[float]]:
        """New members and their weights normalised to sum to 1."""
        weights = self.weights or [1.0] * len(self.models)
        total = float(sum(weights))
        return [spec.build() for spec in self.models], [w / total for w in weights]


class _Members:
    """Members that each learn every record, and their normalised weights."""

    def __init__(self, members: list[OnlineModel], weights: list[float]) -> None:
        self.members = members
        self.weights = weights

    def learn_one(self, x: dict[str, Any], y: Any) -> None:
        for member in self.members:
            member.learn_one(x, y)


class SoftVoting(_Averaging):
    """The weighted mean of its classifiers' probabilities; each member learns every label.

    An ensemble learns the labels every member learns. With one binary member
    (``LogisticRegression``, ``WindowedRandomForest``, ...) that is 0 and 1, and the score is
    the weighted mean of the members' P(class 1). Members may then mix kinds: those that learn
    in batches (``WindowedRandomForest``, ``OnlineLinearClassifier``) take whole frames, the
    others (River's) take the frame's records one at a time, missing inputs left out as a
    deployment leaves them out; a deployment scores each pushed batch before learning any of
    it, as for any batch learner. When every member learns any class (``GaussianNB``, Hoeffding
    trees), so does the ensemble: it averages each class's probability, record by record
    (:class:`SoftVotingByClass`). ``weights`` default to equal ones. rtml's own kind: not a
    TurboML algorithm.

    >>> import pandas as pd
    >>> import rtml
    >>> spec = SoftVoting(models=[rtml.models.GaussianNB(), rtml.models.LogisticRegression()],
    ...                   weights=[1, 3])
    >>> model = spec.build()
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 0.1, 0.9] * 50})
    >>> model.learn_many(X, [0, 1, 0, 1] * 50)
    >>> low, high = model.predict_many(pd.DataFrame({"x": [0.0, 1.0]}))
    >>> bool(low < 0.5 < high)
    True
    >>> SoftVoting(models=[rtml.models.GaussianNB(), rtml.models.LinearRegression()])
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: SoftVoting: field 'models': expected classifiers, got LinearRegression (regression)

    Members that learn any class make an ensemble that does:

    >>> spec = SoftVoting(models=[rtml.models.GaussianNB(), rtml.models.HoeffdingTreeClassifier()])
    >>> print(spec.label_classes())
    None
    >>> model = spec.build()
    >>> colours = ("red", "green", "blue")
    >>> for i in range(300):
    ...     model.learn_one({"x": i % 3 + (i % 7) / 10}, colours[i % 3])
    >>> model.predict_one({"x": 2.3})["predicted_class"]
    'blue'
    """

    kind: Literal["SoftVoting"] = "SoftVoting"

    def label_classes(self) -> tuple[int, ...] | None:
        # A label must be one every member can learn.
        fixed = [set(c) for c in (m.label_classes() for m in self.models) if c is not None]
        return None if not fixed else tuple(sorted(set.intersection(*fixed)))

    def build(self) -> SoftVotingModel | SoftVotingByClass:
        classes = self.label_classes()
        if classes is not None and set(classes) <= {0, 1}:
            return SoftVotingModel(*self._built())
        return SoftVotingByClass(*self._built())


class SoftVotingModel(OneRecordAtATime):
    """The learner a :class:`SoftVoting` builds: its members and their normalised weights."""

    def __init__(self, members: list[OnlineModel], weights: list[float]) -> None:
        self.members = members
        self.weights = weights

    def predict_many(self, frame: pd.DataFrame) -> np.ndarray:
        """The weighted mean of the members' P(class 1) for each record, over the members that
        answer it (a River learner that has learned nothing does not; as in
        :class:`SoftVotingByClass`, it is left out rather than counted as a score of 0)."""
        total = np.zeros(len(frame))
        answered = np.zeros(len(frame))
        records: list[dict[str, Any]] | None = None
        for member, weight in zip(self.members, self.weights, strict=True):
            if isinstance(member, BatchModel):
                total += weight * np.asarray(member.predict_many(frame), dtype="float64")
                answered += weight
                continue
            records = _records(frame) if records is None else records
            answers = [_probabilities(member, x) for x in records]
            scores = np.array([_class_1(p) for p in answers], dtype="float64")
            known = np.array([bool(p) for p in answers], dtype="float64")
            total += weight * scores * known
            answered += weight * known
        # No member answered: what one untrained classifier says, a score of 0.
        return np.divide(total, answered, out=np.zeros(len(frame)), where=answered > 0)

    def learn_many(self, frame: pd.DataFrame, y: Any) -> None:
        """Every member learns every labelled record."""
        labels = list(y)
        records: list[dict[str, Any]] | None = None
        for member in self.members:
            if isinstance(member, BatchModel):
                member.learn_many(frame, labels)
                continue
            records = _records(frame) if records is None else records
            for x, label in zip(records, labels, strict=True):
                member.learn_one(x, label)


class SoftVotingByClass(_Members):
    """The learner a :class:`SoftVoting` builds when its members all learn any class (or all
    learn classes beyond 0 and 1): record by record, each class's probability is the weighted
    mean of the members' for it.

    A member with no answer yet (one that has learned nothing) is left out of the mean rather
    than counted as sure of nothing, so a new member does not drag every class down.
    """

    def probabilities_one(self, x: dict[str, Any]) -> dict[Any, float]:
        """Each class's weighted mean probability over the members that answer; ``{}`` when
        none does."""
        sums: dict[Any, float] = {}
        answered = 0.0
        for member, weight in zip(self.members, self.weights, strict=True):
            probabilities = _probabilities(member, x)
            if not probabilities:
                continue
            answered += weight
            for label, p in probabilities.items():
                label = int(label) if isinstance(label, bool) else label  # River's binary
                sums[label] = sums.get(label, 0.0) + weight * float(p)
        return {label: total / answered for label, total in sums.items()}

    def predict_one(self, x: dict[str, Any]) -> Prediction:
        # Nothing learned yet: what any one classifier says then, a score of 0.
        return Prediction.from_probabilities(self.probabilities_one(x) or {0: 1.0, 1: 0.0})


def _class_1(probabilities: dict[Any, float]) -> float:
    """P(class 1) of a member's answer (River's binary learners answer with True/False, and
    ``True`` is the same dict key as 1)."""
    return float(probabilities.get(1, 0.0))


def _probabilities(member: OnlineModel, x: dict[str, Any]) -> dict[Any, float]:
    """A member's class probabilities, ``{}`` when it has none yet (River's learners, and
    ensembles of them, tell; any other model answers with its prediction's)."""
    own = getattr(member, "probabilities_one", None)
    if own is not None:
        return dict(own(x))
    return dict(member.predict_one(x)["class_probabilities"])


class VotingRegressor(_Averaging):
    """The weighted mean of its regressors' predictions; each member learns every target.

    Members learn and predict one record at a time (River's regressors). ``weights`` default
    to equal ones. rtml's own kind: not a TurboML algorithm.

    >>> import rtml
    >>> spec = VotingRegressor(
    ...     models=[rtml.models.LinearRegression(), rtml.models.HoeffdingTreeRegressor()],
    ...     weights=[3, 1],
    ... )
    >>> model = spec.build()
    >>> for i in range(400):
    ...     model.learn_one({"x": i % 10}, 2.0 * (i % 10))
    >>> linear, tree = (m.predict_one({"x": 4})["score"] for m in model.members)
    >>> abs(model.predict_one({"x": 4})["score"] - (0.75 * linear + 0.25 * tree)) < 1e-12
    True
    >>> VotingRegressor(models=[rtml.models.LinearRegression(), rtml.models.GaussianNB()])
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: VotingRegressor: field 'models': expected regressors, got GaussianNB (classification)
    """

    task: ClassVar[Task] = "regression"
    kind: Literal["VotingRegressor"] = "VotingRegressor"

    def build(self) -> VotingRegressorModel:
        return VotingRegressorModel(*self._built())


class VotingRegressorModel(_Members):
    """The learner a :class:`VotingRegressor` builds: its members and normalised weights."""

    def predict_one(self, x: dict[str, Any]) -> Prediction:
        """The weighted mean of the members' predictions (an untrained member predicts 0)."""
        value = float_sum(
            w * float(m.predict_one(x)["score"])
            for m, w in zip(self.members, self.weights, strict=True)
        )
        return Prediction.from_value(value)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # Missing inputs are left out of the record, as deployments give records to River models.
    rows = frame.to_dict("records")
    return [{str(k): v for k, v in row.items() if not is_null(v)} for row in rows]
