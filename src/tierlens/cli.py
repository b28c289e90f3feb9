"""The ``tierlens`` command line: a thin layer over :mod:`tierlens.jobs`.

Every command takes ``--db`` (default: the settings' warehouse) and exits non-zero with a
one-line reason on failure. Library errors are :class:`tierlens.errors.TierlensError`;
this module is the only place that turns them into messages.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from tierlens.errors import TierlensError
from tierlens.settings import get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="tierlens: QA analytics for hybrid (AI + human) contact centers.")

DbOpt = Annotated[Path | None, typer.Option("--db", help="Warehouse path (default: settings).")]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@app.command()
def ingest(paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
           db: DbOpt = None) -> None:
    """Ingest files or folders. Prints read, stored, updated, skipped and quarantined."""
    from tierlens import jobs

    report = jobs.ingest(paths, db)
    typer.echo(
        f"read {report.read}, stored {report.stored}, updated {report.updated}, "
        f"skipped as already seen {report.unchanged} "
        f"(+{report.files_skipped} file(s) skipped by content hash), "
        f"quarantined {report.quarantined}"
        + (f", {report.files_failed} file(s) unreadable or empty (see quarantine)"
           if report.files_failed else "")
        + f"  [run {report.run_id}]")


@app.command()
def score(db: DbOpt = None,
          rules: Annotated[Path | None, typer.Option(help="Rulebook YAML (default: bundled).")]
          = None) -> None:
    """Score everything not yet scored under the current model and rulebook versions, derive
    outcomes and KPIs, and publish the dashboard snapshot."""
    from tierlens import jobs

    _print_score(jobs.score(db, rules=rules))


@app.command()
def run(paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
        db: DbOpt = None) -> None:
    """Ingest, score and derive, in one go."""
    ingest(paths, db)
    score(db)


@app.command()
def rescore(db: DbOpt = None,
            since: Annotated[datetime | None, typer.Option(
                formats=["%Y-%m-%d"], help="Only conversations started on or after DATE.")] = None,
            rules: Annotated[Path | None, typer.Option(help="Rulebook YAML to apply.")] = None,
            ) -> None:
    """Apply a (new) rulebook or model to history as its own version; older versions' results
    stay side by side. The applied versions become current."""
    from tierlens import jobs

    _print_score(jobs.score(db, rules=rules, since=since.date() if since else None,
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
    from tierlens.metrics.kpis import render_kpis
    from tierlens.store.db import connect
    from tierlens.store.outcomes import kpis_for_month

    if format not in ("json", "csv", "table"):
        _fail(f"--format {format!r}: use json, csv or table")
    con = connect(db or get_settings().warehouse, read_only=True)
    try:
        frame = kpis_for_month(con, month)
    finally:
        con.close()
    typer.echo(render_kpis(frame, format), nl=format != "csv")


@app.command()
def simulate(conversations: Annotated[int, typer.Option(min=1)] = 3000,
             months: Annotated[int, typer.Option(min=1)] = 4,
             seed: int = 7,
             out: Annotated[Path, typer.Option(help="Output folder.")] = Path("data/demo"),
             db: DbOpt = None) -> None:
    """Write a realistic hybrid contact-center data set plus its ground truth.
    (--db is accepted for uniformity; simulate doesn't touch the warehouse.)"""
    from tierlens.simulate import simulate as run_sim

    result = run_sim(n_conversations=conversations, months=months, seed=seed, out_dir=out)
    typer.echo(f"wrote {result.n_conversations} conversations over {months} month(s) to "
               f"{result.conversations_path}; ground truth in {result.ground_truth_path} and "
               f"{result.kpis_path}")


@app.command("train-intents")
def train_intents(file: Annotated[Path, typer.Argument(help="CSV with columns text,intent.")],
                  out: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
                  corrections: Annotated[bool, typer.Option(
                      help="Fold in reviewers' intent corrections from the review store.")]
                  = True,
                  db: DbOpt = None) -> None:
    """Train your own intent taxonomy from a CSV of examples (minutes on a CPU)."""
    from tierlens.dashboard.reviews import default_path, export_corrections
    from tierlens.score.train_intents import train_intents as train

    fixes = export_corrections(default_path(), "intent") if corrections else None
    report = train(file, out, corrections=fixes)
    typer.echo(json.dumps(report, indent=2, default=str))


@app.command("export-corrections")
def export_corrections_cmd(
        label_type: Annotated[str, typer.Argument(
            help="sentiment, intent, resolution or escalation_reason.")],
        out: Annotated[Path, typer.Option(help="CSV to write (columns text,label).")],
        db: DbOpt = None) -> None:
    """Write reviewers' label corrections as labelled examples (the latest per turn wins)."""
    from tierlens.dashboard.reviews import ReviewError, default_path, export_corrections

    try:
        frame = export_corrections(default_path(), label_type)
    except ReviewError as exc:
        _fail(str(exc))
    from tierlens.export import write_csv_safe

    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv_safe(frame, out)
    typer.echo(f"wrote {frame.height} {label_type} correction(s) to {out}")


@app.command()
def dashboard(port: Annotated[int | None, typer.Option(help="Port (default: settings).")] = None,
              db: DbOpt = None) -> None:
    """Serve the dashboard (reads the published snapshot, never the warehouse)."""
    import subprocess

    from tierlens.settings import REPO_DIR

    settings = get_settings()
    app_path = REPO_DIR / "dashboards" / "streamlit_app.py"
    if not app_path.exists():
        _fail(f"{app_path} not found; run from a tierlens checkout")
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_path), "--server.headless", "true",
           "--server.port", str(port or settings.dashboard_port),
           "--browser.gatherUsageStats", "false"]
    typer.echo(f"serving the dashboard on http://localhost:{port or settings.dashboard_port}")
    raise typer.Exit(subprocess.call(cmd))


