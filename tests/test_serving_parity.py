"""What ``deployment.predict(record)`` (the REST endpoint's answer) gives for a record is what
the output stream stores for it when it is pushed next: the same score, class and class
probabilities, for every kind of classifier and every kind of label, on the local engine and
through a real ``rtml serve`` server (where both answers have been through JSON)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import rtml
from rtml.testing.server import running_server

LABELS = {  # label column type, classes
    "booleans": ("bool", [False, True]),
    "0 and 1": ("int", [0, 1]),
    "0, 1 and 2": ("int", [0, 1, 2]),
    "0.0, 1.0 and 2.0": ("float", [0.0, 1.0, 2.0]),
    "text": ("string", ["low", "mid", "high"]),
    "whole numbers as text": ("string", ["7", "12", "3"]),
}


def _classifiers() -> dict[str, rtml.ModelSpec]:
    specs: dict[str, rtml.ModelSpec] = {}
    for name, registered in rtml.plugins.registry().models.items():
        try:
            spec = registered.obj()
        except rtml.SpecError:  # needs members or a base model: one of each below
            continue
        if spec.task == "classification":
            specs[name] = spec
    specs["WindowedRandomForest"] = rtml.models.WindowedRandomForest(
        n_estimators=5, window=200, refit_every=20, min_labels=20
    )
    specs["SoftVoting"] = rtml.models.SoftVoting(
        models=[rtml.models.GaussianNB(), rtml.models.HoeffdingTreeClassifier(grace_period=10)]
    )
    specs["RandomSampler"] = rtml.models.RandomSampler(
        base_model=rtml.models.HoeffdingTreeClassifier(grace_period=10), desired_dist=[0.5, 0.5]
    )
    return specs


CLASSIFIERS = _classifiers()


def _learners_of(label_kind: str) -> list[str]:
    # The classifiers that learn these labels: any, or their fixed classes hold them all.
    _, classes = LABELS[label_kind]
    names = []
    for name, spec in CLASSIFIERS.items():
        fixed = spec.label_classes()
        if fixed is None or all(not isinstance(c, str) and int(c) in fixed for c in classes):
            names.append(name)
    return names


@pytest.fixture(scope="module")
def server():
    """One server for every example: each example names its own datasets and model."""
    with running_server(":memory:") as url:
        backend = rtml.connect(url)
        yield backend
        backend.close()


@pytest.fixture(scope="module", params=["local", "http"])
def connect(request):
    """A function giving a fresh place to deploy: a new local store, or the shared server."""
    if request.param == "local":
        return lambda: rtml.connect("local", path=":memory:")
    return lambda: request.getfixturevalue("server")


@pytest.mark.parametrize("label_kind", list(LABELS))
# No shrinking: each example pushes 40 records (over HTTP too), and the model, seed and delay
# it reports are already a small example.
@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(data=st.data(), seed=st.integers(0, 10_000), delay=st.integers(0, 5))
def test_predict_answers_what_the_output_stream_then_stores(connect, label_kind, data, seed, delay):
    name = data.draw(st.sampled_from(_learners_of(label_kind)), label="model")
    label_type, classes = LABELS[label_kind]
    rng = np.random.default_rng(seed)
    n = 40
    y = [classes[i] for i in rng.integers(0, len(classes), size=n)]
    x = [float(classes.index(c)) + rng.normal(scale=0.4) for c in y]
    backend = connect()
    suffix = f"_{len(backend.datasets())}"  # names not yet taken on a shared server
    tx = backend.create_dataset("tx" + suffix, key="id", schema={"id": "int", "x": "float"})
    lb = backend.create_dataset("labels" + suffix, key="id", schema={"id": "int", "y": label_type})
    deployment = backend.deploy(
        "m" + suffix,
        CLASSIFIERS[name],
        inputs=rtml.Inputs("tx" + suffix, numerical=["x"]),
        labels=rtml.Labels("labels" + suffix, field="y"),
    )
    answers = []
    for i in range(n):
        record = {"id": i, "x": x[i]}
        answers.append(deployment.predict(record))
        tx.push([record])
        if i >= delay:
            lb.push([{"id": i - delay, "y": y[i - delay]}])
    outputs = deployment.outputs()
    for i, answer in enumerate(answers):
        stored = outputs.iloc[i]
        where = f"record {i} (seed {seed}, delay {delay})"
        assert stored["score"] == pytest.approx(answer["score"]), where
        assert stored["predicted_class"] == answer["predicted_class"], where
        assert stored["class_probabilities"] == pytest.approx(answer["class_probabilities"]), where
