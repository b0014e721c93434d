"""Naive Bayes computed by River."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rtml.models.base import ModelSpec, OnlineModel
from rtml.models.river_adapter import RiverModel

__all__ = ["GaussianNB"]


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
