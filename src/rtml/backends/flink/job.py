"""A :class:`~rtml.backends.flink.plan.Plan` as a PyFlink DataStream job (PyFlink imported here).

The job graph, at parallelism 2 and more::

    log file ─(p=1)─ decode ─ timestamps=seq ─┬─ events ─ [keyBy ─ step]... ─ sink
                                              └─ sources ─────┘ (unioned into the join and
                                                 model steps that read them)

Every keyed step holds its key's state in Flink keyed state (pickled) and runs its records in
``seq`` order: a record waits in keyed state until the watermark (the source's position in
the log, which only grows) passes its ``seq``. Parallel subtasks can reorder what reaches a
step, but never what a step does, so any parallelism gives the local engine's values.

At parallelism 1 the whole log is one stream through every step, in chunks of records
(:func:`~rtml.backends.flink.plan.through_step`)::

    log file (a chunk per line) ─ decode ─ step ─ step ... ─ sink

Each step hands on what it does not read and the source records it reads (a later step may
read them too): one subtask per step and first-in first-out channels keep the log order, so no
step waits, and a chunk costs one round trip between the JVM and the Python worker where a
record each cost one (about 0.5 to 0.9 ms per record and step, measured).
"""

from __future__ import annotations

import base64
import pickle
import shutil
import sys
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pyflink.common import Configuration, Types, WatermarkStrategy
from pyflink.common.serialization import Encoder
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import DataStream, KeyedProcessFunction, StreamExecutionEnvironment
from pyflink.datastream.connectors.file_system import FileSink, FileSource, StreamFormat
from pyflink.datastream.state import ValueStateDescriptor

from rtml.backends.flink.failures import job_error
from rtml.backends.flink.plan import (
    ANSWER,
    EVENT,
    LABELLED,
    OUTPUT,
    PROBE,
    SOURCE,
    JoinStep,
    ModelStep,
    Plan,
    Record,
    RowStep,
    Step,
    passes,
    takes,
    through_step,
)

__all__ = ["CHUNK", "run_job", "write_log"]

# Records per element of the one stream at parallelism 1: enough that a round trip to the
# Python worker is a small share of a chunk's work, few enough that a checkpoint barrier
# (which waits for the chunk in flight) is not held up.
CHUNK = 500

_PICKLED = Types.PICKLED_BYTE_ARRAY()
# Python state lives in the JVM: a read missing the worker's cache is a round trip, and what
# a bundle touched is written back at its end, one request per key. Large caches and bundles
# cut both (a bounded job's latency does not matter; its throughput does).
_DEFAULTS = {
    "python.state.cache-size": "100000",
    "python.fn-execution.bundle.size": "1000000",
    "python.fn-execution.bundle.time": "5000",
    # A failure is retried twice from the last checkpoint, then reported.
    "restart-strategy.type": "fixed-delay",
    "restart-strategy.fixed-delay.attempts": "2",
    "restart-strategy.fixed-delay.delay": "500 ms",
    "execution.checkpointing.interval": "1 s",
}


def _encode(item: Record | list[Record]) -> str:
    """A record, or a chunk of them, as a line of text: base64 of its pickle, which keeps every
    value's type."""
    return base64.b64encode(pickle.dumps(item, protocol=5)).decode("ascii")


def write_log(records: Iterable[Record], path: Path, chunk: int | None = None) -> None:
    """The job's input, written whole before the job starts: one record per line, or
    ``chunk`` records per line."""
    with open(path, "w") as out:
        if chunk is None:
            out.writelines(_encode(record) + "\n" for record in records)
            return
        every = list(records)
        for lo in range(0, len(every), chunk):
            out.write(_encode(every[lo : lo + chunk]) + "\n")


def _decode(line: str) -> Any:
    return pickle.loads(base64.b64decode(line))


class _Seq(TimestampAssigner):
    """A record's Flink timestamp is its position in the log: watermarks then say which
    positions every step has received."""

    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        # From 1, not 0: after a restore from a checkpoint, an event-time timer registered at
        # 0 never fired (PyFlink 2.3, seen here), and its record was lost.
        return int(value[1]) + 1


