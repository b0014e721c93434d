"""The Backend interface over HTTP: ``rtml.connect("http://host:port")`` talks to ``rtml serve``.

The server owns the store; any number of client processes share it. Everything a client sends
is data: specs travel as JSON, and a feature set naming a Python function (a UDF) is accepted
only when the server trusts that function's module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd

from rtml.backends.base import (
    OUTPUT_COLUMNS,
    Backend,
    Dataset,
    Deployment,
    DriftMonitor,
    Inputs,
    Labels,
    Records,
    predictions_frame,
    records_and_index,
)
from rtml.backends.checks import check_window
from rtml.backends.http.transport import Transport, segment
from rtml.backends.json_records import columns_of, records_of
from rtml.backends.local.dataset import checked_history, to_frame
from rtml.backends.local.monitor import (
    CATEGORY_CHANGE_COLUMNS,
    CHANGE_COLUMNS,
    SCORE_TRACE_COLUMNS,
)
from rtml.backends.local.schema import Column, conform, dataset_schema, empty_frame
from rtml.drift import DriftReport, Monitor
from rtml.errors import NotFound, SchemaError, SpecError
from rtml.features.featureset import FeatureSet
from rtml.json_values import json_value
from rtml.models.base import ModelSpec, Prediction, class_keys
from rtml.spec import reading_stored

__all__ = ["HttpBackend", "HttpDataset", "HttpDeployment"]

_KEYS_PER_REQUEST = 200  # outputs_of: one request's keys, within MAX_KEYS and a URL's length


def _schema_text(schema: dict[str, Column]) -> dict[str, str]:
    return {c: t.text for c, t in schema.items()}


def _spec_json(spec: Any, what: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = spec.model_dump(mode="json")
    except Exception as exc:
        raise SpecError(f"{what} cannot be sent to a server: {exc}") from None
    return data


class HttpBackend(Backend):
    """A client of an ``rtml serve`` server, with the same interface as the local engine.

    ``api_key`` defaults to ``$RTML_API_KEY``. Pushes are atomic up to the server's
    ``max_batch`` records; a larger push is refused before anything is sent.
    """

    name = "http"

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 120.0) -> None:
        self.url = url
        self.transport = Transport(url, api_key=api_key, timeout=timeout)
        info = self.transport.request("GET", "/", what=f"rtml server at {url}")
        self.max_batch = int(info["max_batch"])
        self.server_version = str(info["version"])
        # A server from before columns were accepted lists no layouts: it gets records.
        self.send_columns = "columns" in info.get("layouts", [])

    def __repr__(self) -> str:
        return f"<HttpBackend {self.url!r}>"

    def rows_body(self, frame: pd.DataFrame) -> dict[str, Any]:
        """``frame``'s records as a request carries them: columns (a third of the bytes) when
        the server reads them, else one object per record."""
        if self.send_columns:
            return {"columns": columns_of(frame)}
        return {"records": records_of(frame)}

    def close(self) -> None:
        self.transport.close()

    def pages(self, path: str, what: str, page: int = 50_000) -> list[dict[str, Any]]:
        """Every row of a paged listing, in order."""
        rows: list[dict[str, Any]] = []
        while True:
            answer = self.transport.request(
                "GET", path, params={"offset": len(rows), "limit": page}, what=what
            )
            rows += answer["rows"]
            if not answer["rows"] or len(rows) >= answer["total"]:
                return rows

    # ---- datasets -------------------------------------------------------------------------
    def create_dataset(
        self,
        name: str,
        key: str,
        df: pd.DataFrame | None = None,
        schema: dict[str, Any] | None = None,
    ) -> HttpDataset:
        columns = dataset_schema(name, key, df, schema)
        # Checked whole before the first part is sent, so the history never lands half.
        history = checked_history(name, key, columns, df)
        first = history.iloc[: self.max_batch]
        self.transport.request(
            "POST",
            "/datasets",
            {
                "name": name,
                "key": key,
                "schema": _schema_text(columns),
                **self.rows_body(first),
            },
            what=f"dataset {name!r}",
        )
        dataset = HttpDataset(self, name, key, columns)
        for lo in range(self.max_batch, len(history), self.max_batch):
            dataset.send(history.iloc[lo : lo + self.max_batch], history=True)
        return dataset

    def dataset(self, name: str) -> HttpDataset:
        info = self.transport.request("GET", f"/datasets/{segment(name)}", what=f"dataset {name!r}")
        schema = {c: Column.parse(t) for c, t in info["schema"].items()}
        return HttpDataset(self, name, info["key"], schema)

    def datasets(self) -> list[str]:
        return [d["name"] for d in self.transport.request("GET", "/datasets")]

    # ---- feature sets ---------------------------------------------------------------------
    def materialize(self, feature_set: FeatureSet) -> None:
        if not isinstance(feature_set, FeatureSet):
            raise SpecError(f"materialize expects a FeatureSet, got {type(feature_set).__name__}")
        body = _spec_json(feature_set, f"feature set {feature_set.name!r}")
        self.transport.request(
            "POST", "/feature-sets", body, what=f"feature set {feature_set.name!r}"
        )

    def features(self, name: str) -> pd.DataFrame:
        rows = self.pages(f"/feature-sets/{segment(name)}/values", f"feature set {name!r}")
        if rows:
            return pd.DataFrame.from_records(rows)
        spec = self.feature_set(name)
        key = self.dataset(spec.dataset).key
        return pd.DataFrame(columns=[key, *(f.name for f in spec.features)])

    def feature_set(self, name: str) -> FeatureSet:
        """The definition of a materialized feature set (UDFs resolved in this process)."""
        infos = self.transport.request("GET", "/feature-sets")
        for info in infos:
            if info["name"] == name:
                with reading_stored():  # the server accepted it
                    return FeatureSet.from_dict(info["spec"])
        existing = ", ".join(sorted(i["name"] for i in infos)) or "none"
        raise NotFound(f"no materialized feature set named {name!r} (existing: {existing})")

    def feature_sets(self) -> list[str]:
        return [f["name"] for f in self.transport.request("GET", "/feature-sets")]

    # ---- deployments ---------------------------------------------------------------------
    def deploy(
        self,
        name: str,
        model: ModelSpec,
        inputs: Inputs,
        labels: Labels | None = None,
        pretrain: bool = False,
        predict_only: bool = False,
    ) -> HttpDeployment:
        if not isinstance(model, ModelSpec):
            raise SpecError(f"deploy expects a ModelSpec, got {type(model).__name__}")
        body = {
            "name": name,
            "model": _spec_json(model, f"model of {name!r}"),
            "inputs": inputs.model_dump(mode="json", exclude={"kind"}),
            "labels": None if labels is None else labels.model_dump(mode="json", exclude={"kind"}),
            "pretrain": pretrain,
            "predict_only": predict_only,
        }
        self.transport.request("POST", "/models", body, what=f"deployment {name!r}")
        return HttpDeployment(self, name)

    def deployment(self, name: str) -> HttpDeployment:
        self.transport.request("GET", f"/models/{segment(name)}", what=f"deployment {name!r}")
        return HttpDeployment(self, name)

    def deployments(self) -> list[str]:
        return [d["name"] for d in self.transport.request("GET", "/models")]

    # ---- drift monitors ------------------------------------------------------------------
    def watch(self, monitor: Monitor) -> HttpMonitor:
        if not isinstance(monitor, Monitor):
            raise SpecError(f"watch takes an rtml.drift.Monitor, got {type(monitor).__name__}")
        body = monitor.model_dump(mode="json")
        self.transport.request("POST", "/monitors", body, what=f"monitor {monitor.name!r}")
        return HttpMonitor(self, monitor.name)

    def monitor(self, name: str) -> HttpMonitor:
        monitor = HttpMonitor(self, name)
        monitor.status()  # NotFound when the server has none of that name
        return monitor

    def monitors(self) -> list[str]:
        return [m["name"] for m in self.transport.request("GET", "/monitors")]


class HttpMonitor(DriftMonitor):
    """A drift monitor kept by the server."""

    def __init__(self, backend: HttpBackend, name: str) -> None:
        self.name = name
        self._backend = backend
        self._path = f"/monitors/{segment(name)}"
        self._what = f"monitor {name!r}"

    def __repr__(self) -> str:
        return f"<HttpMonitor {self.name!r} at {self._backend.url}>"

    def status(self) -> dict[str, Any]:
        info = self._backend.transport.request("GET", self._path, what=self._what)
        return {k: v for k, v in info.items() if k != "monitor"}

    def changes(self) -> pd.DataFrame:
        answer = self._backend.transport.request("GET", f"{self._path}/changes", what=self._what)
        if answer.get("distance") is not None:  # a categorical monitor's
            return _trace_frame(answer, CATEGORY_CHANGE_COLUMNS)
        return _trace_frame(answer, CHANGE_COLUMNS)

    def delete(self) -> None:
        self._backend.transport.request("DELETE", self._path, what=self._what)


class HttpDataset(Dataset):
    """A dataset held by the server."""

    def __init__(
        self, backend: HttpBackend, name: str, key: str, schema: dict[str, Column]
    ) -> None:
        self.name = name
        self.key = key
        self._schema = schema
        self._backend = backend
        self._path = f"/datasets/{segment(name)}"

    def __repr__(self) -> str:
        return f"<HttpDataset {self.name!r} at {self._backend.url}>"

    @property
    def schema(self) -> dict[str, Column]:
        return dict(self._schema)

    def send(
        self, frame: pd.DataFrame, history: bool = False, on_error: str = "raise"
    ) -> dict[str, int]:
        body = {**self._backend.rows_body(frame), "on_error": on_error, "history": history}
        answer: dict[str, int] = self._backend.transport.request(
            "POST", f"{self._path}/records", body, what=f"dataset {self.name!r}"
        )
        return answer

    def push(self, records: Records, on_error: Literal["raise", "dead_letter"] = "raise") -> int:
        if on_error not in ("raise", "dead_letter"):
            raise ValueError(f"on_error must be 'raise' or 'dead_letter', got {on_error!r}")
        frame = to_frame(records, self.name, self._schema)
        if len(frame) > self._backend.max_batch:
            raise SchemaError(
                f"dataset {self.name!r}: push refused, nothing was written: {len(frame):,} "
                f"records, the server takes at most {self._backend.max_batch:,} in one push "
                f"(push in smaller batches, or start it with a larger --max-batch)"
            )
        return self.send(frame, on_error=on_error)["accepted"]

    def __len__(self) -> int:
        info = self._backend.transport.request("GET", self._path, what=f"dataset {self.name!r}")
        return int(info["records"])

    def to_pandas(self) -> pd.DataFrame:
        rows = self._backend.pages(f"{self._path}/records", f"dataset {self.name!r}")
        if not rows:
            return empty_frame(self._schema)
        frame = pd.DataFrame.from_records(rows, columns=list(self._schema))
        return conform(frame, self._schema)

    def dead_letters(self) -> pd.DataFrame:
        answer = self._backend.transport.request("GET", f"{self._path}/dead-letters")
        return pd.DataFrame(answer["rows"], columns=["record", "reason"])


class HttpDeployment(Deployment):
    """A deployment on the server."""

    def __init__(self, backend: HttpBackend, name: str) -> None:
        self.name = name
        self._backend = backend
        self._path = f"/models/{segment(name)}"
        self._what = f"deployment {name!r}"

    def __repr__(self) -> str:
        return f"<HttpDeployment {self.name!r} at {self._backend.url}>"

    def info(self) -> dict[str, Any]:
        """The server's description: model spec, inputs, labels, paused, outputs."""
        answer: dict[str, Any] = self._backend.transport.request("GET", self._path, what=self._what)
        return answer

    def outputs(self) -> pd.DataFrame:
        return self._frame(self._backend.pages(f"{self._path}/outputs", self._what))

    def _frame(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        """Outputs as JSON rows, as :data:`OUTPUT_COLUMNS` (class probabilities keyed by class)."""
        if not rows:
            return pd.DataFrame(columns=OUTPUT_COLUMNS)
        frame = pd.DataFrame.from_records(rows, columns=OUTPUT_COLUMNS)
        frame["class_probabilities"] = pd.Series(
            [
                class_keys(p or {}, c)
                for p, c in zip(frame["class_probabilities"], frame["predicted_class"], strict=True)
            ],
            dtype=object,
        )
        return frame

    def outputs_of(self, keys: Iterable[Any]) -> pd.DataFrame:
        """Looked up by the server in one request, the keys sent as text and read there as the
        events' keys are; more keys than a URL carries well read every output and keep theirs
        (one request's answer is in the order made, several would not be together)."""
        wanted = list(keys)
        if not wanted:  # no key parameter at all would ask for every output
            return self._frame([])
        if len(wanted) > _KEYS_PER_REQUEST:
            return super().outputs_of(wanted)
        answer = self._backend.transport.request(
            "GET",
            f"{self._path}/outputs",
            params={"key": [str(json_value(k)) for k in wanted]},
            what=self._what,
        )
        return self._frame(answer["rows"])

    def evaluate(self, metric: str, window: int = 1000) -> pd.DataFrame:
        check_window(window)
        answer = self._backend.transport.request(
            "GET",
            f"{self._path}/metrics",
            params={"metric": metric, "window": window},
            what=self._what,
        )
        values = [float("nan") if v is None else v for v in answer["value"]]
        return pd.DataFrame({"index": answer["index"], "value": values})

    def drift(self, delta: float = 0.002, clock: int = 32) -> DriftReport:
        """ADWIN over the scores, computed by the server (the outputs stay there)."""
        answer = self._backend.transport.request(
            "GET",
            f"{self._path}/drift",
            params={"delta": delta, "clock": clock},
            what=self._what,
        )
        table = _trace_frame(answer, SCORE_TRACE_COLUMNS)
        return DriftReport("score", table)

    def predict(self, record: dict[str, Any]) -> Prediction:
        body = json_value(record)
        answer = self._backend.transport.request(
            "POST", f"{self._path}/predict", body, what=self._what
        )
        return _prediction_of(answer)

    def predict_many(self, records: Records) -> pd.DataFrame:
        """The server scores them together, ``max_batch`` records a request."""
        rows, index = records_and_index(records)
        step = self._backend.max_batch
        predictions = []
        for lo in range(0, len(rows), step):
            body = {"records": json_value(rows[lo : lo + step])}
            answer = self._backend.transport.request(
                "POST", f"{self._path}/predict", body, what=self._what
            )
            predictions += [_prediction_of(a) for a in answer["predictions"]]
        return predictions_frame(predictions, index)

    def pause(self) -> None:
        self._backend.transport.request("POST", f"{self._path}/pause", what=self._what)

    def resume(self) -> None:
        self._backend.transport.request("POST", f"{self._path}/resume", what=self._what)

    def delete(self) -> None:
        self._backend.transport.request("DELETE", self._path, what=self._what)


def _trace_frame(answer: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    """A drift trace or a monitor's changes, sent as JSON columns, as the local engine gives
    them: null numbers as NaN, positions and widths as integers."""
    frame = pd.DataFrame({c: answer[c] for c in columns})
    numbers = ["mean", "distance", "p_value"]
    if "mean" in columns:
        numbers.append("value")  # a categorical monitor's values are text
    for column in (c for c in numbers if c in columns):
        frame[column] = pd.Series([np.nan if v is None else v for v in answer[column]], dtype=float)
    types = {"row": "int64", "width": "int64", "drift": "bool"}
    return frame.astype({c: t for c, t in types.items() if c in frame.columns})


def _prediction_of(answer: dict[str, Any]) -> Prediction:
    """A prediction as the server sends it, its class keys read back from JSON text."""
    return Prediction(
        score=answer["score"],
        predicted_class=answer["predicted_class"],
        class_probabilities=class_keys(answer["class_probabilities"], answer["predicted_class"]),
    )