@app.command()
def demo(db: DbOpt = None,
         port: Annotated[int | None, typer.Option(help="Dashboard port.")] = None,
         serve: Annotated[bool, typer.Option(help="Serve the dashboard at the end.")] = True,
         conversations: Annotated[int | None, typer.Option(
             min=1, help="Demo size (default: the embedded demo's).")] = None) -> None:
    """The main job on the embedded defaults: simulate the bundled demo data into the inbox,
    run the ``ingest_and_score`` Prefect flow once (ingest, validate, redact, score, derive,
    publish; recorded in the run ledger), then serve the dashboard."""
    import shutil

    from tierlens.settings import REPO_DIR
    from tierlens.simulate import DEMO
    from tierlens.simulate import simulate as run_sim

    settings = get_settings()
    out = settings.data_dir / "demo"
    n = conversations or DEMO["conversations"]
    if not (out / "conversations.jsonl.gz").exists():
        run_sim(n_conversations=n, months=DEMO["months"], seed=DEMO["seed"], out_dir=out)
        typer.echo(f"simulated {n} demo conversations into {out}")
    inbox = settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    dropped = inbox / "demo-conversations.jsonl.gz"
    if not dropped.exists():
        shutil.copyfile(out / "conversations.jsonl.gz", dropped)
    if str(REPO_DIR) not in sys.path:  # flows/ lives next to src/ in a checkout
        sys.path.insert(0, str(REPO_DIR))
    try:
        from flows.ingest_and_score import ingest_and_score
        from flows.params import IngestAndScoreParams
    except ImportError:  # an installed package without the checkout: the same jobs, no flow
        typer.echo("flows/ not found next to the package; running the jobs without Prefect")
        run([inbox], db)
    else:
        typer.echo("running the ingest_and_score flow once (a temporary local Prefect API "
                   "starts first)")
        counts = ingest_and_score(IngestAndScoreParams(inbox=inbox, warehouse=db))
        typer.echo(f"ingest_and_score: read {counts['read']}, stored {counts['stored']}, "
                   f"unchanged {counts['unchanged']}, quarantined {counts['quarantined']}, "
                   f"scored {counts['scored']}, red-flagged {counts['flagged']}")
    if serve:
        dashboard(port, db)


audit_app = typer.Typer(no_args_is_help=True, help="The review store's tamper-evident audit log.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(store: Annotated[Path | None, typer.Option(
                     help="Review store (default: data_dir/reviews/reviews.sqlite).")] = None,
                 db: DbOpt = None) -> None:
    """Verify the audit log's hash chain; exits non-zero at the first tampered row."""
    from tierlens.dashboard.reviews import default_path, verify_audit_log

    path = store or default_path(get_settings())
    if not path.exists():
        _fail(f"{path}: no review store yet (nothing has been reviewed)")
    ok, bad = verify_audit_log(path)
    if not ok:
        _fail(f"{path}: audit log chain broken at seq {bad}: a row was edited, re-hashed or "
              "deleted outside the application")
    typer.echo(f"{path}: audit log chain intact")


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
