"""The checks every backend makes before it materializes or deploys, with one wording."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rtml.backends.base import Inputs, Labels
from rtml.column_types import type_of
from rtml.errors import SpecError
from rtml.features.featureset import FeatureSet
from rtml.models.base import ModelSpec
from rtml.whole_numbers import is_whole

__all__ = [
    "already_materialized",
    "check_deploy_call",
    "check_input_names",
    "check_inputs_and_labels",
    "check_label_keys",
    "check_window",
]


def already_materialized(feature_set: Any, existing: FeatureSet | None) -> bool:
    """Whether ``feature_set`` is materialized already (``existing``, same definition: nothing
    to do); a :class:`SpecError` if it is not a FeatureSet or ``existing`` differs."""
    if not isinstance(feature_set, FeatureSet):
        raise SpecError(f"materialize expects a FeatureSet, got {type(feature_set).__name__}")
    if existing is None:
        return False
    if existing == feature_set:
        return True
    raise SpecError(
        f"feature set {feature_set.name!r} is already materialized with another definition"
    )


def check_deploy_call(
    name: str, model: Any, labels: Labels | None, pretrain: bool, exists: bool
) -> None:
    """A deployment's name is free, its model a spec, and ``pretrain`` has labels to learn."""
    if exists:
        raise SpecError(f"deployment {name!r} already exists")
    if not isinstance(model, ModelSpec):
        raise SpecError(f"deploy expects a ModelSpec, got {type(model).__name__}")
    if type(model).build is ModelSpec.build:
        raise SpecError(
            f"deployment {name!r}: {type(model).__name__} is not a model kind (it defines no "
            "build()); deploy one of rtml.models, such as rtml.models.LogisticRegression()"
        )
    if pretrain and labels is None:
        raise SpecError(f"deployment {name!r}: pretrain needs labels")


def _type_name(column: Any) -> str:
    """A schema's column (a ``Column``, or its text such as ``"int!"``) as its type's name."""
    return str(type_of(column))


def _kind(column: Any) -> str:
    """A key column's kind of value, as keys compare: ints and floats compare as numbers."""
    kind = _type_name(column)
    return "number" if kind in ("int", "float") else kind


def check_label_keys(
    name: str,
    events: str,
    labels: Labels,
    key_of: Callable[[str], str],
    schema_of: Callable[[str], dict[str, Any]],
) -> None:
    """Labels find their events by key: a labels dataset whose key holds another kind of value
    than the events' key (text against numbers, say) would never match one, and the model
    would silently never learn.

    >>> schemas = {"tx": {"id": "int"}, "labels": {"tx_id": "string", "y": "int"}}
    >>> keys = {"tx": "id", "labels": "tx_id"}
    >>> check_label_keys("m", "tx", Labels("labels", field="y"), keys.__getitem__,
    ...                  schemas.__getitem__)
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: deployment 'm': the key of labels dataset 'labels' ('tx_id', string) cannot match the key of events dataset 'tx' ('id', int): their labels would never find their events
    """
    if labels.dataset == events:
        return
    event_key, label_key = key_of(events), key_of(labels.dataset)
    event_type = schema_of(events)[event_key]
    label_type = schema_of(labels.dataset)[label_key]
    if _kind(event_type) != _kind(label_type):
        raise SpecError(
            f"deployment {name!r}: the key of labels dataset {labels.dataset!r} "
            f"({label_key!r}, {_type_name(label_type)}) cannot match the key of events dataset "
            f"{events!r} ({event_key!r}, {_type_name(event_type)}): their labels would never "
            f"find their events"
        )


