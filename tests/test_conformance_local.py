"""The local backend runs the backend conformance suite, in memory and on disk."""

from __future__ import annotations

import pytest

import rtml
from rtml.testing.conformance import BackendConformance


class TestLocalInMemory(BackendConformance):
    @pytest.fixture
    def backend(self):
        backend = rtml.connect("local", path=":memory:")
        yield backend
        backend.close()


class TestLocalOnDisk(BackendConformance):
    @pytest.fixture
    def backend(self, tmp_path):
        backend = rtml.connect("local", path=str(tmp_path / "store"))
        yield backend
        backend.close()
        # and everything is still there for the next process
        rtml.connect("local", path=str(tmp_path / "store")).close()
