"""rtml.testing's check suite over every registered feature and model kind."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rtml
from rtml.features import SQL, UDAF, UDF, Aggregate
from rtml.testing import check_feature_kind, check_model_kind, example_frame


class CountAgg:
    """A UDAF in TurboML's shape: a plain count."""

    @staticmethod
    def create_state():
        return 0

    @staticmethod
    def accumulate(state, value):
        return state + (value is not None)

    @staticmethod
    def retract(state, value):
        return state - (value is not None)

    @staticmethod
    def merge_states(a, b):
        return a + b

    @staticmethod
    def finish(state):
        return state


def safe_log(x: float) -> float:
    return math.log1p(abs(x))


FEATURE_EXAMPLES = {
    "sql": [SQL("xy", '"x" * "y"'), SQL("sign", "CASE WHEN \"x\" > 0 THEN 'pos' ELSE 'neg' END")],
    "aggregate": [
        Aggregate(f"{op}_{w}", column="x", op=op, by="key", window=w, delay=d, closed=c)
        for op in rtml.features.aggregate.OPS
        for w, d, c in (("1d", None, "both"), ("2d", "1d", "right"))
    ],
    "udf": [UDF("lx", fn=safe_log, args=["x"]), UDF("vx", fn=np.abs, args=["x"], vectorized=True)],
    "udaf": [UDAF("n", columns=["x"], functions=CountAgg, by="key", window="1d")],
    "haversine": [],  # the example plugin's kind has its own tests in its package's docs
}

M = rtml.models
MODEL_EXAMPLES = {
    "LogisticRegression": [M.LogisticRegression(), M.LogisticRegression(weight_pos=20.0)],
    "LinearRegression": [M.LinearRegression(l2=0.01)],
    "OnlineLinearClassifier": [
        M.OnlineLinearClassifier(class_weight="balanced"),
        M.OnlineLinearClassifier(optimizer="sgd", class_weight=3.0),
    ],
    "HoeffdingTreeClassifier": [M.HoeffdingTreeClassifier(grace_period=50)],
    "HoeffdingAdaptiveTreeClassifier": [M.HoeffdingAdaptiveTreeClassifier(grace_period=50, seed=3)],
    "HoeffdingTreeRegressor": [M.HoeffdingTreeRegressor(grace_period=50)],
    "AdaptiveRandomForestClassifier": [M.AdaptiveRandomForestClassifier(n_models=3, seed=5)],
    "AMFClassifier": [M.AMFClassifier(n_estimators=3, seed=5)],
    "GaussianNB": [M.GaussianNB()],
    "RandomSampler": [
        M.RandomSampler(
            base_model=M.HoeffdingTreeClassifier(grace_period=30), desired_dist=[0.6, 0.4], seed=2
        ),
        M.RandomSampler(base_model=M.GaussianNB(), sampling_method="under", seed=2),
    ],
    "LeveragingBaggingClassifier": [
        M.LeveragingBaggingClassifier(base_model=M.GaussianNB(), n_models=3, seed=4)
    ],
    "AdaBoostClassifier": [
        M.AdaBoostClassifier(base_model=M.HoeffdingTreeClassifier(), n_models=2, seed=4)
    ],
    "HST": [M.HST(n_trees=3, height=4, seed=7)],
    "OneClassSVM": [M.OneClassSVM(nu=0.2)],
    "WindowedRandomForest": [
        M.WindowedRandomForest(n_estimators=5, window=100, refit_every=40, min_labels=30, seed=1),
        M.WindowedRandomForest(n_estimators=3, max_depth=3, class_weight="balanced", seed=2),
        M.WindowedRandomForest(
            n_estimators=3, window="3s", refit_every="1s", time_input="y", min_labels=5, seed=3
        ),
    ],
    "SoftVoting": [
        M.SoftVoting(
            models=[
                M.WindowedRandomForest(n_estimators=3, window=100, refit_every=40, min_labels=30),
                M.LogisticRegression(),
            ],
            weights=[2, 1],
        ),
        M.SoftVoting(models=[M.GaussianNB(), M.HoeffdingTreeClassifier(grace_period=50)]),
    ],
    "VotingRegressor": [
        M.VotingRegressor(
            models=[M.LinearRegression(), M.HoeffdingTreeRegressor(grace_period=50)],
            weights=[1, 2],
        )
    ],
    "BaseRateClassifier": [],
}


def test_every_registered_kind_has_examples() -> None:
    reg = rtml.plugins.registry()
    assert set(reg.features) <= set(FEATURE_EXAMPLES)
    assert set(reg.models) <= set(MODEL_EXAMPLES)
    for kind, entry in reg.features.items():
        if entry.plugin.startswith("rtml."):
            assert FEATURE_EXAMPLES[kind], f"built-in feature kind {kind} has no example"


@pytest.mark.parametrize(
    "feature", [f for fs in FEATURE_EXAMPLES.values() for f in fs], ids=lambda f: f.name
)
def test_feature_kind_passes_the_checks(feature) -> None:
    check_feature_kind(feature, example_frame(n=120))


@pytest.mark.parametrize(
    "spec", [m for ms in MODEL_EXAMPLES.values() for m in ms], ids=lambda m: m.kind
)
def test_model_kind_passes_the_checks(spec) -> None:
    check_model_kind(spec)


class Mutating(rtml.features.RowFeature):
    """Writes into its input.

    >>> 1
    1
    """

    kind: str = "mutating"

    def columns(self):
        return ("x",)

    def compute(self, frame):
        values = frame["x"].to_numpy()
        values[:] = 0.0  # writes through to the caller's frame
        return values


class Bare(rtml.features.RowFeature):
    """No example here."""

    kind: str = "bare"

    def columns(self):
        return ("x",)

    def compute(self, frame):
        return frame["x"].to_numpy()


def test_check_catches_a_kind_that_mutates_its_input() -> None:
    with pytest.raises(AssertionError, match="mutated"):
        check_feature_kind(Mutating(name="m"), example_frame(n=10))


def test_check_catches_a_kind_without_docstring_example() -> None:
    with pytest.raises(AssertionError, match="no example"):
        check_feature_kind(Bare(name="b"), example_frame(n=10))