class _InSeqOrder(KeyedProcessFunction):
    """Runs a keyed plan step on its records in ``seq`` order.

    A key's one ``ValueState`` holds the step's state and the records waiting for the
    watermark: Python state lives in the JVM, and every state touched is written back at the
    end of a bundle, one request each (the costliest thing here), so one state, not two.
    """

    def __init__(self, step: Step) -> None:
        self.step = step

    def open(self, runtime_context: Any) -> None:
        self.held = runtime_context.get_state(ValueStateDescriptor("held", _PICKLED))

    def process_element(self, value: Record, ctx: Any) -> Iterator[Record]:
        if passes(self.step, value):
            yield value
            return
        held: tuple[Any, dict[int, Record]] = self.held.value() or (None, {})
        state, waiting = held
        waiting[int(value[1])] = value  # one record per position reaches a key
        self.held.update((state, waiting))
        # The record's timer, and the earliest waiting one's again (Flink keeps one timer per
        # key and time): after a restore from a checkpoint, a key's earliest timer sometimes
        # never fired (PyFlink 2.3, seen here); the next record of the key brings it back.
        timers = ctx.timer_service()
        timers.register_event_time_timer(int(value[1]) + 1)
        timers.register_event_time_timer(min(waiting) + 1)

    def on_timer(self, timestamp: int, ctx: Any) -> Iterator[Record]:
        # Every record the watermark has passed, in log order: one whose timer was lost runs
        # with the next timer of its key.
        state, waiting = self.held.value()
        for seq in sorted(s for s in waiting if s < timestamp):
            state, made = self.step.step(state, waiting.pop(seq))  # type: ignore[union-attr]
            yield from made
        self.held.update((state, waiting))


class _Chunks(KeyedProcessFunction):
    """Runs a plan step on the chunks of the one stream (parallelism 1, one key): its states of
    every key of the step in one ``ValueState``, the Python object kept by the worker's state
    cache and written back when a bundle ends (at each checkpoint, say)."""

    def __init__(self, step: Step) -> None:
        self.step = step

    def open(self, runtime_context: Any) -> None:
        self.held = runtime_context.get_state(ValueStateDescriptor("states", _PICKLED))

    def process_element(self, chunk: list[Record], ctx: Any) -> Iterator[list[Record]]:
        if isinstance(self.step, RowStep):  # no state
            yield self.step.apply_many(chunk)
            return
        states = self.held.value() or {}
        made = through_step(self.step, states, chunk)
        self.held.update(states)
        if made:
            yield made


class _InBatches(KeyedProcessFunction):
    """Runs a row step on batches: records wait in keyed state until the watermark passes the
    first of them, then one query computes all that wait (a query costs about as much for one
    record as for a thousand). Sorted by ``seq``, a batch leaves in log order.
    """

    def __init__(self, step: RowStep) -> None:
        self.step = step

    def open(self, runtime_context: Any) -> None:
        self.waiting = runtime_context.get_state(ValueStateDescriptor("waiting", _PICKLED))

    def process_element(self, value: Record, ctx: Any) -> None:
        waiting: list[Record] = self.waiting.value() or []
        waiting.append(value)
        self.waiting.update(waiting)
        # The earliest waiting record's timer, again with each record (Flink keeps one timer
        # per key and time): one timer per batch, brought back if a restore lost it.
        ctx.timer_service().register_event_time_timer(int(waiting[0][1]) + 1)

    def on_timer(self, timestamp: int, ctx: Any) -> Iterator[Record]:
        waiting: list[Record] = self.waiting.value() or []
        self.waiting.clear()
        yield from self.step.apply_many(sorted(waiting, key=lambda r: int(r[1])))


def _environment(parallelism: int, config: dict[str, str]) -> StreamExecutionEnvironment:
    conf = Configuration()
    # The Python workers must run this interpreter (the one with rtml), not `python` on PATH.
    conf.set_string("python.executable", sys.executable)
    conf.set_string("python.client.executable", sys.executable)
    for name, value in config.items():
        conf.set_string(name, value)
    if conf.get_string("execution.target", "local") == "remote":
        env = _remote_environment(conf)
    else:
        env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(parallelism)
    return env


def _remote_environment(conf: Configuration) -> StreamExecutionEnvironment:
    """An environment submitting to the cluster at ``rest.address``/``rest.port``.

    PyFlink's ``get_execution_environment`` is local unless the program runs under
    ``flink run``; Flink's own constructor honours ``execution.target: remote``. The cluster
    runs Python operators with the flink-python jar, shipped with the job unless configured.
    """
    from pyflink.java_gateway import get_gateway

    conf.set_string("execution.attached", "true")  # execute() returns when the job is done
    if not conf.get_string("pipeline.jars", ""):
        import pyflink

        jar = next((Path(pyflink.__file__).parent / "opt").glob("flink-python-*.jar"))
        conf.set_string("pipeline.jars", jar.as_uri())
    jvm = get_gateway().jvm
    j_env = jvm.org.apache.flink.streaming.api.environment.StreamExecutionEnvironment(
        conf._j_configuration
    )
    return StreamExecutionEnvironment(j_env)


def _key(step: Step, record: Record) -> Any:
    return 0 if passes(step, record) else step.key(record)  # type: ignore[union-attr]


def _keyed(stream: DataStream, step: Step, name: str) -> DataStream:
    keyed = stream.key_by(lambda r, s=step: _key(s, r))
    return keyed.process(_InSeqOrder(step), output_type=_PICKLED).name(name)


