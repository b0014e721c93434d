"""A label stored before the deploy whose event is not stored yet waits for its event, as a
label pushed before its event does after the deploy: the model learns it and is evaluated on
it when the event comes (local engine in memory and on disk across a reopen, and the server)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtml
from rtml.testing.server import running_server
from tests.labels_before_deploy import (
    assert_an_unlearnable_waiting_label_refuses_the_deploy,
    live_records,
    run,
)

WHEN_EVENT = st.sampled_from(["before", "after"])
WHEN_LABEL = st.sampled_from(["before", "after", "never"])


@st.composite
def plans(draw):
    plan = draw(st.lists(st.tuples(WHEN_EVENT, WHEN_LABEL), min_size=1, max_size=25))
    return plan, draw(st.permutations(live_records(plan)))


@settings(max_examples=40)
@given(planned=plans(), pretrain=st.booleans())
def test_every_event_after_the_deploy_is_learned_once_whenever_its_label_came(
    planned, pretrain
) -> None:
    """Labels stored before the deploy, after it, before or after their events: each event
    pushed after the deploy that has a label is learned and evaluated exactly once; events
    stored before it never are (they are history, learned by ``pretrain`` alone)."""
    plan, order = planned
    backend = rtml.connect("local", path=":memory:")
    model, learned = run(backend, plan, order, pretrain=pretrain)
    labelled = model.labelled()
    assert sorted(labelled["key"].tolist()) == sorted(learned)
    assert labelled["y"].tolist() == [int(k % 3 == 0) for k in labelled["key"].tolist()]
    assert len(model.outputs()) == sum(e == "after" for e, _ in plan)


@pytest.mark.parametrize("checkpoint", ["kept", "lost"])
def test_labels_waiting_at_the_deploy_survive_a_reopen(tmp_path, checkpoint) -> None:
    """The waiting labels are part of the deployment's state: a store closed after the deploy
    and opened again still learns them when their events come, whether it restores them from
    its checkpoint or, the checkpoint lost (a crash before the first), replays the deploy."""
    plan = [("after", "before")] * 6 + [("before", "before"), ("after", "after")]
    path = str(tmp_path / "store")
    first = rtml.connect("local", path=path)

    def reopen():
        first.close()
        if checkpoint == "lost":
            (tmp_path / "store" / "checkpoint.pkl").unlink()
        return rtml.connect("local", path=path)

    model, learned = run(first, plan, live_records(plan), reopen=reopen)
    assert sorted(model.labelled()["key"].tolist()) == sorted(learned) == [0, 1, 2, 3, 4, 5, 7]
    in_memory, _ = run(rtml.connect("local", path=":memory:"), plan, live_records(plan))
    pd.testing.assert_frame_equal(model.outputs(), in_memory.outputs())


def test_the_server_learns_labels_waiting_at_the_deploy() -> None:
    plan = [("after", "before"), ("after", "never"), ("before", "before"), ("after", "after")]
    local, learned = run(rtml.connect("local", path=":memory:"), plan, live_records(plan))
    with running_server(":memory:") as url, rtml.connect(url) as client:
        served, _ = run(client, plan, live_records(plan))
        evaluated = served.evaluate("WindowedAccuracy", window=10)
    assert len(evaluated) == len(learned) == 2
    pd.testing.assert_frame_equal(evaluated, local.evaluate("WindowedAccuracy", window=10))


def test_a_waiting_label_the_model_cannot_learn_refuses_the_deploy() -> None:
    assert_an_unlearnable_waiting_label_refuses_the_deploy(rtml.connect("local", path=":memory:"))
