"""The ``tierlens`` command line: a thin layer over :mod:`tierlens.pipeline`.

Every command takes ``--db`` (default: the settings' warehouse) and exits non-zero with a
one-line reason on failure. Library errors are :class:`tierlens.errors.TierlensError`;
this module is the only place that turns them into messages.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tierlens.cli_common import DbOpt, cli_settings
from tierlens.cli_common import fail as _fail
from tierlens.cli_intents import intents_app
from tierlens.errors import TierlensError

if TYPE_CHECKING:
    from tierlens.ingest.pipeline import IngestReport

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="tierlens: QA analytics for hybrid (AI + human) contact centers.")



def _check_paths(paths: list[Path]) -> None:
    """A path given on the command line that can't be read at all (missing, a FIFO, a
    symbolic link loop...) fails the command before the warehouse is touched."""
    from tierlens.ingest.pipeline import path_problem

    bad = [(p, problem) for p in paths if (problem := path_problem(p)) is not None]
    if bad:
        for p, problem in bad:
            typer.echo(f"error: {p}: {problem}", err=True)
        raise typer.Exit(1)


def _print_ingest(report: IngestReport) -> None:
    """The counts, then one ``error:`` line per file not ingested."""
    typer.echo(
        f"read {report.read}, stored {report.stored}, updated {report.updated}, "
        f"skipped as already seen {report.unchanged} "
        f"(+{report.files_skipped} file(s) skipped by content hash), "
        f"quarantined {report.quarantined}"
        + (f", {report.files_failed} file(s) unreadable or empty (see quarantine)"
           if report.files_failed else "")
        + f"  [run {report.run_id}]")
    for path, reason in report.problems:
        typer.echo(f"error: {path}: {reason}", err=True)


def _pipeline(command: str, db: Path | None, **kw) -> dict:
    """One ledgered pipeline run (a ``flow_runs`` row named ``cli-<command>``)."""
    from tierlens.pipeline import run_pipeline

    return run_pipeline(cli_settings(db), f"cli-{command}", **kw)


@app.command()
def ingest(paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
           db: DbOpt = None) -> None:
    """Ingest files or folders. Prints read, stored, updated, skipped and quarantined; exits
    non-zero, with one line per file, when a file could not be ingested."""
    _check_paths(paths)
    result = _pipeline("ingest", db, paths=paths, score_after=False, publish_snapshot=False)
    _print_ingest(result["ingest"])
    if result["ingest"].problems:
        raise typer.Exit(1)


@app.command()
def score(db: DbOpt = None,
          rules: Annotated[Path | None, typer.Option(help="Rulebook YAML (default: bundled).")]
          = None) -> None:
    """Score everything not yet scored under the current model and rulebook versions, derive
    outcomes and KPIs, and publish the dashboard snapshot."""
    _print_score(_pipeline("score", db, rules=rules))


@app.command()
def run(paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
        db: DbOpt = None) -> None:
    """Ingest, score and derive, in one go. Exits non-zero when a file could not be ingested
    (the others are still scored; nothing is scored when no file could be)."""
    _check_paths(paths)
    result = _pipeline("run", db, paths=paths)
    report = result["ingest"]
    _print_ingest(report)
    if "models" not in result:  # nothing ingested: nothing scored
        raise typer.Exit(1)
    _print_score(result)
    if report.problems:
        raise typer.Exit(1)


@app.command()
def rescore(db: DbOpt = None,
            since: Annotated[datetime | None, typer.Option(
                formats=["%Y-%m-%d"], help="Only conversations started on or after DATE.")] = None,
            rules: Annotated[Path | None, typer.Option(help="Rulebook YAML to apply.")] = None,
            ) -> None:
    """Apply a (new) rulebook or model to history as its own version; older versions' results
    stay side by side. The applied versions become current."""
    _print_score(_pipeline("rescore", db, rules=rules, since=since.date() if since else None,
                           rescore=True))


def _print_score(result: dict) -> None:
    m, c, d = result["models"], result["compliance"], result["derived"]
    typer.echo(f"scored {m['conversations']} conversation(s), {m['turns']} turn(s) "
               f"[model {m['model_version']}]")
    typer.echo(f"compliance: {c['conversations']} conversation(s), {c['hits']} hit(s), "
               f"{c['red_flags']} red flag(s) [rulebook {c['rulebook_version']}]")
    typer.echo(f"derived outcomes for {d['conversations']} conversation(s), {d['kpi_rows']} KPI "
               f"row(s) over {d['months']} month(s); published {result['snapshot']}")


@app.command()
def kpis(month: Annotated[str, typer.Option(help="Cohort month, YYYY-MM.")],
         format: Annotated[str, typer.Option(help="json, csv or table.")] = "table",
         db: DbOpt = None) -> None:
    """The month's KPIs by tier, each with its numerator and denominator."""
    from tierlens.metrics.catalogue import render_kpis
    from tierlens.stages.derive import kpis_for_month
    from tierlens.store.db import connect

    if format not in ("json", "csv", "table"):
        _fail(f"--format {format!r}: use json, csv or table")
    settings = cli_settings(db)
    con = connect(settings.warehouse, read_only=True)
    try:
        frame = kpis_for_month(con, month)
    finally:
        con.close()
    typer.echo(render_kpis(frame, format, settings.handoff_target_seconds),
               nl=format != "csv")


