"""``Monitor``: a drift detector the local engine keeps up to date at every push."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from rtml.drift.categorical import span_nanos
from rtml.spec import Spec

__all__ = ["Monitor"]


class Monitor(Spec):
    """Watch a dataset's or feature set's fields (``source``, ``fields``), or a deployment's
    scores (``deployment``), for drift as records arrive.

    One field is watched as :func:`~rtml.drift.univariate` watches it, two or more together as
    :func:`~rtml.drift.multivariate` does (``reference``, ``variance``), and one field of
    categories, with ``categorical=True``, as :func:`~rtml.drift.categorical` does
    (``reference``, ``window``, ``alpha``, ``clock``, ``missing``, ``time``). A monitor first
    reads what is already stored, then every push in the order it came; its counts and the
    changes it finds equal those of the on-demand functions over the same stream, and survive a
    restart like the rest of the store.

    >>> Monitor(name="amounts", source="transactions", fields=["transactionAmount"]).fields
    ('transactionAmount',)
    >>> Monitor(name="lr", deployment="LogisticRegression").fields
    ('score',)
    >>> Monitor(name="cards", source="transactions", fields=["cardType"], categorical=True).window
    1000
    >>> Monitor(name="lr", deployment="LogisticRegression", alpha=0.01)
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: Monitor: alpha: not read by this monitor (scores of LogisticRegression)
    >>> Monitor(name="m", source="transactions")
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: Monitor: a monitor of 'transactions' needs its fields
    """

    kind: Literal["drift_monitor"] = "drift_monitor"
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.\-]+$")
    source: str | None = None
    deployment: str | None = None
    fields: tuple[str, ...] = ()
    delta: float = Field(0.002, gt=0, lt=1)
    clock: int = Field(32, ge=1)
    reference: int | str = 1000
    variance: float = Field(0.9, gt=0, lt=1)
    categorical: bool = False
    window: int | str = 1000
    alpha: float = Field(1e-5, gt=0, lt=1)
    missing: bool = False
    time: str | None = None

    _positional = ("name",)

    @field_validator("fields", mode="before")
    @classmethod
    def _as_tuple(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_stream(self) -> Self:
        if (self.source is None) == (self.deployment is None):
            raise ValueError("give either source (with fields) or deployment")
        if len(set(self.fields)) != len(self.fields):
            raise ValueError(f"fields must be distinct, got {list(self.fields)}")
        if self.deployment is not None:
            if self.fields not in ((), ("score",)):
                raise ValueError("a deployment's monitor watches its scores: leave fields out")
            object.__setattr__(self, "fields", ("score",))
        elif not self.fields:
            raise ValueError(f"a monitor of {self.source!r} needs its fields")
        if self.categorical and (self.deployment is not None or len(self.fields) != 1):
            raise ValueError("a categorical monitor watches one field of a source")
        self._check_spans()
        # A setting of the other detector is refused, not silently ignored. (Not reference or
        # variance on one field: stores written before this check may hold such specs.)
        unread = (
            {"delta", "variance"} if self.categorical else {"window", "alpha", "missing", "time"}
        )
        # (compared with the defaults: a spec read back from JSON carries every setting)
        defaults = type(self).model_fields
        given = sorted(f for f in unread if getattr(self, f) != defaults[f].default)
        if given:
            how = "a categorical" if self.categorical else "this"
            raise ValueError(f"{', '.join(given)}: not read by {how} monitor ({self.stream})")
        return self

    def _check_spans(self) -> None:
        """``reference`` and ``window``: numbers of records (at least 2), or for a categorical
        monitor durations of the event times in ``time``."""
        for name in ("reference", "window"):
            value = getattr(self, name)
            if isinstance(value, str) and not self.categorical:
                raise ValueError(f"{name}: a duration only for a categorical monitor")
            # The tracker's own reading: records at least 2, or a duration it can parse.
            if span_nanos(value, name) is not None and self.time is None:
                raise ValueError(f"{name} {value!r} is a duration: give time, the event times")

    @property
    def stream(self) -> str:
        """What is watched, for messages: ``dataset.field`` or ``scores of deployment``."""
        if self.deployment is not None:
            return f"scores of {self.deployment}"
        return ", ".join(f"{self.source}.{f}" for f in self.fields)
