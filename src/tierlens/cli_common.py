"""What every ``tierlens`` command module shares: the ``--db`` option, the settings and the
one-line failure. (The sub-apps can't import these from :mod:`tierlens.cli`, which imports
them.)

:func:`cli_settings` is the one place the CLI reads the settings (environment and ``.env``);
every command passes what it gets from there down to the library, which reads none itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from tierlens.settings import Settings

DbOpt = Annotated[Path | None, typer.Option("--db", help="Warehouse path (default: settings).")]


def fail(message: str) -> NoReturn:
    """Print ``error: message`` on stderr and exit 1."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def cli_settings(db: Path | None = None) -> Settings:
    """The settings of this command line (environment and ``.env``, read once), for the
    warehouse ``db`` (see Settings.for_warehouse). The CLI's one call of get_settings: from
    here on the settings are passed along explicitly. A bad setting is one ``error:`` line,
    exit 1."""
    from pydantic import ValidationError

    from tierlens.settings import get_settings

    try:
        return get_settings().for_warehouse(db)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err.get("loc", ())) or "settings"
        fail(f"{where}: {err['msg'].removeprefix('Value error, ')}")
