"""The TurboML backend: the Backend interface through ``turboml-sdk`` 0.1.6.

Each rtml call becomes the SDK calls of ``../shared/DESIGN.md`` section 4. What TurboML cannot
express is refused by :mod:`rtml.backends.turboml.mapping` before anything is sent.
"""

from __future__ import annotations

import importlib
import json
import os
import urllib.request
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from rtml.backends.base import (
    OUTPUT_COLUMNS,
    Backend,
    Dataset,
    Deployment,
    Inputs,
    Labels,
    Records,
    predictions_frame,
    records_and_index,
)
from rtml.backends.checks import (
    check_input_names,
    check_label_keys,
    check_numerical_inputs,
    check_window,
)
from rtml.backends.local.dataset import checked_history, describe, set_aside, to_frame
from rtml.backends.local.labels import Learner, check_label_type, label_problems
from rtml.backends.local.prediction_records import prediction_records
from rtml.backends.local.schema import (
    Column,
    ColumnType,
    Problem,
    conform,
    dataset_schema,
    empty_frame,
    find_problems,
    stored_key_problems,
)
from rtml.backends.turboml.catalog import Catalog
from rtml.backends.turboml.mapping import dataframe_for_turboml, feature_calls, model_call
from rtml.errors import BackendUnavailable, NotFound, RtmlError, SchemaError, SpecError
from rtml.features.featureset import FeatureSet
from rtml.json_values import json_value
from rtml.models.base import ModelSpec, Prediction, label_of
from rtml.spec import reading_stored

__all__ = ["TurboMLBackend", "credentials", "sdk_local_features"]

# TurboML's built-in metrics (tb.evaluation_metrics()).
METRICS = ("WindowedAUC", "WindowedAccuracy", "WindowedMAE", "WindowedMSE", "WindowedRMSE")
_TYPES: dict[str, ColumnType] = {
    "INT32": "int",
    "INT64": "int",
    "FLOAT": "float",
    "DOUBLE": "float",
    "STRING": "string",
    "BOOL": "bool",
    "BYTES": "string",
}


def _dotenv(path: str) -> dict[str, str]:
    found: dict[str, str] = {}
    if not os.path.exists(path):
        return found
    for line in Path(path).read_text().splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#"):
            found[name.strip()] = value.strip().strip("'\"")
    return found


def credentials(url: str | None, api_key: str | None, env_file: str = ".env") -> tuple[str, str]:
    """The server address and key: given, else ``TURBOML_BACKEND_URL`` / ``TURBOML_API_KEY``
    from the environment, else from ``env_file``.

    >>> credentials("https://tb.example", "k")
    ('https://tb.example', 'k')
    """
    file = _dotenv(env_file)
    url = url or os.environ.get("TURBOML_BACKEND_URL") or file.get("TURBOML_BACKEND_URL")
    key = api_key or os.environ.get("TURBOML_API_KEY") or file.get("TURBOML_API_KEY")
    if not url or not key:
        raise BackendUnavailable(
            "the TurboML backend needs a server and a key: pass url= and api_key=, or set "
            "TURBOML_BACKEND_URL and TURBOML_API_KEY (in the environment or a .env file)"
        )
    return url, key


def sdk_local_features(
    feature_set: FeatureSet, df: pd.DataFrame, key: str, sdk: Any = None
) -> pd.DataFrame:
    """What the SDK's own ``LocalDataset`` feature engineering computes for ``feature_set`` over
    ``df`` (no server needed), through the same calls the backend makes: the reference to
    compare rtml's local values with. Rows come back in key order.
    """
    tb = sdk if sdk is not None else importlib.import_module("turboml")
    dataset = tb.LocalDataset.from_pd(
        df=dataframe_for_turboml(df.reset_index(drop=True), feature_set.dataset), key_field=key
    )
    for call in feature_calls(feature_set):
        getattr(dataset.feature_engineering, call.method)(**call.kwargs)
    values = dataset.feature_engineering.local_features_df
    columns = [key, *(f.name for f in feature_set.features)]
    return values[columns].sort_values(key, kind="stable").reset_index(drop=True)


def _type_name(datatype: Any) -> str:
    return str(getattr(datatype, "name", datatype)).upper()


