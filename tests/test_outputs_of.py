"""``deployment.outputs_of(keys)``: the stored outputs of those events, as ``outputs()`` holds
them, in the order made; keys of no event, or of another kind than the events' keys, give
nothing (1 is not "1"). On the server, keys travel as text and are read as the events' keys."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import rtml
from rtml.testing.server import running_server


def _scored(backend: rtml.Backend, ids: list[Any], key_type: str) -> Any:
    tx = backend.create_dataset("tx", key="id", schema={"id": key_type, "x": "float"})
    model = backend.deploy("m", rtml.models.GaussianNB(), inputs=rtml.Inputs("tx", numerical=["x"]))
    for lo in range(0, len(ids), 7):
        tx.push([{"id": k, "x": float(i)} for i, k in enumerate(ids[lo : lo + 7], lo)])
    return model


@given(
    text_keys=st.booleans(),
    order=st.permutations(range(20)),
    asked=st.lists(
        st.one_of(st.integers(-2, 25), st.integers(), st.sampled_from(["3", "k3", "k30", "x"]))
    ),
)
def test_the_outputs_of_some_keys_are_those_of_outputs(text_keys, order, asked) -> None:
    ids = [f"k{i}" for i in order] if text_keys else list(order)
    model = _scored(rtml.connect("local", path=":memory:"), ids, "string" if text_keys else "int")
    out = model.outputs()
    same_kind = {k for k in asked if isinstance(k, str) == text_keys}
    want = out[out["key"].isin(same_kind)].reset_index(drop=True)
    # (No rows at all: no column has a type to compare.)
    pd.testing.assert_frame_equal(model.outputs_of(asked), want, check_dtype=not want.empty)


def test_over_http_keys_are_read_as_the_events_keys() -> None:
    with running_server(":memory:") as url:
        client = rtml.connect(url)
        model = _scored(client, ["007", "7", "abc"], "string")
        assert model.outputs_of(["7", "007"])["key"].tolist() == ["007", "7"]
        assert model.outputs_of([7])["key"].tolist() == ["7"]  # sent as text, read as the keys
        assert model.outputs_of([]).empty
        client.close()
    with running_server(":memory:") as url:
        client = rtml.connect(url)
        model = _scored(client, list(range(500)), "int")
        for asked in ([9, 3, 7], list(range(499, 0, -2))):  # one request's keys, and more
            found = model.outputs_of(asked)
            assert found["key"].tolist() == sorted(asked)  # in the order made
            assert found["model_version"].tolist() == [0] * len(asked)
        assert model.outputs_of(["x", 2.5, 2**70, -(10**40)]).empty  # no such keys, no error
        client.close()
