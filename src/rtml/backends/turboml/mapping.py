"""rtml specs in TurboML's terms, and clear refusals where TurboML cannot express them.

Nothing here imports the SDK: the functions return the keyword arguments of the SDK calls (see
``../shared/DESIGN.md`` section 4 and the TurboML backend guide), so the translation is checked
without a server and an app learns what TurboML refuses when it is defined, never later.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rtml.durations import parse_duration
from rtml.errors import SpecError
from rtml.features.aggregate import Aggregate
from rtml.features.featureset import FeatureSet
from rtml.features.sql import SQL
from rtml.features.udaf import UDAF
from rtml.features.udf import UDF
from rtml.models.base import ModelSpec

__all__ = [
    "FeatureCall",
    "dataframe_for_turboml",
    "feature_calls",
    "model_call",
    "window_of",
]

# TurboML's aggregate operations, by rtml's name.
OPERATIONS = {"sum": "SUM", "count": "COUNT", "avg": "AVG", "max": "MAX", "min": "MIN"}
TIMESTAMP_FORMATS = {"auto": "epoch_seconds", "epoch_milliseconds": "epoch_milliseconds"}
_UNITS = (("days", 86_400), ("hours", 3_600), ("minutes", 60), ("seconds", 1))
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# rtml model kind -> (TurboML class, the rtml fields passed on). Other fields must keep their
# defaults; kinds not listed have no TurboML algorithm.
MODELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "HoeffdingTreeClassifier": (
        "HoeffdingTreeClassifier",
        ("n_classes", "grace_period", "delta", "tau", "leaf_pred_method", "split_method"),
    ),
    "HoeffdingTreeRegressor": (
        "HoeffdingTreeRegressor",
        ("grace_period", "delta", "tau", "leaf_pred_method"),
    ),
    "AMFClassifier": (
        "AMFClassifier",
        ("n_classes", "n_estimators", "step", "use_aggregation", "dirichlet", "split_pure"),
    ),
    "GaussianNB": ("GaussianNB", ("n_classes",)),
    "HST": ("HST", ("n_trees", "height", "window_size")),
    "RandomSampler": (
        "RandomSampler",
        ("n_classes", "desired_dist", "sampling_method", "sampling_rate", "seed", "base_model"),
    ),
    "AdaBoostClassifier": (
        "AdaBoostClassifier",
        ("n_classes", "n_models", "seed", "base_model"),
    ),
    "LeveragingBaggingClassifier": (
        "LeveragingBaggingClassifier",
        ("n_classes", "n_models", "w", "bagging_method", "seed", "base_model"),
    ),
}


@dataclass(frozen=True)
class FeatureCall:
    """One call on a TurboML dataset's ``feature_engineering``: method and keyword arguments."""

    method: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def _refuse(fs: FeatureSet, name: str, reason: str) -> SpecError:
    return SpecError(f"feature set {fs.name!r}, feature {name!r}: TurboML cannot run it: {reason}")


def window_of(duration: str) -> tuple[int, str]:
    """A window as TurboML's ``(window_duration, window_unit)``: the largest whole unit.

    >>> window_of("24h"), window_of("90m"), window_of("7d"), window_of("45s")
    ((1, 'days'), (90, 'minutes'), (7, 'days'), (45, 'seconds'))
    """
    ns = parse_duration(duration)
    if ns % 1_000_000_000:
        raise ValueError(f"window {duration!r} is not a whole number of seconds")
    seconds = ns // 1_000_000_000
    for unit, size in _UNITS:
        if seconds % size == 0:
            return seconds // size, unit
    raise AssertionError("unreachable")  # pragma: no cover - seconds always divide


def _sql(fs: FeatureSet, f: SQL) -> FeatureCall:
    # TurboML removes the double quotes around names before running the expression: a name
    # that needs them (a space, a keyword-like name) would change meaning.
    awkward = [c for c in f.columns() if not _PLAIN.match(c)]
    if awkward:
        raise _refuse(
            fs,
            f.name,
            f"TurboML strips the double quotes from SQL, so column names must be plain "
            f"identifiers; {', '.join(map(repr, awkward))} is not",
        )
    return FeatureCall(
        "create_sql_features", {"sql_definition": f.expr, "new_feature_name": f.name}
    )


