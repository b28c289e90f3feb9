"""``tierlens reviews ...``: bring a QA team's manual reviews in, and size the verification
sample that makes the model-based KPIs trustworthy (see docs/metrics.md, "The trust layer")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tierlens.cli_common import DbOpt, cli_settings
from tierlens.cli_common import fail as _fail
from tierlens.errors import TierlensError

reviews_app = typer.Typer(no_args_is_help=True,
                          help="Human reviews: import labels, see the verification sample.")
StoreOpt = Annotated[Path | None, typer.Option(
    "--store", help="Review store (default: the warehouse's, see docs/settings.md).")]


def _known_ids(db: Path):
    """A membership test for the warehouse's conversation ids (None: no warehouse yet)."""
    import duckdb

    if not db.exists():
        return None
    con = duckdb.connect(str(db), read_only=True)
    try:
        ids = {r[0] for r in con.execute("SELECT conversation_id FROM core_conversations")
               .fetchall()}
    except duckdb.Error:
        return None
    finally:
        con.close()
    return ids.__contains__


@reviews_app.command("import")
def import_cmd(file: Annotated[Path, typer.Argument(
                   help="CSV: conversation_id,label_type,label,reviewer[,turn_index].")],
               db: DbOpt = None, store: StoreOpt = None) -> None:
    """Import labels as reviewed corrections (review store + audit log). All rows or none;
    the next `tierlens score` (and the flows) re-derive the KPIs with them."""
    from tierlens.reviews.importer import import_reviews
    from tierlens.reviews.store import default_path

    settings = cli_settings(db)
    target = store or default_path(settings)
    try:
        counts = import_reviews(file, target, _known_ids(settings.warehouse), settings)
    except TierlensError as exc:
        _fail(str(exc))
    parts = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    typer.echo(f"imported {sum(counts.values())} label(s) ({parts}) into {target}; "
               "run `tierlens score` to re-derive the KPIs with them")


@reviews_app.command("sample")
def sample_cmd(month: Annotated[str | None, typer.Option(help="Only this month, YYYY-MM.")] = None,
               out: Annotated[Path | None, typer.Option(
                   help="Also write the conversations still to review to this CSV.")] = None,
               db: DbOpt = None) -> None:
    """How many reviews each month and tier needs for its chosen interval width, how many it
    has, and (with --out) which conversations to review next."""
    import duckdb
    import polars as pl

    path = cli_settings(db).warehouse
    if not path.exists():
        _fail(f"{path}: no warehouse yet; run `tierlens run` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        frame = con.execute("SELECT * FROM verification_sample").pl()
    except duckdb.Error:
        _fail(f"{path}: no verification sample yet; run `tierlens score` first")
    finally:
        con.close()
    if month:
        frame = frame.filter(pl.col("month") == month)
    summary = (frame.group_by("month", "tier")
               .agg(pl.col("population").first(), pl.col("needed").first(),
                    reviewed=pl.col("reviewed").sum())
               .with_columns(to_review=pl.col("needed") - pl.col("reviewed"))
               .sort("month", "tier"))
    with pl.Config(tbl_rows=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True,
                   tbl_formatting="ASCII_MARKDOWN"):
        typer.echo(str(summary))
    if out is not None:
        todo = frame.filter(~pl.col("reviewed")).select("month", "tier", "sample_rank",
                                                        "conversation_id")
        out.parent.mkdir(parents=True, exist_ok=True)
        todo.write_csv(out)
        typer.echo(f"wrote {todo.height} conversation(s) to review to {out}")
