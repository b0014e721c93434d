"""A :class:`~rtml.backends.flink.plan.Plan` as a PyFlink DataStream job (PyFlink imported here).

The log holds the job's records in chunks, one per line. At parallelism 1 the whole log is one
stream through every step, a chunk at a time
(:func:`~rtml.backends.flink.plan.through_step`)::

    log file ─ decode ─ step ─ step ... ─ sink

Each step hands on what it does not read and the source records it reads (a later step may
read them too): one subtask per step and first-in first-out channels keep the log order, so no
step waits, and a chunk costs one round trip between the JVM and the Python worker where a
record each cost one (about 0.5 to 0.9 ms per record and step, measured).

At parallelism 2 and more, each chunk is split for each step by bucket of the step's keys
(:func:`~rtml.backends.flink.plan.pieces`)::

    log file ─(p=1)─ decode ─ timestamps ─ split ─ [keyBy bucket ─ step ─ split]... ─ sink

A bucket's records wait in keyed state until the watermark (the log position the source has
passed, which only grows) is past them, then run in ``seq`` order with the state of their
keys. Parallel subtasks can reorder what reaches a step, but never what a step does, so any
parallelism gives the local engine's values.
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
from rtml.backends.flink.placement import bucket_keys, default_max_parallelism
from rtml.backends.flink.plan import (
    SOURCE,
    Piece,
    Plan,
    Record,
    RowStep,
    Step,
    in_log_order,
    pieces,
    through_step,
)

__all__ = ["CHUNK", "run_job", "write_log"]

# Records per line of the log: enough that a round trip to the Python worker is a small share
# of a chunk's work, few enough that a checkpoint barrier (which waits for the chunk in
# flight) is not held up.
CHUNK = 500
# Key buckets per subtask at parallelism 2 and more. Each is placed on its subtask
# (rtml.backends.flink.placement), so even one each spreads the work; a chunk is split into a
# piece per bucket before every step, so more buckets make more, smaller pieces. 1, 2 and 4
# ran 10,000 transactions at parallelism 2 alike here (18.7 to 23.0 s); two leave a subtask
# some room when one bucket's keys are busier than the rest.
BUCKETS_PER_SUBTASK = 2

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
    # A stalled operator (a Python worker that stops answering) holds up every checkpoint's
    # barrier: after three checkpoints in a row expire, the job fails and the restart above
    # runs it again from the last checkpoint. Flink's own timeout (10 minutes) and no
    # tolerance left such a job waiting 10 minutes before each restart. A barrier waits for at
    # most one chunk per step (well under a second, measured), so a minute is ample.
    "execution.checkpointing.timeout": "1 min",
    "execution.checkpointing.tolerable-failed-checkpoints": "2",
}


def _encode(item: list[Record]) -> str:
    """A chunk of records as a line of text: base64 of its pickle, which keeps every
    value's type."""
    return base64.b64encode(pickle.dumps(item, protocol=5)).decode("ascii")


def write_log(records: Iterable[Record], path: Path, chunk: int = CHUNK) -> None:
    """The job's input, written whole before the job starts: ``chunk`` records per line."""
    with open(path, "w") as out:
        every = list(records)
        for lo in range(0, len(every), chunk):
            out.write(_encode(every[lo : lo + chunk]) + "\n")


def _decode(line: str) -> Any:
    return pickle.loads(base64.b64decode(line))


class _LastSeq(TimestampAssigner):
    """A chunk's Flink timestamp is its last record's position in the log, + 1: a watermark
    ``w`` then says that every position below ``w`` has been read."""

    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        # From 1, not 0: after a restore from a checkpoint, an event-time timer registered at
        # 0 never fired (PyFlink 2.3, seen here), and its record was lost.
        return int(value[-1][1]) + 1