class TurboMLBackend(Backend):
    """rtml on the TurboML platform.

    ``sdk`` is the ``turboml`` module (imported on first use; tests pass a double of it).
    ``catalog`` is the local file that remembers rtml's definitions (default
    ``$RTML_HOME/turboml-catalog.json``, else ``./.rtml/turboml-catalog.json``).
    """

    name = "turboml"

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        catalog: str | None = None,
        sdk: Any = None,
        env_file: str = ".env",
    ) -> None:
        self.url, key = credentials(url, api_key, env_file)
        self.tb = sdk if sdk is not None else importlib.import_module("turboml")
        self.tb.init(backend_url=self.url, api_key=key)
        home = os.environ.get("RTML_HOME", ".rtml")
        self.catalog = Catalog(catalog or os.path.join(home, "turboml-catalog.json"))
        self._letters: dict[str, list[tuple[dict[str, Any], str]]] = {}

    def __repr__(self) -> str:
        return f"<TurboMLBackend {self.url!r}>"

    # ---- datasets -------------------------------------------------------------------------
    def _online(self, name: str) -> Any:
        found = self.tb.OnlineDataset.load(name)
        if found is None:
            known = ", ".join(sorted(self.catalog.get("datasets"))) or "none"
            raise NotFound(f"no dataset named {name!r} on TurboML (created through rtml: {known})")
        return found

    def create_dataset(
        self,
        name: str,
        key: str,
        df: pd.DataFrame | None = None,
        schema: dict[str, Any] | None = None,
    ) -> TurboMLDataset:
        columns = dataset_schema(name, key, df, schema)
        frame = checked_history(name, key, columns, df)
        if not len(frame):
            frame = empty_frame(columns)  # TurboML's dtypes are set below
        if self.tb.OnlineDataset.load(name) is not None:
            raise SchemaError(f"dataset {name!r} already exists on TurboML; use dataset({name!r})")
        sent = dataframe_for_turboml(frame, name)
        if len(sent):
            self.tb.OnlineDataset.from_pd(df=sent, id=name, key_field=key)
        else:
            # from_pd would wait forever for an empty upload to arrive: register only.
            fields = self.tb.common.models.DatasetSchema.from_pd(sent).fields
            self.tb.OnlineDataset._register_dataset(name, fields, key)
        self.catalog.put("datasets", name, {"key": key})
        return self.dataset(name)

    def dataset(self, name: str) -> TurboMLDataset:
        return TurboMLDataset(self, name, self._online(name))

    def datasets(self) -> list[str]:
        return [n for n in self.catalog.get("datasets") if self.tb.OnlineDataset.load(n)]

    # ---- feature sets ---------------------------------------------------------------------
    def materialize(self, feature_set: FeatureSet) -> None:
        if not isinstance(feature_set, FeatureSet):
            raise SpecError(f"materialize expects a FeatureSet, got {type(feature_set).__name__}")
        calls = feature_calls(feature_set)  # refuses before anything is sent
        known = self.catalog.get("feature_sets").get(feature_set.name)
        if known is not None:
            if known == feature_set.model_dump(mode="json"):
                return
            raise SpecError(
                f"feature set {feature_set.name!r} is already materialized with another definition"
            )
        dataset = self.dataset(feature_set.dataset)
        feature_set.check_columns(dataset.schema, {})
        fe = dataset.online.feature_engineering
        for call in calls:  # registering a timestamp again in the same format is allowed
            getattr(fe, call.method)(**call.kwargs)
        fe.materialize_features([f.name for f in feature_set.features])
        self.catalog.put("feature_sets", feature_set.name, feature_set.model_dump(mode="json"))

    def feature_set(self, name: str) -> FeatureSet:
        """The feature set materialized under ``name``, as it was defined."""
        return self._feature_set(name)

    def _feature_set(self, name: str) -> FeatureSet:
        known = self.catalog.get("feature_sets")
        if name not in known:
            raise NotFound(
                f"no materialized feature set named {name!r} "
                f"(existing: {', '.join(sorted(known)) or 'none'})"
            )
        with reading_stored():
            return FeatureSet.from_dict(known[name])

    def features(self, name: str) -> pd.DataFrame:
        spec = self._feature_set(name)
        online = self._online(spec.dataset)
        online.sync_features()
        values = online.feature_engineering.get_materialized_features()
        columns = [online.key_field, *(f.name for f in spec.features)]
        return values[columns].reset_index(drop=True)

    def feature_sets(self) -> list[str]:
        return list(self.catalog.get("feature_sets"))

    # ---- deployments ---------------------------------------------------------------------
    def _model(self, call: tuple[str, dict[str, Any]]) -> Any:
        cls, kwargs = call
        if "base_model" in kwargs:
            kwargs = {**kwargs, "base_model": self._model(kwargs["base_model"])}
        return getattr(self.tb, cls)(**kwargs)

    def deploy(
        self,
        name: str,
        model: ModelSpec,
        inputs: Inputs,
        labels: Labels | None = None,
        pretrain: bool = False,
        predict_only: bool = False,
    ) -> TurboMLDeployment:
        if not isinstance(model, ModelSpec):
            raise SpecError(f"deploy expects a ModelSpec, got {type(model).__name__}")
        call = model_call(model, where=f" (deployment {name!r})")
        if labels is None:
            raise SpecError(f"deployment {name!r}: TurboML deploys a model with its labels")
        if name in self.catalog.get("deployments"):
            raise SpecError(f"deployment {name!r} already exists")
        source = inputs.source
        if source in self.catalog.get("feature_sets"):
            source = self._feature_set(source).dataset
        check_input_names(name, inputs, labels, source)
        check_label_keys(
            name,
            source,
            labels,
            key_of=lambda n: self.dataset(n).key,
            schema_of=lambda n: dict(self.dataset(n).schema),
        )
        check_label_type(name, model, labels, dict(self.dataset(labels.dataset).schema))
        check_numerical_inputs(name, inputs, source, dict(self.dataset(source).schema))
        online = self._online(source)
        model_inputs = online.get_model_inputs(
            numerical_fields=list(inputs.numerical), categorical_fields=list(inputs.categorical)
        )
        model_labels = self._online(labels.dataset).get_model_labels(label_field=labels.field)
        built = self._model(call)
        if pretrain:
            built = built.learn(model_inputs, model_labels)
        built.deploy(name, input=model_inputs, labels=model_labels, predict_only=predict_only)
        self.catalog.put(
            "deployments",
            name,
            {
                "model": model.model_dump(mode="json"),
                "inputs": inputs.model_dump(mode="json"),
                "labels": labels.model_dump(mode="json"),
                "key": online.key_field,
            },
        )
        return self.deployment(name)

    def deployment(self, name: str) -> TurboMLDeployment:
        known = self.catalog.get("deployments")
        if name not in known:
            raise NotFound(
                f"no deployment named {name!r} (existing: {', '.join(sorted(known)) or 'none'})"
            )
        return TurboMLDeployment(self, name, self.tb.retrieve_model(name), known[name])

    def deployments(self) -> list[str]:
        return list(self.catalog.get("deployments"))

    def label_learners(self, dataset: str) -> list[Learner]:
        """The deployments learning from ``dataset``. A TurboML classifier learns the classes
        0 .. ``n_classes`` - 1 (rtml passes ``n_classes``, 2 by default), whatever the model."""
        from rtml.plugins import spec_from_dict

        found = []
        for name, d in self.catalog.get("deployments").items():
            if d["labels"]["dataset"] != dataset:
                continue
            with reading_stored():
                model = spec_from_dict("models", d["model"])
            n_classes = getattr(model, "n_classes", None)
            classes = tuple(range(n_classes)) if n_classes else model.label_classes()
            found.append((name, model.kind_name(), classes, d["labels"]["field"]))
        return found


