"""Records given to ``predict``: checked against the dataset the deployment reads, as a push
is, so that a bad one is refused by dataset, field and row on every path that scores on demand
(in process, through ``rtml serve``, on Flink)."""

from __future__ import annotations

from typing import Any, Protocol

from rtml.backends.base import Dataset, Inputs
from rtml.backends.local.dataset import describe
from rtml.backends.local.schema import Column, record_problems
from rtml.errors import SchemaError
from rtml.features.featureset import FeatureSet
from rtml.json_values import timestamp_value

__all__ = ["prediction_records"]


class Catalog(Protocol):
    """What is needed of a backend: its feature sets and datasets by name."""

    def feature_sets(self) -> list[str]: ...

    def feature_set(self, name: str) -> FeatureSet: ...

    def dataset(self, name: str) -> Dataset: ...


def prediction_records(
    backend: Catalog, deployment: str, inputs: Inputs, records: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``records`` checked against the schema of the dataset ``inputs`` reads (through its
    feature set, whose event time may then not be null): unknown fields and wrong types are
    refused, naming the field and the row; missing nullable fields read as null. Timestamps
    written as ISO 8601 text (as JSON carries them) are read as times.

    >>> import rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> _ = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    >>> prediction_records(backend, "m", rtml.Inputs("tx", numerical=["x"]), [{"id": 1, "x": "a"}])
    Traceback (most recent call last):
    ...
    rtml.errors.SchemaError: dataset 'tx': prediction by 'm' refused:
      row 0, field 'x': expected float, got 'a' (str)
    """
    fs = backend.feature_set(inputs.source) if inputs.source in backend.feature_sets() else None
    dataset = backend.dataset(fs.dataset if fs is not None else inputs.source)
    schema: dict[str, Column] = dataset.schema
    if fs is not None:
        schema = {**schema, fs.timestamp: Column(schema[fs.timestamp].type, nullable=False)}
    stamps = [c for c, column in schema.items() if column.type == "timestamp"]
    checked = []
    problems = []
    for row, record in enumerate(records):
        record = {**record, **{c: timestamp_value(record[c]) for c in stamps if c in record}}
        problems += record_problems(record, schema, row)
        checked.append(record)
    if problems:
        raise SchemaError(
            describe(dataset.name, problems, [], refused=f"prediction by {deployment!r} refused")
        )
    return checked
