"""rtml: real-time machine-learning systems in a few lines of Python.

>>> import rtml
>>> backend = rtml.connect("local", path=":memory:")
>>> {"aggregate", "sql", "udaf", "udf"} <= set(rtml.plugins.registry().features)
True
"""

from rtml import drift, features, metrics, models, plugins, simulate, sources
from rtml.backends import Backend, Dataset, Deployment, DriftMonitor, Inputs, Labels, connect
from rtml.compare import Comparison, compare
from rtml.errors import (
    BackendUnavailable,
    NotFound,
    PluginError,
    RtmlError,
    SchemaError,
    SpecError,
)
from rtml.features import Feature, FeatureSet
from rtml.models import ModelSpec
from rtml.plugins import hookimpl
from rtml.simulate import Simulator
from rtml.sources import DataSource
from rtml.spec import Spec

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "BackendUnavailable",
    "Comparison",
    "DataSource",
    "Dataset",
    "Deployment",
    "DriftMonitor",
    "Feature",
    "FeatureSet",
    "Inputs",
    "Labels",
    "ModelSpec",
    "NotFound",
    "PluginError",
    "RtmlError",
    "SchemaError",
    "Simulator",
    "Spec",
    "SpecError",
    "__version__",
    "compare",
    "connect",
    "drift",
    "features",
    "hookimpl",
    "metrics",
    "models",
    "plugins",
    "simulate",
    "sources",
]
