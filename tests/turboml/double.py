"""An in-process double of the parts of turboml-sdk 0.1.6 the TurboML backend uses.

The TurboML server cannot be reached from here and the SDK's bindings do not load on Debian 12,
so this stands in for both. It follows the SDK's classes, method signatures (checked against
``sdk_signatures.json``, recorded from the SDK's source) and return shapes:

- ``OnlineDataset.from_pd / load / _register_dataset / add_pd / sync_features / preview_df /
  schema / key_field / feature_engineering / get_model_inputs / get_model_labels``;
- ``FeatureEngineering``: features computed as the SDK computes them locally, in DuckDB: SQL with
  the double quotes stripped, aggregates as ``OVER (PARTITION BY g ORDER BY to_timestamp(ts)
  RANGE BETWEEN INTERVAL w PRECEDING AND CURRENT ROW)`` (days converted to hours);
- models by TurboML's class names and fields; ``deploy`` gives a ``DeployedModel`` whose
  ``get_outputs()`` is a list of ``{"offset", "record"}`` with protobuf-like ``Output`` records,
  ``get_evaluation()`` a list of ``Metrics(index, metric)``, ``get_endpoints()`` a URL that a
  real HTTP server in this process answers (the ``apiKey`` header checked).

Where the server's behaviour is not in the SDK's source, the double chooses and says so: a
deployed model scores the records pushed after it is deployed (as rtml's local engine does),
learning from River's implementations of the same algorithms; the endpoint answers
``{"record": Output}``.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from river import anomaly, ensemble, forest, imblearn, naive_bayes, tree
from sklearn.metrics import roc_auc_score

# ---- the server's state ----------------------------------------------------------------------


class _Server:
    def __init__(self) -> None:
        self.datasets: dict[str, dict[str, Any]] = {}
        self.models: dict[str, _Running] = {}
        self.api_key: str | None = None
        self.lock = threading.RLock()
        self.http: ThreadingHTTPServer | None = None

    def endpoint_base(self) -> str:
        if self.http is None:
            self.http = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            threading.Thread(target=self.http.serve_forever, daemon=True).start()
        host, port = self.http.server_address[:2]
        return f"http://{host}:{port}"


SERVER = _Server()


def reset() -> None:
    """Forget every dataset and model (a fresh platform for each test)."""
    with SERVER.lock:
        SERVER.datasets.clear()
        SERVER.models.clear()


def init(backend_url: str, api_key: str):
    if not api_key:
        raise Exception("Failed to login: no API key")
    SERVER.api_key = api_key


# ---- schemas ---------------------------------------------------------------------------------


class Datatype(Enum):
    INT32 = 1
    INT64 = 2
    FLOAT = 3
    DOUBLE = 4
    STRING = 5
    BOOL = 6
    BYTES = 7

    @staticmethod
    def from_pandas_column(column: pd.Series) -> Datatype:
        dtype = column.dtype
        if dtype == np.int32:
            return Datatype.INT32
        if dtype == np.int64:
            return Datatype.INT64
        if dtype == np.float32:
            return Datatype.FLOAT
        if dtype == np.float64:
            return Datatype.DOUBLE
        if dtype == np.bool_:
            return Datatype.BOOL
        if str(dtype) == "string":
            return Datatype.STRING
        if pd.api.types.is_object_dtype(dtype):
            first = column.first_valid_index()
            if first is not None and isinstance(column.loc[first], str):
                return Datatype.STRING
        raise ValueError(f"Unsupported dtype: {dtype}")


@dataclass
class DatasetSchema:
    fields: dict[str, Datatype]

    @staticmethod
    def from_pd(df: pd.DataFrame) -> DatasetSchema:
        return DatasetSchema({c: Datatype.from_pandas_column(df[c]) for c in df.columns})


class _Api:
    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"apiKey {SERVER.api_key}"}


common = SimpleNamespace(models=SimpleNamespace(DatasetSchema=DatasetSchema), api=_Api())


# ---- feature engineering (as the SDK computes it, in DuckDB) ----------------------------------


def _timestamp_query(column: str, format_type: str) -> str:
    if format_type == "epoch_seconds":
        return f"to_timestamp({column}::double)"
    if format_type == "epoch_milliseconds":
        return f"to_timestamp({column}::double/1000)"
    raise Exception("Please select a valid option")


def _compute(state: dict[str, Any], df: pd.DataFrame) -> pd.DataFrame:
    """The materialized features over ``df``, in definition order."""
    out = df.copy()
    for name, spec in state["features"].items():
        if spec["kind"] == "sql":
            dataframe = out  # read by DuckDB by its name
            result = duckdb.sql(f"SELECT {spec['sql']} AS {name} FROM dataframe").df()
            out = out.assign(**{name: result[name].to_numpy()})
        else:
            dataframe = out.reset_index(drop=True).assign(__row=np.arange(len(out)))  # noqa: F841
            query = f"""
                SELECT __row, {spec["operation"]}({spec["column"]}) OVER win AS {name}
                FROM dataframe
                WINDOW win AS (PARTITION BY {spec["group"]} ORDER BY {spec["ts"]}
                               RANGE BETWEEN INTERVAL {spec["interval"]} PRECEDING
                               AND CURRENT ROW)"""
            result = duckdb.sql(query).df().sort_values("__row")
            out = out.assign(**{name: result[name].to_numpy()})
    return out


class FeatureEngineering:
    def __init__(self, dataset_id: str) -> None:
        self.dataset_id = dataset_id

    @property
    def _state(self) -> dict[str, Any]:
        return SERVER.datasets[self.dataset_id]

    def register_timestamp(self, column_name: str, format_type: str) -> None:
        registered = self._state["timestamps"].get(column_name)
        if registered is not None and registered != format_type:
            raise Exception(
                f"The timestamp is already registered with a different format={registered}"
            )
        _timestamp_query(column_name, format_type)
        self._state["timestamps"][column_name] = format_type

    def _check_new(self, name: str) -> None:
        if name in self._state["features"] or name in self._state["pending"]:
            raise ValueError(f"Feature '{name}' already exists")

    def create_sql_features(self, sql_definition: str, new_feature_name: str) -> None:
        self._check_new(new_feature_name)
        self._state["pending"][new_feature_name] = {
            "kind": "sql",
            "sql": re.sub(r'"([^"]+)"', r"\1", sql_definition),
        }

    def create_aggregate_features(
        self,
        column_to_operate: str,
        column_to_group: str,
        operation: str,
        new_feature_name: str,
        timestamp_column: str,
        window_duration: float,
        window_unit: str,
    ) -> None:
        self._check_new(new_feature_name)
        factors = {"years": 365 * 24, "months": 30 * 24, "weeks": 7 * 24, "days": 24}
        if window_unit in factors:
            window_duration, window_unit = window_duration * factors[window_unit], "hours"
        if window_unit not in ("seconds", "minutes", "hours"):
            raise Exception("Window unit should be one of [...]")
        try:
            ts = _timestamp_query(timestamp_column, self._state["timestamps"][timestamp_column])
        except KeyError:
            raise Exception(
                "Please register the timestamp column using `register_timestamp()`"
            ) from None
        self._state["pending"][new_feature_name] = {
            "kind": "aggregate",
            "operation": operation,
            "column": column_to_operate,
            "group": column_to_group,
            "ts": ts,
            "interval": f"{window_duration} {window_unit}",
        }

    def create_udf_features(
        self,
        new_feature_name: str,
        argument_names: list[str],
        function_name: str,
        function_file_contents: str,
        libraries: list[str],
    ) -> None:
        raise NotImplementedError("the double does not run UDFs (they run on the server)")

    def create_udaf_features(
        self,
        new_feature_name: str,
        column_to_operate: list[str],
        function_name: str,
        return_type: str,
        function_file_contents: str,
        column_to_group: list[str],
        timestamp_column: str,
        window_duration: float,
        window_unit: str,
    ) -> None:
        raise NotImplementedError("the double does not run UDAFs (they run on the server)")

    def materialize_features(self, feature_names: list[str]):
        missing = set(feature_names) - set(self._state["pending"]) - set(self._state["features"])
        if missing:
            raise ValueError(f"Feature names {missing} are not pending and also do not exist")
        for name in feature_names:
            if name in self._state["pending"]:
                self._state["features"][name] = self._state["pending"].pop(name)
        _refresh(self._state)

    def get_materialized_features(self) -> pd.DataFrame:
        return self._state["materialized"].copy()


def _refresh(state: dict[str, Any]) -> None:
    state["materialized"] = _compute(state, state["df"])


class LocalFeatureEngineering(FeatureEngineering):
    """The SDK's local feature engineering: each definition computed at once over the frame."""

    def __init__(self, features_df: pd.DataFrame) -> None:
        self._local = {
            "df": features_df,
            "timestamps": {},
            "features": {},
            "pending": {},
            "materialized": features_df,
        }
        self.local_features_df = features_df

    @property
    def _state(self) -> dict[str, Any]:
        return self._local

    def _apply(self) -> None:
        pending = self._local["pending"]
        self._local["features"].update(pending)
        pending.clear()
        self.local_features_df = _compute(self._local, self._local["df"])

    def create_sql_features(self, sql_definition: str, new_feature_name: str) -> None:
        super().create_sql_features(sql_definition, new_feature_name)
        self._apply()

    def create_aggregate_features(self, *args: Any, **kwargs: Any) -> None:
        super().create_aggregate_features(*args, **kwargs)
        self._apply()


