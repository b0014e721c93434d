"""Wrappers around another model: bagging, boosting, and resampling for imbalanced classes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SerializeAsAny, field_validator

from rtml.errors import SpecError
from rtml.models.base import ModelSpec, OnlineModel
from rtml.models.river_adapter import RiverModel

__all__ = ["AdaBoostClassifier", "LeveragingBaggingClassifier", "RandomSampler"]


class _Wrapper(ModelSpec):
    base_model: SerializeAsAny[ModelSpec]

    @field_validator("base_model", mode="before")
    @classmethod
    def _base(cls, value: Any) -> Any:
        from rtml.plugins import spec_from_dict

        return spec_from_dict("models", value)

    def label_classes(self) -> tuple[int, ...] | None:
        return self.base_model.label_classes()

    def _inner(self) -> RiverModel:
        inner = self.base_model.build()
        if not isinstance(inner, RiverModel) or inner.task != "classification":
            raise SpecError(
                f"{type(self).__name__}: base_model must be a River-backed classifier, got "
                f"{type(self.base_model).__name__}"
            )
        return inner


class RandomSampler(_Wrapper):
    """Resamples the stream towards ``desired_dist`` before its base model learns (TurboML's).

    ``sampling_method`` is ``"under"`` (drop majority records), ``"over"`` (repeat minority
    records) or ``"mixed"`` (both). It makes trees split on 1 %-fraud data.

    >>> import rtml
    >>> spec = RandomSampler(base_model=rtml.models.HoeffdingTreeClassifier(),
    ...                      desired_dist=[0.8, 0.2], seed=1)
    >>> spec.model_dump(mode="json")["base_model"]["kind"]
    'HoeffdingTreeClassifier'
    >>> RandomSampler(base_model=rtml.models.GaussianNB(), desired_dist=[0.5, 0.6])
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: RandomSampler: field 'desired_dist': expected class shares summing to 1, got [0.5, 0.6]
    """

    kind: Literal["RandomSampler"] = "RandomSampler"
    n_classes: int = Field(2, ge=2)
    desired_dist: tuple[float, ...] = (0.5, 0.5)
    sampling_method: Literal["mixed", "under", "over"] = "mixed"
    sampling_rate: float = Field(1.0, gt=0, le=1)
    seed: int = 0

    @field_validator("desired_dist")
    @classmethod
    def _distribution(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if abs(sum(value) - 1.0) > 1e-9 or any(v < 0 for v in value):
            raise ValueError(f"expected class shares summing to 1, got {list(value)}")
        return value

    def label_classes(self) -> tuple[int, ...] | None:
        # The sampler keeps or drops each label by its share in desired_dist: classes
        # 0 .. len(desired_dist) - 1, or fewer when the base model learns fewer.
        own = tuple(range(len(self.desired_dist)))
        base = self.base_model.label_classes()
        return base if base is not None and len(base) < len(own) else own

    def build(self) -> OnlineModel:
        from river import imblearn

        inner = self._inner()
        dist = dict(enumerate(self.desired_dist))
        estimator: Any
        if self.sampling_method == "under":
            estimator = imblearn.RandomUnderSampler(inner.estimator, dist, seed=self.seed)
        elif self.sampling_method == "over":
            estimator = imblearn.RandomOverSampler(inner.estimator, dist, seed=self.seed)
        else:
            estimator = imblearn.RandomSampler(
                inner.estimator, dist, sampling_rate=self.sampling_rate, seed=self.seed
            )
        return RiverModel(estimator, "classification", inner.encode_categorical)


class LeveragingBaggingClassifier(_Wrapper):
    """Leveraging bagging of ``n_models`` copies of the base model (TurboML's parameters).

    >>> import rtml
    >>> spec = LeveragingBaggingClassifier(base_model=rtml.models.GaussianNB(), n_models=3)
    >>> spec.build().predict_one({"x": 1.0})["score"]
    0.0
    """

    kind: Literal["LeveragingBaggingClassifier"] = "LeveragingBaggingClassifier"
    n_classes: int = Field(2, ge=2)
    n_models: int = Field(10, ge=1)
    w: float = Field(6.0, gt=0)
    bagging_method: Literal["bag", "me", "half", "wt", "subag"] = "bag"
    seed: int = 0

    def build(self) -> OnlineModel:
        from river import ensemble

        inner = self._inner()
        estimator = ensemble.LeveragingBaggingClassifier(
            inner.estimator,
            n_models=self.n_models,
            w=self.w,
            bagging_method=self.bagging_method,
            seed=self.seed,
        )
        return RiverModel(estimator, "classification", inner.encode_categorical)


class AdaBoostClassifier(_Wrapper):
    """Online AdaBoost over ``n_models`` copies of the base model (TurboML's parameters).

    >>> import rtml
    >>> spec = AdaBoostClassifier(base_model=rtml.models.HoeffdingTreeClassifier(), n_models=2)
    >>> spec.build().predict_one({"x": 1.0})["score"]
    0.0
    """

    kind: Literal["AdaBoostClassifier"] = "AdaBoostClassifier"
    n_classes: int = Field(2, ge=2)
    n_models: int = Field(10, ge=1)
    seed: int = 0

    def build(self) -> OnlineModel:
        from river import ensemble

        inner = self._inner()
        estimator = ensemble.AdaBoostClassifier(
            inner.estimator, n_models=self.n_models, seed=self.seed
        )
        return RiverModel(estimator, "classification", inner.encode_categorical)
