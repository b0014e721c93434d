"""What plugin and backend authors import to test their work.

Run the checks over your own kinds, e.g. in your plugin's test suite::

    from rtml.testing import check_feature_kind, check_model_kind
    check_feature_kind(Haversine(name="d", lat1="a", lon1="b", lat2="c", lon2="d"), sample_df)

>>> import pandas as pd, rtml
>>> from rtml.testing import check_feature_kind, example_frame
>>> check_feature_kind(rtml.features.SQL("twice", '"x" * 2'), example_frame())
"""

from rtml.testing.checks import (
    check_feature_kind,
    check_model_kind,
    example_frame,
    registered_plugin,
)

__all__ = ["check_feature_kind", "check_model_kind", "example_frame", "registered_plugin"]
