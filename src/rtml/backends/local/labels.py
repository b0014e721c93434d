"""Labels a classifier cannot learn: a binary model's anything but 0 and 1 (or booleans).

A model that learns two classes (logistic regression, the windowed forest, soft voting of
P(class 1)) would read a label 2 as "not 0" or "not 1" without a word, and its scores would
be wrong with nothing to show for it; a sampler whose distribution names the classes fails on
another. So a labels push that carries such a value for one of them is refused (or its records
set aside as dead letters), naming the deployment, the field, the row and the value; and a
deployment of one on a text label field is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rtml.backends.base import Labels
from rtml.backends.local.schema import Problem
from rtml.column_types import type_of
from rtml.errors import SpecError
from rtml.models.base import ModelSpec
from rtml.nulls import is_null, or_none, python_value

__all__ = ["check_awaiting_labels", "check_label_type", "label_problems", "learner"]

# (deployment, its model's kind, the classes it learns or None for any, the label field) for
# each deployment learning from a dataset.
Learner = tuple[str, str, tuple[int, ...] | None, str]


def learner(name: str, model: ModelSpec, field: str) -> Learner:
    """A deployment as :func:`label_problems` reads it, the classes its model declares."""
    return name, model.kind_name(), model.label_classes(), field


def _classes_text(classes: tuple[int, ...]) -> str:
    return ", ".join(map(str, classes[:-1])) + f" and {classes[-1]}"


def _learnable(value: Any, classes: tuple[int, ...]) -> bool:
    if isinstance(value, bool | np.bool_):
        return int(value) in classes
    return isinstance(value, int | float | np.integer | np.floating) and value in classes


def label_problems(frame: pd.DataFrame, learners: list[Learner]) -> list[Problem]:
    """A problem for each record whose label a learner among ``learners`` cannot learn.

    >>> import rtml
    >>> frame = pd.DataFrame({"id": [1, 2, 3], "y": [0, 2, None]})
    >>> lr = learner("m", rtml.models.LogisticRegression(), "y")
    >>> [str(p) for p in label_problems(frame, [lr])]
    ["row 1, field 'y': deployment 'm' (LogisticRegression) learns the classes 0 and 1, got 2.0"]
    >>> label_problems(frame, [learner("nb", rtml.models.GaussianNB(), "y")])
    []
    """
    problems: list[Problem] = []
    for name, kind, classes, field in learners:
        if classes is None or field not in frame.columns:
            continue
        column = frame[field]
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
            column.dtype
        ):
            values = column.to_numpy(dtype="float64", na_value=np.nan)
            fine = np.isnan(values) | np.isin(values, classes)
            rows = np.flatnonzero(~fine).tolist()
        else:
            rows = [
                i
                for i, v in enumerate(column.tolist())
                if not is_null(v) and not _learnable(v, classes)
            ]
        for row in rows:
            value = python_value(column.iloc[row])
            problems.append(
                Problem(
                    row,
                    field,
                    f"deployment {name!r} ({kind}) learns the classes "
                    f"{_classes_text(classes)}, got {value!r}",
                )
            )
    return problems


def holds_text(labels: Labels | None, label_schema: dict[str, Any]) -> bool:
    """Whether the label field is text: a model's class that is not text (the 0 of one that
    has learned nothing) is then no class at all.

    >>> import rtml
    >>> holds_text(rtml.Labels("labels", field="y"), {"y": "string"})
    True
    """
    if labels is None:
        return False
    return type_of(label_schema.get(labels.field)) == "string"


def check_label_type(
    name: str, model: ModelSpec, labels: Labels | None, label_schema: dict[str, Any]
) -> None:
    """Refuse a model with fixed classes, or a regression, on a label field of text or times:
    none of its values could be one of the classes, or a number to learn.

    >>> import rtml
    >>> check_label_type("m", rtml.models.LogisticRegression(),
    ...                  rtml.Labels("labels", field="y"), {"y": "string"})
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: deployment 'm': LogisticRegression learns the classes 0 and 1, but field 'y' of 'labels' holds string values
    >>> check_label_type("m", rtml.models.LinearRegression(),
    ...                  rtml.Labels("labels", field="y"), {"y": "string"})
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: deployment 'm': LinearRegression learns numbers, but field 'y' of 'labels' holds string values
    """
    if labels is None:
        return
    kind = type_of(label_schema.get(labels.field))
    numeric = kind in ("int", "float", "bool")
    if model.task == "regression" and not numeric:
        raise SpecError(
            f"deployment {name!r}: {model.kind_name()} learns numbers, but field "
            f"{labels.field!r} of {labels.dataset!r} holds {kind} values"
        )
    classes = model.label_classes()
    if classes is None:
        return
    if not numeric:
        raise SpecError(
            f"deployment {name!r}: {model.kind_name()} learns the classes "
            f"{_classes_text(classes)}, but field {labels.field!r} of {labels.dataset!r} holds "
            f"{kind} values"
        )


def check_awaiting_labels(
    name: str, model: ModelSpec, labels: Labels, waiting: pd.DataFrame, key: str
) -> None:
    """Refuse a deploy whose model could not learn a label stored before it that waits for its
    event (``waiting``, keyed by ``key``): the event's push would meet it, not the deploy.

    >>> import rtml
    >>> waiting = pd.DataFrame({"id": [4, 5], "y": [1, 2]})
    >>> check_awaiting_labels("m", rtml.models.LogisticRegression(),
    ...                       rtml.Labels("labels", field="y"), waiting, "id")
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: cannot deploy 'm': 'labels', key 5, holds a label stored before the deploy that waits for its event, and LogisticRegression learns the classes 0 and 1, got 2 (1 such label(s))
    """
    problems = label_problems(waiting, [learner(name, model, labels.field)])
    if not problems:
        return
    k = python_value(or_none(waiting[key].iloc[problems[0].row]))
    value = python_value(or_none(waiting[labels.field].iloc[problems[0].row]))
    raise SpecError(
        f"cannot deploy {name!r}: {labels.dataset!r}, key {k!r}, holds a label stored before "
        f"the deploy that waits for its event, and {model.kind_name()} learns the classes "
        f"{_classes_text(model.label_classes() or ())}, got {value!r} "
        f"({len(problems)} such label(s))"
    )