def check_inputs_and_labels(
    name: str,
    inputs: Inputs,
    labels: Labels | None,
    feature_set: FeatureSet | None,
    schema_of: Callable[[str], dict[str, Any]],
    key_of: Callable[[str], str] | None = None,
) -> str:
    """The dataset the inputs' records come from (the feature set's, or ``inputs.source``),
    after checking that every input column and the label field exist (and, given ``key_of``,
    that the labels' key can match the events' key).

    >>> schemas = {"tx": {"id": "int", "x": "float"}, "labels": {"id": "int", "y": "int"}}
    >>> check_inputs_and_labels("m", Inputs("tx", numerical=["x"]), Labels("labels", field="y"),
    ...                         None, schemas.__getitem__)
    'tx'
    >>> check_inputs_and_labels("m", Inputs("tx", numerical=["z"]), None, None,
    ...                         schemas.__getitem__)
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: deployment 'm': input column(s) 'z' are not in 'tx' (available: id, x)
    """
    dataset = feature_set.dataset if feature_set is not None else inputs.source
    available = set(schema_of(dataset))
    if feature_set is not None:
        available |= {f.name for f in feature_set.features}
    unknown = [c for c in inputs.columns if c not in available]
    if unknown:
        raise SpecError(
            f"deployment {name!r}: input column(s) {', '.join(map(repr, unknown))} are not in "
            f"{inputs.source!r} (available: {', '.join(sorted(available))})"
        )
    check_numerical_inputs(name, inputs, dataset, schema_of(dataset))
    if labels is not None and labels.field not in schema_of(labels.dataset):
        raise SpecError(
            f"deployment {name!r}: label field {labels.field!r} is not in dataset "
            f"{labels.dataset!r}"
        )
    if labels is not None and key_of is not None:
        check_label_keys(name, dataset, labels, key_of, schema_of)
    return dataset


def check_input_names(name: str, inputs: Inputs, labels: Labels | None, events: str) -> None:
    """Refuse inputs no model can use as meant: none at all (every record would get the same
    score), a field named twice (a model reads each field once, as a number or as a category),
    or the label field itself read from the dataset the labels come from (the model would
    read its answer in every record it learns from). ``events`` is the inputs' dataset.

    >>> check_input_names("m", Inputs("tx", numerical=["x"], categorical=["x"]), None, "tx")
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: deployment 'm': input 'x' is named twice (numerical and categorical): a model reads each field once, as a number or as a category
    >>> check_input_names("m", Inputs("tx", numerical=["amount", "is_fraud"]),
    ...                   Labels("tx", field="is_fraud"), "tx")
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: deployment 'm': input 'is_fraud' is the label field the model learns (of 'tx'): it would read the answer in every record it learns from
    """
    if not inputs.columns:
        raise SpecError(
            f"deployment {name!r}: the inputs from {inputs.source!r} name no field: give "
            "numerical=[...] and/or categorical=[...]"
        )
    seen: dict[str, str] = {}
    for kind, columns in (("numerical", inputs.numerical), ("categorical", inputs.categorical)):
        for column in columns:
            if column in seen:
                twice = kind if seen[column] == kind else f"{seen[column]} and {kind}"
                raise SpecError(
                    f"deployment {name!r}: input {column!r} is named twice ({twice}): a model "
                    "reads each field once, as a number or as a category"
                )
            seen[column] = kind
    if labels is not None and labels.dataset == events and labels.field in seen:
        raise SpecError(
            f"deployment {name!r}: input {labels.field!r} is the label field the model learns "
            f"(of {events!r}): it would read the answer in every record it learns from"
        )


def check_numerical_inputs(name: str, inputs: Inputs, dataset: str, schema: dict[str, Any]) -> None:
    """Refuse a numerical input that is a text column of the dataset: a model reads it as a
    number, so every later push to the dataset would fail inside the deployment ("could not
    convert string to float"), whichever model it was meant for.

    >>> check_numerical_inputs("m", Inputs("tx", numerical=["who"]), "tx", {"who": "string"})
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: deployment 'm': numerical input 'who' of 'tx' holds string values, and a model reads numbers there (give it as categorical=[...] instead)
    """
    for column in inputs.numerical:
        if type_of(schema.get(column)) == "string":
            raise SpecError(
                f"deployment {name!r}: numerical input {column!r} of {dataset!r} holds string "
                f"values, and a model reads numbers there (give it as categorical=[...] instead)"
            )


def check_window(window: Any) -> None:
    """A metric's window, the same on every backend: a whole number of labelled predictions,
    at least 1.

    >>> check_window(0)
    Traceback (most recent call last):
    ...
    ValueError: window must be a whole number >= 1 (labelled predictions), got 0
    """
    if not is_whole(window, 1):
        raise ValueError(
            f"window must be a whole number >= 1 (labelled predictions), got {window!r}"
        )
