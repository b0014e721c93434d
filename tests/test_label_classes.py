"""A label a deployment's model cannot learn (2 for a binary classifier, text, a class
outside a sampler's distribution) is refused by name at the push, never misread."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtml
from rtml.testing.server import running_server

MODELS = {
    "LogisticRegression": (rtml.models.LogisticRegression(), (0, 1)),
    "OnlineLinearClassifier": (rtml.models.OnlineLinearClassifier(), (0, 1)),
    "SoftVoting": (
        rtml.models.SoftVoting(models=[rtml.models.GaussianNB(), rtml.models.LogisticRegression()]),
        (0, 1),
    ),
    "RandomSampler over 3 classes": (
        rtml.models.RandomSampler(
            base_model=rtml.models.HoeffdingTreeClassifier(), desired_dist=[0.5, 0.3, 0.2]
        ),
        (0, 1, 2),
    ),
    "GaussianNB": (rtml.models.GaussianNB(), None),
    "SoftVoting of members learning any class": (
        rtml.models.SoftVoting(
            models=[rtml.models.GaussianNB(), rtml.models.HoeffdingTreeClassifier()]
        ),
        None,
    ),
    "SoftVoting with a 3-class sampler": (
        rtml.models.SoftVoting(
            models=[
                rtml.models.GaussianNB(),
                rtml.models.RandomSampler(
                    base_model=rtml.models.HoeffdingTreeClassifier(), desired_dist=[0.5, 0.3, 0.2]
                ),
            ]
        ),
        (0, 1, 2),
    ),
}


def _app(backend, model: rtml.ModelSpec, label_type: str = "int"):
    tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    lb = backend.create_dataset("labels", key="id", schema={"id": "int", "y": label_type})
    backend.deploy(
        "m",
        model,
        inputs=rtml.Inputs("tx", numerical=["x"]),
        labels=rtml.Labels("labels", field="y"),
    )
    return tx, lb


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(sorted(MODELS)),
    st.lists(st.one_of(st.none(), st.integers(-2, 4)), min_size=1, max_size=30),
)
def test_a_push_with_a_label_the_model_cannot_learn_is_refused_whole(kind, values):
    model, classes = MODELS[kind]
    backend = rtml.connect("local", path=":memory:")
    tx, lb = _app(backend, model)
    records = [{"id": i, "y": v} for i, v in enumerate(values)]
    bad = [i for i, v in enumerate(values) if v is not None and classes and v not in classes]
    if bad:
        with pytest.raises(rtml.SchemaError) as refused:
            lb.push(records)
        message = str(refused.value)
        assert "nothing was written" in message and len(lb) == 0
        assert f"row {bad[0]}, field 'y': deployment 'm' ({model.kind_name()})" in message
        assert f"got {values[bad[0]]}" in message
        # set aside instead: the others are stored, the bad ones are dead letters
        assert lb.push(records, on_error="dead_letter") == len(values) - len(bad)
        letters = lb.dead_letters()
        assert len(letters) == len(bad) and "learns the classes" in letters["reason"].iloc[0]
    else:
        assert lb.push(records) == len(values)
    # whatever was stored, the model learns it when the events come
    tx.push([{"id": i, "x": float(i % 2)} for i in range(len(values))])
    assert len(backend.deployment("m").outputs()) == len(values)


def test_a_binary_model_on_text_labels_is_refused_at_deploy():
    backend = rtml.connect("local", path=":memory:")
    with pytest.raises(rtml.SpecError, match="field 'y' of 'labels' holds string values"):
        _app(backend, rtml.models.LogisticRegression(), label_type="string")
    assert backend.deployments() == []


def test_pretrain_on_labels_the_model_cannot_learn_is_refused_naming_a_key():
    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("tx", key="id", df=pd.DataFrame({"id": [1, 2, 3], "x": [0.0, 1, 2]}))
    backend.create_dataset("labels", key="id", df=pd.DataFrame({"id": [1, 2, 3], "y": [0, 1, 2]}))
    with pytest.raises(
        rtml.SpecError,
        match=r"cannot pretrain on 'labels', key 3: deployment 'm' \(WindowedRandomForest\) learns",
    ):
        backend.deploy(
            "m",
            rtml.models.WindowedRandomForest(),
            inputs=rtml.Inputs("tx", numerical=["x"]),
            labels=rtml.Labels("labels", field="y"),
            pretrain=True,
        )
    assert backend.deployments() == []


def test_the_server_refuses_it_too():
    with running_server(":memory:") as url:
        backend = rtml.connect(url)
        _, lb = _app(backend, rtml.models.LogisticRegression())
        with pytest.raises(rtml.SchemaError, match="learns the classes 0 and 1, got 3"):
            lb.push([{"id": 1, "y": 1}, {"id": 2, "y": 3}])
        assert len(lb) == 0
        backend.close()


ANY_CLASS = {
    "GaussianNB": rtml.models.GaussianNB(),
    "HoeffdingTreeClassifier": rtml.models.HoeffdingTreeClassifier(grace_period=10),
    "SoftVoting": rtml.models.SoftVoting(
        models=[rtml.models.GaussianNB(), rtml.models.HoeffdingTreeClassifier(grace_period=10)]
    ),
}


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(sorted(ANY_CLASS)),
    # each step pushes some events or the labels of every event so far, then reads the outputs
    steps=st.lists(st.one_of(st.integers(1, 20), st.just("labels")), min_size=1, max_size=8),
)
def test_text_classes_are_stored_whether_or_not_a_label_came_first(tmp_path_factory, kind, steps):
    # Outputs made before the first label used to be typed by the model's "nothing learned"
    # class 0, and the first text class then failed to store, refusing the push.
    path = str(tmp_path_factory.mktemp("store") / "db")
    n = labelled = 0
    for step in [*steps, 5]:
        with rtml.connect("local", path=path) as backend:  # across reopens, too
            if not backend.datasets():
                _app(backend, ANY_CLASS[kind], label_type="string")
            if step == "labels" and labelled < n:
                backend.dataset("labels").push(
                    [{"id": i, "y": "abc"[i % 3]} for i in range(labelled, n)]
                )
                labelled = n
            elif step != "labels":
                backend.dataset("tx").push(
                    [{"id": i, "x": float(i % 3)} for i in range(n, n + step)]
                )
                n += step
            classes = backend.deployment("m").outputs()["predicted_class"].tolist()
        assert len(classes) == n
        assert all(c in ("a", "b", "c") or c is None for c in classes)
        assert set(classes) != {None} or labelled == 0 or n == labelled


BINARY_METRICS = sorted(
    name for name, m in rtml.plugins.registry().metrics.items() if getattr(m.obj, "binary", False)
)


@settings(max_examples=60, deadline=None)
@given(
    metric=st.sampled_from(BINARY_METRICS),
    labels=st.lists(
        st.one_of(st.sampled_from([0, 1, True, False, 0.0, 1.0, None]), st.integers(2, 5)),
        min_size=1,
        max_size=40,
    ),
    predicted=st.lists(st.integers(0, 5), min_size=40, max_size=40),
)
def test_a_binary_metric_refuses_labels_other_than_0_and_1(metric, labels, predicted):
    # Read as truth values, a 2 or a text class would count as class 1: a number, but wrong.
    # Accuracy alone has a meaning for any classes: it compares the predicted class instead.
    from rtml.backends.local.deployment import evaluate_pairs

    classes = predicted[: len(labels)]
    pairs = pd.DataFrame(
        {"y": labels, "score": [0.5] * len(labels), "predicted_class": classes}, dtype=object
    )
    bad = [i for i, y in enumerate(labels) if y is not None and y not in (0, 1)]
    if not bad:
        assert len(evaluate_pairs(metric, 10, pairs, "m")) == len(labels)
        return
    if metric == "WindowedAccuracy":
        values = evaluate_pairs(metric, 10, pairs, "m")["value"].tolist()
        for i, value in enumerate(values):
            window = list(zip(labels, classes, strict=True))[max(0, i - 9) : i + 1]
            assert value == sum(y is not None and c == y for y, c in window) / len(window)
        return
    with pytest.raises(rtml.SpecError) as refused:
        evaluate_pairs(metric, 10, pairs, "m")
    message = str(refused.value)
    assert f"deployment 'm': {metric} is a metric of binary labels" in message
    assert f"labelled prediction {bad[0]} has the label {labels[bad[0]]!r}" in message


@settings(max_examples=15, deadline=None)
@given(
    classes=st.sampled_from([("a", "b", "c"), (0, 1, 2, 3), (3, 7)]),
    seed=st.integers(0, 10_000),
    delay=st.integers(-30, 40),
    window=st.integers(1, 60),
)
def test_accuracy_of_a_model_of_many_classes_compares_its_predicted_class(
    classes, seed, delay, window
):
    # Each labelled prediction's class is the one the output showed before its label came,
    # whether the label came after its record (delay >= 0) or before it (delay < 0).
    import numpy as np

    rng = np.random.default_rng(seed)
    n, push = 160, 8
    x = rng.normal(size=n)
    y = [classes[int(v)] for v in np.clip((x + 1.5) * len(classes) / 3, 0, len(classes) - 1)]
    kind = "string" if isinstance(classes[0], str) else "int"
    backend = rtml.connect("local", path=":memory:")
    tx, lb = _app(backend, rtml.models.HoeffdingTreeClassifier(grace_period=20), kind)
    for lo in range(0, n, push):  # the label of record k in the push of record k + delay
        labels = [
            {"id": k, "y": y[k]}
            for k in range(n)
            if lo <= min(max(k + delay, 0), n - 1) < lo + push
        ]
        if delay < 0 and labels:
            lb.push(labels)
        tx.push([{"id": i, "x": float(x[i])} for i in range(lo, lo + push)])
        if delay >= 0 and labels:
            lb.push(labels)
    deployment = backend.deployment("m")
    outputs = deployment.outputs()
    shown = dict(zip(outputs["key"], outputs["predicted_class"], strict=True))
    right = [shown[k] == y[k] for k in range(n)]  # labels join in key order
    assert 0 < sum(right) < n  # the model is right on some records and wrong on others
    for metric in ("WindowedClassAccuracy", "WindowedAccuracy"):
        values = deployment.evaluate(metric, window=window)["value"].tolist()
        expected = [np.mean(right[max(0, i - window + 1) : i + 1]) for i in range(len(right))]
        assert values == pytest.approx(expected)


def test_a_model_of_text_classes_is_not_given_a_binary_metric():
    backend = rtml.connect("local", path=":memory:")
    tx, lb = _app(backend, rtml.models.GaussianNB(), label_type="string")
    tx.push([{"id": i, "x": float(i % 3)} for i in range(30)])
    lb.push([{"id": i, "y": "abc"[i % 3]} for i in range(30)])
    with pytest.raises(rtml.SpecError, match="has the label 'a'"):
        backend.deployment("m").evaluate("WindowedAUC", window=10)
    regression = rtml.connect("local", path=":memory:")
    tx, lb = _app(regression, rtml.models.LinearRegression(), label_type="float")
    tx.push([{"id": i, "x": float(i)} for i in range(30)])
    lb.push([{"id": i, "y": 2.5 * i} for i in range(30)])
    assert len(regression.deployment("m").evaluate("WindowedMAE", window=10)) == 30


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([0, 1]),
            st.floats(0, 1),
            st.sampled_from([0, 1, 2, "c", None]),
        ),
        min_size=1,
        max_size=40,
    ),
    regression=st.booleans(),
)
def test_accuracy_reads_the_class_once_the_model_has_predicted_another(rows, regression):
    # Labels all 0 and 1: a model that has predicted class 2 is still a model of more classes,
    # and its probability of class 1 at 0.5 is not its answer. A regression's output is its
    # score and its predicted class at once: read at the threshold, whatever its value.
    from rtml.backends.local.deployment import evaluate_pairs

    labels = [y for y, _, _ in rows]
    scores = [s * 3 if regression else s for _, s, _ in rows]
    classes = scores if regression else [c for _, _, c in rows]
    pairs = pd.DataFrame({"y": labels, "score": scores, "predicted_class": classes}, dtype=object)
    values = evaluate_pairs("WindowedAccuracy", 10, pairs, "m")["value"].tolist()
    by_class = not regression and any(c not in (0, 1, None) for c in classes)
    for i, value in enumerate(values):
        window = list(zip(labels, scores, classes, strict=True))[max(0, i - 9) : i + 1]
        right = [c == y if by_class else (s > 0.5) == bool(y) for y, s, c in window]
        assert value == sum(right) / len(window)


@settings(max_examples=25, deadline=None)
@given(
    # GaussianNB may answer a tie as 0.5000000000000009 for both classes: made to sum to 1,
    # it is 0.5 and class 0, as its accuracy reads it.
    kind=st.sampled_from(["LogisticRegression", "GaussianNB", "HoeffdingTreeClassifier"]),
    label_type=st.sampled_from(["int", "bool"]),
    ys=st.lists(st.booleans(), min_size=1, max_size=40),
    delay=st.integers(0, 5),
)
def test_accuracy_is_the_share_of_predicted_classes_equal_to_their_labels(
    kind, label_type, ys, delay
):
    # A binary model's accuracy reads its score at 0.5 and its outputs show a predicted class:
    # the two agree, ties included (a model that has learned nothing scores 0.5, class 0).
    backend = rtml.connect("local", path=":memory:")
    tx, lb = _app(backend, getattr(rtml.models, kind)(), label_type=label_type)
    for i, y in enumerate(ys):
        tx.push([{"id": i, "x": float(y) + 0.1 * (i % 3)}])
        if i >= delay:
            lb.push(
                [
                    {
                        "id": i - delay,
                        "y": ys[i - delay] if label_type == "bool" else int(ys[i - delay]),
                    }
                ]
            )
    deployment = backend.deployment("m")
    pairs = deployment.labelled()
    accuracy = deployment.evaluate("WindowedAccuracy", window=10)["value"].tolist()
    right = [bool(c) == bool(y) for y, c in zip(pairs["y"], pairs["predicted_class"], strict=True)]
    assert len(accuracy) == len(right)
    for i, value in enumerate(accuracy):
        window = right[max(0, i - 9) : i + 1]
        assert value == pytest.approx(sum(window) / len(window)), i


def test_a_pretrained_model_of_three_classes_is_read_by_class_before_a_third_label():
    # Pretrained on three classes, then labels of 0 and 1 only: the model still answers 2.
    def x(i: int) -> float:
        return i % 3 + 0.1 * (i % 7)

    history = pd.DataFrame({"id": range(90), "x": [x(i) for i in range(90)]})
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", df=history)
    lb = backend.create_dataset(
        "labels", key="id", df=pd.DataFrame({"id": range(90), "y": [i % 3 for i in range(90)]})
    )
    deployment = backend.deploy(
        "m",
        rtml.models.GaussianNB(),
        inputs=rtml.Inputs("tx", numerical=["x"]),
        labels=rtml.Labels("labels", field="y"),
        pretrain=True,
    )
    live = range(100, 130)
    tx.push([{"id": i, "x": x(i)} for i in live])
    lb.push([{"id": i, "y": i % 2} for i in live])  # never 2
    pairs = deployment.labelled()
    assert set(pairs["y"]) == {0, 1} and 2 in set(pairs["predicted_class"])
    right = (pairs["predicted_class"] == pairs["y"]).tolist()
    accuracy = deployment.evaluate("WindowedAccuracy", window=30)["value"].tolist()
    assert accuracy[-1] == pytest.approx(sum(right) / len(right))
    assert accuracy == deployment.evaluate("WindowedClassAccuracy", window=30)["value"].tolist()


def _any_class_classifiers() -> list[str]:
    # Every registered classifier that builds with its defaults and learns any classes.
    names = []
    for name, registered in rtml.plugins.registry().models.items():
        try:
            spec = registered.obj()
        except rtml.SpecError:  # needs members or a base model
            continue
        if spec.task == "classification" and spec.label_classes() is None:
            names.append(name)
    return names


@settings(max_examples=20, deadline=None)
@given(
    kind=st.sampled_from(_any_class_classifiers()),
    n_classes=st.integers(3, 4),
    seed=st.integers(0, 10_000),
)
def test_each_output_of_a_model_of_numbered_classes_holds_all_its_classes(kind, n_classes, seed):
    # Classes 0, 1, 2, ...: the probabilities of every class, the most likely one as the
    # predicted class and the probability of class 1 as the score, for each record pushed.
    # (River answers a binary model's classes as False and True; class 1 among 0, 1 and 2 is
    # not that answer.)
    import numpy as np

    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, size=400)
    x = y + rng.normal(scale=0.3, size=400)
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", df=pd.DataFrame({"id": range(300), "x": x[:300]}))
    backend.create_dataset("labels", key="id", df=pd.DataFrame({"id": range(300), "y": y[:300]}))
    deployment = backend.deploy(
        "m",
        rtml.plugins.registry().models[kind].obj(),
        inputs=rtml.Inputs("tx", numerical=["x"]),
        labels=rtml.Labels("labels", field="y"),
        pretrain=True,
    )
    tx.push([{"id": i, "x": float(x[i])} for i in range(300, 400)])
    outputs = deployment.outputs()
    for probabilities, predicted, score in zip(
        outputs["class_probabilities"], outputs["predicted_class"], outputs["score"], strict=True
    ):
        assert set(probabilities) == set(range(n_classes))
        assert probabilities[predicted] == max(probabilities.values())
        assert score == probabilities[1]
