"""Online models through deployments: prequential order, the vectorised learner, comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from river import linear_model, optim, preprocessing

import rtml
from rtml.metrics import exact_auc


def fraud_like(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    logit = -4.5 + 1.5 * X[:, 0] - 1.0 * X[:, 1] + 0.5 * X[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    events = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(id=np.arange(n))
    return events, pd.DataFrame({"id": np.arange(n), "y": y})


def deploy(spec, n=20_000, batch=500, seed=0, name="m"):
    events, labels = fraud_like(n, seed)
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
    lb = backend.create_dataset("labels", key="id", df=labels.iloc[:0])
    model = backend.deploy(
        name,
        spec,
        inputs=rtml.Inputs("tx", numerical=["a", "b", "c", "d"]),
        labels=rtml.Labels("labels", field="y"),
    )
    for lo in range(0, n, batch):
        lb.push(labels.iloc[lo : lo + batch])  # labels first: every row predicted, then learned
        tx.push(events.iloc[lo : lo + batch])
    return model, events, labels


def river_loop(events, labels) -> float:
    model = preprocessing.StandardScaler() | linear_model.LogisticRegression(
        optimizer=optim.SGD(0.01)
    )
    scores = []
    for x, y in zip(events[["a", "b", "c", "d"]].to_dict("records"), labels["y"], strict=True):
        scores.append(model.predict_proba_one(x).get(True, 0.0))
        model.learn_one(x, y)
    return exact_auc(labels["y"].to_numpy(), np.asarray(scores))


def test_logistic_regression_matches_rivers_own_loop() -> None:
    model, events, labels = deploy(rtml.models.LogisticRegression(), n=8_000)
    out = model.outputs()
    assert len(out) == len(events)
    ours = exact_auc(labels["y"].to_numpy(), out["score"].to_numpy())
    assert ours == pytest.approx(river_loop(events, labels), abs=1e-9)  # the very same scores


def test_vectorised_learner_is_as_good_as_river() -> None:
    model, events, labels = deploy(rtml.models.OnlineLinearClassifier(), n=60_000, batch=1000)
    ours = exact_auc(labels["y"].to_numpy(), model.outputs()["score"].to_numpy())
    assert ours > river_loop(events, labels) - 0.01


def test_vectorised_learner_predicts_a_batch_before_learning_it() -> None:
    events, labels = fraud_like(1000)
    spec = rtml.models.OnlineLinearClassifier()
    learner = spec.build()
    first = learner.predict_many(events[["a", "b"]])
    learner.learn_many(events[["a", "b"]], labels["y"])
    assert np.all(first == 0.0)  # nothing learned when the batch was scored
    deployed, _, _ = deploy(spec, n=1000, batch=1000)
    assert np.all(deployed.outputs()["score"] == 0.0)


def test_models_are_deterministic_and_pickle() -> None:
    import pickle

    spec = rtml.models.AdaptiveRandomForestClassifier(n_models=3, seed=7)
    a, _, _ = deploy(spec, n=1500)
    b, _, _ = deploy(spec, n=1500)
    pd.testing.assert_frame_equal(a.outputs(), b.outputs())
    clone = pickle.loads(pickle.dumps(a.model))
    x = {"a": 0.1, "b": -0.3, "c": 1.0, "d": 0.0}
    assert clone.predict_one(x) == a.model.predict_one(x)


def test_random_sampler_rebalances_what_its_model_learns() -> None:
    tree = rtml.models.HoeffdingTreeClassifier(grace_period=50, delta=1e-4)
    plain, _, labels = deploy(tree, n=20_000)
    sampled, _, _ = deploy(
        rtml.models.RandomSampler(
            base_model=tree, desired_dist=[0.5, 0.5], sampling_method="under", seed=1
        ),
        n=20_000,
    )
    y = labels["y"].to_numpy()
    late = slice(10_000, None)
    # The plain tree learns the 2 % base rate; the sampled one sees the classes half and half.
    assert plain.outputs()["score"].iloc[late].mean() < 0.1
    assert 0.3 < sampled.outputs()["score"].iloc[late].mean() < 0.7
    assert exact_auc(y, sampled.outputs()["score"].to_numpy()) > 0.6


def test_categorical_inputs_one_hot_for_linear_models_native_for_trees(backend) -> None:
    rng = np.random.default_rng(1)
    n = 3000
    country = rng.choice(["FR", "DE", "US"], n)
    y = (country == "US").astype(int)
    tx = backend.create_dataset(
        "tx",
        key="id",
        df=pd.DataFrame({"id": np.arange(n), "country": country, "x": rng.normal(size=n)}).iloc[:0],
    )
    lb = backend.create_dataset("labels", key="id", df=pd.DataFrame({"id": [0], "y": [0]}).iloc[:0])
    inputs = rtml.Inputs("tx", numerical=["x"], categorical=["country"])
    labels = rtml.Labels("labels", field="y")
    models = [
        backend.deploy(name, spec, inputs=inputs, labels=labels)
        for name, spec in (
            ("lr", rtml.models.LogisticRegression()),
            ("tree", rtml.models.HoeffdingTreeClassifier(grace_period=50)),
            ("fast", rtml.models.OnlineLinearClassifier()),
        )
    ]
    frame = pd.DataFrame({"id": np.arange(n), "country": country, "x": rng.normal(size=n)})
    lb.push(pd.DataFrame({"id": np.arange(n), "y": y}))
    for lo in range(0, n, 100):
        tx.push(frame.iloc[lo : lo + 100])
    for model in models:
        late = model.outputs().iloc[-500:]
        assert exact_auc(y[-500:], late["score"].to_numpy()) > 0.99, model.name


def test_compare_aligns_deployments() -> None:
    model, _, _ = deploy(rtml.models.GaussianNB(), n=3000)
    other, _, _ = deploy(rtml.models.LogisticRegression(), n=3000, name="other")
    comparison = rtml.compare([model, other], metric="WindowedAUC", window=500)
    assert list(comparison.table.columns) == ["m", "other"]
    assert len(comparison.table) == 3000
    assert comparison.summary().loc["m", "labelled"] > 2900
    figure = comparison.figure()
    assert len(figure.data) == 2
    # No deployment, or one name twice (two columns in one), is refused, not a narrower table.
    with pytest.raises(ValueError, match="at least one deployment"):
        rtml.compare([])
    with pytest.raises(ValueError, match="'m' is given twice"):
        rtml.compare([model, model])


@settings(max_examples=15)
@given(
    before=st.integers(0, 30),
    after=st.integers(1, 30),
    lag=st.integers(0, 4),
    window=st.integers(1, 12),
    seed=st.integers(0, 1000),
)
def test_a_challenger_deployed_later_is_compared_over_the_events_both_scored(
    before, after, lag, window, seed
) -> None:
    # compare lined deployments up by the count of their labelled predictions: a challenger
    # deployed after `before` events had its first label beside the champion's first, so the
    # chart and the means set the challenger's days against the champion's first days.
    events, labels = fraud_like(before + after, seed)
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
    lb = backend.create_dataset("labels", key="id", df=labels.iloc[:0])
    kw = dict(
        inputs=rtml.Inputs("tx", numerical=["a", "b", "c", "d"]),
        labels=rtml.Labels("labels", field="y"),
    )
    champion = backend.deploy("champion", rtml.models.LogisticRegression(), **kw)
    for i in range(before + after + lag):
        if i == before:
            challenger = backend.deploy("challenger", rtml.models.GaussianNB(), **kw)
        if i < before + after:
            tx.push(events.iloc[i : i + 1])
        if i >= lag:  # each label `lag` events after its event
            lb.push(labels.iloc[i - lag : i - lag + 1])
    comparison = rtml.compare([champion, challenger], metric="WindowedAUC", window=window)

    both = champion.labelled()
    both = both[both["key"] >= before].reset_index(drop=True)
    assert challenger.labelled()["key"].tolist() == both["key"].tolist()  # the same events
    assert len(comparison.table) == after
    want = rtml.metrics.WindowedAUC(window_size=window)
    for row, (y, score) in enumerate(zip(both["y"], both["score"], strict=True), start=1):
        want.update(y, score)
        got = comparison.table.loc[row, "champion"]
        assert (got != got and want.get() is None) or got == pytest.approx(want.get())
    assert comparison.table["challenger"].equals(
        challenger.evaluate("WindowedAUC", window=window)["value"]
        .astype("float64")
        .set_axis(comparison.table.index)
        .rename("challenger")
    )
    summary = comparison.summary()
    assert summary["labelled"].to_dict() == {"champion": before + after, "challenger": after}
    assert summary["compared"].to_dict() == {"champion": after, "challenger": after}


def test_models_of_different_label_streams_are_compared_by_count() -> None:
    # Keys line up events only within one stream: two label datasets may reuse each other's
    # keys for other events, so their models are set side by side by count, as before.
    events, labels = fraud_like(60)
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
    first = backend.create_dataset("first", key="id", df=labels.iloc[:0])
    second = backend.create_dataset("second", key="id", df=labels.iloc[:0])
    inputs = rtml.Inputs("tx", numerical=["a", "b", "c", "d"])
    a = backend.deploy("a", rtml.models.GaussianNB(), inputs, rtml.Labels("first", field="y"))
    tx.push(events.iloc[:30])
    b = backend.deploy("b", rtml.models.GaussianNB(), inputs, rtml.Labels("second", field="y"))
    tx.push(events.iloc[30:])
    first.push(labels)
    second.push(labels)
    comparison = rtml.compare([a, b], window=10)
    assert not comparison.by_event
    assert len(comparison.table) == 60
    assert comparison.summary()["compared"].to_dict() == {"a": 60, "b": 30}


def test_pretraining_on_history_learns_before_going_live() -> None:
    events, labels = fraud_like(20_000)
    for spec in (rtml.models.LogisticRegression(), rtml.models.OnlineLinearClassifier()):
        backend = rtml.connect("local", path=":memory:")
        tx = backend.create_dataset("tx", key="id", df=events.iloc[:15_000])
        backend.create_dataset("labels", key="id", df=labels.iloc[:15_000])
        kw = dict(
            inputs=rtml.Inputs("tx", numerical=["a", "b", "c", "d"]),
            labels=rtml.Labels("labels", field="y"),
        )
        warm = backend.deploy("warm", spec, pretrain=True, **kw)
        cold = backend.deploy("cold", spec, **kw)
        tx.push(events.iloc[15_000:15_500])
        y = labels["y"].to_numpy()[15_000:15_500]
        assert warm.outputs()["score"].nunique() > 1
        assert exact_auc(y, warm.outputs()["score"].to_numpy()) > 0.75
        assert exact_auc(y, cold.outputs()["score"].to_numpy()) < 0.7  # knows nothing yet


class MeanScore(rtml.metrics.Metric):
    """The mean score over the window.

    >>> 1
    1
    """

    name = "WindowedMeanScore"

    def get(self):
        return sum(s for _, s in self.window) / len(self.window) if self.window else None


class MetricPlugin:
    @rtml.hookimpl
    def register_metrics(self, register):
        register(MeanScore)


def test_a_plugin_metric_evaluates_a_deployment() -> None:
    from rtml.testing import registered_plugin

    model, _, _ = deploy(rtml.models.GaussianNB(), n=2000)
    with registered_plugin(MetricPlugin(), name="mean-score"):
        values = model.evaluate("WindowedMeanScore", window=100)["value"]
    scores = model.outputs()["score"].to_numpy()
    assert values.iloc[-1] == pytest.approx(scores[-100:].mean())
