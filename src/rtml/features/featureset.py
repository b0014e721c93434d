"""``FeatureSet``: the features of one dataset, validated when defined."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import SerializeAsAny, field_validator, model_validator

from rtml.column_types import type_of
from rtml.durations import parse_duration
from rtml.errors import SpecError
from rtml.features.base import Feature, WindowFeature
from rtml.spec import Spec

__all__ = ["FeatureSet"]


# Aggregates that add their values up: they need numbers (min, max and counts take text too).
_ADDING = ("sum", "avg", "std", "var")


class FeatureSet(Spec):
    """The features computed on one dataset, in event time.

    ``timestamp`` names the event-time column: epoch seconds (TurboML's default), epoch
    milliseconds (``timestamp_format="epoch_milliseconds"``) or a datetime column. Features may
    use the raw columns and other features of the set (in any order, as long as there is no
    cycle). Records arriving more than ``allowed_lateness`` behind the latest event time seen
    are refused (see the features page).

    >>> import rtml
    >>> fs = rtml.FeatureSet(
    ...     name="fraud_features", dataset="transactions", timestamp="timestamp",
    ...     features=[
    ...         rtml.features.Aggregate("sum_24h", column="amount", op="sum", by="card",
    ...                                 window="24h"),
    ...         rtml.features.SQL("share", '"amount" / "sum_24h"'),
    ...     ],
    ... )
    >>> names = [f.name for f in fs.ordered()]
    >>> names
    ['sum_24h', 'share']
    >>> rtml.FeatureSet(name="x", dataset="d", timestamp="ts", features=[], surprise=1)
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: FeatureSet: field 'surprise': unknown field (allowed: name, dataset, timestamp, features, timestamp_format, allowed_lateness)
    """

    kind: Literal["feature_set"] = "feature_set"
    name: str
    dataset: str
    timestamp: str
    features: tuple[SerializeAsAny[Feature], ...]
    timestamp_format: Literal["auto", "epoch_seconds", "epoch_milliseconds", "datetime"] = "auto"
    allowed_lateness: str = "1h"

    @field_validator("features", mode="before")
    @classmethod
    def _features(cls, value: Any) -> Any:
        from rtml.plugins import spec_from_dict

        if isinstance(value, Iterable) and not isinstance(value, (str, bytes, dict)):
            return tuple(spec_from_dict("features", v) for v in value)
        return value

    @field_validator("allowed_lateness")
    @classmethod
    def _lateness(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FeatureSet:
        names = [f.name for f in self.features]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"feature name(s) used twice: {', '.join(twice)}")
        if self.timestamp in names:
            raise ValueError(f"feature {self.timestamp!r} has the name of the timestamp column")
        own = [f.name for f in self.features if getattr(f, "source", None) == self.dataset]
        if own:
            # A source is another dataset joined by key; the set's own records are its events.
            raise ValueError(
                f"feature(s) {', '.join(own)} name the set's own dataset {self.dataset!r} as "
                "source: leave source out to aggregate the set's own records"
            )
        self.ordered()  # raises on a cycle
        return self

    @property
    def lateness_ns(self) -> int:
        return parse_duration(self.allowed_lateness)

    def feature(self, name: str) -> Feature:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    def ordered(self) -> list[Feature]:
        """The features in an order where each comes after the features it reads."""
        by_name = {f.name: f for f in self.features}
        done: dict[str, None] = {}
        visiting: list[str] = []

        def visit(f: Feature) -> None:
            if f.name in done:
                return
            if f.name in visiting:
                cycle = [*visiting[visiting.index(f.name) :], f.name]
                raise ValueError(f"features form a cycle: {' -> '.join(cycle)}")
            if f.name in f.columns():
                raise ValueError(f"feature {f.name!r} reads a column of its own name")
            visiting.append(f.name)
            for column in f.columns():
                if column in by_name:
                    visit(by_name[column])
            visiting.pop()
            done[f.name] = None

        for f in self.features:
            visit(f)
        return [by_name[n] for n in done]

    def sources(self) -> tuple[str, ...]:
        """The other datasets the features read (joined by key), e.g. the labels."""
        found = (f.source for f in self.features if isinstance(f, WindowFeature) and f.source)
        return tuple(dict.fromkeys(found))

    def check_columns(
        self,
        columns: Iterable[str] | Mapping[str, Any],
        source_columns: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """Raise :class:`SpecError` naming each feature that reads a column that does not exist;
        given the dataset's schema (column to type), also what cannot run on its types."""
        available = set(columns)
        if isinstance(columns, Mapping):
            self._check_types({str(c): type_of(t) for c, t in columns.items()})
        if self.timestamp not in available:
            raise SpecError(
                f"FeatureSet {self.name!r}: timestamp column {self.timestamp!r} is not in dataset "
                f"{self.dataset!r} (columns: {', '.join(sorted(available))})"
            )
        features = {f.name for f in self.features}
        problems = []
        for f in self.features:
            missing = [c for c in f.columns() if c not in available and c not in features]
            if isinstance(f, WindowFeature) and f.source:
                src = set((source_columns or {}).get(f.source, ()))
                missing += [c for c in f.value_columns() if c not in src]
                where = f"dataset {self.dataset!r} or source {f.source!r}"
            else:
                where = f"dataset {self.dataset!r}"
            if missing:
                problems.append(
                    f"feature {f.name!r} reads unknown column(s) {', '.join(map(repr, missing))} "
                    f"(not in {where} nor a feature of the set)"
                )
        if problems:
            raise SpecError(f"FeatureSet {self.name!r}: " + "; ".join(problems))

    def _check_types(self, types: Mapping[str, Any]) -> None:
        """A time to order by, feature names beside the dataset's columns, and numbers for the
        aggregates that add them up.

        >>> from rtml.features import Aggregate
        >>> fs = FeatureSet(name="f", dataset="tx", timestamp="ts",
        ...                 features=[Aggregate("s", column="card", op="sum", by="card", window="1h")])
        >>> fs.check_columns({"ts": "int", "card": "string"})
        Traceback (most recent call last):
        ...
        rtml.errors.SpecError: FeatureSet 'f': feature 's' takes the sum of 'card', which holds string values (numbers expected)
        """
        kind = types.get(self.timestamp)
        # Text is read as dates only when the set says so (timestamp_format="datetime").
        if kind == "bool" or (kind == "string" and self.timestamp_format != "datetime"):
            raise SpecError(
                f"FeatureSet {self.name!r}: timestamp column {self.timestamp!r} holds {kind} "
                f"values (numbers of epoch seconds or milliseconds, or timestamps, expected; "
                f"text dates need timestamp_format='datetime')"
            )
        for f in self.features:
            if f.name in types:
                raise SpecError(
                    f"FeatureSet {self.name!r}: feature {f.name!r} has the name of a column of "
                    f"dataset {self.dataset!r} (a feature's values go beside the dataset's "
                    f"columns: name it otherwise)"
                )
            op, column = str(getattr(f, "op", "")), str(getattr(f, "column", ""))
            held = types.get(column)
            adds_up = isinstance(f, WindowFeature) and not f.source and op in _ADDING
            if adds_up and held in ("string", "timestamp"):
                raise SpecError(
                    f"FeatureSet {self.name!r}: feature {f.name!r} takes the {op} of "
                    f"{column!r}, which holds {held} values (numbers expected)"
                )
