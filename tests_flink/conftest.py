"""The Flink suite: runs on PyFlink's local mini-cluster (``pip install ".[flink]"``, Java 17).

Flink's Python workers are processes started by the JVM; functions defined in these tests (a
UDF, say) are imported there by module name, so the repository root goes on their PYTHONPATH
before the JVM starts (an installed package of yours needs nothing of the kind).
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

ROOT = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH", "")) if p)

settings.register_profile(
    "flink", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=6
)
settings.load_profile("flink")
