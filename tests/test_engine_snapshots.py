"""Checkpoints written by earlier versions of the engine restore and go on identically."""

from __future__ import annotations

import pandas as pd
import pytest

import rtml
from tests.old_snapshot import SNAPSHOT, feature_set, feed, split, stream


@pytest.mark.parametrize("vectorize_from", [1, 10**9], ids=["vectorised", "record by record"])
def test_a_checkpoint_from_commit_c3af9ce_goes_on_as_if_never_closed(vectorize_from) -> None:
    log = stream()
    cut = split(log)
    whole = rtml.features.FeatureEngine(feature_set(), key="id", vectorize_from=vectorize_from)
    want = feed(whole, log)
    restored = rtml.features.FeatureEngine(feature_set(), key="id", vectorize_from=vectorize_from)
    restored.restore(SNAPSHOT.read_bytes())
    got = feed(restored, log[cut:])
    assert len(got) == 6  # the batches after the snapshot
    pd.testing.assert_frame_equal(
        pd.concat(got, ignore_index=True), pd.concat(want[-len(got) :], ignore_index=True)
    )
    assert restored.state_size() == whole.state_size()
