"""The ``Backend`` interface every engine implements (local, TurboML, Flink, HTTP client)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import field_validator

from rtml.drift import DriftReport, Monitor, univariate
from rtml.errors import NotFound, SpecError
from rtml.features.featureset import FeatureSet
from rtml.models.base import ModelSpec, Prediction
from rtml.spec import Spec

__all__ = ["Backend", "Dataset", "Deployment", "DriftMonitor", "Inputs", "Labels"]

Records = pd.DataFrame | list[dict[str, Any]]

# What ``Deployment.outputs()`` holds, on every backend.
OUTPUT_COLUMNS = [
    "key",
    "score",
    "predicted_class",
    "class_probabilities",
    "event_time",
    "model_version",
]
# A labelled prediction (what metrics read): the label, then the score and the class predicted
# before the label was known, and the key of the event (which lines up several models' pairs
# over the same events: rtml.compare).
LABELLED_COLUMNS = ["y", "score", "predicted_class", "key"]


PREDICTION_COLUMNS = ["score", "predicted_class", "class_probabilities"]


def _key_kind(key: Any) -> str:
    """What kind of key this is: 1 and 1.0 are one key, 1 and "1" (or True) are not."""
    if isinstance(key, bool | np.bool_):
        return "bool"
    if isinstance(key, int | float | np.integer | np.floating):
        return "number"
    return type(key).__name__


def records_and_index(records: Records) -> tuple[list[dict[str, Any]], pd.Index]:
    """Records to score, as dicts of Python values, and the index their answers take."""
    if isinstance(records, pd.DataFrame):
        return records.to_dict("records"), records.index  # type: ignore[return-value]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise TypeError("records must be a pandas DataFrame or a list of dicts")
    return records, pd.RangeIndex(len(records))


def predictions_frame(predictions: list[Prediction], index: pd.Index) -> pd.DataFrame:
    """Predictions as a DataFrame of :data:`PREDICTION_COLUMNS`, one row per record."""
    frame = pd.DataFrame(
        {
            "score": [p["score"] for p in predictions],
            "predicted_class": pd.Series(
                [p["predicted_class"] for p in predictions], dtype=object
            ).infer_objects(),
            "class_probabilities": pd.Series(
                [p["class_probabilities"] for p in predictions], dtype=object
            ),
        },
        columns=PREDICTION_COLUMNS,
    )
    frame.index = index
    return frame


def _tuple_of_str(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    return tuple(value) if isinstance(value, list) else value


class Inputs(Spec):
    """What a deployed model reads: a feature set (or a dataset) and the columns to use.

    >>> Inputs("fraud_features", numerical=["sum_24h", "amount"]).numerical
    ('sum_24h', 'amount')
    """

    kind: Literal["inputs"] = "inputs"
    source: str
    numerical: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()

    _positional = ("source",)

    @field_validator("numerical", "categorical", mode="before")
    @classmethod
    def _as_tuple(cls, value: Any) -> Any:
        return _tuple_of_str(value)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.numerical, *self.categorical)


class Labels(Spec):
    """Where a deployed model's labels come from: a dataset keyed like its inputs, and a field.

    >>> Labels("labels", field="is_fraud").field
    'is_fraud'
    """

    kind: Literal["labels"] = "labels"
    dataset: str
    field: str

    _positional = ("dataset",)


class Dataset(ABC):
    """A named, keyed collection of records that grows by pushes.

    >>> import rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> ds = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    >>> ds.push([{"id": 1, "y": 0}, {"id": 2, "y": 1}]), len(ds), ds.key
    (2, 2, 'id')
    """

    name: str
    key: str

    @abstractmethod
    def push(self, records: Records, on_error: Literal["raise", "dead_letter"] = "raise") -> int:
        """Validate and append records; returns how many were accepted."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def to_pandas(self) -> pd.DataFrame:
        """Every record held, in arrival order."""

    @property
    @abstractmethod
    def schema(self) -> dict[str, Any]:
        """Column name -> :class:`~rtml.backends.local.schema.Column`."""


