"""WindowedRandomForest: what it learns from is exactly the last ``window`` labelled records,
refit when ``refit_every`` labels have come, whatever the batch sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestClassifier

import rtml


@settings(max_examples=25)
@given(
    n=st.integers(1, 300),
    sizes=st.lists(st.integers(1, 60), min_size=1, max_size=30),
    window=st.integers(10, 120),
    refit_every=st.integers(1, 80),
    min_labels=st.integers(1, 50),
    seed=st.integers(0, 100),
)
def test_the_forest_is_sklearns_on_the_last_window(
    n, sizes, window, refit_every, min_labels, seed
) -> None:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    X.loc[rng.random(n) < 0.1, "b"] = np.nan  # missing values read as 0
    y = (X["a"] + rng.normal(scale=0.5, size=n) > 0.8).astype(int).to_numpy()
    spec = rtml.models.WindowedRandomForest(
        n_estimators=4, window=window, refit_every=refit_every, min_labels=min_labels, seed=seed
    )
    model = spec.build()
    probe = pd.DataFrame({"a": [-1.0, 0.0, 2.0], "b": [0.5, np.nan, -0.5]})
    lo, refits, since, fitted_on = 0, 0, 0, None
    for size in sizes * (n // max(sum(sizes), 1) + 1):
        if lo >= n:
            break
        batch, labels = X.iloc[lo : lo + size], y[lo : lo + size]
        model.learn_many(batch, labels)
        lo += len(batch)
        since += len(batch)
        seen = y[:lo][-window:]
        if (
            len(seen) >= min_labels
            and len(set(seen)) > 1
            and (fitted_on is None or since >= refit_every)
        ):
            refits, since, fitted_on = refits + 1, 0, lo
        if fitted_on is None:
            share = y[:lo].mean()
            assert model.predict_many(probe) == pytest.approx([share] * 3)
    assert model.refits == refits
    if fitted_on is not None:
        rows = X.iloc[:fitted_on].fillna(0.0).to_numpy()[-window:]
        want = RandomForestClassifier(n_estimators=4, random_state=seed).fit(
            rows, y[:fitted_on][-window:]
        )
        expected = want.predict_proba(probe.fillna(0.0).to_numpy())[:, list(want.classes_).index(1)]
        np.testing.assert_array_equal(model.predict_many(probe), expected)


def test_a_deployment_scores_with_the_latest_forest() -> None:
    rng = np.random.default_rng(1)
    n = 600
    events = pd.DataFrame({"id": range(n), "x": rng.normal(size=n)})
    labels = pd.DataFrame({"id": range(n), "y": (events["x"] > 1).astype(int)})
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
    lb = backend.create_dataset("labels", key="id", df=labels.iloc[:0])
    model = backend.deploy(
        "forest",
        rtml.models.WindowedRandomForest(
            n_estimators=10, window=300, refit_every=100, min_labels=100
        ),
        inputs=rtml.Inputs("tx", numerical=["x"]),
        labels=rtml.Labels("labels", field="y"),
    )
    for lo in range(0, n, 100):
        tx.push(events.iloc[lo : lo + 100])
        lb.push(labels.iloc[lo : lo + 100])
    assert model.evaluate("WindowedAUC", window=300)["value"].iloc[-1] > 0.95
    assert model.predict({"id": n, "x": 3.0})["score"] > 0.5


def test_without_scikit_learn_the_install_is_named(monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(rtml.BackendUnavailable, match=r'pip install "rtml\[sklearn\]"'):
        rtml.models.WindowedRandomForest().build()
