"""The HTTP client, talking to a real ``rtml serve`` server, runs the backend conformance suite:
the same interface as the local engine, over the wire."""

from __future__ import annotations

import pytest

import rtml
from rtml.testing.conformance import BackendConformance
from rtml.testing.server import running_server


class TestHttpClient(BackendConformance):
    @pytest.fixture
    def backend(self):
        with running_server(":memory:", api_key="secret") as url:
            backend = rtml.connect(url, api_key="secret")
            yield backend
            backend.close()


class TestHttpClientOnDisk(BackendConformance):
    @pytest.fixture
    def backend(self, tmp_path):
        with running_server(str(tmp_path / "store")) as url:
            backend = rtml.connect(url)
            yield backend
            backend.close()
        # the server released the store when it stopped
        rtml.connect("local", path=str(tmp_path / "store")).close()
