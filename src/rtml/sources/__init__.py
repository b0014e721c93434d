"""Sources of records: a DataFrame, a CSV or Parquet file; more through plugins.

>>> from rtml.sources import DataSource, DataFrameSource, FileSource
>>> issubclass(FileSource, DataSource) and issubclass(DataFrameSource, DataSource)
True
"""

from rtml.sources.base import Batch, DataSource
from rtml.sources.dataframe import DataFrameSource
from rtml.sources.files import FileSource

__all__ = ["Batch", "DataFrameSource", "DataSource", "FileSource"]