def _read(env: StreamExecutionEnvironment, log: Path) -> DataStream:
    source = FileSource.for_record_stream_format(StreamFormat.text_line_format(), str(log)).build()
    return env.from_source(source, WatermarkStrategy.no_watermarks(), "rtml log").set_parallelism(1)


def _build_one_stream(env: StreamExecutionEnvironment, plan: Plan, log: Path) -> DataStream:
    """Parallelism 1: the log, a chunk per line, through every step in order (see
    :func:`write_log`); a stream of chunks of what the last step makes."""
    stream = _read(env, log).map(_decode, output_type=_PICKLED).name("decode")
    for i, step in enumerate(plan.steps):
        keyed = stream.key_by(lambda chunk: 0)
        stream = keyed.process(_Chunks(step), output_type=_PICKLED).name(
            f"{type(step).__name__} {i}"
        )
    results = stream.map(lambda chunk: [r for r in chunk if r[0] != SOURCE], output_type=_PICKLED)
    return results.filter(lambda chunk: len(chunk) > 0)


def build(env: StreamExecutionEnvironment, plan: Plan, log: Path) -> DataStream:
    """The job graph of ``plan`` reading ``log``: the stream of what its last step makes (of
    chunks of it at parallelism 1)."""
    if env.get_parallelism() == 1:
        return _build_one_stream(env, plan, log)
    records = (
        _read(env, log)
        .map(_decode, output_type=_PICKLED)
        .set_parallelism(1)
        .name("decode")
        .assign_timestamps_and_watermarks(
            WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(_Seq())
        )
        .set_parallelism(1)
        .rebalance()  # spread over the job's parallelism: keyed steps restore the log order
    )
    stream = records.filter(lambda r: r[0] in (EVENT, PROBE))
    for i, step in enumerate(plan.steps):
        name = f"{type(step).__name__} {i}"
        if isinstance(step, RowStep):
            # Keys only spread the batches over the subtasks: a row step keeps no state.
            spread = env.get_parallelism()
            keyed = stream.key_by(lambda r, n=spread: int(r[1]) % n)
            stream = keyed.process(_InBatches(step), output_type=_PICKLED).name(name)
            continue
        if isinstance(step, JoinStep | ModelStep):
            wanted = {d for d in (*plan.sources, plan.events) if takes(step, d)}
            if wanted:
                extra = records.filter(lambda r, w=wanted: r[0] == SOURCE and r[2][0] in w)
                stream = stream.union(extra)
        # Two inputs interleave at random, and so do parallel subtasks: the step waits for the
        # watermark.
        stream = _keyed(stream, step, name)
        if isinstance(step, ModelStep):
            stream = stream.set_parallelism(1)  # one model: one key, one subtask
    return stream


def read_results(directory: Path) -> list[Record]:
    """The records a job's file sink committed, each once, in log order.

    A job restarted from a checkpoint writes again what it made after that checkpoint; a
    result is identified by its kind and log position (a step makes at most one of each kind
    per position), so a second copy is the same record and is dropped.
    """
    found: dict[tuple[str, int], Record] = {}
    for part in sorted(directory.rglob("*")):
        if part.is_file() and not part.name.startswith("."):  # "." : uncommitted parts
            for line in part.read_text().splitlines():
                item = _decode(line)
                for record in item if isinstance(item, list) else [item]:  # a chunk, or one
                    found.setdefault((record[0], int(record[1])), record)
    order = {kind: i for i, kind in enumerate((EVENT, OUTPUT, LABELLED, ANSWER))}
    return sorted(found.values(), key=lambda r: (r[1], order.get(r[0], len(order))))


def run_job(
    plan: Plan,
    records: Iterable[Record],
    workdir: Path,
    parallelism: int = 1,
    config: dict[str, str] | None = None,
) -> list[Record]:
    """Run ``plan`` over ``records`` as a Flink job; what its last step made, in log order.

    The results go to a file sink, committed at checkpoints (exactly once with Flink's
    checkpoints, every second by default, stored with the job): the job's own results survive
    a failure and restart of the job, which the job recovers from its last checkpoint.
    """
    job = workdir / uuid.uuid4().hex
    job.mkdir(parents=True)
    log = job / "input.log"
    write_log(records, log, CHUNK if parallelism == 1 else None)
    settings = {
        **_DEFAULTS,
        "execution.checkpointing.dir": (job / "checkpoints").as_uri(),
        **(config or {}),  # the caller's settings win
    }
    try:
        env = _environment(parallelism, settings)
        sink = FileSink.for_row_format(
            str(job / "results"), Encoder.simple_string_encoder()
        ).build()
        build(env, plan, log).map(_encode, output_type=Types.STRING()).sink_to(sink).name("results")
        try:
            env.execute("rtml")
        except Exception as exc:  # py4j's Java exception: the same error as a local run
            raise job_error(str(exc)) from None
        return read_results(job / "results")
    finally:
        shutil.rmtree(job, ignore_errors=True)
