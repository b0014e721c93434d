"""The REST routes of drift monitors: watch, list, read, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from rtml.backends.local.monitor import LocalMonitor, change_columns
from rtml.drift.monitor import Monitor
from rtml.json_values import json_columns, json_value
from rtml.serve.owner import StoreOwner
from rtml.serve.schemas import MonitorChanges, MonitorInfo

__all__ = ["add_monitor_routes", "monitor_info"]

_EXAMPLE = {"name": "amounts", "source": "transactions", "fields": ["transactionAmount"]}


def monitor_info(monitor: LocalMonitor) -> MonitorInfo:
    status = {k: json_value(v) if k in _NUMBERS else v for k, v in monitor.status().items()}
    return MonitorInfo(monitor=monitor.spec.model_dump(mode="json"), **status)


_NUMBERS = ("mean", "distance", "p_value")  # NaN or infinite has no JSON


def add_monitor_routes(api: APIRouter, owner: StoreOwner) -> None:
    """``/monitors``: the local engine's drift monitors over HTTP."""

    @api.get("/monitors", tags=["monitors"])
    def list_monitors() -> list[MonitorInfo]:
        with owner.use() as backend:
            return [monitor_info(backend.monitor(n)) for n in backend.monitors()]

    @api.post(
        "/monitors",
        tags=["monitors"],
        status_code=201,
        summary="Watch a dataset's or feature set's fields, or a model's scores, for drift.",
    )
    def watch(
        body: Annotated[
            dict[str, Any], Body(description="An rtml.drift.Monitor as JSON.", examples=[_EXAMPLE])
        ],
    ) -> MonitorInfo:
        spec = Monitor.from_dict(body)
        with owner.use() as backend:
            return monitor_info(backend.watch(spec))

    @api.get("/monitors/{name}", tags=["monitors"])
    def get_monitor(name: str) -> MonitorInfo:
        with owner.use() as backend:
            return monitor_info(backend.monitor(name))

    @api.get("/monitors/{name}/changes", tags=["monitors"], summary="Every change found.")
    def monitor_changes(name: str) -> MonitorChanges:
        with owner.use() as backend:
            monitor = backend.monitor(name)
            changes = monitor.changes()
        return MonitorChanges(monitor=name, **json_columns(changes, change_columns(monitor.spec)))

    @api.delete("/monitors/{name}", tags=["monitors"], status_code=204)
    def delete_monitor(name: str) -> Response:
        with owner.use() as backend:
            backend.monitor(name).delete()
        return Response(status_code=204)
