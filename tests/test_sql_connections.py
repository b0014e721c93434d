"""The per-thread DuckDB connections of SQL features: closed so that a process exits cleanly.

A server's worker thread evaluated a SQL feature, kept its connection in a thread-local, and
destroyed it as the thread ended at shutdown: DuckDB then aborted the whole process
("terminate called without an active exception", exit code 134), after a run that had
otherwise succeeded.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pandas as pd

import rtml
from rtml.features import sql_eval

SERVED = textwrap.dedent(
    """
    import rtml
    from rtml.testing.server import running_server

    with running_server(":memory:") as url:
        backend = rtml.connect(url)
        tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float", "t": "float"})
        tx.push([{"id": 1, "x": 1.0, "t": 1.0}])
        backend.materialize(rtml.FeatureSet(name="f", dataset="tx", timestamp="t",
                                            features=[rtml.features.SQL("d", '"x" * 2')]))
        assert backend.features("f")["d"].tolist() == [2.0]
        backend.close()
    print("done")
    """
)


def test_a_process_that_served_sql_features_exits_cleanly() -> None:
    for _ in range(2):  # it aborted on almost every run
        done = subprocess.run(
            [sys.executable, "-c", SERVED], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == "done" and "terminate called" not in done.stderr


def test_finished_threads_do_not_keep_their_connections() -> None:
    def evaluate() -> None:
        values = sql_eval.evaluate_sql([rtml.features.SQL("d", '"x" * 2')], frame)
        assert values[0].tolist() == [2.0]

    frame = pd.DataFrame({"x": [1.0]})
    for _ in range(30):
        thread = threading.Thread(target=evaluate)
        thread.start()
        thread.join()
    evaluate()  # this thread's connection closes the finished ones' (at most one is left)
    held = [thread for thread, _ in sql_eval._opened]
    assert sum(not t.is_alive() for t in held) <= 1
    assert len(held) <= threading.active_count() + 1