@app.command()
def simulate(conversations: Annotated[int, typer.Option(min=1)] = 3000,
             months: Annotated[int, typer.Option(min=1)] = 4,
             seed: int = 7,
             out: Annotated[Path, typer.Option(help="Output folder.")] = Path("data/demo"),
             db: DbOpt = None) -> None:
    """Write a realistic hybrid contact-center data set plus its ground truth.
    (--db is accepted for uniformity; simulate doesn't touch the warehouse.)"""
    from tierlens.simulate import simulate as run_sim
    from tierlens.simulate.bank import bank_dir

    settings = cli_settings(db)
    result = run_sim(n_conversations=conversations, months=months, seed=seed, out_dir=out,
                     handle=settings.handle_time, bank=bank_dir(settings.data_dir))
    typer.echo(f"wrote {result.n_conversations} conversations over {months} month(s) to "
               f"{result.conversations_path}; ground truth in {result.ground_truth_path} and "
               f"{result.kpis_path}")


@app.command("train-intents")
def train_intents(file: Annotated[Path, typer.Argument(help="CSV with columns text,intent.")],
                  name: Annotated[str | None, typer.Option(
                      help="Taxonomy name (default: the CSV's file name).")] = None,
                  out: Annotated[Path | None, typer.Option(
                      help="Also write the head's files to this folder.")] = None,
                  corrections: Annotated[bool, typer.Option(
                      help="Fold in reviewers' intent corrections from the review store.")]
                  = True,
                  routing_policy: Annotated[Path | None, typer.Option(
                      help="Routing policy YAML for these intents (stored with them).")]
                  = None,
                  db: DbOpt = None) -> None:
    """Train your own intent taxonomy from a CSV of examples (minutes on a CPU), store it in
    the warehouse and make it the active one there (see `tierlens intents`)."""
    from tierlens.cli_intents import train

    train(file, name, out, corrections, routing_policy, db)


@app.command("export-corrections")
def export_corrections_cmd(
        label_type: Annotated[str, typer.Argument(
            help="sentiment, intent, resolution or escalation_reason.")],
        out: Annotated[Path, typer.Option(help="CSV to write (columns text,label).")],
        db: DbOpt = None) -> None:
    """Write reviewers' label corrections as labelled examples (the latest per turn wins)."""
    from tierlens.reviews.store import ReviewError, export_corrections

    try:
        frame = export_corrections(cli_settings(db).review_store, label_type)
    except ReviewError as exc:
        _fail(str(exc))
    from tierlens.export import write_csv_safe

    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv_safe(frame, out)
    typer.echo(f"wrote {frame.height} {label_type} correction(s) to {out}")


@app.command()
def dashboard(port: Annotated[int | None, typer.Option(help="Port (default: settings).")] = None,
              host: Annotated[str | None, typer.Option(
                  help="Interface to listen on (default: settings, 127.0.0.1: this machine "
                       "only; put a reverse proxy in front to expose it).")] = None,
              db: DbOpt = None) -> None:
    """Serve the dashboard (reads the published snapshot, never the warehouse). With --db:
    that warehouse's snapshot and review store."""
    import os
    import subprocess

    from tierlens.ports import port_in_use
    from tierlens.settings import REPO_DIR

    settings = cli_settings()
    port = port or settings.dashboard_port
    app_path = REPO_DIR / "dashboards" / "streamlit_app.py"
    if not app_path.exists():
        _fail(f"{app_path} not found; run from a tierlens checkout")
    host = host or settings.dashboard_host
    if port_in_use(port):
        _fail(f"port {port} is already in use; serve the dashboard on another with --port N")
    # showErrorDetails none: an unexpected error shows a generic message in the browser,
    # never a traceback with SQL or server paths (they go to this console)
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_path), "--server.headless", "true",
           "--server.address", host, "--server.port", str(port),
           "--client.showErrorDetails", "none", "--browser.gatherUsageStats", "false"]
    env = dict(os.environ)  # the dashboard process reads its settings from the environment
    if db is not None:
        own = settings.for_warehouse(db)
        env.update(TIERLENS_SERVING_DIR=str(own.serving_dir),
                   TIERLENS_REVIEW_STORE=str(own.review_store))
    typer.echo(f"serving the dashboard on http://{host}:{port}")
    raise typer.Exit(subprocess.call(cmd, env=env))