class LocalDataset:
    def __init__(self, df: pd.DataFrame, key_field: str) -> None:
        self.df, self.key_field = df, key_field
        self.schema = DatasetSchema.from_pd(df)
        self.feature_engineering = LocalFeatureEngineering(df.copy())

    @staticmethod
    def from_pd(df: pd.DataFrame, key_field: str) -> LocalDataset:
        if len(df) == 0:
            raise ValueError("Empty dataframe")
        return LocalDataset(df, key_field)


# ---- datasets --------------------------------------------------------------------------------


@dataclass
class OnlineInputs:
    dataframe: pd.DataFrame
    key_field: str
    time_field: str | None
    numerical_fields: list[str]
    categorical_fields: list[str]
    textual_fields: list[str]
    imaginal_fields: list[str]
    dataset_id: str


@dataclass
class OnlineLabels:
    dataframe: pd.DataFrame
    key_field: str
    label_field: str
    dataset_id: str


class OnlineDataset:
    def __init__(self, dataset_id: str) -> None:
        self.dataset_id = dataset_id
        self.feature_engineering = FeatureEngineering(dataset_id)
        self.preview_df = pd.DataFrame()
        self.sync_features()

    @property
    def _state(self) -> dict[str, Any]:
        return SERVER.datasets[self.dataset_id]

    @property
    def schema(self) -> DatasetSchema:
        return self._state["schema"]

    @property
    def key_field(self) -> str:
        return self._state["key"]

    @staticmethod
    def load(dataset_id: str) -> OnlineDataset | None:
        if dataset_id not in SERVER.datasets:
            return None
        return OnlineDataset(dataset_id)

    @staticmethod
    def _register_dataset(dataset_id: str, columns: dict[str, Datatype], key_field: str):
        if dataset_id in SERVER.datasets:
            raise ValueError(f"Dataset with ID '{dataset_id}' already exists.")
        empty = pd.DataFrame({c: pd.Series([], dtype=_PANDAS[t]) for c, t in columns.items()})
        SERVER.datasets[dataset_id] = {
            "key": key_field,
            "schema": DatasetSchema(dict(columns)),
            "df": empty,
            "timestamps": {},
            "features": {},
            "pending": {},
            "materialized": empty.copy(),
        }

    @staticmethod
    def from_pd(
        df: pd.DataFrame, id: str, key_field: str, load_if_exists: bool = False
    ) -> OnlineDataset:
        if load_if_exists and (dataset := OnlineDataset.load(id)):
            return dataset
        OnlineDataset._register_dataset(id, DatasetSchema.from_pd(df).fields, key_field)
        dataset = OnlineDataset.load(id)
        assert dataset is not None
        dataset.add_pd(df)
        return dataset

    def add_pd(self, df: pd.DataFrame):
        if len(df) == 0:
            raise ValueError("Empty dataframe not allowed")
        if DatasetSchema.from_pd(df) != self.schema:
            raise ValueError(
                "Schema mismatch: the dataframe does not match the dataset's input schema."
            )
        with SERVER.lock:
            state = self._state
            state["df"] = pd.concat([state["df"], df], ignore_index=True)
            _refresh(state)
            new_rows = state["materialized"].iloc[len(state["df"]) - len(df) :]
            for running in list(SERVER.models.values()):
                running.on_push(self.dataset_id, new_rows)
        self.sync_features()

    def sync_features(self):
        state = self._state
        self.preview_df = state["df"][list(state["schema"].fields)].copy()

    def get_model_inputs(
        self,
        numerical_fields: list[str] | None = None,
        categorical_fields: list[str] | None = None,
        textual_fields: list[str] | None = None,
        imaginal_fields: list[str] | None = None,
        time_field: str | None = None,
    ):
        fields = [*(numerical_fields or []), *(categorical_fields or [])]
        frame = self._state["materialized"]
        missing = [f for f in fields if f not in frame.columns]
        if missing:
            raise ValueError(f"Fields {missing} are not present in the dataframe.")
        return OnlineInputs(
            dataframe=frame[[self.key_field, *fields]].copy(),
            key_field=self.key_field,
            time_field=time_field,
            numerical_fields=list(numerical_fields or []),
            categorical_fields=list(categorical_fields or []),
            textual_fields=list(textual_fields or []),
            imaginal_fields=list(imaginal_fields or []),
            dataset_id=self.dataset_id,
        )

    def get_model_labels(self, label_field: str):
        frame = self._state["df"]
        if label_field not in frame:
            raise ValueError(f"Field '{label_field}' is not present in the dataframe.")
        return OnlineLabels(
            dataframe=frame[[self.key_field, label_field]].copy(),
            key_field=self.key_field,
            label_field=label_field,
            dataset_id=self.dataset_id,
        )


