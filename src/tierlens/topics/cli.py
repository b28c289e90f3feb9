"""``tierlens topics``: contact reasons by automation opportunity, and promotion to an intent."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tierlens.cli_common import DbOpt, cli_settings
from tierlens.cli_common import fail as _fail
from tierlens.errors import TierlensError

topics_app = typer.Typer(help="Contact-reason topics: what customers contact about, sized as "
                              "automation opportunities.", invoke_without_command=True)


def _connect(db: Path | None):
    import duckdb

    path = cli_settings(db).warehouse
    if not path.exists():
        _fail(f"{path}: no warehouse yet; run `tierlens run` first")
    return duckdb.connect(str(path), read_only=True)


@topics_app.callback()
def topics(ctx: typer.Context,
           month: Annotated[str | None, typer.Option(help="YYYY-MM (default: latest).")] = None,
           fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
           db: DbOpt = None) -> None:
    """The month's topics, largest automation opportunity first."""
    if ctx.invoked_subcommand is not None:
        return
    import polars as pl

    from tierlens.metrics.catalogue import render_kpis
    from tierlens.topics.export import topics_for_month

    if fmt not in ("table", "json", "csv"):
        _fail(f"--format {fmt!r}: use table, json or csv")
    con = _connect(db)
    try:
        df = topics_for_month(con, month)
    except TierlensError as exc:
        _fail(str(exc))
    finally:
        con.close()
    if fmt == "table":
        df = df.select("topic_id", "label", "n_conversations",
                       pl.col("share").round(3), pl.col("containment_durable").round(3),
                       pl.col("escalation_rate").round(3), pl.col("opportunity").round(2),
                       "status", "matched_intent")
    elif fmt == "csv":
        df = df.with_columns(pl.col("keywords").list.join(" | "),
                             pl.col("example_conversation_ids").list.join(" "))
    typer.echo(render_kpis(df, fmt))


@topics_app.command("promote")
def promote(topic_id: Annotated[int, typer.Argument(help="A topic id from `tierlens topics`.")],
            intent: Annotated[str, typer.Option(help="The new intent's name.")],
            out: Annotated[Path, typer.Option(help="CSV to write (text,intent).")],
            limit: Annotated[int, typer.Option(min=1)] = 500,
            db: DbOpt = None) -> None:
    """Export a topic's requests as `text,intent` examples for `tierlens train-intents`."""
    from tierlens.topics.export import promotion_examples

    con = _connect(db)
    try:
        df = promotion_examples(con, topic_id, intent, limit)
    except TierlensError as exc:
        _fail(str(exc))
    finally:
        con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    df.write_csv(out)
    typer.echo(f"wrote {df.height} example(s) of topic {topic_id} as intent {intent!r} to "
               f"{out}; next: tierlens train-intents {out}")
