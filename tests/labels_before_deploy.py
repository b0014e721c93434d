"""A stream in which labels may be stored before the deploy: the scenario the backends share
(a label stored before the deploy whose event comes after it is learned when its event comes)."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
import pytest

import rtml

# When an event, or its label, is stored: before the deploy, after it, or never (labels only).
When = Literal["before", "after", "never"]


def run(
    backend: Any,
    plan: list[tuple[When, When]],
    live_order: list[tuple[str, int]],
    *,
    pretrain: bool = False,
    reopen: Any = None,
) -> tuple[Any, set[int]]:
    """Events ``i`` (``x`` = ``i % 2``, label ``i % 3 == 0``) and their labels stored as
    ``plan[i]`` says; after the deploy, ``live_order`` pushes them one record at a time
    (``("event", i)`` or ``("label", i)``). ``reopen``, if given, is called after the deploy
    and returns the backend to push to (a store closed and opened again). Returns the
    deployment and the events that must have been learned and evaluated: those pushed after
    the deploy whose label is stored at all."""
    events = pd.DataFrame({"id": range(len(plan)), "x": [float(i % 2) for i in range(len(plan))]})
    labels = pd.DataFrame(
        {"id": range(len(plan)), "y": [int(i % 3 == 0) for i in range(len(plan))]}
    )
    before_events = [i for i, (e, _) in enumerate(plan) if e == "before"]
    before_labels = [i for i, (_, y) in enumerate(plan) if y == "before"]
    tx = backend.create_dataset("tx", key="id", df=events.iloc[before_events])
    lb = backend.create_dataset("labels", key="id", df=labels.iloc[:0])
    if before_labels:
        lb.push(labels.iloc[before_labels])
    backend.deploy(
        "m",
        rtml.models.LogisticRegression(),
        inputs=rtml.Inputs("tx", numerical=["x"]),
        labels=rtml.Labels("labels", field="y"),
        pretrain=pretrain,
    )
    if reopen is not None:
        backend = reopen()
        tx, lb = backend.dataset("tx"), backend.dataset("labels")
    for kind, i in live_order:
        (tx if kind == "event" else lb).push((events if kind == "event" else labels).iloc[[i]])
    learned = {i for i, (e, y) in enumerate(plan) if e == "after" and y != "never"}
    return backend.deployment("m"), learned


def live_records(plan: list[tuple[When, When]]) -> list[tuple[str, int]]:
    """The records ``plan`` stores after the deploy, each event before its label."""
    out = []
    for i, (e, y) in enumerate(plan):
        out += [("event", i)] if e == "after" else []
        out += [("label", i)] if y == "after" else []
    return out


def assert_an_unlearnable_waiting_label_refuses_the_deploy(backend: Any) -> None:
    """A waiting label 2 for a binary classifier would fail its event's push: the deploy is
    refused instead, naming the key, and nothing is deployed."""
    backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    backend.create_dataset("labels", key="id", df=pd.DataFrame({"id": [1, 2], "y": [1, 2]}))
    with pytest.raises(rtml.SpecError, match="'labels', key 2, holds a label stored before"):
        backend.deploy(
            "m",
            rtml.models.LogisticRegression(),
            inputs=rtml.Inputs("tx", numerical=["x"]),
            labels=rtml.Labels("labels", field="y"),
        )
    assert backend.deployments() == []
