"""Settings of the fraud example, from the environment or a ``.env`` file (see .env.example).

The backend is the embedded local engine (its store under ``RTML_HOME``, else ``./.rtml``),
unless ``RTML_URL`` names a running ``rtml serve`` (then every step talks to it; its key, if
any, in ``RTML_API_KEY``), or ``TURBOML_BACKEND_URL`` and ``TURBOML_API_KEY`` are both set, or
``RTML_BACKEND=flink`` (Apache Flink: its data under ``RTML_HOME`` too; ``FLINK_PARALLELISM``,
and ``FLINK_JOBMANAGER`` for a cluster).
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

import rtml


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    rtml_home: str | None = None
    rtml_backend: str = "local"  # or "flink"
    flink_parallelism: int = 1  # on one machine 1 is fastest (docs/flink.md, Performance)
    flink_jobmanager: str | None = None  # host:port of a cluster; None: the local mini-cluster
    rtml_url: str | None = None
    rtml_api_key: str | None = None
    turboml_backend_url: str | None = None
    turboml_api_key: str | None = None

    # the synthetic transactions
    customers: int = 2000
    terminals: int = 4000
    days: int = 45
    history_days: int = 21
    drift_day: int = 30
    seed: int = 7

    # the models: the first is the one deployed, the second is there to compare with
    # (default: LogisticRegression and a Hoeffding tree; on TurboML, which has no logistic
    # regression, the Hoeffding tree and Gaussian naive Bayes)
    model: str | None = None
    comparison_model: str | None = None
    label_delay: str = "7d"
    batch_size: int = 2000
    live_limit: int | None = None  # records pushed per `make live-data` run (None: all)
    metric_window: int = 5000
    chart: str = "comparison.html"
    # transaction fields watched for drift by `make compare` (ADWIN, rtml.drift)
    drift_fields: list[str] = ["transactionAmount", "isProxyIP", "digitalItemCount"]
    drift_chart_field: str = "digitalItemCount"  # its trace is saved beside the chart


settings = Settings()
on_turboml = bool(settings.turboml_backend_url and settings.turboml_api_key)
if settings.model is None:
    settings.model = "HoeffdingTreeClassifier" if on_turboml else "LogisticRegression"
if settings.comparison_model is None:
    settings.comparison_model = "GaussianNB" if on_turboml else "HoeffdingTreeClassifier"


def connect() -> rtml.Backend:
    """The backend this example runs on."""
    if on_turboml:
        return rtml.connect(
            "turboml", url=settings.turboml_backend_url, api_key=settings.turboml_api_key
        )
    if settings.rtml_url:
        return rtml.connect(settings.rtml_url, api_key=settings.rtml_api_key)
    if settings.rtml_backend == "flink":
        return rtml.connect(
            "flink",
            path=settings.rtml_home or ".rtml",
            parallelism=settings.flink_parallelism,
            jobmanager=settings.flink_jobmanager,
        )
    return rtml.connect(settings.rtml_backend, path=settings.rtml_home)


def simulator() -> rtml.simulate.SyntheticFraudSimulator:
    return rtml.simulate.SyntheticFraudSimulator(
        n_customers=settings.customers,
        n_terminals=settings.terminals,
        days=settings.days,
        drift_day=settings.drift_day,
        seed=settings.seed,
    )