class TurboMLDataset(Dataset):
    """An ``OnlineDataset`` on TurboML. Pushes are checked against its schema and keys here
    first, so a refusal names the field and row and nothing of the push is sent."""

    def __init__(self, backend: TurboMLBackend, name: str, online: Any) -> None:
        self.name = name
        self.online = online
        self.key = str(online.key_field)
        self._backend = backend

    @property
    def schema(self) -> dict[str, Column]:
        fields = self.online.schema.fields
        return {
            str(c): Column(_TYPES.get(_type_name(t), "string"), nullable=c != self.key)
            for c, t in fields.items()
        }

    def __len__(self) -> int:
        self.online.sync_features()
        return len(self.online.preview_df)

    def to_pandas(self) -> pd.DataFrame:
        self.online.sync_features()
        return conform(self.online.preview_df.reset_index(drop=True), self.schema)

    def dead_letters(self) -> pd.DataFrame:
        """Records refused by pushes with ``on_error="dead_letter"`` in this process (TurboML
        has no dead-letter store: they are not kept after the process ends)."""
        letters = self._backend._letters.get(self.name, [])
        return pd.DataFrame(letters, columns=["record", "reason"])

    def _problems(self, frame: pd.DataFrame) -> tuple[list[Problem], list[str]]:
        schema = self.schema
        problems, whole = find_problems(frame, schema, self.key)
        problems += label_problems(frame, self._backend.label_learners(self.name))
        if self.key in frame.columns:
            stored = set(self.online.preview_df[self.key].tolist())
            problems += stored_key_problems(frame[self.key].tolist(), stored, self.key)
        return problems, whole

    def push(self, records: Records, on_error: Literal["raise", "dead_letter"] = "raise") -> int:
        if on_error not in ("raise", "dead_letter"):
            raise ValueError(f"on_error must be 'raise' or 'dead_letter', got {on_error!r}")
        frame = to_frame(records, self.name, self.schema)
        problems, whole = self._problems(frame)
        if whole or (problems and on_error == "raise"):
            raise SchemaError(describe(self.name, problems, whole))
        if problems:
            frame, letters = set_aside(frame, problems)
            self._backend._letters.setdefault(self.name, []).extend(letters)
        if not len(frame):
            return 0
        sent = dataframe_for_turboml(conform(frame, self.schema), self.name)
        self.online.add_pd(sent)
        return len(frame)