_PANDAS = {
    Datatype.INT32: "int32",
    Datatype.INT64: "int64",
    Datatype.FLOAT: "float32",
    Datatype.DOUBLE: "float64",
    Datatype.STRING: "string",
    Datatype.BOOL: "bool",
    Datatype.BYTES: "object",
}

# ---- models ----------------------------------------------------------------------------------


@dataclass
class Output:
    key: str = ""
    score: float = 0.0
    feature_score: list[float] = field(default_factory=list)
    class_probabilities: list[float] = field(default_factory=list)
    predicted_class: int = 0
    embeddings: list[float] = field(default_factory=list)
    text_output: str = ""


@dataclass
class Metrics:
    index: int = 0
    metric: float = 0.0


class Model:
    """TurboML's model classes: keyword fields with TurboML's defaults."""

    _fields: dict[str, Any] = {}

    def __init__(self, **data: Any) -> None:
        unknown = set(data) - set(self._fields)
        if unknown:
            raise ValueError(f"unexpected field(s) {sorted(unknown)}")
        for name, default in self._fields.items():
            if name not in data and default is _REQUIRED:
                raise ValueError(f"field {name!r} required")
            setattr(self, name, data.get(name, default))
        self._trained: Any = None

    def river(self) -> Any:
        raise NotImplementedError

    def learn(self, input: OnlineInputs, labels: OnlineLabels, epochs: int = 1):
        estimator = self.river()
        joined = input.dataframe.merge(labels.dataframe, on=input.key_field)
        for _ in range(epochs):
            for x, y in zip(_records(input, joined), joined[labels.label_field], strict=True):
                estimator.learn_one(x, int(y))
        trained = type(self)(**{n: getattr(self, n) for n in self._fields})
        trained._trained = estimator
        return trained

    def deploy(
        self, name: str, input: OnlineInputs, labels: OnlineLabels, predict_only=False
    ) -> DeployedModel:
        if name in SERVER.models:
            raise Exception(f"model {name} already exists")
        estimator = self._trained if self._trained is not None else self.river()
        SERVER.models[name] = _Running(name, estimator, input, labels, predict_only)
        return DeployedModel(model_name=name)

    @staticmethod
    def retrieve_model(model_name: str) -> DeployedModel:
        if model_name not in SERVER.models:
            raise Exception(f"Error fetching model: {model_name} not found")
        return DeployedModel(model_name=model_name)


