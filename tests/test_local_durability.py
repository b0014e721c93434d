"""The durable local store: reopened by other processes, owned by one, exactly once after kills."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import rtml

from .programs import crash_worker

WORKER = Path(__file__).parent / "programs" / "crash_worker.py"
PYTHON = sys.executable


def python(code: str, store: Path) -> str:
    result = subprocess.run(
        [PYTHON, "-c", code, str(store)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_seed_workflow_in_four_processes(tmp_path) -> None:
    store = tmp_path / "store"
    prelude = "import sys, rtml, pandas as pd\nb = rtml.connect('local', path=sys.argv[1])\n"
    python(
        prelude
        + """
b.create_dataset('tx', key='id', schema={'id': 'int', 'card': 'string', 'ts': 'int', 'x': 'float'})
b.create_dataset('labels', key='id', schema={'id': 'int', 'y': 'int'})
b.materialize(rtml.FeatureSet(name='f', dataset='tx', timestamp='ts', features=[
    rtml.features.Aggregate('x_sum', column='x', op='sum', by='card', window='1h')]))
b.close()""",
        store,
    )
    python(
        prelude
        + """
b.deploy('m', rtml.models.LogisticRegression(), inputs=rtml.Inputs('f', numerical=['x', 'x_sum']),
         labels=rtml.Labels('labels', field='y'))
b.close()""",
        store,
    )
    python(
        prelude
        + """
for i in range(0, 400, 40):
    b.dataset('tx').push([{'id': j, 'card': 'c%d' % (j % 3), 'ts': j * 60, 'x': float(j % 7)}
                          for j in range(i, i + 40)])
    b.dataset('labels').push([{'id': j, 'y': int(j % 7 > 4)} for j in range(i, i + 40)])
b.close()""",
        store,
    )
    out = python(
        prelude
        + """
d = b.deployment('m')
print(len(d.outputs()), len(b.features('f')), len(b.dataset('tx')),
      round(d.evaluate('WindowedAUC', window=200)['value'].iloc[-1], 3))
