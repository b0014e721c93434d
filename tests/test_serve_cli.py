"""``rtml serve`` as a user starts it: a separate process owning the store, with an API key."""

from __future__ import annotations

import signal
import socket

import pandas as pd
import pytest

import rtml
from rtml.testing.server import serve_process


@pytest.fixture
def server(tmp_path):
    store = str(tmp_path / "store")
    with serve_process(store, api_key="from-the-environment") as (url, process):
        yield url, store, process


def test_a_server_owns_its_store_and_hands_it_back(server):
    url, store, process = server
    with pytest.raises(rtml.RtmlError, match="API key"):
        rtml.connect(url, api_key="guess")
    client = rtml.connect(url, api_key="from-the-environment")
    frame = pd.DataFrame({"id": [1, 2], "amount": [1.5, 2.5]})
    client.create_dataset("tx", key="id", df=frame)
    assert client.dataset("tx").push([{"id": 3, "amount": 4.0}]) == 1
    # While it runs, nobody else opens the store; the refusal says to go through the server.
    with pytest.raises(rtml.RtmlError, match="rtml serve"):
        rtml.connect("local", path=store)
    process.send_signal(signal.SIGINT)  # Ctrl-C: the server checkpoints and lets the store go
    assert process.wait(30) == 0
    with rtml.connect("local", path=store) as local:
        assert local.dataset("tx").to_pandas()["amount"].tolist() == [1.5, 2.5, 4.0]


def test_the_server_binds_loopback_by_default(server):
    url, _, _ = server
    assert url.startswith("http://127.0.0.1:")
    port = int(url.rsplit(":", 1)[1])
    addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), port)}
    outside = [a for a in addresses if not a.startswith("127.") and a != "::1"]
    for address in outside:  # an interface other than loopback gets no answer
        with pytest.raises(OSError), socket.create_connection((address, port), timeout=2):
            pass