_REQUIRED = object()


def _model_class(name: str, fields: dict[str, Any], make: Any) -> type[Model]:
    return type(name, (Model,), {"_fields": fields, "river": make})


def _sampler(self: Any) -> Any:
    kinds = {
        "under": imblearn.RandomUnderSampler,
        "over": imblearn.RandomOverSampler,
        "mixed": imblearn.RandomSampler,
    }
    dist = {i: p for i, p in enumerate(self.desired_dist)}
    if self.sampling_method == "mixed":
        return imblearn.RandomSampler(
            self.base_model.river(),
            desired_dist=dist,
            sampling_rate=self.sampling_rate,
            seed=self.seed,
        )
    return kinds[self.sampling_method](self.base_model.river(), desired_dist=dist, seed=self.seed)


HoeffdingTreeClassifier = _model_class(
    "HoeffdingTreeClassifier",
    {
        "delta": 1e-7,
        "tau": 0.05,
        "grace_period": 200,
        "n_classes": _REQUIRED,
        "leaf_pred_method": "mc",
        "split_method": "gini",
    },
    lambda self: tree.HoeffdingTreeClassifier(
        grace_period=self.grace_period,
        delta=self.delta,
        tau=self.tau,
        leaf_prediction=self.leaf_pred_method,
        split_criterion=self.split_method,
    ),
)
HoeffdingTreeRegressor = _model_class(
    "HoeffdingTreeRegressor",
    {"delta": 1e-7, "tau": 0.05, "grace_period": 200, "leaf_pred_method": "mean"},
    lambda self: tree.HoeffdingTreeRegressor(
        grace_period=self.grace_period,
        delta=self.delta,
        tau=self.tau,
        leaf_prediction=self.leaf_pred_method,
    ),
)
AMFClassifier = _model_class(
    "AMFClassifier",
    {
        "n_classes": _REQUIRED,
        "n_estimators": 10,
        "step": 1,
        "use_aggregation": True,
        "dirichlet": 0.5,
        "split_pure": False,
    },
    lambda self: forest.AMFClassifier(
        n_estimators=self.n_estimators,
        step=self.step,
        use_aggregation=self.use_aggregation,
        dirichlet=self.dirichlet,
        split_pure=self.split_pure,
    ),
)
GaussianNB = _model_class(
    "GaussianNB", {"n_classes": _REQUIRED}, lambda self: naive_bayes.GaussianNB()
)
HST = _model_class(
    "HST",
    {"n_trees": 20, "height": 12, "window_size": 50},
    lambda self: anomaly.HalfSpaceTrees(
        n_trees=self.n_trees, height=self.height, window_size=self.window_size
    ),
)
RandomSampler = _model_class(
    "RandomSampler",
    {
        "n_classes": _REQUIRED,
        "desired_dist": [0.5, 0.5],
        "sampling_method": "mixed",
        "sampling_rate": 1.0,
        "seed": 0,
        "base_model": _REQUIRED,
        "num_children": 1,
    },
    _sampler,
)
AdaBoostClassifier = _model_class(
    "AdaBoostClassifier",
    {"n_models": 10, "n_classes": _REQUIRED, "seed": 0, "base_model": _REQUIRED, "num_children": 0},
    lambda self: ensemble.ADAClassifier(
        self.base_model.river(), n_models=self.n_models, seed=self.seed
    ),
)
LeveragingBaggingClassifier = _model_class(
    "LeveragingBaggingClassifier",
    {
        "n_models": 10,
        "n_classes": _REQUIRED,
        "w": 6,
        "bagging_method": "bag",
        "seed": 0,
        "base_model": _REQUIRED,
        "num_children": 0,
    },
    lambda self: ensemble.LeveragingBaggingClassifier(
        self.base_model.river(),
        n_models=self.n_models,
        w=self.w,
        bagging_method=self.bagging_method,
        seed=self.seed,
    ),
)


