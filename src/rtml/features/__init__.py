"""Feature kinds, :class:`FeatureSet` and the engine that computes them.

>>> import rtml
>>> rtml.features.Aggregate("n_7d", column="amount", op="count", by="card", window="7d").window
'7d'
"""

from rtml.features.aggregate import Aggregate
from rtml.features.base import Feature, RowFeature, WindowFeature
from rtml.features.engine import FeatureEngine, LateRecordsError
from rtml.features.featureset import FeatureSet
from rtml.features.sql import SQL
from rtml.features.udaf import UDAF
from rtml.features.udf import UDF

__all__ = [
    "SQL",
    "UDAF",
    "UDF",
    "Aggregate",
    "Feature",
    "FeatureEngine",
    "FeatureSet",
    "LateRecordsError",
    "RowFeature",
    "WindowFeature",
]
