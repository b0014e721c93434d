"""The request and response bodies of the REST API (they are its OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "BatchPrediction",
    "CreateDataset",
    "DatasetInfo",
    "Deploy",
    "DeploymentInfo",
    "DriftSeries",
    "Error",
    "FeatureSetInfo",
    "MetricSeries",
    "MonitorChanges",
    "MonitorInfo",
    "Page",
    "PredictionOut",
    "PushRecords",
    "Pushed",
    "RowFailure",
    "ServerInfo",
]

Name = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.\-]+$")
Record = dict[str, Any]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RowFailure(BaseModel):
    """A record a feature could not be computed for: its row in the push, the feature, why."""

    row: int
    feature: str
    why: str


class Error(BaseModel):
    """What every refusal answers: the message and the kind of error; for a
    ``FeatureRowsError``, also the records a feature failed for."""

    detail: str
    error: str
    failures: list[RowFailure] | None = None


class ServerInfo(BaseModel):
    version: str
    ready: bool
    store: str
    max_batch: int = Field(description="Records accepted in one request.")
    max_body_bytes: int
    auth: bool = Field(description="Whether requests need `Authorization: Bearer <key>`.")
    layouts: list[str] = Field(
        default=["records", "columns"],
        description="The layouts of records a push or a new dataset may come in.",
    )


class _Rows(_Body):
    """Records as ``records`` (one JSON object each) or as ``columns`` (field -> its values, one
    per record: a third of the bytes, and what the Python client sends)."""

    records: list[Record] = Field(default=[], description="The records, one object each.")
    columns: dict[str, list[Any]] | None = Field(
        default=None,
        description="Instead of records: each field's values, all of the same length.",
    )

    @model_validator(mode="after")
    def _one_layout(self) -> Self:
        if self.columns is None:
            return self
        if self.records:
            raise ValueError("give records or columns, not both")
        lengths = {name: len(values) for name, values in self.columns.items()}
        if len(set(lengths.values())) > 1:
            first = next(iter(lengths))
            odd = next(n for n, k in lengths.items() if k != lengths[first])
            raise ValueError(
                f"column {odd!r} has {lengths[odd]} values, column {first!r} "
                f"{lengths[first]}: every column needs one value per record"
            )
        return self

    @property
    def size(self) -> int:
        """How many records the body holds."""
        if self.columns is None:
            return len(self.records)
        return len(next(iter(self.columns.values()), []))


class CreateDataset(_Rows):
    """A new dataset: its key and schema, and history (validated like a push) if any."""

    name: str = Name
    key: str = Field(min_length=1)
    schema_: dict[str, str] = Field(
        alias="schema",
        description='Column name -> type: int, float, bool, string or timestamp; "!" suffix: '
        "not nullable.",
        min_length=1,
    )


class PushRecords(_Rows):
    """A push of records, or of the same records as columns."""

    on_error: Literal["raise", "dead_letter"] = Field(
        default="raise",
        description="raise: refuse the whole push on any bad record; dead_letter: keep the "
        "good ones and set the bad ones aside with the reason.",
    )
    history: bool = Field(
        default=False,
        description="More history of a dataset that has had no live push yet (never refused "
        "as late); how a client uploads a large history in several requests.",
    )


class Pushed(BaseModel):
    accepted: int
    dead_lettered: int


class DatasetInfo(BaseModel):
    name: str
    key: str
    schema_: dict[str, str] = Field(alias="schema")
    records: int

    model_config = ConfigDict(populate_by_name=True)


class Page(BaseModel):
    """Rows in the order they were written, from ``offset``."""

    total: int
    offset: int
    rows: list[Record]


class FeatureSetInfo(BaseModel):
    name: str
    dataset: str
    spec: dict[str, Any] = Field(description="The feature set as JSON (FeatureSet.from_dict).")


class Deploy(_Body):
    name: str = Name
    model: dict[str, Any] = Field(
        description='A model spec as JSON, e.g. {"kind": "LogisticRegression"}.'
    )
    inputs: dict[str, Any] = Field(
        description='{"source": feature set or dataset, "numerical": [...], "categorical": [...]}'
    )
    labels: dict[str, Any] | None = Field(
        default=None, description='{"dataset": ..., "field": ...}'
    )
    pretrain: bool = False
    predict_only: bool = False


class DeploymentInfo(BaseModel):
    name: str
    model: dict[str, Any]
    inputs: dict[str, Any]
    labels: dict[str, Any] | None
    paused: bool
    predict_only: bool
    outputs: int
    labels_learned: int = Field(
        description="Labels the model has learned (pretraining included): the model_version "
        "its next output will carry."
    )


class PredictionOut(BaseModel):
    score: float | None
    predicted_class: int | float | str | None
    class_probabilities: dict[str, float | None]
    features: dict[str, Any] = Field(description="The model inputs used, window features included.")


class BatchPrediction(BaseModel):
    predictions: list[PredictionOut]


class DriftSeries(BaseModel):
    """ADWIN over a model's scores in the order made: per output, its position (``row``), key,
    score (``value``), the mean and length of ADWIN's window, and whether a change was found
    there; ``drifts`` lists the rows where one was."""

    model: str
    delta: float
    clock: int
    records: int
    drifts: list[int]
    row: list[int]
    key: list[Any]
    value: list[float | None]
    mean: list[float | None]
    width: list[int]
    drift: list[bool]


class MonitorInfo(BaseModel):
    """A drift monitor: its spec and what it has read and found so far."""

    name: str
    monitor: dict[str, Any] = Field(description="The rtml.drift.Monitor spec as JSON.")
    watches: str
    records: int
    scored: int
    waiting: int
    changes: int
    mean: float | None = Field(None, description="ADWIN's window mean (not categorical).")
    width: int = Field(description="ADWIN's window, or the categorical test's, in records.")
    distance: float | None = Field(None, description="Categorical: the latest test's distance.")
    p_value: float | None = Field(None, description="Categorical: the latest test's p-value.")
    details: dict[str, Any] | None


class MonitorChanges(BaseModel):
    """Every change a monitor found, in order, as columns."""

    monitor: str
    row: list[int]
    key: list[Any]
    value: list[Any] = Field(description="The value (for a categorical monitor, as text).")
    mean: list[float | None] | None = None
    width: list[int] | None = None
    distance: list[float | None] | None = None
    p_value: list[float | None] | None = None


class MetricSeries(BaseModel):
    """The metric after each labelled prediction, over a sliding window of them."""

    model: str
    metric: str
    window: int
    last: float | None
    index: list[int]
    value: list[float | None]
