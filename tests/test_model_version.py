"""``model_version``: each output carries how many labels the model had learned when it scored.

The reference walks the same pushes record by record: an event is scored at the count so far
(a batch learner scores its whole batch at the count before it), then learns its label if the
label came first; a label is learned when its event has been scored. Pretraining counts the
labelled history; a ``predict_only`` deployment learns nothing online.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import rtml


@st.composite
def _streams(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 40))
    history = draw(st.integers(0, 10))
    order = draw(st.permutations(range(history, history + n)))
    labelled = draw(st.lists(st.sampled_from(range(history + n)), unique=True))
    live_labels = [k for k in labelled if k >= history]
    pushes: list[tuple[str, list[int]]] = []
    events, labels = list(order), draw(st.permutations(live_labels))
    while events or labels:
        kind = draw(st.sampled_from([k for k, left in (("tx", events), ("y", labels)) if left]))
        left = events if kind == "tx" else labels
        size = draw(st.integers(1, len(left)))
        pushes.append((kind, left[:size]))
        del left[:size]
    return {
        "history": history,
        "history_labels": [k for k in labelled if k < history],
        "pushes": pushes,
        "batch": draw(st.booleans()),
        "pretrain": draw(st.booleans()),
        "predict_only": draw(st.booleans()),
    }


def _expected(stream: dict[str, Any]) -> dict[int, int]:
    """Each live event's model_version, walking the pushes as the reference says."""
    learns = not stream["predict_only"]
    count = len(stream["history_labels"]) if stream["pretrain"] else 0
    scored: set[int] = set()  # scored events whose label has not come
    waiting: set[int] = set()  # labels whose event has not come
    versions: dict[int, int] = {}
    for kind, keys in stream["pushes"]:
        if kind == "y":
            for k in keys:
                if k in scored:
                    scored.discard(k)
                    count += learns
                else:
                    waiting.add(k)
            continue
        at_start = count
        for k in keys:
            versions[k] = at_start if stream["batch"] else count
            if k in waiting:
                waiting.discard(k)
                count += learns
            else:
                scored.add(k)
    return versions


def _run(backend: rtml.Backend, stream: dict[str, Any]) -> dict[int, int]:
    history = stream["history"]
    tx = backend.create_dataset(
        "tx",
        key="id",
        df=pd.DataFrame({"id": range(history), "x": [float(k % 3) for k in range(history)]}),
    )
    lb = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    if stream["history_labels"]:
        lb.push([{"id": k, "y": k % 2} for k in stream["history_labels"]])
    spec = rtml.models.OnlineLinearClassifier() if stream["batch"] else rtml.models.GaussianNB()
    model = backend.deploy(
        "m",
        spec,
        inputs=rtml.Inputs("tx", numerical=["x"]),
        labels=rtml.Labels("labels", field="y"),
        pretrain=stream["pretrain"],
        predict_only=stream["predict_only"],
    )
    for kind, keys in stream["pushes"]:
        if kind == "tx":
            tx.push([{"id": k, "x": float(k % 3)} for k in keys])
        else:
            lb.push([{"id": k, "y": k % 2} for k in keys])
    out = model.outputs()
    return dict(zip(out["key"].tolist(), out["model_version"].tolist(), strict=True))


@given(_streams())
def test_each_output_carries_the_labels_its_model_had_learned(stream: dict[str, Any]) -> None:
    backend = rtml.connect("local", path=":memory:")
    assert _run(backend, stream) == _expected(stream)


def test_the_count_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "store"
    backend = rtml.connect("local", path=str(path))
    tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    lb = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    backend.deploy(
        "m",
        rtml.models.LogisticRegression(),
        inputs=rtml.Inputs("tx", numerical=["x"]),
        labels=rtml.Labels("labels", field="y"),
    )
    tx.push([{"id": k, "x": float(k)} for k in range(5)])
    lb.push([{"id": k, "y": k % 2} for k in range(5)])
    backend.close()
    reopened = rtml.connect("local", path=str(path))
    reopened.dataset("tx").push([{"id": 5, "x": 1.0}])
    assert reopened.deployment("m").outputs()["model_version"].tolist() == [0] * 5 + [5]