@app.command()
def demo(db: DbOpt = None,
         port: Annotated[int | None, typer.Option(help="Dashboard port.")] = None,
         serve: Annotated[bool, typer.Option(help="Serve the dashboard at the end.")] = True,
         conversations: Annotated[int | None, typer.Option(
             min=1, help="Demo size (default: the embedded demo's).")] = None) -> None:
    """The main job on the embedded defaults: simulate the bundled demo data into the inbox,
    run the ``ingest_and_score`` pipeline once, as the 15-minute flow does (ingest, validate,
    redact, score, derive, publish; recorded in the run ledger), then serve the dashboard."""
    import shutil

    from tierlens.pipeline import Hooks, run_pipeline
    from tierlens.settings import companion_dir
    from tierlens.simulate import DEMO
    from tierlens.simulate import simulate as run_sim
    from tierlens.simulate.bank import bank_dir

    settings = cli_settings()
    own = settings.for_warehouse(db)  # another warehouse: its demo data and inbox next to it
    home = companion_dir(db) if db is not None and own is not settings else None
    out = home / "demo" if home else settings.data_dir / "demo"
    n = conversations or DEMO["conversations"]
    if not (out / "conversations.jsonl.gz").exists():
        run_sim(n_conversations=n, months=DEMO["months"], seed=DEMO["seed"], out_dir=out,
                handle=settings.handle_time, bank=bank_dir(settings.data_dir))
        typer.echo(f"simulated {n} demo conversations into {out}")
    inbox = home / "inbox" if home else settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    dropped = inbox / "demo-conversations.jsonl.gz"
    if not dropped.exists():
        shutil.copyfile(out / "conversations.jsonl.gz", dropped)
    typer.echo("running the ingest_and_score pipeline once")
    result = run_pipeline(own.model_copy(update={"inbox": inbox}), "ingest_and_score",
                          paths=[inbox], parameters={"inbox": str(inbox), "demo": True},
                          hooks=Hooks(per_file=True), stop_when_nothing_ingested=False)
    counts = result["counts"]
    typer.echo(f"ingest_and_score: read {counts['read']}, stored {counts['stored']}, "
               f"unchanged {counts['unchanged']}, quarantined {counts['quarantined']}, "
               f"scored {counts['scored']}, red-flagged {counts['flagged']}")
    if serve:
        dashboard(port, None, db)


app.add_typer(intents_app, name="intents")

from tierlens.cli_reviews import reviews_app

app.add_typer(reviews_app, name="reviews")

from tierlens.topics.cli import topics_app

app.add_typer(topics_app, name="topics")

audit_app = typer.Typer(no_args_is_help=True, help="The review store's tamper-evident audit log.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(store: Annotated[Path | None, typer.Option(
                     help="Review store (default: the warehouse's, see docs/settings.md).")]
                 = None,
                 db: DbOpt = None) -> None:
    """Verify the audit log: its keyed hash chain, the event tables against it, and the chain
    heads anchored in the warehouse at each publish. Exits non-zero on the first problem."""
    from tierlens.reviews.audit import load_key, verify
    from tierlens.reviews.store import default_path
    from tierlens.reviews.sync import anchors
    from tierlens.store.publish import snapshot_path

    settings = cli_settings(db)
    path = store or default_path(settings)
    if not path.exists():
        if store is not None:  # named explicitly: a wrong path, not "no reviews yet"
            _fail(f"{path}: no such review store")
        typer.echo(f"{path}: no review store yet: nothing has been reviewed, so there is no "
                   "audit log to verify")
        return
    try:
        found, where = anchors(db or settings.warehouse, snapshot_path(settings.serving_dir))
        verdict = verify(path, load_key(settings.audit_key_file), anchors=found)
    except TierlensError as exc:
        _fail(str(exc))
    if not verdict.ok:
        _fail(f"{path}: audit log tampered: {verdict.reason}")
    checked = (f"checked against {verdict.anchors_checked} anchor(s) in the {where}" if where
               else "no anchors found (nothing published yet): truncation can't be checked")
    typer.echo(f"{path}: audit log chain intact ({verdict.rows} row(s)); event tables match; "
               f"{checked}")


def main() -> None:
    try:
        app()
    except TierlensError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