class Deployment(ABC):
    """A model deployed on a backend: predicts on every input, learns on every label.

    >>> import rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    >>> labels = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    >>> model = backend.deploy("m", rtml.models.GaussianNB(), inputs=rtml.Inputs("tx", numerical=["x"]),
    ...                        labels=rtml.Labels("labels", field="y"))
    >>> tx.push([{"id": 1, "x": 0.5}]), labels.push([{"id": 1, "y": 1}]), tx.push([{"id": 2, "x": 0.7}])
    (1, 1, 1)
    >>> model.outputs()[["key", "score", "model_version"]]  # id 2 scored after one label learned
       key  score  model_version
    0    1    0.0              0
    1    2    1.0              1
    """

    name: str

    @abstractmethod
    def outputs(self) -> pd.DataFrame:
        """key, score, predicted_class, class_probabilities, event_time, and model_version:
        how many labels the model had learned (its pretraining included) when it gave the
        score: outputs of one version were scored by one state of the model (``None`` on
        TurboML, whose outputs do not say)."""

    def outputs_of(self, keys: Iterable[Any]) -> pd.DataFrame:
        """The outputs of the events with these keys, in the order made: what each was scored,
        and by which model version. A key without an output (never scored, or of another kind
        than the events' keys) is left out. The local engine and ``rtml serve`` look them up;
        this default reads :meth:`outputs` and keeps theirs."""
        wanted = {(_key_kind(k), k) for k in keys}
        out = self.outputs()
        kept = [(_key_kind(k), k) in wanted for k in out["key"].tolist()]
        return out[kept].reset_index(drop=True)

    @abstractmethod
    def evaluate(self, metric: str, window: int = 1000) -> pd.DataFrame:
        """The metric over a sliding window after each labelled prediction: index, value."""

    def drift(self, delta: float = 0.002, clock: int = 32) -> DriftReport:
        """Has the model's score changed? ADWIN over the scores in the order made (see
        :func:`rtml.drift.univariate`): a shift in what the model sees, or in the model.

        >>> import rtml
        >>> backend = rtml.connect("local", path=":memory:")
        >>> tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
        >>> labels = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
        >>> model = backend.deploy("m", rtml.models.LogisticRegression(),
        ...                        inputs=rtml.Inputs("tx", numerical=["x"]),
        ...                        labels=rtml.Labels("labels", field="y"))
        >>> _ = labels.push([{"id": i, "y": i % 2} for i in range(800)])
        >>> _ = tx.push([{"id": i, "x": i % 2 + 3 * (i >= 400)} for i in range(800)])  # shifts at 400
        >>> report = model.drift()
        >>> report.table.columns.tolist(), 400 <= report.drifts[0] < 500
        (['row', 'key', 'value', 'mean', 'width', 'drift'], True)
        """
        return univariate(
            self.outputs(),
            "score",
            key="key",
            delta=delta,
            clock=clock,
            source=f"deployment {self.name!r}",
        )

    @abstractmethod
    def predict(self, record: dict[str, Any]) -> Prediction:
        """One synchronous score from the live state, without learning."""

    def predict_many(self, records: Records) -> pd.DataFrame:
        """Scores of many records, each as :meth:`predict` scores it: on the live state as it
        is now, as if the record arrived on its own (the records do not see each other), learning
        nothing and storing nothing. One row per record, in their order (a DataFrame's index is
        kept): ``score``, ``predicted_class``, ``class_probabilities``.

        A backend with a batch path (the local engine, ``rtml serve``) scores them together;
        this default asks :meth:`predict` for each.

        >>> import rtml
        >>> backend = rtml.connect("local", path=":memory:")
        >>> tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
        >>> model = backend.deploy("m", rtml.models.LogisticRegression(),
        ...                        inputs=rtml.Inputs("tx", numerical=["x"]))
        >>> model.predict_many([{"id": 1, "x": 0.5}, {"id": 2, "x": 3.0}])
           score  predicted_class class_probabilities
        0    0.5                0  {0: 0.5, 1: 0.5}
        1    0.5                0  {0: 0.5, 1: 0.5}
        """
        rows, index = records_and_index(records)
        return predictions_frame([self.predict(r) for r in rows], index)

    @abstractmethod
    def pause(self) -> None: ...

    @abstractmethod
    def resume(self) -> None: ...

    @abstractmethod
    def delete(self) -> None: ...