b.close()""",
        store,
    )
    outputs, feature_rows, records, auc = out.split()
    assert (int(outputs), int(feature_rows), int(records)) == (400, 400, 400)
    assert float(auc) > 0.9


def test_a_second_writer_gets_a_clear_error(tmp_path) -> None:
    store = tmp_path / "store"
    owner = rtml.connect("local", path=str(store))
    try:
        code = "import sys, rtml\ntry:\n    rtml.connect('local', path=sys.argv[1])\nexcept rtml.RtmlError as e:\n    print(e)"
        message = python(code, store)
        assert "one process owns a store" in message and "rtml serve" in message
        assert f"process {os.getpid()}" in message
    finally:
        owner.close()
    rtml.connect("local", path=str(store)).close()  # free again once closed


def test_reopening_restores_models_windows_and_pending_joins(tmp_path) -> None:
    store = str(tmp_path / "store")
    events, labels = crash_worker.data()
    backend = rtml.connect("local", path=store, checkpoint_every=250)
    crash_worker.setup(backend, events, labels)
    backend.dataset("tx").push(events.iloc[:1500])
    backend.dataset("labels").push(labels.iloc[:1000])
    backend.close()
    reopened = rtml.connect("local", path=store)
    reopened.dataset("tx").push(events.iloc[1500:])
    reopened.dataset("labels").push(labels.iloc[1000:])
    memory = rtml.connect("local", path=":memory:")
    crash_worker.setup(memory, events, labels)
    for frames in (
        (events.iloc[:1500], labels.iloc[:1000]),
        (events.iloc[1500:], labels.iloc[1000:]),
    ):
        memory.dataset("tx").push(frames[0])
        memory.dataset("labels").push(frames[1])
    pd.testing.assert_frame_equal(reopened.features("f"), memory.features("f"))
    pd.testing.assert_frame_equal(
        reopened.deployment("model").outputs(), memory.deployment("model").outputs()
    )
    reopened.close()


def test_a_store_from_before_pairs_kept_their_class_reopens_and_goes_on(tmp_path) -> None:
    # Until commit 63210cc, rtml stored labelled pairs as (y, score) and kept pending inputs as
    # (features, score): such a store gains the column and goes on with the same figures.
    import duckdb

    from rtml.backends.local.store import Store

    store = tmp_path / "store"
    events, labels = crash_worker.data()
    backend = rtml.connect("local", path=str(store))
    crash_worker.setup(backend, events, labels)
    backend.dataset("tx").push(events.iloc[:1500])
    backend.dataset("labels").push(labels.iloc[:1000])
    backend.close()
    with duckdb.connect(str(store / "rtml.duckdb")) as con:  # the old table: no class
        con.execute('ALTER TABLE "lab__model" DROP COLUMN predicted_class')
        con.execute('ALTER TABLE "lab__model" DROP COLUMN key')  # nor the key (until 2026-12)
    old = Store(str(store))
    checkpoint = old.read_checkpoint()
    pending = checkpoint["deployments"]["model"]["pending_x"]
    checkpoint["deployments"]["model"]["pending_x"] = type(pending)(
        (k, (x, score)) for k, (x, score, _) in pending.items()
    )
    old.write_checkpoint(checkpoint)
    old.close()
    assert pending  # inputs were waiting for their labels at the close
    reopened = rtml.connect("local", path=str(store))
    before = len(reopened.deployment("model").labelled())
    reopened.dataset("tx").push(events.iloc[1500:])
    reopened.dataset("labels").push(labels.iloc[1000:])
    memory = rtml.connect("local", path=":memory:")
    crash_worker.setup(memory, events, labels)
    for tx, lb in (
        (events.iloc[:1500], labels.iloc[:1000]),
        (events.iloc[1500:], labels.iloc[1000:]),
    ):
        memory.dataset("tx").push(tx)
        memory.dataset("labels").push(lb)
    got, want = reopened.deployment("model").labelled(), memory.deployment("model").labelled()
    pd.testing.assert_frame_equal(got[["y", "score"]], want[["y", "score"]])
    assert got["predicted_class"][:before].isna().all()  # stored without one
    later = got["predicted_class"][before:]
    unknown = later.isna()
    assert unknown.sum() <= len(pending)  # only inputs that waited across the close lack it
    assert (later[~unknown] == want["predicted_class"][before:][~unknown]).all()
    assert (~unknown).sum() > 0
    assert got["key"][:before].isna().all()
    assert got["key"][before:].tolist() == want["key"][before:].tolist()
    # Pairs without keys cannot be matched by event: compared by their count, as before.
    comparison = rtml.compare([reopened.deployment("model")], window=200)
    assert not comparison.by_event
    want_auc = memory.deployment("model").evaluate("WindowedAUC", window=200)["value"].tolist()
    assert len(want_auc) == len(got)
    assert comparison.table["model"].tolist() == pytest.approx(want_auc, nan_ok=True)
    for metric in ("WindowedAUC", "WindowedAccuracy"):
        pd.testing.assert_frame_equal(
            reopened.deployment("model").evaluate(metric, window=200),
            memory.deployment("model").evaluate(metric, window=200),
        )
    reopened.close()


def uninterrupted(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    backend = rtml.connect("local", path=":memory:")
    crash_worker.run(backend, seed)
    model = backend.deployment("model")
    return backend.features("f"), model.outputs(), model.labelled(), monitored(backend)


def monitored(backend) -> dict:
    """Each drift monitor's status and the changes it found."""
    return {
        name: (backend.monitor(name).status(), backend.monitor(name).changes())
        for name in backend.monitors()
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kill_9_at_random_moments_loses_nothing_and_doubles_nothing(tmp_path, seed) -> None:
    store = tmp_path / "store"
    rng = random.Random(seed)
    kills = 0
    for attempt in range(60):
        child = subprocess.Popen(
            [PYTHON, str(WORKER), str(store), str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        first = child.stdout.readline()  # the worker has imported rtml, or has died
        try:
            # Mostly shorter than a whole run (2 to 4 s after the import on 2 cores, as busy as
            # the machine is), so most runs are killed somewhere: opening, recovering, pushing
            # or checkpointing. The limit grows so that a loaded machine still ends the run (it
            # once failed to in 60 attempts, with a benchmark running beside the suite).
            out, err = child.communicate(timeout=rng.uniform(0.05, 1.5) + 0.1 * attempt)
            out = first + out
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.communicate()
            kills += 1
            continue
        assert child.returncode == 0, err
        assert "done" in out
        break
    else:
        pytest.fail("the worker never finished")
    assert kills >= 1, "the test must kill the worker at least once"
    features, outputs, labelled, monitors = uninterrupted(seed)
    backend = rtml.connect("local", path=str(store))
    try:
        got = backend.features("f")
        assert got["id"].is_unique and len(got) == crash_worker.N
        pd.testing.assert_frame_equal(got, features)
        model = backend.deployment("model")
        pd.testing.assert_frame_equal(model.outputs(), outputs)
        pd.testing.assert_frame_equal(model.labelled(), labelled)
        got_monitors = monitored(backend)
        assert set(got_monitors) == {m.name for m in crash_worker.MONITORS}
        for name, (status, changes) in monitors.items():
            assert got_monitors[name][0] == status, name
            pd.testing.assert_frame_equal(got_monitors[name][1], changes, check_dtype=False)
    finally:
        backend.close()


def test_output_retention_keeps_the_latest_outputs(tmp_path) -> None:
    events, labels = crash_worker.data()
    backend = rtml.connect("local", path=str(tmp_path / "s"), output_retention=500)
    crash_worker.setup(backend, events, labels)
    for lo in range(0, 3000, 300):
        backend.dataset("labels").push(labels.iloc[lo : lo + 300])
        backend.dataset("tx").push(events.iloc[lo : lo + 300])
    model = backend.deployment("model")
    assert model.outputs()["key"].tolist() == list(range(2500, 3000))
    assert len(model.labelled()) == 500
    backend.close()


def test_a_process_dying_between_a_watch_and_its_checkpoint_loses_no_monitor(tmp_path) -> None:
    """The one moment a monitor is rebuilt from the log rather than its checkpoint: the watch
    is committed, then the process dies before checkpointing. Reopening replays the watch,
    which reads the stored rows again; the monitor must end as if nothing had happened."""
    store = tmp_path / "store"
    code = """
import os, sys
import rtml
from tests.programs import crash_worker
backend = rtml.connect("local", path=sys.argv[1], checkpoint_every=400)
events, labels = crash_worker.data(0)
crash_worker.setup(backend, events, labels)
for name, lo, hi in crash_worker.plan(0)[:40]:
    frames = {"tx": events, "labels": labels}
    backend.dataset(name).push(frames[name].iloc[lo:hi])
backend.checkpoint = lambda: os._exit(3)  # die right after the watch is committed
backend.watch(crash_worker.MONITORS[2])
"""
    result = subprocess.run(
        [PYTHON, "-c", code, str(store)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parent.parent,
    )
    assert result.returncode == 3, result.stderr
    reopened = rtml.connect("local", path=str(store))
    memory = rtml.connect("local", path=":memory:")
    events, labels = crash_worker.data(0)
    crash_worker.setup(memory, events, labels)
    frames = {"tx": events, "labels": labels}
    for name, lo, hi in crash_worker.plan(0)[:40]:
        memory.dataset(name).push(frames[name].iloc[lo:hi])
    memory.watch(crash_worker.MONITORS[2])
    try:
        for backend in (reopened, memory):  # then more pushes, to both
            for name, lo, hi in crash_worker.plan(0)[40:80]:
                backend.dataset(name).push(frames[name].iloc[lo:hi])
        got, want = monitored(reopened), monitored(memory)
        assert list(got) == ["scores"] and got["scores"][0] == want["scores"][0]
        assert got["scores"][0]["records"] > 0
        pd.testing.assert_frame_equal(got["scores"][1], want["scores"][1], check_dtype=False)
    finally:
        reopened.close()
        memory.close()
