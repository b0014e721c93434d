"""``SoftVoting``: the weighted mean of several binary classifiers' scores.

Averaging models that err differently (a forest on the whole window and one leaning on the last
days, a tree and a linear model) ranks better than either often enough that fraud teams keep it
as a standard move. Each member learns every label; the ensemble's score is the weighted mean of
the members' P(class 1).
"""

from __future__ import annotations

import math
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from pydantic import Field, SerializeAsAny, field_validator, model_validator

from rtml.models.base import BatchModel, ModelSpec, OneRecordAtATime, OnlineModel
from rtml.nulls import is_null

__all__ = ["SoftVoting", "SoftVotingModel"]


class SoftVoting(ModelSpec):
    """The weighted mean of its binary classifiers' P(class 1); each member learns every label.

    Members may mix kinds: those that learn in batches (``WindowedRandomForest``,
    ``OnlineLinearClassifier``) take whole frames, the others (River's) take the frame's
    records one at a time, missing inputs left out as a deployment leaves them out. A
    deployment then scores each pushed batch before learning any of it, as for any batch
    learner. ``weights`` default to equal ones. rtml's own kind: not a TurboML algorithm.

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
    """

    kind: Literal["SoftVoting"] = "SoftVoting"
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
    def _classifiers(cls, value: tuple[ModelSpec, ...]) -> tuple[ModelSpec, ...]:
        for spec in value:
            if spec.task != "classification":
                raise ValueError(f"expected classifiers, got {type(spec).__name__} ({spec.task})")
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

    def build(self) -> SoftVotingModel:
        weights = self.weights or [1.0] * len(self.models)
        total = float(sum(weights))
        return SoftVotingModel([spec.build() for spec in self.models], [w / total for w in weights])


class SoftVotingModel(OneRecordAtATime):
    """The learner a :class:`SoftVoting` builds: its members and their normalised weights."""

    def __init__(self, members: list[OnlineModel], weights: list[float]) -> None:
        self.members = members
        self.weights = weights

    def predict_many(self, frame: pd.DataFrame) -> np.ndarray:
        """The weighted mean of the members' P(class 1) for each record."""
        total = np.zeros(len(frame))
        records: list[dict[str, Any]] | None = None
        for member, weight in zip(self.members, self.weights, strict=True):
            if isinstance(member, BatchModel):
                scores = np.asarray(member.predict_many(frame), dtype="float64")
            else:
                records = _records(frame) if records is None else records
                scores = np.array([float(member.predict_one(x)["score"]) for x in records])
            total += weight * scores
        return total

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


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # Missing inputs are left out of the record, as deployments give records to River models.
    rows = frame.to_dict("records")
    return [{str(k): v for k, v in row.items() if not is_null(v)} for row in rows]
