"""The REST API over one local store: ingest, scoring, outputs, metrics (``rtml serve``).

No ``from __future__ import annotations`` here: FastAPI reads the route signatures at run
time, and some name objects local to :func:`create_app`."""

import contextlib
import hmac
import os
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from rtml.backends.base import Inputs, Labels
from rtml.backends.json_records import (
    frame_from_columns,
    frame_from_json,
    records_of,
)
from rtml.backends.local import LocalBackend
from rtml.backends.local.deployment import LocalDeployment
from rtml.backends.local.monitor import SCORE_TRACE_COLUMNS
from rtml.backends.local.schema import Column
from rtml.backends.local.value_kinds import keys_from_text
from rtml.callables import only_from
from rtml.errors import FeatureRowsError, NotFound, RtmlError, SchemaError, SpecError
from rtml.features.featureset import FeatureSet
from rtml.json_values import json_columns, json_value
from rtml.serve.guard import Guard
from rtml.serve.monitors import add_monitor_routes
from rtml.serve.owner import NotReady, StoreOwner
from rtml.serve.prometheus import ServerMetrics, monitor_gauges
from rtml.serve.schemas import (
    BatchPrediction,
    CreateDataset,
    DatasetInfo,
    Deploy,
    DeploymentInfo,
    DriftSeries,
    Error,
    FeatureSetInfo,
    MetricSeries,
    Page,
    PredictionOut,
    Pushed,
    PushRecords,
    ServerInfo,
)

__all__ = ["create_app"]

MAX_PAGE = 100_000
MAX_OFFSET = 2**62
MAX_KEYS = 1_000  # keys looked up in one request (they travel in its URL)
_STATUS = {NotFound: 404, SchemaError: 422, SpecError: 422, NotReady: 503}
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Error} for code in (400, 401, 404, 413, 422, 503)
}


def _status_of(exc: RtmlError) -> int:
    for kind, status in _STATUS.items():
        if isinstance(exc, kind):
            return status
    return 409  # refused because of the store's state (a deleted deployment, say)


def _dataset_info(backend: LocalBackend, name: str) -> DatasetInfo:
    ds = backend.dataset(name)
    schema = {c: t.text for c, t in ds.schema.items()}
    return DatasetInfo.model_validate(
        {"name": name, "key": ds.key, "schema": schema, "records": len(ds)}
    )


def _spec_json(spec: Any) -> dict[str, Any]:
    try:
        data: dict[str, Any] = spec.model_dump(mode="json")
    except Exception:  # a spec holding a lambda (memory stores allow it): name its kind only
        data = {"kind": type(spec).__name__}
    return data


def _deployment_info(backend: LocalBackend, d: LocalDeployment) -> DeploymentInfo:
    backend.flush()
    return DeploymentInfo(
        name=d.name,
        model=_spec_json(d.spec),
        inputs=d.inputs.model_dump(mode="json"),
        labels=None if d.labels is None else d.labels.model_dump(mode="json"),
        paused=d.paused,
        predict_only=d.predict_only,
        outputs=backend.store.count(d.outputs_table),
        labels_learned=d.learned,
    )


def _page(frame: pd.DataFrame, total: int, offset: int) -> Page:
    return Page(total=total, offset=offset, rows=records_of(frame))


def _prediction_json(prediction: dict[str, Any], features: dict[str, Any]) -> dict[str, Any]:
    """A prediction as :class:`PredictionOut` documents it (built directly: it is the hot path)."""
    return {
        "score": json_value(prediction["score"]),
        "predicted_class": json_value(prediction["predicted_class"]),
        "class_probabilities": json_value(prediction["class_probabilities"]),
        "features": json_value(features),
    }


