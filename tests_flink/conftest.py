"""The Flink suite: runs on PyFlink's local mini-cluster (``pip install ".[flink]"``, Java 17).

Flink's Python workers are processes started by the JVM; functions defined in these tests (a
UDF, say) are imported there by module name, so the repository root goes on their PYTHONPATH
before the JVM starts (an installed package of yours needs nothing of the kind).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH", "")) if p)

settings.register_profile(
    "flink", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=6
)
# The same examples on every CI run, as in tests/conftest.py.
settings.register_profile("ci", settings.get_profile("flink"), derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("RTML_HYPOTHESIS") == "ci" else "flink")


@pytest.fixture(scope="session")
def standalone_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Flink cluster of its own processes (a JobManager and a TaskManager, started with the
    scripts in PyFlink's wheel), on free ports: ``host:port`` of its REST endpoint."""
    import pyflink

    from rtml.testing.server import free_port

    home = tmp_path_factory.mktemp("flink-cluster")
    rest, rpc = free_port(), free_port()
    (home / "config.yaml").write_text(
        "\n".join(
            [
                "jobmanager.rpc.address: localhost",
                f"jobmanager.rpc.port: {rpc}",
                "jobmanager.bind-host: localhost",
                "jobmanager.memory.process.size: 1024m",
                "taskmanager.bind-host: localhost",
                "taskmanager.host: localhost",
                "taskmanager.numberOfTaskSlots: 4",
                "taskmanager.memory.process.size: 2048m",
                "rest.address: localhost",
                f"rest.port: {rest}",
                f"env.pid.dir: {home}",
                f"env.log.dir: {home}",
            ]
        )
        + "\n"
    )
    scripts = Path(pyflink.__file__).parent / "bin"
    env = {**os.environ, "FLINK_CONF_DIR": str(home), "FLINK_LOG_DIR": str(home)}
    for script in ("jobmanager.sh", "taskmanager.sh"):
        subprocess.run(["bash", str(scripts / script), "start"], env=env, check=True)
    try:
        deadline = time.monotonic() + 60
        while True:  # ready when the TaskManager has registered its slots
            try:
                with urllib.request.urlopen(f"http://localhost:{rest}/overview") as answer:
                    if json.loads(answer.read())["slots-total"] > 0:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the Flink cluster did not start in 60 s"
            time.sleep(0.5)
        yield f"localhost:{rest}"
    finally:
        for script in ("taskmanager.sh", "jobmanager.sh"):
            subprocess.run(["bash", str(scripts / script), "stop"], env=env, check=False)
