"""``Metric``: a measure of a model over a sliding window of its latest labelled predictions."""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

from rtml.whole_numbers import is_whole

__all__ = ["Metric"]


class Metric:
    """Base of evaluation metrics: ``update(y_true, score)`` then ``get()``.

    Subclasses set ``name`` (how ``evaluate("WindowedAUC")`` finds them) and implement ``get``
    over ``self.window``, the last ``window_size`` pairs ``(y_true, score)``; one that sets
    ``reads_class = True`` gets pairs ``(y_true, predicted_class)`` instead.

    >>> class WindowedMean(Metric):
    ...     name = "WindowedMeanScore"
    ...     def get(self):
    ...         return sum(s for _, s in self.window) / len(self.window) if self.window else None
    >>> m = WindowedMean(window_size=2)
    >>> for y, s in [(0, 0.1), (1, 0.5), (1, 0.9)]:
    ...     m.update(y, s)
    >>> round(m.get(), 2)
    0.7
    """

    name: ClassVar[str] = ""
    # A metric of binary labels (0 and 1, booleans): an evaluation refuses any other label
    # rather than read it as 1, which would give a multi-class model a wrong number.
    binary: ClassVar[bool] = False
    # The metric an evaluation uses instead when the labels, or the predicted classes, are not
    # 0 and 1 (the name of one that reads classes), rather than refuse them: WindowedAccuracy's
    # is WindowedClassAccuracy.
    for_classes: ClassVar[str | None] = None
    # Updated with each prediction's predicted class instead of its score.
    reads_class: ClassVar[bool] = False

    def __init__(self, window_size: int = 1000) -> None:
        if not is_whole(window_size, 1):
            raise ValueError(f"window_size must be a whole number >= 1, got {window_size!r}")
        self.window_size = window_size
        self.window: deque[tuple[Any, float]] = deque(maxlen=window_size)

    @classmethod
    def kind_name(cls) -> str:
        return cls.name or cls.__name__

    def update(self, y_true: Any, score: float) -> None:
        self.window.append((y_true, score))

    def get(self) -> float | None:
        raise NotImplementedError