def _window_checks(fs: FeatureSet, f: Aggregate | UDAF) -> None:
    if f.delay is not None:
        raise _refuse(fs, f.name, "a delayed window (delay=...) has no TurboML equivalent")
    if f.closed != "both":
        raise _refuse(
            fs, f.name, "TurboML windows include their start (closed='both' only, not 'right')"
        )
    if f.source is not None:
        raise _refuse(
            fs, f.name, f"an aggregate over another dataset ({f.source!r}) is not supported"
        )


def _aggregate(fs: FeatureSet, f: Aggregate) -> FeatureCall:
    _window_checks(fs, f)
    if f.op not in OPERATIONS:
        raise _refuse(fs, f.name, f"TurboML aggregates are {', '.join(OPERATIONS)}, not {f.op!r}")
    if len(f.by) != 1:
        raise _refuse(fs, f.name, "TurboML groups an aggregate by exactly one column")
    duration, unit = window_of(f.window)
    return FeatureCall(
        "create_aggregate_features",
        {
            "column_to_operate": f.column,
            "column_to_group": f.by[0],
            "operation": OPERATIONS[f.op],
            "new_feature_name": f.name,
            "timestamp_column": fs.timestamp,
            "window_duration": duration,
            "window_unit": unit,
        },
    )


def _source_of(fs: FeatureSet, name: str, obj: Any) -> tuple[str, str]:
    """TurboML runs a function from the text of its module: the function's name and that text."""
    module = inspect.getmodule(obj)
    try:
        text = inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):
        text = ""
    if not text:
        raise _refuse(fs, name, "its function's source file cannot be read to send to TurboML")
    return getattr(obj, "__name__", ""), text


def _udf(fs: FeatureSet, f: UDF) -> FeatureCall:
    if f.vectorized:
        raise _refuse(fs, f.name, "TurboML calls a UDF once per record (vectorized=False)")
    function_name, text = _source_of(fs, f.name, f.fn)
    return FeatureCall(
        "create_udf_features",
        {
            "new_feature_name": f.name,
            "argument_names": list(f.args),
            "function_name": function_name,
            "function_file_contents": text,
            "libraries": [],
        },
    )


def _udaf(fs: FeatureSet, f: UDAF) -> FeatureCall:
    _window_checks(fs, f)
    function_name, text = _source_of(fs, f.name, f.functions)
    duration, unit = window_of(f.window)
    return FeatureCall(
        "create_udaf_features",
        {
            "new_feature_name": f.name,
            "column_to_operate": list(f.value_columns()),
            "function_name": function_name,
            "return_type": "DOUBLE",
            "function_file_contents": text,
            "column_to_group": list(f.by),
            "timestamp_column": fs.timestamp,
            "window_duration": duration,
            "window_unit": unit,
        },
    )


def feature_calls(fs: FeatureSet) -> list[FeatureCall]:
    """The calls that define ``fs`` on TurboML, in dependency order; a :class:`SpecError`
    naming the feature and the reason for anything TurboML cannot compute the same way.

    >>> import rtml
    >>> fs = rtml.FeatureSet(name="f", dataset="tx", timestamp="ts", features=[
    ...     rtml.features.Aggregate("sum_1d", column="amount", op="sum", by="card",
    ...                             window="1d")])
    >>> methods = [c.method for c in feature_calls(fs)]
    >>> methods
    ['register_timestamp', 'create_aggregate_features']
    >>> feature_calls(fs)[1].kwargs["window_unit"]
    'days'
    >>> late = rtml.FeatureSet(name="g", dataset="tx", timestamp="ts", features=[
    ...     rtml.features.Aggregate("n_7d", column="amount", op="count", by="card",
    ...                             window="7d", delay="7d")])
    >>> feature_calls(late)
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: feature set 'g', feature 'n_7d': TurboML cannot run it: a delayed window (delay=...) has no TurboML equivalent
    """
    if fs.timestamp_format not in TIMESTAMP_FORMATS:
        raise SpecError(
            f"feature set {fs.name!r}: TurboML reads event times as epoch seconds or "
            f"milliseconds, not timestamp_format={fs.timestamp_format!r}"
        )
    calls = [
        FeatureCall(
            "register_timestamp",
            {"column_name": fs.timestamp, "format_type": TIMESTAMP_FORMATS[fs.timestamp_format]},
        )
    ]
    for f in fs.ordered():
        if type(f) is SQL:
            calls.append(_sql(fs, f))
        elif isinstance(f, Aggregate):
            calls.append(_aggregate(fs, f))
        elif isinstance(f, UDAF):
            calls.append(_udaf(fs, f))
        elif isinstance(f, UDF):
            calls.append(_udf(fs, f))
        else:
            raise _refuse(fs, f.name, f"the feature kind {f.kind_name()!r} is rtml's own")
    return calls


