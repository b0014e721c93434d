"""Shared fixtures: a fresh in-memory backend, and a plugin registry reset around each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

import rtml

settings.register_profile(
    "rtml", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60
)
settings.load_profile("rtml")


@pytest.fixture
def backend() -> rtml.Backend:
    return rtml.connect("local", path=":memory:")


@pytest.fixture
def fresh_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Plugins loaded anew for the test (environment switches re-read), and again after it."""
    rtml.plugins.reset()
    yield
    monkeypatch.undo()
    rtml.plugins.reset()
