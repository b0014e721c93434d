"""Simulators: replay history, or generate data, as a live stream.

>>> from rtml.simulate import ReplaySimulator, Simulator
>>> issubclass(ReplaySimulator, Simulator)
True
"""

from rtml.simulate.base import SimulationResult, Simulator
from rtml.simulate.replay import ReplaySimulator
from rtml.simulate.synthetic import SyntheticFraudSimulator

__all__ = ["ReplaySimulator", "SimulationResult", "Simulator", "SyntheticFraudSimulator"]
