"""``tierlens train-intents`` and ``tierlens intents list|use``: a warehouse's own intent
taxonomy, end to end (kept out of cli.py so that file stays a list of commands).

A taxonomy is trained from a CSV, stored in the warehouse given by ``--db`` and made its
active one; ``score``, ``run``, ``rescore``, the flows and so the dashboard then use it
(:mod:`tierlens.store.intents`).
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tierlens.cli_common import DbOpt, cli_settings
from tierlens.settings import Settings

if TYPE_CHECKING:
    import duckdb

intents_app = typer.Typer(no_args_is_help=True,
                          help="The warehouse's intent taxonomies: list them, pick the active one.")


def train(file: Path, name: str | None, out: Path | None, corrections: bool,
          policy_path: Path | None, db: Path | None) -> None:
    """Train from ``file``, store the head (and its routing policy) in the warehouse ``db``
    and make it active."""
    from tierlens.config import load_routing_policy
    from tierlens.reviews.store import export_corrections
    from tierlens.score.encoder import get_encoder
    from tierlens.score.train_intents import train_intents
    from tierlens.store.db import connect
    from tierlens.store.intents import check_name, save_taxonomy

    settings = cli_settings(db)
    name = check_name(name or re.sub(r"[^A-Za-z0-9_.-]", "_", Path(file).stem))
    policy = load_routing_policy(policy_path) if policy_path is not None else None
    fixes = export_corrections(settings.review_store, "intent") if corrections else None
    with tempfile.TemporaryDirectory(prefix="tierlens-intents-") as tmp:
        report = train_intents(file, out or Path(tmp), name=name, corrections=fixes,
                               encoder=get_encoder(settings))
        con = connect(settings.warehouse)
        try:
            save_taxonomy(con, name, Path(report["head_path"]), report, policy)
            if out is None:
                report.pop("head_path")
            report["taxonomy"] = name
            report["warehouse"] = str(settings.warehouse)
            for note in report["warnings"]:
                typer.echo(f"warning: {note}", err=True)
            typer.echo(json.dumps(report, indent=2, default=str))
            _activated(con, settings, name)
        finally:
            con.close()


@intents_app.command("list")
def list_cmd(db: DbOpt = None) -> None:
    """The warehouse's intent taxonomies; * marks the active one."""
    from tierlens.store.db import connect
    from tierlens.store.intents import list_taxonomies

    settings = cli_settings(db)
    con = connect(settings.warehouse)
    try:
        rows = list_taxonomies(con).to_dicts()
    finally:
        con.close()
    active = next((r["name"] for r in rows if r["active"]), None)
    typer.echo(f"{'*' if active is None else ' '} default  (bundled, 97 intents)")
    for r in rows:
        typer.echo(f"{'*' if r['active'] else ' '} {r['name']}  ({r['n_intents']} intents, "
                   f"trained {r['trained_at']:%Y-%m-%d %H:%M} from {r['source']})")


@intents_app.command("use")
def use_cmd(name: Annotated[str, typer.Argument(help="A trained taxonomy, or `default`.")],
            db: DbOpt = None) -> None:
    """Make taxonomy NAME (or the bundled `default`) the active one for the warehouse."""
    from tierlens.store.db import connect
    from tierlens.store.intents import use_taxonomy

    settings = cli_settings(db)
    con = connect(settings.warehouse)
    try:
        use_taxonomy(con, None if name == "default" else name)
        _activated(con, settings, name)
    finally:
        con.close()


def _activated(con: duckdb.DuckDBPyConnection, settings: Settings, name: str) -> None:
    """Tell that taxonomy ``name`` is now active, and what the routing policy lacks for it."""
    typer.echo(f"intent taxonomy {name!r} is now active for {settings.warehouse}; the next "
               "`tierlens score` re-scores every conversation with it")
    if name != "default":
        _policy_note(con, settings, name)


def _policy_note(con: duckdb.DuckDBPyConnection, settings: Settings, name: str) -> None:
    """Say which of taxonomy ``name``'s intents the routing policy in force doesn't name
    (``con``: the caller's warehouse connection, which just made ``name`` active)."""
    from tierlens.stages.model_scores import intent_head as active_intent_head
    from tierlens.store.intents import policy_gaps, routing_policy

    head = active_intent_head(con)
    policy = routing_policy(con, settings.routing_policy_path)
    labels = list(head.labels) if head is not None and head.name == name else []
    gaps = policy_gaps(labels, policy)
    if gaps:
        shown = ", ".join(gaps[:8]) + (f" (+{len(gaps) - 8} more)" if len(gaps) > 8 else "")
        typer.echo(f"note: routing policy {policy.version!r} has no entry for {len(gaps)} of "
                   f"the {len(labels)} intent(s): {shown}; they are expected in its default "
                   f"queue {policy.default_queue!r}. Give the taxonomy its own policy with "
                   "`train-intents --routing-policy FILE` (docs/settings.md)")
