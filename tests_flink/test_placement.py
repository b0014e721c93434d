"""Key placement on the installed Flink: the subtask that runs each int key of a keyed stream
is the one :mod:`rtml.backends.flink.placement` computes, so a job's buckets spread evenly."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from pyflink.common import Configuration, Types
from pyflink.datastream import KeyedProcessFunction, StreamExecutionEnvironment

from rtml.backends.flink.placement import bucket_keys, default_max_parallelism, subtask_of


class WhereItRuns(KeyedProcessFunction):
    """Each key with the index of the subtask that runs it."""

    def open(self, runtime_context: Any) -> None:
        self.subtask = runtime_context.get_index_of_this_subtask()

    def process_element(self, value: int, ctx: Any) -> Iterator[tuple[int, int]]:
        yield value, self.subtask


@pytest.mark.parametrize(("parallelism", "configured"), [(2, None), (3, None), (2, 256)])
def test_each_key_runs_on_the_subtask_computed_for_it(parallelism, configured) -> None:
    conf = Configuration()
    conf.set_string("python.executable", sys.executable)
    if configured is not None:
        conf.set_string("pipeline.max-parallelism", str(configured))
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(parallelism)
    # What a job reads to place its buckets: the configured maximum, else none (-1).
    assert env.get_max_parallelism() == (configured or -1)
    most = configured or default_max_parallelism(parallelism)
    chosen = bucket_keys(parallelism, parallelism, most)
    keys = sorted({*range(48), *chosen})
    stream = env.from_collection(keys, type_info=Types.INT()).key_by(
        lambda k: k, key_type=Types.INT()
    )
    ran = stream.process(
        WhereItRuns(), output_type=Types.TUPLE([Types.INT(), Types.INT()])
    ).execute_and_collect()
    where = dict(ran)
    assert where == {k: subtask_of(k, parallelism, most) for k in keys}
    # Every subtask gets its bucket.
    assert sorted(where[k] for k in chosen) == list(range(parallelism))