def create_app(
    owner: StoreOwner,
    api_key: str | None = None,
    max_batch: int = 10_000,
    max_body_bytes: int = 32 * 1024 * 1024,
    trusted_modules: tuple[str, ...] = (),
) -> FastAPI:
    """The FastAPI app serving ``owner``'s store.

    ``api_key`` (default: ``$RTML_API_KEY``; ``""`` for none) makes every route but ``/health`` and ``/ready``
    require ``Authorization: Bearer <key>``. Specs sent over the wire may name Python
    functions (UDFs) only inside ``trusted_modules``, so no request can run other code.

    >>> from fastapi.testclient import TestClient
    >>> owner = StoreOwner(":memory:")
    >>> owner.open()
    >>> client = TestClient(create_app(owner, api_key="s3cret"))
    >>> client.get("/health").json()
    {'status': 'ok'}
    >>> client.get("/datasets").status_code
    401
    >>> client.get("/datasets", headers={"Authorization": "Bearer s3cret"}).json()
    []
    """
    # An explicit "" means no key, whatever the environment says.
    key = (api_key if api_key is not None else os.environ.get("RTML_API_KEY")) or None
    metrics = ServerMetrics()
    bearer = HTTPBearer(auto_error=False, description="The server's RTML_API_KEY.")

    async def authorized(  # async: a plain def would cost every request a thread hop
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if key is None:
            return
        given = credentials.credentials if credentials is not None else ""
        # Constant time: the comparison does not tell how much of a guess was right.
        if credentials is None or not hmac.compare_digest(given.encode(), key.encode()):
            raise _UnauthorizedError

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not owner.wait(0):
            owner.open_in_background()
        yield
        owner.close()

    app = FastAPI(
        title="rtml",
        summary="Ingest, real-time scoring, outputs and metrics of one rtml store.",
        version=_version(),
        lifespan=lifespan,
        # Served below, behind the API key like every route but /health and /ready.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(Guard, metrics=metrics, max_body_bytes=max_body_bytes)

    @app.exception_handler(RtmlError)
    async def rtml_error(request: Request, exc: RtmlError) -> JSONResponse:
        answer: dict[str, Any] = {"detail": str(exc), "error": type(exc).__name__}
        if isinstance(exc, FeatureRowsError):
            # Every record the feature failed for, not only the ten the message names: a client
            # can then set them aside or fix them by row, as on the local engine.
            answer["failures"] = [
                {"row": row, "feature": feature, "why": why}
                for row, (feature, why) in sorted(exc.failures.items())
            ]
        return JSONResponse(answer, status_code=_status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # One shape for every refusal: FastAPI's list of problems as one line per field.
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
            for e in exc.errors()
        ]
        return JSONResponse(
            {"detail": "; ".join(problems) or "invalid request", "error": "ValidationError"},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc.detail), "error": "HTTPError"},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(_UnauthorizedError)
    async def unauthorized(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": "missing or wrong API key", "error": "Unauthorized"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.get("/health", tags=["server"], summary="Liveness: the process answers.")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        tags=["server"],
        summary="Readiness: the store is open and recovered.",
        responses={503: {"model": Error}},
    )
    def ready() -> JSONResponse:
        if owner.ready:
            return JSONResponse({"ready": True, "status": owner.status})
        return JSONResponse({"ready": False, "status": owner.status}, status_code=503)

    api = APIRouter(dependencies=[Depends(authorized)], responses=_ERRORS)

    def rows_frame(body: CreateDataset | PushRecords, schema: dict[str, Column]) -> pd.DataFrame:
        if body.columns is None:
            return frame_from_json(body.records, schema)
        return frame_from_columns(body.columns, schema)

    def check_batch(size: int) -> None:
        if size > max_batch:
            raise SchemaError(f"{size:,} records in one request; at most {max_batch:,} (max_batch)")

    @api.get("/", tags=["server"], summary="What this server is and its limits.")
    def info() -> ServerInfo:
        return ServerInfo(
            version=_version(),
            ready=owner.ready,
            store=str(owner.path),
            max_batch=max_batch,
            max_body_bytes=max_body_bytes,
            auth=key is not None,
        )

    @api.get("/openapi.json", include_in_schema=False)
    def openapi_schema() -> JSONResponse:
        return JSONResponse(app.openapi())

    @api.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="rtml API")

    @api.get(
        "/metrics",
        tags=["server"],
        summary="Server metrics in Prometheus text format.",
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    def prometheus() -> PlainTextResponse:
        text = metrics.render(owner.ready)
        if owner.ready:
            with owner.use() as backend:
                text += monitor_gauges([backend.monitor(n).status() for n in backend.monitors()])
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    # ---- datasets -------------------------------------------------------------------------
    @api.get("/datasets", tags=["datasets"])
    def list_datasets() -> list[DatasetInfo]:
        with owner.use() as backend:
            return [_dataset_info(backend, n) for n in backend.datasets()]

    @api.post("/datasets", tags=["datasets"], status_code=201)
    def create_dataset(body: CreateDataset) -> DatasetInfo:
        check_batch(body.size)
        with owner.use() as backend:
            schema = {c: Column.parse(t) for c, t in body.schema_.items()}
            df = rows_frame(body, schema) if body.size else None
            backend.create_dataset(body.name, key=body.key, df=df, schema=body.schema_)
            if df is not None:
                metrics.count_events(body.name, len(df))
            return _dataset_info(backend, body.name)

    @api.get("/datasets/{name}", tags=["datasets"])
    def get_dataset(name: str) -> DatasetInfo:
        with owner.use() as backend:
            return _dataset_info(backend, name)

    @api.post(
        "/datasets/{name}/records",
        tags=["datasets"],
        summary="Push records: validated, stored durably, then features, scores and learning.",
    )
    def push(name: str, body: PushRecords) -> Pushed:
        check_batch(body.size)
        with owner.use() as backend:
            dataset = backend.dataset(name)
            frame = rows_frame(body, dataset.schema)
            if body.history:
                accepted = dataset.push_history(frame)
            else:
                accepted = dataset.push(frame, on_error=body.on_error)
        metrics.count_events(name, accepted)
        return Pushed(accepted=accepted, dead_lettered=body.size - accepted)

    @api.get("/datasets/{name}/records", tags=["datasets"])
    def read_records(
        name: str,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 10_000,
    ) -> Page:
        with owner.use() as backend:
            dataset = backend.dataset(name)
            total = len(dataset)
            return _page(dataset.to_pandas().iloc[offset : offset + limit], total, offset)

    @api.get("/datasets/{name}/dead-letters", tags=["datasets"])
    def dead_letters(name: str) -> Page:
        with owner.use() as backend:
            letters = backend.dataset(name).dead_letters()
            return _page(letters, len(letters), 0)

    # ---- feature sets ---------------------------------------------------------------------
    @api.get("/feature-sets", tags=["features"])
    def list_feature_sets() -> list[FeatureSetInfo]:
        with owner.use() as backend:
            specs = [backend.feature_set(n) for n in backend.feature_sets()]
            return [
                FeatureSetInfo(name=s.name, dataset=s.dataset, spec=_spec_json(s)) for s in specs
            ]

    @api.post(
        "/feature-sets",
        tags=["features"],
        status_code=201,
        summary="Materialize a feature set: backfill, then kept current on every push.",
    )
    def materialize(
        spec: Annotated[dict[str, Any], Body(examples=[_FEATURE_SET_EXAMPLE])],
    ) -> FeatureSetInfo:
        with only_from(trusted_modules):
            feature_set = FeatureSet.from_dict(spec)
        with owner.use() as backend:
            backend.materialize(feature_set)
        return FeatureSetInfo(
            name=feature_set.name, dataset=feature_set.dataset, spec=_spec_json(feature_set)
        )

    @api.get("/feature-sets/{name}/values", tags=["features"])
    def feature_values(
        name: str,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 10_000,
    ) -> Page:
        with owner.use() as backend:
            values = backend.features(name, offset=offset, limit=limit)
            return _page(values, backend.feature_rows(name), offset)

    # ---- models (deployments) ---------------------------------------------------------------
    @api.get("/models", tags=["models"])
    def list_models() -> list[DeploymentInfo]:
        with owner.use() as backend:
            return [_deployment_info(backend, backend.deployment(n)) for n in backend.deployments()]

    @api.post("/models", tags=["models"], status_code=201, summary="Deploy a model.")
    def deploy(body: Deploy) -> DeploymentInfo:
        from rtml.models.base import ModelSpec
        from rtml.plugins import spec_from_dict

        try:
            with only_from(trusted_modules):
                model = spec_from_dict("models", body.model)
                inputs = Inputs.from_dict({"kind": "inputs", **body.inputs})
                labels = (
                    None
                    if body.labels is None
                    else Labels.from_dict({"kind": "labels", **body.labels})
                )
        except ValueError as exc:
            raise SpecError(str(exc)) from None
        if not isinstance(model, ModelSpec):
            raise SpecError(f"{body.model.get('kind')!r} is not a model kind")
        with owner.use() as backend:
            deployment = backend.deploy(
                body.name,
                model,
                inputs=inputs,
                labels=labels,
                pretrain=body.pretrain,
                predict_only=body.predict_only,
            )
            return _deployment_info(backend, deployment)

    @api.get("/models/{name}", tags=["models"])
    def get_model(name: str) -> DeploymentInfo:
        with owner.use() as backend:
            return _deployment_info(backend, backend.deployment(name))

    @api.delete("/models/{name}", tags=["models"], status_code=204)
    def delete_model(name: str) -> Response:
        with owner.use() as backend:
            backend.deployment(name).delete()
        return Response(status_code=204)

    @api.post("/models/{name}/pause", tags=["models"], summary="Stop scoring and learning.")
    def pause(name: str) -> DeploymentInfo:
        with owner.use() as backend:
            backend.deployment(name).pause()
            return _deployment_info(backend, backend.deployment(name))

    @api.post(
        "/models/{name}/resume",
        tags=["models"],
        summary="Score and learn again, first learning the labels pushed while paused.",
    )
    def resume(name: str) -> DeploymentInfo:
        with owner.use() as backend:
            backend.deployment(name).resume()
            return _deployment_info(backend, backend.deployment(name))

    @api.post(
        "/models/{name}/predict",
        tags=["models"],
        summary='Score one record (a JSON object) or a batch ({"records": [...]}), learning '
        "nothing; window features are looked up in the live state.",
        response_model=PredictionOut | BatchPrediction,
    )
    async def predict(
        name: str,
        body: Annotated[dict[str, Any], Body(examples=[{"id": 7, "card": "a", "amount": 12.5}])],
    ) -> JSONResponse:
        batch = isinstance(body.get("records"), list) and len(body) == 1
        records = body["records"] if batch else [body]
        if batch:
            check_batch(len(records))
            bad = [i for i, r in enumerate(records) if not isinstance(r, dict)]
            if bad:
                raise SchemaError(f"records[{bad[0]}]: expected a JSON object")

        def score() -> list[tuple[Any, dict[str, Any]]]:
            with owner.use() as backend:
                d = backend.deployment(name)
                return d.explain(records)  # checked there, by field and row

        # A few records take about a millisecond: scored right here when the store is free,
        # which spares the hop to a worker thread; otherwise (a push holds the store, or a
        # large batch) on a worker thread, so the event loop never waits on the lock.
        if len(records) <= 8 and owner.lock.acquire(blocking=False):
            try:
                explained = score()
            finally:
                owner.lock.release()
        else:
            explained = await run_in_threadpool(score)
        metrics.count_predictions(name, len(records))
        outs = [_prediction_json(p, x) for p, x in explained]
        return JSONResponse({"predictions": outs} if batch else outs[0])

    @api.get("/models/{name}/outputs", tags=["models"], summary="Outputs in the order made.")
    def outputs(
        name: str,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 10_000,
        key: Annotated[
            list[str] | None,
            Query(
                max_length=MAX_KEYS,
                description="Only the outputs of the events with these keys (repeat the "
                "parameter for more): all of them, on one page.",
            ),
        ] = None,
    ) -> Page:
        with owner.use() as backend:
            d = backend.deployment(name)
            if key is not None:
                frame = d.outputs_of(keys_from_text(key, d.key_kind()))
                return _page(frame, len(frame), 0)
            frame = d.outputs(offset=offset, limit=limit)
            return _page(frame, backend.store.count(d.outputs_table), offset)

    @api.get(
        "/models/{name}/metrics",
        tags=["models"],
        summary="A metric after each labelled prediction, over a sliding window of them.",
    )
    def model_metrics(
        name: str,
        metric: str = "WindowedAUC",
        window: Annotated[int, Query(ge=1, le=10_000_000)] = 1000,
        tail: Annotated[int | None, Query(ge=1, description="Only the last N values.")] = None,
    ) -> MetricSeries:
        with owner.use() as backend:
            series = backend.deployment(name).evaluate(metric, window=window)
        if tail is not None:
            series = series.iloc[-tail:]
        values = json_value(series["value"].tolist())
        return MetricSeries(
            model=name,
            metric=metric,
            window=window,
            last=values[-1] if values else None,
            index=[int(i) for i in series["index"].tolist()],
            value=values,
        )

    @api.get(
        "/models/{name}/drift",
        tags=["models"],
        summary="Where the model's scores changed: ADWIN over them in the order made.",
    )
    def model_drift(
        name: str,
        delta: Annotated[float, Query(gt=0, lt=1)] = 0.002,
        clock: Annotated[int, Query(ge=1, le=1_000_000)] = 32,
        tail: Annotated[int | None, Query(ge=1, description="Only the last N rows.")] = None,
    ) -> DriftSeries:
        with owner.use() as backend:
            report = backend.deployment(name).drift(delta=delta, clock=clock)
        table = report.table if tail is None else report.table.iloc[-tail:]
        return DriftSeries(
            model=name,
            delta=delta,
            clock=clock,
            records=len(report.table),
            drifts=report.drifts,
            **json_columns(table, SCORE_TRACE_COLUMNS),
        )

    add_monitor_routes(api, owner)
    app.include_router(api)
    return app


class _UnauthorizedError(Exception):
    pass


_FEATURE_SET_EXAMPLE = {
    "name": "card_features",
    "dataset": "transactions",
    "timestamp": "ts",
    "features": [
        {
            "kind": "Aggregate",
            "name": "spend_1h",
            "column": "amount",
            "op": "sum",
            "by": "card",
            "window": "1h",
        }
    ],
}


def _version() -> str:
    from rtml import __version__

    return __version__
