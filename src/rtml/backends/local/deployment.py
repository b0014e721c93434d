"""A model deployed on the local engine: prequential predict-then-learn, joined by key."""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from rtml.backends.base import (
    LABELLED_COLUMNS,
    OUTPUT_COLUMNS,
    Deployment,
    Inputs,
    Labels,
    Records,
    predictions_frame,
    records_and_index,
)
from rtml.backends.checks import check_window
from rtml.backends.local.model_inputs import (
    input_number,
    input_numbers,
    learnable_frame,
    learnable_label,
    not_a_number_error,
)
from rtml.backends.local.prediction_records import prediction_records
from rtml.backends.local.schema import INT64
from rtml.backends.local.value_kinds import kind_of, kind_of_type
from rtml.errors import NotFound, SchemaError, SpecError
from rtml.frames import stack_rows
from rtml.models.base import (
    BatchModel,
    ModelSpec,
    Prediction,
    answer_of,
    class_keys,
)
from rtml.models.river_adapter import RiverModel
from rtml.nulls import is_null
from rtml.whole_numbers import is_whole

if TYPE_CHECKING:
    from rtml.backends.local.backend import LocalBackend

__all__ = ["LocalDeployment", "evaluate_pairs", "probabilities_of"]


def _encode(probabilities: dict[Any, float]) -> str:
    if len(probabilities) == 2 and 0 in probabilities and 1 in probabilities:
        p0, p1 = float(probabilities[0]), float(probabilities[1])
        if math.isfinite(p0) and math.isfinite(p1):
            # The common binary case, without json.dumps (it is on the hot path).
            return f'{{"0": {p0!r}, "1": {p1!r}}}'
    return json.dumps({str(k): float(v) for k, v in probabilities.items()})


def probabilities_of(text: Any, predicted: Any) -> dict[Any, float]:
    """An output's stored class probabilities, given its predicted class (text classes keep
    their keys as text, see :func:`class_keys`)."""
    if not isinstance(text, str):
        return {}
    decoded = json.loads(text)
    if len(decoded) == 2 and "0" in decoded and "1" in decoded and not isinstance(predicted, str):
        return {0: decoded["0"], 1: decoded["1"]}
    return class_keys(decoded, predicted)


def _labelled_frame(pairs: list[tuple[Any, float, Any, Any]]) -> pd.DataFrame:
    """Labelled pairs (label, score, predicted class, key) as the rows stored: built by column
    (a fifth of the time of rows then ``astype``, on the one-pair pushes of a live stream).

    >>> _labelled_frame([(1, 0.75, 1, "a"), (0, None, 0, "b")])
       y  score  predicted_class key
    0  1   0.75                1   a
    1  0    NaN                0   b
    """
    y, scores, classes, keys = zip(*pairs, strict=True)
    columns = [list(y), np.array(scores, dtype="float64"), list(classes), list(keys)]
    return pd.DataFrame(dict(zip(LABELLED_COLUMNS, columns, strict=True)))


def _binary(value: Any) -> bool:
    return not isinstance(value, str) and value in (0, 1)


def _predicts_other_classes(pairs: pd.DataFrame) -> bool:
    """Whether some labelled prediction's predicted class is neither 0 nor 1, nor missing, nor
    the score itself (a regression's output is both)."""
    if "predicted_class" not in pairs.columns:
        return False
    return any(
        not is_null(c) and not _binary(c) and c != s
        for c, s in zip(pairs["predicted_class"].tolist(), pairs["score"].tolist(), strict=True)
    )


