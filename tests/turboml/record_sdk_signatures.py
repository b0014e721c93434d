"""Record the signatures of the turboml-sdk 0.1.6 API the TurboML backend uses, read from the
SDK's own source (the wheel), without importing it (its bindings do not load on Debian 12):

    pip download --no-deps turboml-sdk==0.1.6 -d /tmp/tb && unzip -o /tmp/tb/*.whl -d /tmp/tb
    python tests/turboml/record_sdk_signatures.py /tmp/tb/turboml/common

writes tests/turboml/sdk_signatures.json, which test_turboml_double.py compares with the double.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

FUNCTIONS = {"__init__.py": ["init"]}
METHODS = {
    "datasets.py": {
        "LocalDataset": ["from_pd"],
        "OnlineDataset": [
            "from_pd",
            "load",
            "_register_dataset",
            "add_pd",
            "sync_features",
            "get_model_inputs",
            "get_model_labels",
        ],
    },
    "feature_engineering.py": {
        "FeatureEngineering": [
            "register_timestamp",
            "create_sql_features",
            "create_aggregate_features",
            "create_udf_features",
            "create_udaf_features",
            "materialize_features",
            "get_materialized_features",
        ]
    },
    "ml_algs.py": {
        "Model": ["deploy", "learn", "retrieve_model"],
        "DeployedModel": [
            "pause",
            "resume",
            "delete",
            "add_metric",
            "get_outputs",
            "get_evaluation",
            "get_endpoints",
        ],
    },
}
MODELS = [
    "HoeffdingTreeClassifier",
    "HoeffdingTreeRegressor",
    "AMFClassifier",
    "GaussianNB",
    "HST",
    "RandomSampler",
    "AdaBoostClassifier",
    "LeveragingBaggingClassifier",
]


def _default(node: ast.expr | None) -> object:
    if node is None:
        return "<required>"
    try:
        return ast.literal_eval(node)
    except ValueError:
        return f"<expr {ast.unparse(node)}>"


def _signature(fn: ast.FunctionDef) -> list[list[object]]:
    args = fn.args
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    out = [[a.arg, _default(d)] for a, d in zip(positional, defaults, strict=True)]
    out += [[a.arg, _default(d)] for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    return [p for p in out if p[0] not in ("self", "cls")]


def _field(node: ast.AnnAssign) -> object:
    value = node.value
    if value is None:
        return "<required>"
    if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "Field":
        for keyword in value.keywords:
            if keyword.arg == "default":
                return _default(keyword.value)
        if value.args and isinstance(value.args[0], ast.Constant) and value.args[0].value is ...:
            return "<required>"
    return _default(value)


def main(common: Path) -> dict[str, object]:
    trees = {name: ast.parse((common / name).read_text()) for name in ("__init__.py", *METHODS)}
    record: dict[str, object] = {"sdk": "turboml-sdk 0.1.6", "functions": {}, "methods": {}}
    for file, names in FUNCTIONS.items():
        for node in trees[file].body:
            if isinstance(node, ast.FunctionDef) and node.name in names:
                record["functions"][node.name] = _signature(node)  # type: ignore[index]
    models: dict[str, dict[str, object]] = {}
    for file, classes in METHODS.items():
        for node in trees[file].body:
            if not isinstance(node, ast.ClassDef):
                continue
            if node.name in classes:
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name in classes[node.name]:
                        key = f"{node.name}.{item.name}"
                        record["methods"][key] = _signature(item)  # type: ignore[index]
            if node.name in MODELS:
                models[node.name] = {
                    item.target.id: _field(item)
                    for item in node.body
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                }
    record["models"] = models
    return record


if __name__ == "__main__":
    common = Path(sys.argv[1])
    out = Path(__file__).with_name("sdk_signatures.json")
    out.write_text(json.dumps(main(common), indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")
