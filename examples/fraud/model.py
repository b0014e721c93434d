"""Step 3: deploy the configured model, and a second one to compare it with, both pre-trained
on the history and then learning online as labels arrive."""

from __future__ import annotations

from config import connect, on_turboml, settings
from features import model_inputs

import rtml

CHOICES = {
    "LogisticRegression": lambda: rtml.models.LogisticRegression(),
    "OnlineLinearClassifier": lambda: rtml.models.OnlineLinearClassifier(),
    "HoeffdingTreeClassifier": lambda: rtml.models.RandomSampler(
        base_model=rtml.models.HoeffdingTreeClassifier(grace_period=100, delta=1e-4),
        desired_dist=[0.8, 0.2],
        sampling_method="under",
        seed=1,
    ),
    "AMFClassifier": lambda: rtml.models.AMFClassifier(n_estimators=5, seed=1),
    "GaussianNB": lambda: rtml.models.GaussianNB(),
}


def main() -> None:
    backend = connect()
    try:
        inputs = rtml.Inputs(source="fraud_features", numerical=model_inputs(on_turboml))
        labels = rtml.Labels(dataset="labels", field="is_fraud")
        for name in (settings.model, settings.comparison_model):
            if name in backend.deployments():
                continue
            if name not in CHOICES:
                raise SystemExit(f"unknown model {name!r}: choose one of {', '.join(CHOICES)}")
            backend.deploy(name, CHOICES[name](), inputs=inputs, labels=labels, pretrain=True)
            print(f"deployed {name!r}, pre-trained on the history")
        # A frozen copy of the main model: pre-trained like it, it never learns again.
        frozen = f"{settings.model}_frozen"
        if frozen not in backend.deployments():
            backend.deploy(
                frozen,
                CHOICES[settings.model](),
                inputs=inputs,
                labels=labels,
                pretrain=True,
                predict_only=True,
            )
        print(f"deployments: {', '.join(backend.deployments())}")
    finally:
        backend.close()


if __name__ == "__main__":
    main()
