"""Windowed metrics against scikit-learn's batch metric on the same window."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, roc_auc_score

from rtml.metrics import WindowedAccuracy, WindowedAUC

pairs = st.lists(
    st.tuples(
        st.integers(0, 1), st.one_of(st.sampled_from([0.0, 0.5, 1.0, 1e-9, 2e-9]), st.floats(0, 1))
    ),
    min_size=1,
    max_size=300,
)


@given(pairs=pairs, window=st.integers(1, 60))
def test_windowed_auc_is_exact(pairs, window) -> None:
    metric = WindowedAUC(window_size=window)
    for i, (y, s) in enumerate(pairs):
        metric.update(y, s)
        last = pairs[max(0, i + 1 - window) : i + 1]
        ys = [p[0] for p in last]
        if len(set(ys)) < 2:
            assert metric.get() is None
        else:
            assert metric.get() == pytest.approx(roc_auc_score(ys, [p[1] for p in last]), abs=1e-12)


@given(pairs=pairs, window=st.integers(1, 60))
def test_windowed_accuracy(pairs, window) -> None:
    metric = WindowedAccuracy(window_size=window)
    for _i, (y, s) in enumerate(pairs):
        metric.update(y, s)
    last = pairs[-window:]
    assert metric.get() == pytest.approx(
        accuracy_score([p[0] for p in last], [int(p[1] >= 0.5) for p in last])
    )


def test_tiny_fraud_scores_are_not_binned() -> None:
    metric = WindowedAUC(window_size=100)
    for i in range(50):
        metric.update(0, 1e-6 + i * 1e-9)
        metric.update(1, 2e-6 + i * 1e-9)
    assert metric.get() == 1.0