class TurboMLDeployment(Deployment):
    """A ``DeployedModel`` on TurboML."""

    def __init__(
        self, backend: TurboMLBackend, name: str, deployed: Any, info: dict[str, Any]
    ) -> None:
        self.name = name
        self.deployed = deployed
        self.info = info
        self._backend = backend

    def __repr__(self) -> str:
        return f"<TurboMLDeployment {self.name!r}>"

    def outputs(self) -> pd.DataFrame:
        rows = []
        for item in self.deployed.get_outputs():
            record = item["record"] if isinstance(item, dict) else item
            probabilities = {i: float(p) for i, p in enumerate(record.class_probabilities)}
            rows.append(
                (
                    label_of(record.key),  # TurboML gives keys back as text
                    float(record.score),
                    int(record.predicted_class),
                    probabilities,
                    None,  # TurboML's outputs do not carry the event time
                    None,
                )
            )
        return pd.DataFrame(rows, columns=OUTPUT_COLUMNS)

    def evaluate(self, metric: str, window: int = 1000) -> pd.DataFrame:
        check_window(window)
        if metric not in METRICS:
            raise NotFound(f"TurboML has no metric {metric!r} (it has: {', '.join(METRICS)})")
        registered = self.info.setdefault("metrics", [])
        if metric not in registered:
            self.deployed.add_metric(metric)
            registered.append(metric)
            self._backend.catalog.put("deployments", self.name, self.info)
        values = self.deployed.get_evaluation(metric, window_size=window)
        return pd.DataFrame(
            {
                "index": [int(v.index) for v in values],
                "value": [float(v.metric) for v in values],
            }
        )

    def predict(self, record: dict[str, Any]) -> Prediction:
        """One score from the deployment's REST endpoint (``get_endpoints()``), for a record
        checked here first against the dataset's schema (refused by field, naming the row)."""
        (answer,) = self._scored(self._checked([record]))
        return answer

    def predict_many(self, records: Records) -> pd.DataFrame:
        """Every record checked first (a bad one refused by its row, nothing sent), then each
        scored at the endpoint."""
        rows, index = records_and_index(records)
        return predictions_frame(self._scored(self._checked(rows)), index)

    def _checked(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        inputs = Inputs.from_dict(self.info["inputs"])
        return prediction_records(self._backend, self.name, inputs, records)

    def _scored(self, records: list[dict[str, Any]]) -> list[Prediction]:
        """Each record POSTed to the endpoint, which is looked up once for them all."""
        if not records:
            return []
        endpoints = self.deployed.get_endpoints()
        if not endpoints:
            raise RtmlError(f"deployment {self.name!r}: TurboML lists no endpoint for it")
        headers = {"Content-Type": "application/json", **self._backend.tb.common.api.headers}
        return [self._answer(endpoints[0], headers, record) for record in records]

    def _answer(self, endpoint: str, headers: dict[str, str], record: dict[str, Any]) -> Prediction:
        body = json.dumps(json_value(record)).encode()
        request = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.loads(response.read())
        except OSError as exc:
            raise RtmlError(
                f"deployment {self.name!r}: the TurboML endpoint failed: {exc}"
            ) from None
        # The endpoint answers with an output record, possibly wrapped as {"record": {...}}.
        output = answer.get("record", answer) if isinstance(answer, dict) else {}
        probabilities = {i: float(p) for i, p in enumerate(output.get("class_probabilities", []))}
        return Prediction(
            score=float(output.get("score", 0.0)),
            predicted_class=output.get("predicted_class", 0),
            class_probabilities=probabilities,
        )

    def pause(self) -> None:
        self.deployed.pause()

    def resume(self) -> None:
        self.deployed.resume()

    def delete(self) -> None:
        self.deployed.delete()
        self._backend.catalog.drop("deployments", self.name)
