"""Shared fixtures: a fresh in-memory backend, and a plugin registry reset around each test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

import rtml

settings.register_profile(
    "rtml", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60
)
# CI (.ci/run sets RTML_HYPOTHESIS=ci) tries the same examples on every run, so that a change
# lands or fails on its own code; runs elsewhere draw new examples and keep looking for bugs.
settings.register_profile("ci", settings.get_profile("rtml"), derandomize=True, database=None)
settings.load_profile(os.environ.get("RTML_HYPOTHESIS", "rtml"))


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