class DriftMonitor(ABC):
    """A running drift monitor (``backend.watch(rtml.drift.Monitor(...))``): what it has
    read and found so far.

    >>> import rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    >>> monitor = backend.watch(rtml.drift.Monitor("x", source="tx", fields=["x"]))
    >>> _ = tx.push([{"id": i, "x": float(i % 3)} for i in range(90)])
    >>> isinstance(monitor, rtml.DriftMonitor), monitor.status()["records"]
    (True, 90)
    """

    name: str

    @abstractmethod
    def status(self) -> dict[str, Any]:
        """``records`` read, ``scored``, ``waiting`` (for a multivariate reference),
        ``changes`` found, ADWIN's ``mean`` and ``width`` now, and the reference's
        ``details``."""

    @abstractmethod
    def changes(self) -> pd.DataFrame:
        """Every change found, in order: ``row`` (position in the watched stream), ``key``,
        ``value``, and ADWIN's ``mean`` and ``width`` after it."""

    @abstractmethod
    def delete(self) -> None: ...


class Backend(ABC):
    """The engine an app runs on; ``rtml.connect(...)`` returns one.

    >>> import rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> isinstance(backend, rtml.Backend)
    True
    """

    name: str = ""

    @abstractmethod
    def create_dataset(
        self,
        name: str,
        key: str,
        df: pd.DataFrame | None = None,
        schema: dict[str, Any] | None = None,
    ) -> Dataset:
        """A new dataset keyed by ``key``, its schema inferred from ``df`` or declared."""

    @abstractmethod
    def dataset(self, name: str) -> Dataset: ...

    @abstractmethod
    def datasets(self) -> list[str]: ...

    @abstractmethod
    def materialize(self, feature_set: FeatureSet) -> None:
        """Backfill the feature set over existing records, then keep it current on every push."""

    @abstractmethod
    def features(self, name: str) -> pd.DataFrame:
        """The materialized feature values: the dataset's key and one column per feature."""

    @abstractmethod
    def feature_sets(self) -> list[str]: ...

    @abstractmethod
    def deploy(
        self,
        name: str,
        model: ModelSpec,
        inputs: Inputs,
        labels: Labels | None = None,
        pretrain: bool = False,
        predict_only: bool = False,
    ) -> Deployment:
        """Deploy ``model`` on ``inputs``; it learns from ``labels`` as they arrive (after
        learning the stored history with ``pretrain=True``), unless ``predict_only``: then it
        scores and is evaluated, but never learns online (TurboML's ``predict_only``)."""

    @abstractmethod
    def deployment(self, name: str) -> Deployment: ...

    @abstractmethod
    def deployments(self) -> list[str]: ...

    def watch(self, monitor: Monitor) -> DriftMonitor:
        """Keep a drift monitor up to date at every push (the local engine and ``rtml
        serve``; see :class:`rtml.drift.Monitor`)."""
        raise SpecError(
            f"{type(self).__name__} keeps no drift monitors: compute drift on demand with "
            f"rtml.drift over dataset.to_pandas(), features(name) or deployment.drift()"
        )

    def monitor(self, name: str) -> DriftMonitor:
        """The drift monitor named ``name``."""
        raise NotFound(f"no monitor named {name!r}: {type(self).__name__} keeps none")

    def monitors(self) -> list[str]:
        """The names of the drift monitors kept."""
        return []

    def close(self) -> None:  # noqa: B027 - optional: most backends hold nothing to release
        """Release what the backend holds (files, connections)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