class _InBuckets(KeyedProcessFunction):
    """Runs a keyed plan step at parallelism 2 and more on the pieces of one key bucket.

    Pieces from parallel subtasks arrive in any order, so a bucket's records wait until the
    watermark (the log position every upstream subtask has passed) is past them, then run in
    ``seq`` order through the step with the states of the bucket's keys. The bucket's one
    ``ValueState`` holds both: Python state lives in the JVM, and every state touched is
    written back when a bundle ends, one request each. What the step makes goes on split for
    the next step (:func:`~rtml.backends.flink.plan.pieces`).
    """

    def __init__(self, step: Step, after: Step | None, buckets: int) -> None:
        self.step, self.after, self.buckets = step, after, buckets

    def open(self, runtime_context: Any) -> None:
        self.held = runtime_context.get_state(ValueStateDescriptor("held", _PICKLED))

    def process_element(self, piece: Piece, ctx: Any) -> Iterator[Piece]:
        _, waits, records = piece
        if not waits:  # records the step passes on, or a row step's (no state, no order)
            yield from pieces(self.after, through_step(self.step, {}, records), self.buckets)
            return
        held: tuple[dict[Any, Any], list[Record]] = self.held.value() or ({}, [])
        states, waiting = held
        waiting.extend(records)
        self.held.update((states, waiting))
        # A timer at the end of the log chunk of the piece's last record (timestamps are
        # positions + 1, see _LastSeq): the bucket's records of a chunk run together, however
        # many pieces they came in (a timer per piece ran a few records at a time, and
        # the steps after got pieces of one record). It runs every record waiting before it,
        # one whose own timer a restore from a checkpoint lost included (PyFlink 2.3
        # sometimes lost the earliest timer of a key, seen here).
        ctx.timer_service().register_event_time_timer((int(records[-1][1]) // CHUNK + 1) * CHUNK)

    def on_timer(self, timestamp: int, ctx: Any) -> Iterator[Piece]:
        states, waiting = self.held.value()
        ready = sorted((r for r in waiting if int(r[1]) < timestamp), key=lambda r: int(r[1]))
        if not ready:
            return
        made = through_step(self.step, states, ready)
        self.held.update((states, [r for r in waiting if int(r[1]) >= timestamp]))
        yield from pieces(self.after, made, self.buckets)


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
    return _results(stream)


def _results(chunks: DataStream) -> DataStream:
    """What the last step made, in chunks, without the source records handed on with it."""
    results = chunks.map(lambda chunk: [r for r in chunk if r[0] != SOURCE], output_type=_PICKLED)
    return results.filter(lambda chunk: len(chunk) > 0)


def _build_buckets(env: StreamExecutionEnvironment, plan: Plan, log: Path) -> DataStream:
    """Parallelism 2 and more: each step keyed by bucket of its keys, waiting for the
    watermark (see :class:`_InBuckets`); a stream of pieces of what the last step makes."""
    parallelism = env.get_parallelism()
    buckets = BUCKETS_PER_SUBTASK * parallelism
    configured = env.get_max_parallelism()
    most = configured if configured > 0 else default_max_parallelism(parallelism)
    keys = bucket_keys(buckets, parallelism, most)
    steps: list[Step | None] = [*plan.steps, None]
    stream = (
        _read(env, log)
        .map(_decode, output_type=_PICKLED)
        .set_parallelism(1)
        .name("decode")
        .assign_timestamps_and_watermarks(
            WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(_LastSeq())
        )
        .set_parallelism(1)
        .flat_map(lambda chunk, s=steps[0]: pieces(s, chunk, buckets), output_type=_PICKLED)
        .set_parallelism(1)
    )
    for i, step in enumerate(plan.steps):
        keyed = stream.key_by(lambda piece, k=keys: k[piece[0]], key_type=Types.INT())
        stream = keyed.process(_InBuckets(step, steps[i + 1], buckets), output_type=_PICKLED)
        stream = stream.name(f"{type(step).__name__} {i}")
    return _results(stream.map(lambda piece: piece[2], output_type=_PICKLED))


def build(env: StreamExecutionEnvironment, plan: Plan, log: Path) -> DataStream:
    """The job graph of ``plan`` reading ``log`` (a chunk of records per line): the stream of
    chunks of what its last step makes."""
    if env.get_parallelism() == 1:
        return _build_one_stream(env, plan, log)
    return _build_buckets(env, plan, log)


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
                for record in item:
                    found.setdefault((record[0], int(record[1])), record)
    return in_log_order(found.values())


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
    write_log(records, log, CHUNK)
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
