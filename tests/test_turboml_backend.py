"""The TurboML backend: against a double of turboml-sdk 0.1.6 (its signatures checked against the
real SDK's), and against a real TurboML when TURBOML_BACKEND_URL and TURBOML_API_KEY are set."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rtml
from rtml.testing.conformance import BackendConformance
from tests.turboml import double

SIGNATURES = json.loads((Path(__file__).parent / "turboml" / "sdk_signatures.json").read_text())
LIVE = bool(os.environ.get("TURBOML_BACKEND_URL") and os.environ.get("TURBOML_API_KEY"))
A, SQL = rtml.features.Aggregate, rtml.features.SQL


@pytest.fixture
def turboml(tmp_path):
    double.reset()
    return rtml.connect(
        "turboml",
        url="https://turboml.invalid",
        api_key="k",
        sdk=double,
        catalog=str(tmp_path / "turboml.json"),
    )


class TestTurboMLDouble(BackendConformance):
    @pytest.fixture
    def backend(self, turboml):
        return turboml

    @pytest.fixture
    def classifier(self):
        return rtml.models.GaussianNB()  # TurboML has no LogisticRegression (refusal below)


@pytest.mark.skipif(not LIVE, reason="TURBOML_BACKEND_URL / TURBOML_API_KEY not set: not run")
class TestTurboMLLive(BackendConformance):
    @pytest.fixture
    def backend(self, tmp_path):
        return rtml.connect("turboml", catalog=str(tmp_path / "turboml.json"))

    @pytest.fixture
    def classifier(self):
        return rtml.models.GaussianNB()


# ---- the double follows the real SDK ------------------------------------------------------------


def _params(fn) -> list[list[object]]:
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.name in ("self", "cls"):
            continue
        default = "<required>" if p.default is inspect.Parameter.empty else p.default
        out.append([p.name, default])
    return out


def _comparable(params: list[list[object]]) -> list[list[object]]:
    # Defaults the recorder could not evaluate (SDK enums) are compared by presence only.
    return [
        [n, "<default>" if isinstance(d, str) and d.startswith("<expr") else d] for n, d in params
    ]


def test_the_double_has_the_real_sdks_signatures():
    classes = {
        "LocalDataset": double.LocalDataset,
        "OnlineDataset": double.OnlineDataset,
        "FeatureEngineering": double.FeatureEngineering,
        "Model": double.Model,
        "DeployedModel": double.DeployedModel,
    }
    for qualified, recorded in SIGNATURES["methods"].items():
        cls, method = qualified.split(".")
        got = _params(getattr(classes[cls], method))
        expected = _comparable(recorded)
        assert [n for n, _ in got] == [n for n, _ in expected], qualified
        got = [
            [n, "<default>" if e[1] == "<default>" else d]
            for (n, d), e in zip(got, expected, strict=True)
        ]
        assert got == expected, qualified
    for name, recorded in SIGNATURES["functions"].items():
        assert _params(getattr(double, name)) == recorded, name
    for name, fields in SIGNATURES["models"].items():
        cls = getattr(double, name)
        got = {k: "<required>" if v is double._REQUIRED else v for k, v in cls._fields.items()}
        assert got == fields, name


# ---- what TurboML cannot express is refused when the app is defined ------------------------------


@pytest.mark.parametrize(
    ("feature", "reason"),
    [
        (A(name="v", column="amount", op="var", by="card", window="1h"), "not 'var'"),
        (A(name="d", column="amount", op="sum", by="card", window="1h", delay="1h"), "delayed"),
        (A(name="r", column="amount", op="sum", by="card", window="1h", closed="right"), "right"),
        (A(name="j", column="y", op="sum", by="card", window="1h", source="labels"), "another"),
        (A(name="m", column="amount", op="sum", by=["card", "id"], window="1h"), "one column"),
        (SQL(name="q", expr='"odd name" + 1'), "plain identifiers"),
    ],
)
def test_what_turboml_cannot_express_is_refused_by_name(turboml, feature, reason):
    events = pd.DataFrame({"id": [1], "card": ["a"], "ts": [0], "amount": [1.0]})
    turboml.create_dataset("tx", key="id", df=events)
    fs = rtml.FeatureSet(name="f", dataset="tx", timestamp="ts", features=[feature])
    with pytest.raises(rtml.SpecError, match=f"feature {feature.name!r}.*{reason}"):
        turboml.materialize(fs)
    assert double.SERVER.datasets["tx"]["pending"] == {}  # nothing was sent
    assert turboml.feature_sets() == []


def test_a_river_only_model_is_refused(turboml):
    turboml.create_dataset("tx", key="id", schema={"id": "int", "amount": "float"})
    turboml.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    with pytest.raises(
        rtml.SpecError, match=r"'LogisticRegression' \(deployment 'm'\): TurboML has no such"
    ):
        turboml.deploy(
            "m",
            rtml.models.LogisticRegression(),
            inputs=rtml.Inputs(source="tx", numerical=["amount"]),
            labels=rtml.Labels(dataset="labels", field="y"),
        )
    nested = rtml.models.RandomSampler(base_model=rtml.models.OnlineLinearClassifier())
    with pytest.raises(rtml.SpecError, match="base model of 'RandomSampler'"):
        turboml.deploy(
            "m",
            nested,
            inputs=rtml.Inputs(source="tx", numerical=["amount"]),
            labels=rtml.Labels(dataset="labels", field="y"),
        )
    assert double.SERVER.models == {}


def test_models_keep_turbomls_names_and_parameters(turboml):
    spec = rtml.models.RandomSampler(
        base_model=rtml.models.HoeffdingTreeClassifier(grace_period=50, delta=1e-4),
        desired_dist=[0.8, 0.2],
        sampling_method="under",
        seed=1,
    )
    built = turboml._model(rtml.backends.turboml.mapping.model_call(spec))
    assert type(built).__name__ == "RandomSampler" and built.desired_dist == [0.8, 0.2]
    assert built.base_model.grace_period == 50 and built.base_model.n_classes == 2


def test_credentials_come_from_arguments_environment_or_dotenv(tmp_path, monkeypatch):
    monkeypatch.delenv("TURBOML_BACKEND_URL", raising=False)
    monkeypatch.delenv("TURBOML_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(rtml.BackendUnavailable, match="TURBOML_BACKEND_URL and TURBOML_API_KEY"):
        rtml.connect("turboml", sdk=double)
    (tmp_path / ".env").write_text("TURBOML_BACKEND_URL=https://tb.example\nTURBOML_API_KEY='s'\n")
    backend = rtml.connect("turboml", sdk=double)
    assert backend.url == "https://tb.example" and double.SERVER.api_key == "s"


def test_without_the_extra_connect_says_what_to_install():
    code = (
        "import sys, rtml\n"
        "assert 'turboml' not in sys.modules\n"
        "try:\n"
        "    rtml.connect('turboml', url='https://x', api_key='k')\n"
        "except rtml.BackendUnavailable as exc:\n"
        "    print(exc)\n"
        "assert 'turboml' not in sys.modules\n"
    )
    if importlib.util.find_spec("turboml") is not None:  # pragma: no cover - SDK installed
        pytest.fail("this environment has turboml-sdk installed; run this test without it")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (
        out.stdout.strip()
        == "the TurboML backend needs the 'turboml' extra: pip install \"rtml[turboml]\""
    )


# ---- the same numbers on both backends -----------------------------------------------------------

FEATURES = [
    A(name="sum_1h", column="amount", op="sum", by="card", window="1h"),
    A(name="n_1d", column="amount", op="count", by="card", window="1d"),
    A(name="avg_2h", column="amount", op="avg", by="card", window="2h"),
    A(name="max_30m", column="amount", op="max", by="card", window="30m"),
    A(name="min_1h", column="amount", op="min", by="card", window="1h"),
    SQL(name="big", expr='CASE WHEN "amount" > 50 THEN 1 ELSE 0 END'),
    SQL(name="share", expr='"amount" / "sum_1h"'),
]


@given(
    steps=st.lists(st.integers(1, 3000), min_size=1, max_size=60),
    cards=st.lists(st.sampled_from(["a", "b", "c"]), min_size=60, max_size=60),
    amounts=st.lists(st.floats(0.5, 500, allow_nan=False), min_size=60, max_size=60),
    split=st.integers(0, 60),
)
def test_local_features_equal_what_turboml_computes(steps, cards, amounts, split, tmp_path_factory):
    # Distinct event times (ties differ by design: see the TurboML guide).
    n = len(steps)
    events = pd.DataFrame(
        {
            "id": np.arange(n),
            "card": cards[:n],
            "ts": 1_700_000_000 + np.cumsum(steps),
            "amount": np.round(amounts[:n], 2),
        }
    )
    fs = rtml.FeatureSet(name="f", dataset="tx", timestamp="ts", features=FEATURES)
    double.reset()
    catalog = str(tmp_path_factory.mktemp("tb") / "c.json")
    results = []
    for backend in (
        rtml.connect("local", path=":memory:"),
        rtml.connect("turboml", url="https://x", api_key="k", sdk=double, catalog=catalog),
    ):
        tx = backend.create_dataset("tx", key="id", df=events.iloc[:split])
        backend.materialize(fs)
        if split < n:
            tx.push(events.iloc[split:])
        results.append(backend.features("f").sort_values("id").reset_index(drop=True))
    # and what the SDK's own LocalDataset feature engineering computes, through the same calls
    results.append(rtml.backends.turboml.backend.sdk_local_features(fs, events, "id", double))
    local = results[0]
    for other in results[1:]:
        for f in FEATURES:
            np.testing.assert_allclose(
                local[f.name].astype(float), other[f.name].astype(float), rtol=1e-12, err_msg=f.name
            )


def test_equal_timestamps_are_where_they_differ(turboml):
    events = pd.DataFrame({"id": [1, 2], "card": ["a", "a"], "ts": [0, 0], "amount": [1.0, 2.0]})
    fs = rtml.FeatureSet(name="f", dataset="tx", timestamp="ts", features=[FEATURES[0]])
    local = rtml.connect("local", path=":memory:")
    for backend in (local, turboml):
        backend.create_dataset("tx", key="id", df=events)
        backend.materialize(fs)
    # rtml: a record sees the records that arrived before it; TurboML's RANGE frame: all peers.
    assert local.features("f")["sum_1h"].tolist() == [1.0, 3.0]
    assert turboml.features("f").sort_values("id")["sum_1h"].tolist() == [3.0, 3.0]


def test_dead_letters_are_set_aside_before_the_push_is_sent(turboml):
    tx = turboml.create_dataset("tx", key="id", schema={"id": "int", "amount": "float"})
    records = [{"id": 1, "amount": 1.0}, {"id": 2, "amount": "lots"}, {"id": 3, "amount": 3.0}]
    assert tx.push(records, on_error="dead_letter") == 2
    assert tx.to_pandas()["id"].tolist() == [1, 3]
    letters = tx.dead_letters()
    assert letters["record"].tolist() == [{"id": 2, "amount": "lots"}]
    assert "field 'amount': expected float" in letters["reason"].iloc[0]


def test_a_label_outside_a_classifiers_classes_is_refused_before_anything_is_sent(turboml):
    tx = turboml.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    lb = turboml.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    turboml.deploy(
        "m",
        rtml.models.HoeffdingTreeClassifier(),  # deployed with n_classes=2 on TurboML
        inputs=rtml.Inputs("tx", numerical=["x"]),
        labels=rtml.Labels("labels", field="y"),
    )
    with pytest.raises(rtml.SchemaError, match=r"row 1, field 'y': deployment 'm' .*got 2"):
        lb.push([{"id": 1, "y": 1}, {"id": 2, "y": 2}])
    assert len(lb) == 0
    assert lb.push([{"id": 1, "y": 1}, {"id": 2, "y": 0}]) == 2 and len(tx) == 0
