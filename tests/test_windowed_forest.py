"""WindowedRandomForest: what it learns from is exactly the last ``window`` labelled records,
refit when ``refit_every`` labels have come, whatever the batch sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestClassifier

import rtml


# Windows of a few records are the property's point; scikit-learn warns that a share of them
# is a small bootstrap.
@pytest.mark.filterwarnings("ignore:Using the fractional value max_samples:UserWarning")
@settings(max_examples=25)
@given(
    n=st.integers(1, 300),
    sizes=st.lists(st.integers(1, 60), min_size=1, max_size=30),
    window=st.integers(10, 120),
    refit_every=st.integers(1, 80),
    min_labels=st.integers(1, 50),
    seed=st.integers(0, 100),
    max_samples=st.one_of(st.none(), st.floats(0.2, 1.0)),
)
def test_the_forest_is_sklearns_on_the_last_window(
    n, sizes, window, refit_every, min_labels, seed, max_samples
) -> None:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    X.loc[rng.random(n) < 0.1, "b"] = np.nan  # missing values read as 0
    y = (X["a"] + rng.normal(scale=0.5, size=n) > 0.8).astype(int).to_numpy()
    spec = rtml.models.WindowedRandomForest(
        n_estimators=4,
        window=window,
        refit_every=refit_every,
        min_labels=min_labels,
        seed=seed,
        max_samples=max_samples,
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
        want = RandomForestClassifier(
            n_estimators=4, random_state=seed, max_samples=max_samples
        ).fit(rows, y[:fitted_on][-window:])
        expected = want.predict_proba(probe.fillna(0.0).to_numpy())[:, list(want.classes_).index(1)]
        np.testing.assert_array_equal(model.predict_many(probe), expected)


def _deployed(spec, events, labels, numerical):
    """A local backend with empty ``tx`` and ``labels`` datasets shaped like the frames, and
    the forest deployed on them: (backend, tx, labels dataset, deployment)."""
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
    lb = backend.create_dataset("labels", key="id", df=labels.iloc[:0])
    model = backend.deploy(
        "forest",
        spec,
        inputs=rtml.Inputs("tx", numerical=numerical),
        labels=rtml.Labels("labels", field="y"),
    )
    return backend, tx, lb, model


def test_a_deployment_scores_with_the_latest_forest() -> None:
    rng = np.random.default_rng(1)
    n = 600
    events = pd.DataFrame({"id": range(n), "x": rng.normal(size=n)})
    labels = pd.DataFrame({"id": range(n), "y": (events["x"] > 1).astype(int)})
    spec = rtml.models.WindowedRandomForest(
        n_estimators=10, window=300, refit_every=100, min_labels=100
    )
    _, tx, lb, model = _deployed(spec, events, labels, numerical=["x"])
    for lo in range(0, n, 100):
        tx.push(events.iloc[lo : lo + 100])
        lb.push(labels.iloc[lo : lo + 100])
    assert model.evaluate("WindowedAUC", window=300)["value"].iloc[-1] > 0.95
    assert model.predict({"id": n, "x": 3.0})["score"] > 0.5


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 1000), delay=st.integers(-150, 150))
def test_each_labelled_prediction_keeps_the_class_its_output_showed(seed, delay) -> None:
    # A model that learns in batches has its own paths from output to labelled pair: the label
    # waiting for its record (delay < 0) and the record waiting for its label (delay >= 0).
    rng = np.random.default_rng(seed)
    n = 500
    events = pd.DataFrame({"id": range(n), "x": rng.normal(size=n)})
    labels = pd.DataFrame({"id": range(n), "y": (events["x"] > 0.5).astype(int)})
    spec = rtml.models.WindowedRandomForest(
        n_estimators=5, window=200, refit_every=50, min_labels=50
    )
    _, tx, lb, model = _deployed(spec, events, labels, numerical=["x"])
    for lo in range(0, n, 50):  # the label of record k in the push of record k + delay
        due = labels[(labels["id"] + delay).clip(0, n - 1) // 50 == lo // 50]
        if delay < 0 and len(due):
            lb.push(due)
        tx.push(events.iloc[lo : lo + 50])
        if delay >= 0 and len(due):
            lb.push(due)
    shown = model.outputs().set_index("key")["predicted_class"]
    pairs = model.labelled()
    assert len(pairs) == n and pairs["y"].tolist() == labels["y"].tolist()  # in key order
    assert pairs["predicted_class"].tolist() == shown.loc[range(n)].tolist()
    assert set(pairs["predicted_class"]) == {0, 1}  # a forest was fitted, and it differs


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


HOUR = 3600


def _reference_fit(events, window, refit_every, min_labels):
    """What an event-time WindowedRandomForest must have learned from, written record by
    record: (the number of refits, the rows of the latest forest or None, its refit time)."""
    held: list[tuple[int, int]] = []  # (record index, event time in seconds), arrival order
    refits, fitted_on, fitted_at, reached, since = 0, None, None, None, 0
    times, labels = events["ts"].tolist(), events["label"].tolist()

    def refit(at):
        nonlocal held, refits, fitted_on, fitted_at, since
        if isinstance(window, str):
            held = [(i, t) for i, t in held if t >= at - int(window[:-1]) * HOUR]
        chosen = [i for i, _ in held][-window:] if isinstance(window, int) else [i for i, _ in held]
        if len(chosen) >= min_labels and len({labels[i] for i in chosen}) > 1:
            refits, fitted_on, fitted_at, since = refits + 1, chosen, at, 0

    for batch in events["batch"].unique():
        rows = events.index[events["batch"] == batch].tolist()
        for i in rows:
            if isinstance(refit_every, str):
                period = times[i] // (int(refit_every[:-1]) * HOUR)
                if reached is not None and period > reached:
                    refit(period * int(refit_every[:-1]) * HOUR)
                reached = period if reached is None else max(reached, period)
            held.append((i, times[i]))
            since += 1
        if isinstance(refit_every, int) and (fitted_on is None or since >= refit_every):
            refit(max(times[i] for i, _ in held))
    return refits, fitted_on, fitted_at


@settings(max_examples=30, deadline=None)
@given(
    gaps=st.lists(st.integers(0, 2 * HOUR), min_size=1, max_size=200),
    jitter=st.lists(st.integers(0, HOUR), min_size=1, max_size=200),
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=20),
    window=st.one_of(st.integers(5, 80), st.integers(1, 12).map(lambda h: f"{h}h")),
    refit_every=st.one_of(st.integers(1, 60), st.integers(1, 6).map(lambda h: f"{h}h")),
    min_labels=st.integers(1, 30),
    seed=st.integers(0, 100),
    recency=st.one_of(st.none(), st.integers(1, 24)),
)
# A window of many records, where the weights decide the leaves' shares (shrunk examples are
# often too small for that).
@example(
    gaps=[600] * 200,
    jitter=[0],
    sizes=[10],
    window="20h",
    refit_every="1h",
    min_labels=5,
    seed=1,
    recency=3,
)
def test_in_event_time_the_forest_is_sklearns_on_the_records_before_the_boundary(
    gaps, jitter, sizes, window, refit_every, min_labels, seed, recency
) -> None:
    """... and with ``recency``, sklearn's fitted with each record weighted by
    ``exp(-age / recency)``, its age counted back from the refit's time."""
    if isinstance(window, int) and isinstance(refit_every, int):
        refit_every = "1h"  # the count-only schedule has its own property above
    n = len(gaps)
    rng = np.random.default_rng(seed)
    # Labels come roughly in event-time order: a few arrive up to an hour late.
    ts = 1_700_000_000 + np.cumsum(gaps) - np.resize(jitter, n)
    events = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "ts": ts,
            "label": (rng.random(n) < 0.4).astype(int),
            "batch": np.repeat(np.arange(n), np.resize(sizes, n))[:n],
        }
    )
    spec = rtml.models.WindowedRandomForest(
        n_estimators=3,
        window=window,
        refit_every=refit_every,
        time_input="ts",
        min_labels=min_labels,
        seed=seed,
        recency=None if recency is None else f"{recency}h",
        min_samples_leaf=3,  # impure leaves: their scores are weighted shares of the labels
    )
    model = spec.build()
    for _, batch in events.groupby("batch", sort=True):
        model.learn_many(batch[["a", "ts"]], batch["label"].to_numpy())
    refits, fitted_on, fitted_at = _reference_fit(events, window, refit_every, min_labels)
    assert model.refits == refits
    probe = pd.DataFrame({"a": [-1.0, 0.0, 1.5], "ts": [0, 0, 0]})
    if fitted_on is None:
        share = events["label"].mean()
        assert model.predict_many(probe) == pytest.approx([share] * 3)
        return
    ages = fitted_at - events.loc[fitted_on, "ts"].to_numpy()
    weights = None if recency is None else np.exp(-ages / (recency * HOUR))
    want = RandomForestClassifier(n_estimators=3, min_samples_leaf=3, random_state=seed).fit(
        events.loc[fitted_on, ["a"]].to_numpy(),
        events.loc[fitted_on, "label"].to_numpy(),
        sample_weight=weights,
    )
    expected = want.predict_proba(probe[["a"]].to_numpy())[:, list(want.classes_).index(1)]
    np.testing.assert_array_equal(model.predict_many(probe), expected)


