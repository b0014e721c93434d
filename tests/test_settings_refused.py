"""Settings that cannot mean anything are refused by name when they are given, not met later
as a raw TypeError, a quiet checkpoint at every push, or an OS error about a file."""

from __future__ import annotations

import pandas as pd
import pytest

import rtml
from rtml.metrics import WindowedAUC


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"checkpoint_every": 0}, "checkpoint_every must be a whole number of records >= 1"),
        ({"checkpoint_every": 2.5}, "checkpoint_every must be a whole number"),
        ({"output_retention": 0}, "output_retention must be None or a whole number >= 1"),
        ({"output_retention": 2.5}, "output_retention must be None or a whole number >= 1"),
    ],
)
def test_local_settings_are_refused_by_name(settings, named) -> None:
    with pytest.raises(ValueError, match=named):
        rtml.connect("local", path=":memory:", **settings)


def test_a_store_path_that_is_a_file_is_refused_and_left_alone(tmp_path) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    with pytest.raises(rtml.errors.RtmlError, match="is a file: a store is a directory"):
        rtml.connect("local", path=str(taken))
    assert taken.read_text() == "mine"


@pytest.mark.parametrize("source", ["frame", "csv"])
@pytest.mark.parametrize(
    ("batch_size", "start", "named"),
    [
        (0, 0, "batch_size must be a whole number >= 1, got 0"),
        (2.5, 0, "batch_size must be a whole number >= 1, got 2.5"),
        (True, 0, "batch_size must be a whole number >= 1, got True"),
        (10, -1, "start must be a whole number >= 0"),
    ],
)
def test_source_batching_is_refused_by_name(tmp_path, source, batch_size, start, named) -> None:
    frame = pd.DataFrame({"id": range(5)})
    if source == "csv":
        frame.to_csv(tmp_path / "f.csv", index=False)
        reader = rtml.sources.FileSource(str(tmp_path / "f.csv"))
    else:
        reader = rtml.sources.DataFrameSource(frame)
    with pytest.raises(ValueError, match=named):
        next(iter(reader.batches(batch_size=batch_size, start=start)))


@pytest.mark.parametrize("window", [0, 2.5, True])
def test_a_metric_window_is_a_whole_number(window) -> None:
    with pytest.raises(ValueError, match="window_size must be a whole number >= 1"):
        WindowedAUC(window_size=window)
