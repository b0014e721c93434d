"""Collection rules for the whole repository (doctests of ``src/rtml`` included)."""

from __future__ import annotations

import importlib.util

# The Flink job module imports PyFlink at its top (only running a job loads it); without the
# ``flink`` extra its doctests cannot be imported. tests_flink runs them with the extra.
collect_ignore = (
    [] if importlib.util.find_spec("pyflink") else ["src/rtml/backends/flink/job.py"]
)
