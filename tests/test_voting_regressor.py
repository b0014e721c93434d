"""VotingRegressor: its prediction is the weighted mean of what its members, each learning
every target, would predict alone; deployed, it learns every label and loses no event."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtml
from rtml.plugins import spec_from_dict
from tests.deployments import stream_across_reopen

M = rtml.models
MEMBERS = {
    "linear": lambda: M.LinearRegression(),
    "linear_l2": lambda: M.LinearRegression(l2=0.1, learning_rate=0.05),
    "tree": lambda: M.HoeffdingTreeRegressor(grace_period=20),
}


def _records(frame: pd.DataFrame) -> list[dict]:
    # As deployments give records to River models: missing inputs left out.
    return [{k: v for k, v in r.items() if v == v} for r in frame.to_dict("records")]


@settings(max_examples=30, deadline=None)
@given(
    names=st.lists(st.sampled_from(sorted(MEMBERS)), min_size=2, max_size=4),
    weights=st.lists(st.floats(0.1, 10), min_size=4, max_size=4),
    n=st.integers(1, 300),
    seed=st.integers(0, 1000),
    missing=st.booleans(),
)
def test_the_prediction_is_the_weighted_mean_of_the_members_alone(
    names, weights, n, seed, missing
) -> None:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    if missing:
        frame.loc[rng.random(n) < 0.2, "z"] = np.nan
    y = (3 * frame["x"] - frame["z"].fillna(0) + rng.normal(scale=0.1, size=n)).tolist()
    specs = [MEMBERS[name]() for name in names]
    chosen = weights[: len(specs)]
    ensemble = M.VotingRegressor(models=specs, weights=chosen).build()
    alone = [spec.build() for spec in specs]
    for x, target in zip(_records(frame), y, strict=True):
        ensemble.learn_one(x, target)
        for member in alone:
            member.learn_one(x, target)
    for probe in ({"x": -1.0, "z": 0.5}, {"x": 0.2}, {"x": 1.4, "z": -0.3}):
        expected = sum(
            w / sum(chosen) * m.predict_one(probe)["score"]
            for m, w in zip(alone, chosen, strict=True)
        )
        got = ensemble.predict_one(probe)
        assert got["score"] == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert got["predicted_class"] == got["score"]  # a regression's output is its value


def test_a_deployment_learns_every_label_and_survives_a_reopen(tmp_path) -> None:
    rng = np.random.default_rng(5)
    n = 1500
    events = pd.DataFrame({"id": range(n), "x": rng.uniform(0, 10, n)})
    targets = pd.DataFrame({"id": range(n), "y": 2.0 * events["x"] + 1.0})
    spec = M.VotingRegressor(
        models=[M.LinearRegression(learning_rate=0.01), M.HoeffdingTreeRegressor()],
        weights=[1, 1],
    )
    outputs, mae, _ = stream_across_reopen(
        str(tmp_path / "store"),
        spec,
        events,
        targets,
        reopen_at=1000,
        metric="WindowedMAE",
        window=300,
    )
    assert sorted(outputs["key"]) == list(range(n))  # one prediction per event, none lost
    # Prequential: early predictions are poor, the last window's are close (targets 1-21).
    assert mae["value"].iloc[-1] < 1.0 < mae["value"].iloc[50]


def test_the_spec_round_trips_through_json() -> None:
    spec = M.VotingRegressor(
        models=[M.LinearRegression(l2=0.5), M.HoeffdingTreeRegressor(grace_period=30)],
        weights=[0.25, 0.75],
    )
    again = spec_from_dict("models", spec.model_dump(mode="json"))
    assert again == spec
    assert isinstance(again.models[1], M.HoeffdingTreeRegressor)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"models": [M.LinearRegression(), M.GaussianNB()]}, "expected regressors"),
        ({"models": [M.LinearRegression(), M.LinearRegression()], "weights": [2]}, "one per"),
        ({"models": [M.LinearRegression(), M.LinearRegression()], "weights": [1, -1]}, "positive"),
        ({"models": [M.LinearRegression()]}, "at least 2"),
    ],
)
def test_bad_ensembles_are_refused_by_field(options, message) -> None:
    with pytest.raises(rtml.SpecError, match=message):
        M.VotingRegressor(**options)
