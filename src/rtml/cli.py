"""The ``rtml`` command."""

from __future__ import annotations

import json
import os
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from rtml.cli_replay import replay
from rtml.errors import RtmlError

app = typer.Typer(
    help="rtml: real-time ML systems. Inspect plugins and run the engine.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


@app.command()
def plugins(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Show each plugin and the kinds it registers."""
    from rtml.plugins import registry

    try:
        found = registry().by_plugin()
    except RtmlError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(found, indent=2, sort_keys=True))
        return
    table = Table(title="rtml plugins")
    table.add_column("plugin")
    table.add_column("registers")
    for plugin, categories in sorted(found.items()):
        text = "; ".join(
            f"{cat}: {', '.join(sorted(names))}" for cat, names in sorted(categories.items())
        )
        table.add_row(plugin, text)
    console.print(table)


def _open(path: str | None) -> Any:
    """The store at ``path``, which must exist: a command that reads one never creates an
    empty store where a path was mistyped."""
    import rtml
    from rtml.backends.local.store import holds_store

    where = path if path is not None else os.environ.get("RTML_HOME", ".rtml")
    if not holds_store(where):
        console.print(
            f"[red]error:[/red] no rtml store at {where!r} (a directory holding rtml.duckdb): "
            "give its --path, or set RTML_HOME"
        )
        raise typer.Exit(1)
    try:
        return rtml.connect("local", path=where)
    except RtmlError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@app.command()
def status(
    path: str = typer.Option(None, help="The store (default: $RTML_HOME, else ./.rtml)."),
) -> None:
    """List a local store's datasets, feature sets, deployments and drift monitors."""
    backend = _open(path)
    try:
        table = Table(title=f"rtml store {backend.path}")
        table.add_column("kind")
        table.add_column("name")
        table.add_column("records / outputs", justify="right")
        table.add_column("labels learned", justify="right")
        for name in backend.datasets():
            table.add_row("dataset", name, f"{len(backend.dataset(name)):,}")
        for name in backend.feature_sets():
            table.add_row("feature set", name, f"{backend.feature_rows(name):,}")
        for name in backend.deployments():
            d = backend.deployment(name)
            state = " (paused)" if d.paused else ""
            table.add_row(
                "deployment",
                f"{name}: {d.spec.kind_name()}{state}",
                f"{len(d.outputs()):,}",
                f"{d.learned:,}",
            )
        for name in backend.monitors():
            status = backend.monitor(name).status()
            table.add_row(
                "drift monitor",
                f"{name}: {status['watches']}",
                f"{status['records']:,} ({status['changes']:,} changes)",
            )
        console.print(table)
    finally:
        backend.close()


@app.command()
def compare(
    deployments: list[str] = typer.Argument(None, help="Deployments to compare (default: all)."),
    metric: str = typer.Option("WindowedAUC", help="A registered metric."),
    window: int = typer.Option(1000, min=1, help="Labelled predictions per window."),
    out: str = typer.Option("comparison.html", help="Where to save the chart (.html or .png)."),
    path: str = typer.Option(None, help="The store (default: $RTML_HOME, else ./.rtml)."),
) -> None:
    """A metric over time for deployed models: a table here, a chart saved to a file."""
    import rtml

    backend = _open(path)
    try:
        names = list(dict.fromkeys(deployments or backend.deployments()))  # each name once
        if not names:
            console.print("[red]error:[/red] the store has no deployment to compare")
            raise typer.Exit(1)
        comparison = rtml.compare([backend.deployment(n) for n in names], metric, window)
        summary = comparison.summary()
        table = Table(title=f"{metric} over the last {window:,} labelled predictions")
        # compared: the labelled predictions of the events every model scored (the table's)
        for column in ("model", "last", "mean", "labelled", "compared"):
            table.add_column(column, justify="left" if column == "model" else "right")
        for name, row in summary.iterrows():
            last = "-" if pd.isna(row["last"]) else f"{row['last']:.4f}"
            mean = "-" if pd.isna(row["mean"]) else f"{row['mean']:.4f}"
            counts = f"{int(row['labelled']):,}", f"{int(row['compared']):,}"
            table.add_row(str(name), last, mean, *counts)
        console.print(table)
        try:
            saved = comparison.save(out)
            console.print(f"chart saved to {saved}")
        except RtmlError as exc:
            console.print(f"[yellow]no chart:[/yellow] {exc}")
    except RtmlError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        backend.close()


@app.command()
def drift(
    names: list[str] = typer.Argument(
        None,
        help="Deployments whose scores to watch (default: all), or with --field the "
        "dataset or feature set to read.",
    ),
    field: list[str] = typer.Option(None, help="A numerical field to watch (repeatable)."),
    together: bool = typer.Option(
        False, "--multivariate", help="Watch the fields together (two or more)."
    ),
    categories: bool = typer.Option(
        False,
        "--categorical",
        help="Watch each field's category shares (chi-square test) instead of its mean.",
    ),
    delta: float = typer.Option(0.002, help="ADWIN's confidence: smaller, fewer false alarms."),
    alpha: float = typer.Option(1e-5, help="--categorical: the test's p-value for a change."),
    missing: bool = typer.Option(
        False, "--missing", help="--categorical: count missing values as a category."
    ),
    window: str = typer.Option(
        "1000", help="--categorical: the window, in records or as a duration ('1d', with --time)."
    ),
    reference: str = typer.Option(
        "1000", help="--categorical: the reference, in records or as a duration (with --time)."
    ),
    time: str = typer.Option(None, help="--categorical: the field of event times."),
    chart: str = typer.Option(None, help="Save the chart of the one report (.html or .png)."),
    path: str = typer.Option(None, help="The store (default: $RTML_HOME, else ./.rtml)."),
) -> None:
    """Where a model's scores, or a dataset's or feature set's fields, changed (ADWIN, or a
    chi-square test of category shares)."""
    backend = _open(path)
    try:
        if categories and together:
            raise RtmlError("--categorical watches each field alone: drop --multivariate")
        if (missing or time) and not categories:
            raise RtmlError("--missing and --time are the categorical test's: add --categorical")
        test = {
            "alpha": alpha,
            "missing": missing,
            "time": time,
            "window": _records_or_duration(window),
            "reference": _records_or_duration(reference),
        }
        reports = _drift_reports(
            backend, names or [], field or [], together, delta, test if categories else None
        )
        how = f"chi-square, alpha {alpha:g}" if categories else f"ADWIN, delta {delta:g}"
        table = Table(title=f"Drift ({how})")
        for column in ("monitored", "records", "changes", "first change (record)"):
            table.add_column(column, justify="left" if column == "monitored" else "right")
        for name, report in reports.items():
            first = report.drifts[0] if report.drifts else None
            table.add_row(
                name,
                f"{len(report.table):,}",
                f"{len(report.drifts):,}",
                "-" if first is None else f"{first:,}",
            )
        console.print(table)
        if chart:
            if len(reports) != 1:
                raise RtmlError(f"--chart draws one report; this asks for {len(reports)}")
            saved = next(iter(reports.values())).save(chart)
            console.print(f"chart saved to {saved}")
    except (RtmlError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        backend.close()


def _records_or_duration(text: str) -> int | str:
    """A number of records ('1000') or a duration ('1d'), as the command line gives it."""
    return int(text) if text.strip().isdigit() else text


def _drift_reports(
    backend: Any,
    names: list[str],
    fields: list[str],
    together: bool,
    delta: float,
    categorical: dict[str, Any] | None,
) -> dict[str, Any]:
    """The reports ``rtml drift`` prints: ADWIN's (``delta``), or with ``categorical`` (the
    test's settings) the chi-square test's."""
    import rtml

    if not fields:
        if together or categorical is not None:
            raise RtmlError("--multivariate and --categorical watch fields: name them with --field")
        deployments = names or backend.deployments()
        if not deployments:
            raise RtmlError("the store has no deployment; name a dataset and its --field")
        return {f"score of {n}": backend.deployment(n).drift(delta=delta) for n in deployments}
    if len(names) != 1:
        raise RtmlError("with --field, name one dataset or feature set to read")
    source = names[0]
    if source in backend.feature_sets():
        # The dataset's fields and the features, as a monitor of the feature set reads them.
        dataset = backend.dataset(backend.feature_set(source).dataset)
        frame = dataset.to_pandas().merge(backend.features(source), on=dataset.key)
    elif source in backend.datasets():
        frame = backend.dataset(source).to_pandas()
    else:
        raise rtml.NotFound(f"no dataset or feature set named {source!r}")
    if together:
        report = rtml.drift.multivariate(frame, fields, delta=delta, source=source)
        return {f"{source}: {', '.join(fields)} together": report}
    if categorical is not None:
        return {
            f"{source}.{f}": rtml.drift.categorical(frame, f, source=source, **categorical)
            for f in fields
        }
    return {
        f"{source}.{f}": rtml.drift.univariate(frame, f, delta=delta, source=source) for f in fields
    }


@app.command()
def serve(
    path: str = typer.Option(None, help="The store (default: $RTML_HOME, else ./.rtml)."),
    host: str = typer.Option("127.0.0.1", help="Address to bind; 0.0.0.0 exposes it."),
    port: int = typer.Option(8000, help="TCP port."),
    max_batch: int = typer.Option(10_000, help="Records accepted in one request."),
    max_body_mb: float = typer.Option(32.0, help="Largest request body, in MB."),
    trust_module: list[str] = typer.Option(
        None,
        help="A module whose functions (UDFs) specs sent over HTTP may name; repeatable. "
        "Without it, a feature set naming any function is refused.",
    ),
    access_log: bool = typer.Option(True, help="Log every request."),
    log_level: str = typer.Option("info", help="uvicorn's log level."),
) -> None:
    """Serve a store over HTTP (REST + OpenAPI at /docs); the server owns the store.

    With RTML_API_KEY set in its environment, every route but /health and /ready requires
    `Authorization: Bearer <key>`.
    """
    try:
        import uvicorn

        from rtml.serve import StoreOwner, create_app
    except ImportError as exc:
        console.print(f'[red]error:[/red] {exc.name} is missing: pip install "rtml[serve]"')
        raise typer.Exit(1) from None
    import gc
    import os

    owner = StoreOwner(path)
    owner.open()  # before listening: a locked or broken store stops here with its reason
    if owner.error is not None:
        console.print(f"[red]error:[/red] {owner.error}")
        raise typer.Exit(1)
    # This process is the store's: its state is long-lived, and every full collection of the
    # garbage collector walks all of it (about 0.1 s for 400,000 handbook transactions), one
    # every few seconds under pushes. Frozen, it is skipped (and still freed by reference
    # counting when the engine drops it; only a reference cycle in it would stay).
    gc.collect()
    gc.freeze()
    key = os.environ.get("RTML_API_KEY") or None
    application = create_app(
        owner,
        api_key=key,
        max_batch=max_batch,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        trusted_modules=tuple(trust_module or ()),
    )
    auth = "Bearer key required (RTML_API_KEY)" if key else "no API key (RTML_API_KEY unset)"
    console.print(f"rtml serving {owner.backend!r} on http://{host}:{port} - {auth}")
    uvicorn.run(application, host=host, port=port, access_log=access_log, log_level=log_level)


app.command()(replay)


@app.command()
def version() -> None:
    """Print rtml's version."""
    from rtml import __version__

    typer.echo(__version__)


if __name__ == "__main__":  # pragma: no cover
    app()
