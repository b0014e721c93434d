"""What a store holds and what SQL features compute do not depend on the machine's time zone:
timestamps with a zone are stored, looked up and read in UTC."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Run in a child process, whose time zone is set before DuckDB starts.
SCRIPT = """
import json, sys
import pandas as pd
import rtml

backend = rtml.connect("local", path=sys.argv[1])
tx = backend.create_dataset("tx", key="ts", schema={"ts": "timestamp", "x": "float"})
fs = rtml.FeatureSet(
    name="f", dataset="tx", timestamp="ts",
    features=[rtml.features.SQL("hour", "extract(hour FROM ts)")],
)
backend.materialize(fs)
paris = pd.Timestamp("2024-01-01 10:00", tz="Europe/Paris")  # 09:00 UTC
tx.push([{"ts": paris, "x": 1.0}])
try:
    tx.push([{"ts": paris, "x": 2.0}])
    again = "accepted"
except rtml.SchemaError as exc:
    again = str(exc)
stored = tx.to_pandas()["ts"].tolist()
print(json.dumps({
    "stored": [str(t) for t in stored],
    "again": again,
    "hour": backend.features("f")["hour"].tolist(),
    "rows": len(tx),
}))
backend.close()
"""


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York"])
def test_a_zoned_timestamp_is_stored_in_utc_whatever_the_machine_zone(tmp_path, zone) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "store")],
        env={**os.environ, "TZ": zone},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["stored"] == ["2024-01-01 09:00:00"]
    assert seen["hour"] == [9]
    # The same instant pushed again is a key already stored, refused by name and row.
    assert "row 0, field 'ts': key" in seen["again"] and "already in the dataset" in seen["again"]
    assert seen["rows"] == 1