def model_call(spec: ModelSpec, where: str = "") -> tuple[str, dict[str, Any]]:
    """The TurboML class and its keyword arguments for a model spec (``base_model`` as a nested
    ``(class, kwargs)``); a :class:`SpecError` for a model TurboML does not have.

    >>> import rtml
    >>> name, kwargs = model_call(rtml.models.HoeffdingTreeClassifier(grace_period=100))
    >>> name, kwargs.get("grace_period")
    ('HoeffdingTreeClassifier', 100)
    >>> model_call(rtml.models.LogisticRegression())
    Traceback (most recent call last):
    ...
    rtml.errors.SpecError: model 'LogisticRegression': TurboML has no such algorithm (it has: AMFClassifier, AdaBoostClassifier, GaussianNB, HST, HoeffdingTreeClassifier, HoeffdingTreeRegressor, LeveragingBaggingClassifier, RandomSampler)
    """
    kind = spec.kind_name()
    label = f"model {kind!r}{where}"
    if kind not in MODELS:
        raise SpecError(
            f"{label}: TurboML has no such algorithm (it has: {', '.join(sorted(MODELS))})"
        )
    cls, passed = MODELS[kind]
    kwargs: dict[str, Any] = {}
    for name, info in type(spec).model_fields.items():
        if name == "kind":
            continue
        value = getattr(spec, name)
        if name in passed:
            if name == "base_model":
                kwargs[name] = model_call(value, where=f" (base model of {kind!r})")
            else:
                kwargs[name] = list(value) if isinstance(value, tuple) else value
        elif value != info.default:
            raise SpecError(
                f"{label}: TurboML's {cls} has no parameter {name!r} (leave it at {info.default!r})"
            )
    return cls, kwargs


def dataframe_for_turboml(df: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """``df`` with the dtypes TurboML accepts (int32/64, float32/64, bool, string, bytes):
    text as pandas' string dtype (an empty object column has no type TurboML can read),
    integers with nulls refused, timestamps refused.

    >>> dataframe_for_turboml(pd.DataFrame({"id": [1], "who": ["a"]}), "d").dtypes.tolist()
    [dtype('int64'), string[python]]
    """
    out: dict[str, pd.Series] = {}
    for name in df.columns:
        column = df[name]
        dtype = column.dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            raise SpecError(
                f"dataset {dataset!r}, field {name!r}: TurboML has no timestamp type; store "
                f"event times as epoch seconds (int or float)"
            )
        if pd.api.types.is_bool_dtype(dtype):
            if column.isna().any():
                raise SpecError(
                    f"dataset {dataset!r}, field {name!r}: TurboML booleans cannot be null"
                )
            out[name] = column.astype("bool")
        elif pd.api.types.is_integer_dtype(dtype):
            if column.isna().any():
                raise SpecError(
                    f"dataset {dataset!r}, field {name!r}: TurboML integers cannot be null "
                    f"(use a float column)"
                )
            out[name] = column.astype("int64")
        elif pd.api.types.is_float_dtype(dtype):
            out[name] = column.astype("float64")
        else:
            out[name] = column.astype("string")
    return pd.DataFrame(out, index=df.index)
