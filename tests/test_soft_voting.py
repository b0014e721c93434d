"""SoftVoting: its score is the weighted mean of what its members, each learning every label,
would score alone, whatever the mix of batch and record-by-record members; with members that
learn any class, each class's probability is."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtml
from rtml.models.base import BatchModel
from rtml.models.voting import SoftVotingByClass
from rtml.plugins import spec_from_dict
from tests.deployments import stream_across_reopen

M = rtml.models
MEMBERS = {
    "forest": lambda: M.WindowedRandomForest(
        n_estimators=3, window=60, refit_every=20, min_labels=10, min_samples_leaf=3
    ),
    "logistic": lambda: M.LogisticRegression(),
    "online_linear": lambda: M.OnlineLinearClassifier(class_weight="balanced"),
    "naive_bayes": lambda: M.GaussianNB(),
}


def _alone(spec, batches):
    """A member trained by itself the way the ensemble trains it: P(class 1) of a probe."""
    model = spec.build()
    for frame, y in batches:
        if isinstance(model, BatchModel):
            model.learn_many(frame, y)
        else:
            for x, label in zip(frame.to_dict("records"), y, strict=True):
                model.learn_one({k: v for k, v in x.items() if v == v}, label)
    return model


@settings(max_examples=30, deadline=None)
@given(
    names=st.lists(st.sampled_from(sorted(MEMBERS)), min_size=2, max_size=4),
    weights=st.lists(st.floats(0.1, 10), min_size=4, max_size=4),
    sizes=st.lists(st.integers(1, 30), min_size=1, max_size=10),
    seed=st.integers(0, 1000),
    missing=st.booleans(),
)
def test_the_score_is_the_weighted_mean_of_the_members_alone(
    names, weights, sizes, seed, missing
) -> None:
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    frame = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    if missing:  # River members then see records without the input, batch members a NaN
        frame.loc[rng.random(n) < 0.2, "z"] = np.nan
    y = ((frame["x"] + rng.normal(scale=0.5, size=n)) > 0.5).astype(int).tolist()
    bounds = np.cumsum([0, *sizes])
    batches = [
        (frame.iloc[a:b].reset_index(drop=True), y[a:b]) for a, b in itertools.pairwise(bounds)
    ]
    specs = [MEMBERS[name]() for name in names]
    chosen = weights[: len(specs)]
    ensemble = _alone(M.SoftVoting(models=specs, weights=chosen), batches)
    probe = pd.DataFrame({"x": [-1.0, 0.2, 1.4], "z": [0.5, np.nan, -0.3]})
    expected = np.zeros(len(probe))
    for spec, weight in zip(specs, chosen, strict=True):
        member = _alone(spec, batches)
        if isinstance(member, BatchModel):
            scores = np.asarray(member.predict_many(probe), dtype="float64")
        else:
            records = [{k: v for k, v in r.items() if v == v} for r in probe.to_dict("records")]
            scores = np.array([member.predict_one(r)["score"] for r in records])
        expected += weight / sum(chosen) * scores
    np.testing.assert_allclose(_scores(ensemble, probe), expected, rtol=1e-12, atol=1e-15)


def _scores(model, probe: pd.DataFrame) -> np.ndarray:
    if isinstance(model, BatchModel):
        return np.asarray(model.predict_many(probe), dtype="float64")
    records = [{k: v for k, v in r.items() if v == v} for r in probe.to_dict("records")]
    return np.array([model.predict_one(r)["score"] for r in records])


ANY_CLASS = {
    "naive_bayes": lambda: M.GaussianNB(),
    "tree": lambda: M.HoeffdingTreeClassifier(grace_period=20),
    "adaptive_tree": lambda: M.HoeffdingAdaptiveTreeClassifier(grace_period=20, seed=1),
}


@settings(max_examples=30, deadline=None)
@given(
    names=st.lists(st.sampled_from(sorted(ANY_CLASS)), min_size=2, max_size=4),
    weights=st.lists(st.floats(0.1, 10), min_size=4, max_size=4),
    classes=st.one_of(  # a label field holds text or integers, never both
        st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=4, unique=True),
        st.lists(st.integers(-3, 9), min_size=1, max_size=4, unique=True),
    ),
    n=st.integers(0, 150),
    seed=st.integers(0, 1000),
)
def test_each_class_probability_is_the_weighted_mean_of_the_members_alone(
    names, weights, classes, n, seed
) -> None:
    rng = np.random.default_rng(seed)
    xs = [{"x": float(v), "z": float(w)} for v, w in rng.normal(size=(n, 2))]
    ys = [classes[int(abs(x["x"]) * len(classes)) % len(classes)] for x in xs]
    specs = [ANY_CLASS[name]() for name in names]
    chosen = weights[: len(specs)]
    spec = M.SoftVoting(models=specs, weights=chosen)
    assert spec.label_classes() is None  # it takes any label, text included
    ensemble = spec.build()
    members = [s.build() for s in specs]
    for x, y in zip(xs, ys, strict=True):
        ensemble.learn_one(x, y)
        for member in members:
            member.learn_one(x, y)
    for probe in ({"x": -0.3, "z": 1.0}, {"x": 1.7}, {}):
        got = ensemble.predict_one(probe)
        answers = [(m.probabilities_one(probe), w) for m, w in zip(members, chosen, strict=True)]
        answers = [(p, w) for p, w in answers if p]  # a member with no answer is left out
        total = sum(w for _, w in answers)
        expected = {}
        for p, w in answers:
            for label, value in p.items():
                expected[label] = expected.get(label, 0.0) + w * value / total
        assert got["class_probabilities"].keys() == (expected.keys() or {0, 1})
        for label, value in expected.items():
            assert got["class_probabilities"][label] == pytest.approx(value, rel=1e-12, abs=1e-15)
        if expected:
            assert got["predicted_class"] == max(expected, key=expected.__getitem__)
            assert sum(expected.values()) == pytest.approx(1.0)
        else:  # nothing learned: what one model says then
            assert got == members[0].predict_one(probe)


def test_a_deployment_learns_three_classes_and_survives_a_reopen(tmp_path) -> None:
    rng = np.random.default_rng(5)
    n = 1500
    events = pd.DataFrame({"id": range(n), "x": rng.normal(size=n), "z": rng.normal(size=n)})
    # three classes by the sign of x and z: no single threshold on P(class 1) separates them
    kind = np.where(events["x"] < -0.5, 0, np.where(events["z"] > 0, 1, 2))
    labels = pd.DataFrame({"id": range(n), "y": kind})
    spec = M.SoftVoting(
        models=[M.GaussianNB(), M.HoeffdingTreeClassifier(grace_period=50)], weights=[1, 2]
    )
    outputs, _, deployed = stream_across_reopen(
        str(tmp_path / "store"),
        spec,
        events,
        labels,
        reopen_at=700,
        metric=None,  # the windowed classification metrics are binary ones
        window=400,
    )
    assert sorted(outputs["key"]) == list(range(n))  # one score per event, none lost
    late = outputs.set_index("key").loc[range(1000, n)]
    assert set(late["predicted_class"]) == {0, 1, 2}
    accuracy = (late["predicted_class"].to_numpy() == kind[1000:]).mean()
    assert accuracy > 0.8  # chance is about 0.38
    assert isinstance(deployed.models[1], M.HoeffdingTreeClassifier)  # as deployed


def test_a_deployment_learns_and_survives_a_reopen(tmp_path) -> None:
    rng = np.random.default_rng(3)
    n = 1200
    events = pd.DataFrame({"id": range(n), "x": rng.normal(size=n), "z": rng.normal(size=n)})
    labels = pd.DataFrame(
        {"id": range(n), "y": ((events["x"] > 1) & (events["z"] > 0)).astype(int)}
    )
    spec = M.SoftVoting(
        models=[
            M.WindowedRandomForest(n_estimators=10, window=400, refit_every=100, min_labels=100),
            M.LogisticRegression(),
        ],
        weights=[3, 1],
    )
    outputs, auc, deployed = stream_across_reopen(
        str(tmp_path / "store"),
        spec,
        events,
        labels,
        reopen_at=800,
        metric="WindowedAUC",
        window=400,
    )
    assert sorted(outputs["key"]) == list(range(n))  # one score per event, none lost
    assert auc["value"].iloc[-1] > 0.95
    assert isinstance(deployed.models[0], M.WindowedRandomForest)  # as deployed


def test_the_spec_round_trips_through_json() -> None:
    spec = M.SoftVoting(
        models=[M.WindowedRandomForest(recency="7d", time_input="ts"), M.GaussianNB()],
        weights=[0.7, 0.3],
    )
    again = spec_from_dict("models", spec.model_dump(mode="json"))
    assert again == spec
    assert isinstance(again.models[0], M.WindowedRandomForest)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"models": [M.GaussianNB(), M.GaussianNB()], "weights": [1]}, "one per model"),
        ({"models": [M.GaussianNB(), M.GaussianNB()], "weights": [1, 0]}, "positive"),
        ({"models": [M.GaussianNB(), M.GaussianNB()], "weights": [1, float("inf")]}, "positive"),
        ({"models": [M.GaussianNB(), M.LinearRegression()]}, "expected classifiers"),
        ({"models": [M.GaussianNB(), {"kind": "Nope"}]}, "unknown model kind 'Nope'"),
        ({"models": [M.GaussianNB()]}, "at least 2"),
    ],
)
def test_bad_ensembles_are_refused_by_field(options, message) -> None:
    with pytest.raises(rtml.SpecError, match=message):
        M.SoftVoting(**options)


def test_pandas_missing_values_are_left_out_like_nan() -> None:
    # Nullable columns hold pd.NA, which has no truth value: it must read as missing.
    spec = M.SoftVoting(models=[M.GaussianNB(), M.LogisticRegression()])
    train = pd.DataFrame({"x": [0.0, 1.0, 0.2, 0.8] * 20, "z": [1.0, None, 0.5, 2.0] * 20})
    y = [0, 1, 0, 1] * 20
    nullable, floats = spec.build(), spec.build()
    nullable.learn_many(train.astype("Float64"), y)
    floats.learn_many(train, y)
    probe = pd.DataFrame({"x": [0.1, 0.9], "z": [None, 1.0]})
    np.testing.assert_array_equal(
        nullable.predict_many(probe.astype("Float64")), floats.predict_many(probe)
    )


def test_a_member_with_no_answer_yet_is_left_out_of_the_mean() -> None:
    # A sampler that has kept no label yet, or a member added fresh, knows nothing: counted as
    # sure of nothing, it would pull every class's probability down by its weight.
    trained, fresh = M.GaussianNB().build(), M.GaussianNB().build()
    for i in range(60):
        trained.learn_one({"x": i % 3 + (i % 5) / 10}, "abc"[i % 3])
    ensemble = SoftVotingByClass([trained, fresh], [0.5, 0.5])
    got = ensemble.predict_one({"x": 1.2})["class_probabilities"]
    assert got == pytest.approx(trained.predict_one({"x": 1.2})["class_probabilities"])
    # when none has learned, it says what one model says then
    nothing = SoftVotingByClass([fresh, fresh], [0.5, 0.5]).predict_one({"x": 1.0})
    alone = {"score": 0.0, "predicted_class": 0, "class_probabilities": {0: 1.0, 1: 0.0}}
    assert nothing == fresh.predict_one({"x": 1.0}) == alone


def test_a_binary_member_with_no_answer_yet_is_left_out_too() -> None:
    # An untrained GaussianNB answers nothing; counted as a score of 0 it would halve the
    # logistic regression's score in an equal-weight ensemble.
    spec = M.SoftVoting(models=[M.GaussianNB(), M.LogisticRegression()])
    ensemble = spec.build()
    logistic = M.LogisticRegression().build()
    for i in range(50):
        x = {"x": float(i % 2)}
        ensemble.members[1].learn_one(x, i % 2)  # only the linear member learns
        logistic.learn_one(x, i % 2)
    probe = pd.DataFrame({"x": [0.0, 1.0]})
    alone = [logistic.predict_one({"x": v})["score"] for v in (0.0, 1.0)]
    np.testing.assert_allclose(ensemble.predict_many(probe), alone, rtol=1e-12)
    nobody = spec.build()
    nobody.members[1] = M.GaussianNB().build()  # no member has learned: a score of 0
    np.testing.assert_array_equal(nobody.predict_many(probe), [0.0, 0.0])
