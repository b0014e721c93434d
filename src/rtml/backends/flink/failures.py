"""What a failed Flink job says, as the rtml error a local run would have raised.

A job's failure reaches Python as a Java exception whose text holds the Python worker's
traceback among a few hundred lines of Java. An rtml error raised in a step (a UDF that raised,
say: ``SpecError``) is found there and raised again, same class and message, so an app handles
a failure alike on every backend.
"""

from __future__ import annotations

import re

from rtml import errors
from rtml.errors import RtmlError

__all__ = ["job_error"]

_RTML = re.compile(r"^rtml\.errors\.(\w+): (.+)$", re.MULTILINE)
_PYTHON = re.compile(r"^(\w+(?:Error|Exception)): (.+)$", re.MULTILINE)


def job_error(text: str) -> RtmlError:
    """The error to raise for a failed job whose Java exception reads ``text``.

    >>> job_error("...\\nrtml.errors.SpecError: UDF 'u': 'f' raised ValueError: 1\\n...")
    SpecError("UDF 'u': 'f' raised ValueError: 1 (in a Flink job)")
    >>> job_error("rtml.errors.SpecError: cause\\n\\nThe above exception was the direct cause "
    ...           "of the following exception:\\n\\nrtml.errors.FeatureRowsError: feature 'u', row 0")
    FeatureRowsError("feature 'u', row 0 (in a Flink job)")
    >>> job_error("java.lang.OutOfMemoryError: Java heap space")
    RtmlError('the Flink job failed: java.lang.OutOfMemoryError: Java heap space')
    """
    # Python prints a chained error's causes first: the last rtml error is the one raised.
    found = next(reversed(list(_RTML.finditer(text))), None)
    if found:
        kind = getattr(errors, found.group(1), RtmlError)
        if isinstance(kind, type) and issubclass(kind, RtmlError):
            return kind(f"{found.group(2)} (in a Flink job)")
    python = _PYTHON.search(text)
    if python:
        return RtmlError(f"the Flink job failed: {python.group(1)}: {python.group(2)}")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "no message")
    return RtmlError(f"the Flink job failed: {first[:500]}")