def evaluate_pairs(metric: str, window: int, pairs: pd.DataFrame, name: str = "") -> pd.DataFrame:
    """A registered metric over labelled predictions (``y``, ``score``, ``predicted_class``, in
    the order their labels joined), after each one: ``index``, ``value``. A metric of binary
    labels meeting another label hands over to the metric it names for classes (accuracy), or
    refuses it (deployment ``name``'s, in the message).

    >>> pairs = pd.DataFrame({"y": [1, 0, "c"], "score": [0.9, 0.2, 0.0],
    ...                       "predicted_class": [1, 1, "c"]})
    >>> evaluate_pairs("WindowedAccuracy", 10, pairs, "m")["value"].tolist()  # classes compared
    [1.0, 0.5, 0.6666666666666666]
    >>> evaluate_pairs("WindowedAUC", 10, pairs, "m")
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: deployment 'm': WindowedAUC is a metric of binary labels (0 and 1), but labelled prediction 2 has the label 'c'; with more classes, evaluate WindowedClassAccuracy or WindowedMacroF1
    """
    from rtml.plugins import registry

    check_window(window)
    metrics = registry().metrics
    if metric not in metrics:
        raise NotFound(f"no metric named {metric!r} (known: {', '.join(sorted(metrics))})")
    kind = metrics[metric].obj
    labels = pairs["y"].tolist()
    if getattr(kind, "binary", False):
        other = next((i for i, y in enumerate(labels) if not is_null(y) and not _binary(y)), None)
        handover = getattr(kind, "for_classes", None)
        # A model that has answered a class other than 0 and 1 is a model of more classes even
        # while every label so far is 0 or 1: its answer is the predicted class, not its score
        # (the probability of class 1) at a threshold.
        if handover in metrics and (other is not None or _predicts_other_classes(pairs)):
            kind = metrics[handover].obj
        elif other is not None:
            raise SpecError(
                f"deployment {name!r}: {metric} is a metric of binary labels (0 and 1), "
                f"but labelled prediction {other} has the label {labels[other]!r}; with more "
                "classes, evaluate WindowedClassAccuracy or WindowedMacroF1"
            )
    reads_class = getattr(kind, "reads_class", False)
    if reads_class and "predicted_class" not in pairs.columns:
        raise SpecError(
            f"deployment {name!r}: {kind.kind_name()} reads the predicted classes, which these "
            "labelled predictions do not hold (stored by an earlier rtml)"
        )
    m = kind(window_size=window)
    read = pairs["predicted_class" if reads_class else "score"]
    values = []
    for y, value in zip(labels, read.tolist(), strict=True):
        m.update(y, value)
        values.append(m.get())
    return pd.DataFrame({"index": range(len(values)), "value": values})


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
        self.predict_only = False  # scores and is evaluated, but learns nothing online
        # The label field holds text (see holds_text): predicted classes are text or missing.
        self.text_classes = False
        self.model = spec.build()
        # How many labels the model has learned (pretraining included): the version of its
        # state, which each output carries as model_version (predict_only learns none).
        self.learned = 0
        self.paused = False
        # Labels pushed while paused, in their order: learned at resume, never dropped.
        self.held: list[tuple[Any, Any]] = []
        self.deleted = False
        self._backend = backend
        # Written by the backend in the transaction of the push that produced them.
        self.new_outputs: list[pd.DataFrame] = []
        # An input waiting for its label: its features, score and predicted class.
        self._pending_x: OrderedDict[Any, tuple[dict[str, Any], float, Any]] = OrderedDict()
        self._pending_y: OrderedDict[Any, Any] = OrderedDict()
        # Labelled predictions (label, score, predicted class, the event's key) made since the
        # last write.
        self.new_labelled: list[tuple[Any, float, Any, Any]] = []

    def __repr__(self) -> str:
        return f"<LocalDeployment {self.name!r} model={self.spec.kind_name()}>"

    def features_of(self, row: dict[str, Any]) -> dict[str, Any]:
        """A record's model inputs: numbers as floats (datetimes as epoch seconds; missing ones,
        and those no model can take, left out: see :mod:`rtml.backends.local.model_inputs`),
        text as text."""
        x: dict[str, Any] = {}
        for c in self.inputs.numerical:
            try:
                number = input_number(row.get(c))
            except (TypeError, ValueError):
                raise self._not_a_number(c, [row.get(c)]) from None
            if number == number:  # not NaN: missing, or a number the model cannot take
                x[c] = number
        for c in self.inputs.categorical:
            v = row.get(c)
            if v is not None and v == v:
                x[c] = str(v)
        return x

    def _inputs_of(self, frame: pd.DataFrame) -> list[dict[str, Any]]:
        """Each row's model inputs, as :meth:`features_of` gives them (vectorised)."""
        numerical = [self._numbers(frame, c) for c in self.inputs.numerical]
        categorical = [
            [None if is_null(v) else str(v) for v in frame[c].tolist()]
            for c in self.inputs.categorical
        ]
        names = [*self.inputs.numerical, *self.inputs.categorical]
        if not names:
            return [{} for _ in range(len(frame))]
        rows = [
            dict(zip(names, v, strict=True)) for v in zip(*numerical, *categorical, strict=True)
        ]
        if any(np.isnan(column).any() for column in map(np.asarray, numerical)) or any(
            None in column for column in categorical
        ):
            # Missing values are left out of the record (River's learners skip them).
            rows = [{k: v for k, v in row.items() if v is not None and v == v} for row in rows]
        return rows

    def _numbers(self, frame: pd.DataFrame, column: str) -> list[float]:
        try:
            return input_numbers(frame[column])
        except (TypeError, ValueError):
            raise self._not_a_number(column, frame[column].tolist()) from None

    def _not_a_number(self, column: str, values: list[Any]) -> SchemaError:
        """A numerical input holding something that is not a number (a feature of text): the
        push refuses those records by input and row (or sets them aside), a prediction its
        record."""
        return not_a_number_error(self.name, column, values)

    def _batch_inputs(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A batch learner's inputs: the input columns, numbers it cannot take set to NaN."""
        inputs = frame[list(self.inputs.columns)].reset_index(drop=True)
        try:
            return learnable_frame(inputs, self.inputs.numerical)
        except (TypeError, ValueError):
            for c in self.inputs.numerical:
                self._numbers(inputs, c)  # names the input and the row
            raise

    def learn(self, frame: pd.DataFrame, y: Any, batch_size: int = 1000) -> None:
        """Train on history (rows with the input columns, and their labels) without scoring:
        what ``deploy(..., pretrain=True)`` does with the store's rows and labels."""
        keep = [learnable_label(label) for label in y]
        labels = [label for label, kept in zip(y, keep, strict=True) if kept]
        self.learned += len(labels)
        if isinstance(self.model, BatchModel):
            inputs = self._batch_inputs(frame)[keep]
            for lo in range(0, len(labels), batch_size):
                self.model.learn_many(
                    inputs.iloc[lo : lo + batch_size], labels[lo : lo + batch_size]
                )
            return
        for x, label, kept in zip(self._inputs_of(frame), y, keep, strict=True):
            if kept:
                self.model.learn_one(x, label)

    def _learn(self, k: Any, x: dict[str, Any], y: Any, score: float, predicted: Any) -> None:
        if not self.predict_only:
            self.model.learn_one(x, y)
            self.learned += 1
        self.new_labelled.append((y, score, predicted, k))

    def _remember(self, k: Any, x: Any, score: float, predicted: Any) -> None:
        self._pending_x[k] = (x, score, predicted)
        if len(self._pending_x) > self.max_pending:
            self._pending_x.popitem(last=False)

    def on_inputs(self, frame: pd.DataFrame) -> None:
        if self.paused or self.deleted or not len(frame):
            return
        keys = frame[self.key].tolist()
        if isinstance(self.model, BatchModel):
            predictions = self._predict_batch(frame, keys)
        else:
            predictions = self._predict_records(frame, keys)
        scores, classes, probabilities, versions = predictions
        times = frame[self.timestamp].tolist() if self.timestamp else [None] * len(keys)
        self.new_outputs.append(
            pd.DataFrame(
                {
                    "key": keys,
                    "score": scores,
                    "predicted_class": classes,
                    "class_probabilities": probabilities,
                    "event_time": times,
                    "model_version": versions,
                }
            )
        )

    def _predict_records(
        self, frame: pd.DataFrame, keys: list[Any]
    ) -> tuple[list, list, list, list[int]]:
        # Prequential, record by record: predict, then learn at once if the label is there.
        scores, classes, probabilities, versions = [], [], [], []
        predict, learn = self._record_functions()
        for k, x in zip(keys, self._inputs_of(frame), strict=True):
            versions.append(self.learned)
            score, predicted, probs = self._prequential(k, x, predict, learn)
            scores.append(score)
            classes.append(predicted)
            probabilities.append(probs)
        return scores, classes, probabilities, versions

    def _prequential(
        self,
        k: Any,
        x: dict[str, Any],
        predict: Callable[[dict[str, Any]], tuple[Any, Any, Any]],
        learn: Callable[[dict[str, Any], Any], None],
    ) -> tuple[Any, Any, Any]:
        score, predicted, probs = predict(x)
        predicted = self._shown_class(predicted)
        if k in self._pending_y:
            y = self._pending_y.pop(k)
            if not self.predict_only:
                learn(x, y)
                self.learned += 1
            self.new_labelled.append((y, score, predicted, k))
        elif self.labels is not None:
            self._remember(k, x, score, predicted)
        return score, predicted, probs

    def on_record(self, row: dict[str, Any]) -> dict[str, Any] | None:
        """What :meth:`on_inputs` does for one record, without a DataFrame: its output (with
        the probabilities as stored), or ``None`` while paused. Labelled pairs go to
        ``new_labelled`` as usual. Models that learn in batches take the frame path."""
        if self.paused or self.deleted:
            return None
        if isinstance(self.model, BatchModel):
            self.on_inputs(pd.DataFrame([row]))
            outputs, labelled = self.take_writes()
            if labelled is not None:
                self.new_labelled.extend(labelled.itertuples(index=False, name=None))
            return None if outputs is None else cast(dict[str, Any], outputs.to_dict("records")[0])
        k = row.get(self.key)
        version = self.learned
        score, predicted, probs = self._prequential(
            k, self.features_of(row), *self._record_functions()
        )
        return {
            "key": k,
            "score": score,
            "predicted_class": predicted,
            "class_probabilities": _encode(probs),
            "event_time": row.get(self.timestamp) if self.timestamp else None,
            "model_version": version,
        }

    def on_label(self, k: Any, y: Any) -> None:
        """What :meth:`on_labels` does for one label of key ``k``."""
        if self.deleted or self.labels is None:
            return
        self._take_labels([k], [y])

    def _record_functions(
        self,
    ) -> tuple[
        Callable[[dict[str, Any]], tuple[Any, Any, Any]], Callable[[dict[str, Any], Any], None]
    ]:
        """predict(x) -> (score, class, probabilities) and learn(x, y): River's own methods
        called directly on the hot path when nothing needs encoding; else the generic ones."""
        model = self.model
        direct = (
            isinstance(model, RiverModel)
            and model.task == "classification"
            and not (model.encode_categorical and self.inputs.categorical)
        )
        if not direct:

            def predict(x: dict[str, Any]) -> tuple[Any, Any, Any]:
                p = self.model.predict_one(x)
                return p["score"], p["predicted_class"], p["class_probabilities"]

            return predict, self.model.learn_one
        estimator = cast(RiverModel, model).estimator
        proba = estimator.predict_proba_one

        def predict_direct(x: dict[str, Any]) -> tuple[Any, Any, Any]:
            # Before any learning River answers {}: a score of 0, as RiverModel.predict_one.
            return answer_of(proba(x) or {0: 1.0, 1: 0.0})

        return predict_direct, estimator.learn_one

    def _predict_batch(
        self, frame: pd.DataFrame, keys: list[Any]
    ) -> tuple[Any, Any, list, list[int]]:
        # The whole batch is predicted before any of it is learned.
        model = cast(BatchModel, self.model)
        versions = [self.learned] * len(keys)
        inputs = self._batch_inputs(frame)
        scores = np.asarray(model.predict_many(inputs), dtype="float64")
        # A tie (0.5) is class 0, as in the model's own answer (Prediction.from_probabilities).
        classes = (scores > 0.5).astype("int64")
        probabilities = [{0: 1.0 - s, 1: s} for s in scores.tolist()]
        ready = [i for i, k in enumerate(keys) if k in self._pending_y]
        if ready:
            y = [self._pending_y.pop(keys[i]) for i in ready]
            if not self.predict_only:
                model.learn_many(inputs.iloc[ready], y)
                self.learned += len(y)
            self.new_labelled.extend(
                zip(
                    y,
                    scores[ready].tolist(),
                    classes[ready].tolist(),
                    [keys[i] for i in ready],
                    strict=True,
                )
            )
        if self.labels is not None:
            waiting = sorted(set(range(len(keys))) - set(ready))
            rows = inputs.iloc[waiting].to_dict("records")
            for i, row in zip(waiting, rows, strict=True):
                self._remember(keys[i], row, float(scores[i]), int(classes[i]))
        return scores, classes, probabilities, versions

    def on_labels(self, frame: pd.DataFrame, key: str) -> None:
        if self.deleted or self.labels is None:
            return
        self._take_labels(frame[key].tolist(), frame[self.labels.field].tolist())

    def set_paused(self, paused: bool) -> None:
        """Pause, or resume: then the labels pushed while paused are learned, in their order,
        as if they had come at the resume (events pushed while paused stay unscored)."""
        self.paused = paused
        if not paused and self.held:
            held, self.held = self.held, []
            keys, ys = zip(*held, strict=True)
            self._take_labels(list(keys), list(ys))

    def _take_labels(self, keys: list[Any], ys: list[Any]) -> None:
        """Labels ``ys`` of events ``keys``: learned with their event's prediction, or waiting
        for it; held while paused."""
        if self.paused:
            self.held.extend(zip(keys, ys, strict=True))
            return
        matched: list[tuple[Any, Any, Any, float, Any]] = []
        for k, y in zip(keys, ys, strict=True):
            if not learnable_label(y):  # None, NaN, pd.NA (a nullable integer column), inf
                continue
            if k in self._pending_x:
                x, score, predicted = self._pending_x.pop(k)
                matched.append((k, x, y, score, predicted))
            else:
                self._pending_y[k] = y
                if len(self._pending_y) > self.max_pending:
                    self._pending_y.popitem(last=False)
        if not matched:
            return
        if isinstance(self.model, BatchModel):
            if not self.predict_only:
                self.model.learn_many(
                    pd.DataFrame([m[1] for m in matched]), [m[2] for m in matched]
                )
                self.learned += len(matched)
            self.new_labelled.extend(
                (y, score, predicted, k) for k, _, y, score, predicted in matched
            )
        else:
            for k, x, y, score, predicted in matched:
                self._learn(k, x, y, score, predicted)

    @property
    def outputs_table(self) -> str:
        return f"out__{self.name}"

    @property
    def labelled_table(self) -> str:
        return f"lab__{self.name}"

    def outputs(self, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """Every output in the order made (or ``limit`` of them from ``offset``).

        >>> import rtml
        >>> backend = rtml.connect("local", path=":memory:")
        >>> tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
        >>> model = backend.deploy("m", rtml.models.GaussianNB(),
        ...                        inputs=rtml.Inputs("tx", numerical=["x"]))
        >>> _ = tx.push([{"id": i, "x": float(i)} for i in range(5)])
        >>> model.outputs(offset=3)["key"].tolist()
        [3, 4]
        >>> model.outputs(limit=-1)
        Traceback (most recent call last):
        ...
        ValueError: outputs of deployment 'm': limit must be a whole number >= 0 or None, got -1
        """
        self._check_live()
        where = f"outputs of deployment {self.name!r}"
        if not is_whole(offset, 0):
            raise ValueError(f"{where}: offset must be a whole number >= 0, got {offset!r}")
        if limit is not None and not is_whole(limit, 0):
            raise ValueError(f"{where}: limit must be a whole number >= 0 or None, got {limit!r}")
        self._backend.flush()
        return self._output_frame(
            self._backend.store.read(self.outputs_table, offset=offset, limit=limit)
        )

    def outputs_of(self, keys: Iterable[Any]) -> pd.DataFrame:
        """The outputs of the events with these keys, in the order made (a look-up: what was
        this transaction scored, by which model version). A key without an output (never
        scored, or of another kind than the events' keys) is left out.

        >>> import rtml
        >>> backend = rtml.connect("local", path=":memory:")
        >>> tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
        >>> model = backend.deploy("m", rtml.models.GaussianNB(),
        ...                        inputs=rtml.Inputs("tx", numerical=["x"]))
        >>> _ = tx.push([{"id": i, "x": float(i)} for i in range(5)])
        >>> model.outputs_of([3, 1, 99, "3"])[["key", "model_version"]]
           key  model_version
        0    1              0
        1    3              0
        """
        self._check_live()
        kind = self.key_kind()
        # A whole number beyond 64 bits names no stored key (and DuckDB cannot take it).
        wanted = [
            k
            for k in keys
            if kind is not None
            and kind_of(k) == kind
            and not (isinstance(k, int) and not INT64[0] <= k <= INT64[1])
        ]
        return self._output_frame(self._backend.store.rows_with(self.outputs_table, "key", wanted))

    def key_kind(self) -> str | None:
        """The kind of the keys of its outputs (a number, text...), None before any."""
        self._backend.flush()  # the table of outputs may not be written yet
        return kind_of_type(self._backend.store.column_types(self.outputs_table).get("key", ""))

    def _output_frame(self, stored: pd.DataFrame) -> pd.DataFrame:
        """Stored outputs as :data:`OUTPUT_COLUMNS`, class probabilities as dicts again."""
        if stored.empty:
            return pd.DataFrame(columns=OUTPUT_COLUMNS)
        stored["class_probabilities"] = pd.Series(
            [
                probabilities_of(text, predicted)
                for text, predicted in zip(
                    stored["class_probabilities"].tolist(),
                    stored["predicted_class"].tolist(),
                    strict=True,
                )
            ],
            index=stored.index,
            dtype=object,
        )
        return stored[OUTPUT_COLUMNS]

    def labelled(self) -> pd.DataFrame:
        """The labelled predictions in the order their labels joined: ``y``, ``score``,
        ``predicted_class`` and the event's ``key`` (missing in pairs stored before rtml kept
        them)."""
        self._check_live()
        self._backend.flush()
        stored = self._backend.store.read(self.labelled_table)
        return stored if not stored.empty else pd.DataFrame(columns=LABELLED_COLUMNS)

    def evaluate(self, metric: str, window: int = 1000) -> pd.DataFrame:
        return evaluate_pairs(metric, window, self.labelled(), self.name)

    def take_writes(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """The outputs and labelled pairs made since the last call, for the backend to store."""
        outputs = stack_rows(self.new_outputs) if self.new_outputs else None
        if outputs is not None:
            outputs["class_probabilities"] = [
                _encode(p) for p in outputs["class_probabilities"].tolist()
            ]
        labelled = _labelled_frame(self.new_labelled) if self.new_labelled else None
        self.new_outputs, self.new_labelled = [], []
        return outputs, labelled

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps of this deployment (the model and the pending joins)."""
        return {
            "model": self.model,
            "pending_x": self._pending_x,
            "pending_y": self._pending_y,
            "paused": self.paused,
            "held": self.held,
            "learned": self.learned,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.model = state["model"]
        # A checkpoint written before the predicted class was kept holds (features, score).
        self._pending_x = OrderedDict(
            (k, (*v, None) if len(v) == 2 else v) for k, v in state["pending_x"].items()
        )
        self._pending_y = state["pending_y"]
        self.paused = state["paused"]
        # A checkpoint written before labels pushed while paused were held has none.
        self.held = state.get("held", [])
        # A checkpoint written before model_version counted labels kept the constant 1.
        self.learned = state.get("learned", 0)

    def predict(self, record: dict[str, Any]) -> Prediction:
        return self.explain([record])[0][0]

    def predict_many(self, records: Records) -> pd.DataFrame:
        rows, index = records_and_index(records)
        return predictions_frame([p for p, _ in self.explain(rows)], index)

    def explain(self, records: list[dict[str, Any]]) -> list[tuple[Prediction, dict[str, Any]]]:
        """Each record's prediction and the model inputs it used (window features looked up
        in the live state, as if the record arrived now on its own), learning nothing.

        >>> import rtml
        >>> backend = rtml.connect("local", path=":memory:")
        >>> tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
        >>> model = backend.deploy("m", rtml.models.GaussianNB(),
        ...                        inputs=rtml.Inputs("tx", numerical=["x"]))
        >>> [inputs for _, inputs in model.explain([{"id": 1, "x": 2.0}, {"id": 2}])]
        [{'x': 2.0}, {}]
        """
        self._check_live()
        records = prediction_records(self._backend, self.name, self.inputs, records)
        rows = self._backend.preview_rows(self.inputs.source, records)
        explained = []
        for row in rows:
            x = self.features_of(row)
            explained.append((self.answer(x), x))
        return explained

    def answer(self, x: dict[str, Any]) -> Prediction:
        """The model's prediction on inputs ``x``, learning nothing, shown as the output stream
        shows it (no class, rather than 0, from a model of text classes that has learned
        nothing yet)."""
        prediction = self.model.predict_one(x)
        prediction["predicted_class"] = self._shown_class(prediction["predicted_class"])
        return prediction

    def _shown_class(self, predicted: Any) -> Any:
        # A model of text classes that has learned nothing answers 0: no class (the column
        # holds text).
        return None if self.text_classes and not isinstance(predicted, str) else predicted

    def pause(self) -> None:
        self._backend.set_paused(self.name, True)

    def resume(self) -> None:
        self._check_live()
        self._backend.set_paused(self.name, False)

    def _check_live(self) -> None:
        # A handle kept after delete() must not read, or score with, what is left of it; nor
        # the tables of a later deployment given the same name.
        if self.deleted:
            raise NotFound(f"deployment {self.name!r} was deleted")

    def delete(self) -> None:
        self._backend.delete_deployment(self.name)