@settings(max_examples=40, deadline=None)
@given(
    gaps=st.lists(st.integers(0, HOUR // 2), min_size=20, max_size=200),
    window_hours=st.integers(1, 6),
    period_hours=st.integers(1, 3),
    share=st.floats(0, 1),
    seed=st.integers(0, 100),
)
def test_a_forest_deployed_later_scores_the_same_once_its_window_holds_only_what_it_saw(
    gaps, window_hours, period_hours, share, seed
) -> None:
    """Why ``benchmarks/handbook.py`` may deploy the forest weeks after the stream's start: a
    learner that missed the oldest records fits, at a boundary whose window starts after all
    of them, the forest a learner that saw everything fits."""
    n = len(gaps)
    ts = 1_700_000_000 + np.cumsum(gaps)  # labels in event-time order, at most 30 min apart
    period, window = period_hours * HOUR, window_hours * HOUR
    last_boundary = ts[-1] // period * period
    assume(ts[0] < last_boundary)
    # Missed: some of the records older than the last refit's window.
    missed = int(share * int((ts < last_boundary - window).sum()))
    rng = np.random.default_rng(seed)
    # Alternating labels: with records at most 30 min apart, every window holds both classes.
    frame = pd.DataFrame({"a": rng.normal(size=n), "ts": ts})
    labels = np.arange(n) % 2
    spec = rtml.models.WindowedRandomForest(
        n_estimators=3,
        window=f"{window_hours}h",
        refit_every=f"{period_hours}h",
        time_input="ts",
        min_labels=2,
        seed=seed,
    )
    everything, later = spec.build(), spec.build()
    everything.learn_many(frame, labels)
    later.learn_many(frame.iloc[missed:], labels[missed:])
    assert later.refits >= 1
    assert list(later.labels) == list(everything.labels)
    probe = pd.DataFrame({"a": np.linspace(-2, 2, 9), "ts": 0})
    np.testing.assert_array_equal(later.predict_many(probe), everything.predict_many(probe))


def test_a_deployment_refits_at_midnight_on_datetimes() -> None:
    rng = np.random.default_rng(2)
    n = 2400  # ten days, a record every 6 minutes
    when = pd.Timestamp("2024-03-01") + pd.to_timedelta(np.arange(n) * 6, unit="min")
    events = pd.DataFrame({"id": range(n), "when": when, "x": rng.normal(size=n)})
    labels = pd.DataFrame({"id": range(n), "y": (events["x"] > 1).astype(int)})
    spec = rtml.models.WindowedRandomForest(
        n_estimators=10, window="2d", refit_every="1d", time_input="when", min_labels=100
    )
    backend, tx, lb, model = _deployed(spec, events, labels, numerical=["x", "when"])
    for lo in range(0, n, 120):  # labels a day late: 240 records
        tx.push(events.iloc[lo : lo + 120])
        if lo >= 240:
            lb.push(labels.iloc[lo - 240 : lo - 120])
    learner = backend.deployment("forest").model
    # Labels of the first 9 days (2,160 records) arrived: a refit at each of 8 midnights.
    assert learner.refits == 8
    assert model.evaluate("WindowedAUC", window=500)["value"].iloc[-1] > 0.95
    assert model.predict({"id": n, "when": when[-1], "x": 3.0})["score"] > 0.5


def test_durations_need_a_time_input() -> None:
    with pytest.raises(rtml.SpecError, match="window in event time needs time_input"):
        rtml.models.WindowedRandomForest(window="14d")
    with pytest.raises(rtml.SpecError, match="recency in event time needs time_input"):
        rtml.models.WindowedRandomForest(recency="7d")
    with pytest.raises(rtml.SpecError, match="recency"):
        rtml.models.WindowedRandomForest(recency="0d", time_input="ts")
    with pytest.raises(rtml.SpecError, match="refit_every"):
        rtml.models.WindowedRandomForest(refit_every="2 days", time_input="ts")


def test_a_labelled_record_without_its_time_is_refused_by_name() -> None:
    model = rtml.models.WindowedRandomForest(refit_every="1d", time_input="ts").build()
    frame = pd.DataFrame({"x": [1.0, 2.0], "ts": [1.0, None]})
    with pytest.raises(rtml.SpecError, match="time input 'ts' is missing"):
        model.learn_many(frame, [0, 1])
    with pytest.raises(rtml.SpecError, match="epoch seconds or datetimes"):
        model.learn_many(pd.DataFrame({"x": [1.0], "ts": ["soon"]}), [0])
