"""What every ``tierlens`` command module shares: the ``--db`` option and the one-line
failure. (The sub-apps can't import these from :mod:`tierlens.cli`, which imports them.)"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

DbOpt = Annotated[Path | None, typer.Option("--db", help="Warehouse path (default: settings).")]


def fail(message: str) -> NoReturn:
    """Print ``error: message`` on stderr and exit 1."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)