def _records(inputs: OnlineInputs, frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for _, row in frame.iterrows():
        x = {c: float(row[c]) for c in inputs.numerical_fields if pd.notna(row[c])}
        x.update({c: str(row[c]) for c in inputs.categorical_fields if pd.notna(row[c])})
        rows.append(x)
    return rows


def _output(key: Any, estimator: Any, x: dict[str, Any]) -> Output:
    if isinstance(estimator, anomaly.HalfSpaceTrees):
        return Output(key=str(key), score=float(estimator.score_one(x)))
    proba = estimator.predict_proba_one(x) or {0: 1.0}
    probs = [float(proba.get(c, proba.get(bool(c), 0.0))) for c in (0, 1)]
    return Output(
        key=str(key),
        score=probs[1],
        class_probabilities=probs,
        predicted_class=int(probs[1] > probs[0]),
    )


class _Running:
    """A deployed model on the 'server': predicts each pushed input, learns on its label."""

    def __init__(
        self, name: str, estimator: Any, inputs: OnlineInputs, labels: OnlineLabels, predict_only
    ) -> None:
        self.name, self.estimator = name, estimator
        self.inputs, self.labels = inputs, labels
        self.predict_only, self.paused = predict_only, False
        self.outputs: list[dict[str, Any]] = []
        self.pending_x: dict[Any, tuple[dict[str, Any], float]] = {}
        self.pending_y: dict[Any, Any] = {}
        self.labelled: list[tuple[int, float]] = []
        self.metrics: set[str] = set()

    def learn(self, x: dict[str, Any], y: Any, score: float) -> None:
        if not self.predict_only:
            if isinstance(self.estimator, anomaly.HalfSpaceTrees):
                self.estimator.learn_one(x)
            else:
                self.estimator.learn_one(x, int(y))
        self.labelled.append((int(y), score))

    def on_push(self, dataset_id: str, rows: pd.DataFrame) -> None:
        if self.paused:
            return
        key = self.inputs.key_field
        if dataset_id == self.inputs.dataset_id:
            for k, x in zip(rows[key], _records(self.inputs, rows), strict=True):
                out = _output(k, self.estimator, x)
                self.outputs.append({"offset": len(self.outputs), "record": out})
                if k in self.pending_y:
                    self.learn(x, self.pending_y.pop(k), out.score)
                else:
                    self.pending_x[k] = (x, out.score)
        if dataset_id == self.labels.dataset_id:
            for k, y in zip(
                rows[self.labels.key_field], rows[self.labels.label_field], strict=True
            ):
                if k in self.pending_x:
                    x, score = self.pending_x.pop(k)
                    self.learn(x, y, score)
                else:
                    self.pending_y[k] = y


class DeployedModel:
    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    @property
    def _running(self) -> _Running:
        return SERVER.models[self.model_name]

    def pause(self) -> None:
        self._running.paused = True

    def resume(self) -> None:
        self._running.paused = False

    def delete(self, delete_output_topic: bool = True) -> None:
        SERVER.models.pop(self.model_name)

    def add_metric(self, metric_name) -> None:
        if metric_name != "WindowedAUC":
            raise Exception(f"the double computes WindowedAUC only, not {metric_name}")
        self._running.metrics.add(metric_name)

    def get_outputs(self, limit: int = -1) -> list:
        return list(self._running.outputs)

    def get_evaluation(
        self,
        metric_name: str,
        filter_expression: str = "",
        window_size: int = 1000,
        limit: int = 100000,
        output_type: Any = None,
    ) -> list:
        running = self._running
        if metric_name not in running.metrics:
            return []
        values = []
        for i in range(len(running.labelled)):
            window = running.labelled[max(0, i + 1 - window_size) : i + 1]
            ys = [y for y, _ in window]
            auc = roc_auc_score(ys, [s for _, s in window]) if len(set(ys)) == 2 else 0.0
            values.append(Metrics(index=i, metric=float(auc)))
        return values[-limit:]

    def get_endpoints(self):
        return [f"{SERVER.endpoint_base()}/model/{self.model_name}/predict"]


retrieve_model = Model.retrieve_model


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        if self.headers.get("Authorization") != f"apiKey {SERVER.api_key}":
            self.send_response(401)
            self.end_headers()
            return
        name = self.path.split("/")[2]
        record = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with SERVER.lock:
            running = SERVER.models[name]
            state = SERVER.datasets[running.inputs.dataset_id]
            frame = pd.concat([state["df"], pd.DataFrame([record])], ignore_index=True)
            frame = frame.astype({c: _PANDAS[t] for c, t in state["schema"].fields.items()})
            row = _compute(state, frame).iloc[[-1]]
            x = _records(running.inputs, row)[0]
            out = _output(record.get(running.inputs.key_field), running.estimator, x)
        body = json.dumps({"record": out.__dict__}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
