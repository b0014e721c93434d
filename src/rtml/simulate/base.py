"""``Simulator``: something that pushes records into a backend as a live stream."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from rtml.backends.base import Backend

__all__ = ["SimulationResult", "Simulator"]


@dataclass
class SimulationResult:
    """What a run pushed: records accepted per dataset, the position to resume from, and the
    records set aside as dead letters per dataset (a run with ``on_error="dead_letter"``).

    >>> SimulationResult(pushed={"tx": 10}, position=10)
    SimulationResult(pushed={'tx': 10}, position=10, finished=False, set_aside={})
    """

    pushed: dict[str, int] = field(default_factory=dict)
    position: int = 0
    finished: bool = False
    set_aside: dict[str, int] = field(default_factory=dict)


class Simulator(ABC):
    """Base of simulators: :meth:`run` pushes batches into a backend's datasets.

    A subclass takes its own options as keyword-only arguments of :meth:`run`, so that a
    misspelt option is an error rather than ignored.

    >>> import rtml
    >>> class Countdown(Simulator):
    ...     def run(self, backend):
    ...         ds = backend.dataset("ticks")
    ...         n = ds.push([{"id": i} for i in range(3)])
    ...         return SimulationResult(pushed={"ticks": n}, position=n, finished=True)
    >>> backend = rtml.connect("local", path=":memory:")
    >>> _ = backend.create_dataset("ticks", key="id", schema={"id": "int"})
    >>> Countdown().run(backend).pushed
    {'ticks': 3}
    """

    @abstractmethod
    def run(self, backend: Backend) -> SimulationResult:
        """Push records into ``backend`` until done (or a limit); resumable where supported."""
