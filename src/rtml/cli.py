"""The ``rtml`` command."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

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


@app.command()
def version() -> None:
    """Print rtml's version."""
    from rtml import __version__

    typer.echo(__version__)


if __name__ == "__main__":  # pragma: no cover
    app()
