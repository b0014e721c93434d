"""A model deployed on the local engine: prequential predict-then-learn, joined by key."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from rtml.backends.base import Deployment, Inputs, Labels
from rtml.errors import NotFound, RtmlError
from rtml.models.base import ModelSpec, Prediction

if TYPE_CHECKING:
    from rtml.backends.local.backend import LocalBackend

__all__ = ["LocalDeployment"]

_OUTPUT_COLUMNS = [
    "key",
    "score",
    "predicted_class",
    "class_probabilities",
    "event_time",
    "model_version",
]


class LocalDeployment(Deployment):
    """A deployed model: scores each input row as it arrives, learns when its label arrives.

    Inputs waiting for their label and labels waiting for their input are kept up to
    ``max_pending`` each (oldest dropped first), so memory stays bounded.

    >>> import rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    >>> model = backend.deploy("m", rtml.models.LogisticRegression(),
    ...                        inputs=rtml.Inputs("tx", numerical=["x"]))
    >>> model.predict({"id": 9, "x": 1.0})["score"]  # nothing learned yet
    0.5
    """

    def __init__(
        self,
        backend: LocalBackend,
        name: str,
        spec: ModelSpec,
        inputs: Inputs,
        labels: Labels | None,
        key: str,
        timestamp: str | None,
        max_pending: int = 1_000_000,
    ) -> None:
        self.name = name
        self.spec = spec
        self.inputs = inputs
        self.labels = labels
        self.key = key
        self.timestamp = timestamp
        self.max_pending = max_pending
        self.model = spec.build()
        self.version = 1
        self.paused = False
        self.deleted = False
        self._backend = backend
        self._outputs: list[dict[str, Any]] = []
        self._pending_x: OrderedDict[Any, tuple[dict[str, Any], float]] = OrderedDict()
        self._pending_y: OrderedDict[Any, Any] = OrderedDict()
        self._labelled: list[tuple[Any, float]] = []

    def __repr__(self) -> str:
        return f"<LocalDeployment {self.name!r} model={self.spec.kind_name()} outputs={len(self._outputs)}>"

    def features_of(self, row: dict[str, Any]) -> dict[str, Any]:
        x: dict[str, Any] = {}
        for c in self.inputs.numerical:
            v = row.get(c)
            x[c] = 0.0 if v is None or v != v else float(v)
        for c in self.inputs.categorical:
            x[c] = str(row.get(c))
        return x

    def _learn(self, x: dict[str, Any], y: Any, score: float) -> None:
        self.model.learn_one(x, y)
        self._labelled.append((y, score))

    def on_inputs(self, frame: pd.DataFrame) -> None:
        if self.paused or self.deleted:
            return
        for row in cast(list[dict[str, Any]], frame.to_dict("records")):
            x = self.features_of(row)
            k = row[self.key]
            prediction = self.model.predict_one(x)
            self._outputs.append(
                {
                    "key": k,
                    **prediction,
                    "event_time": row.get(self.timestamp) if self.timestamp else None,
                    "model_version": self.version,
                }
            )
            if k in self._pending_y:
                self._learn(x, self._pending_y.pop(k), prediction["score"])
            elif self.labels is not None:
                self._pending_x[k] = (x, prediction["score"])
                if len(self._pending_x) > self.max_pending:
                    self._pending_x.popitem(last=False)

    def on_labels(self, frame: pd.DataFrame, key: str) -> None:
        if self.paused or self.deleted or self.labels is None:
            return
        for k, y in zip(frame[key].tolist(), frame[self.labels.field].tolist(), strict=True):
            if y is None or y != y:
                continue
            if k in self._pending_x:
                x, score = self._pending_x.pop(k)
                self._learn(x, y, score)
            else:
                self._pending_y[k] = y
                if len(self._pending_y) > self.max_pending:
                    self._pending_y.popitem(last=False)

    def outputs(self) -> pd.DataFrame:
        return pd.DataFrame(self._outputs, columns=_OUTPUT_COLUMNS)

    def evaluate(self, metric: str, window: int = 1000) -> pd.DataFrame:
        from rtml.plugins import registry

        metrics = registry().metrics
        if metric not in metrics:
            raise NotFound(f"no metric named {metric!r} (known: {', '.join(sorted(metrics))})")
        m = metrics[metric].obj(window_size=window)
        values = []
        for y, score in self._labelled:
            m.update(y, score)
            values.append(m.get())
        return pd.DataFrame({"index": range(len(values)), "value": values})

    def predict(self, record: dict[str, Any]) -> Prediction:
        row = self._backend.preview_inputs(self.inputs.source, record)
        return self.model.predict_one(self.features_of(row))

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        if self.deleted:
            raise RtmlError(f"deployment {self.name!r} was deleted")
        self.paused = False

    def delete(self) -> None:
        self.deleted = True
        self._backend.forget_deployment(self.name)
