"""Deploying a model and streaming to it across a store reopen: the durability scenario the
model-kind tests share."""

from __future__ import annotations

from typing import Any

import pandas as pd

import rtml


def stream_across_reopen(
    path: str,
    spec: Any,
    events: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    reopen_at: int,
    metric: str | None,
    window: int,
    step: int = 100,
) -> tuple[pd.DataFrame, pd.DataFrame | None, Any]:
    """Deploy ``spec`` on ``events`` (key ``id``, every other column numerical) with the
    ``labels``' other column as its label; push both ``step`` rows at a time, closing and
    reopening the store at row ``reopen_at``. Returns the deployment's outputs, ``metric`` over
    ``window`` after each label (``None`` without a metric), and the spec as the reopened store
    reads it."""
    field = next(c for c in labels.columns if c != "id")
    with rtml.connect("local", path=path) as backend:
        backend.create_dataset("tx", key="id", df=events.iloc[:0])
        backend.create_dataset("labels", key="id", df=labels.iloc[:0])
        backend.deploy(
            "model",
            spec,
            inputs=rtml.Inputs("tx", numerical=[c for c in events.columns if c != "id"]),
            labels=rtml.Labels("labels", field=field),
        )
        _push(backend, events, labels, range(0, reopen_at, step), step)
    with rtml.connect("local", path=path) as backend:
        _push(backend, events, labels, range(reopen_at, len(events), step), step)
        model = backend.deployment("model")
        evaluated = model.evaluate(metric, window=window) if metric else None
        return model.outputs(), evaluated, model.spec


def _push(
    backend: Any, events: pd.DataFrame, labels: pd.DataFrame, starts: range, step: int
) -> None:
    for lo in starts:
        backend.dataset("tx").push(events.iloc[lo : lo + step])
        backend.dataset("labels").push(labels.iloc[lo : lo + step])
