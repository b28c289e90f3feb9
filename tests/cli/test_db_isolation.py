"""`--db` isolation: every command run with `--db tmp/x.duckdb` writes only there and next to
it (tmp/x.tierlens/: snapshot, review store), never into the checkout's data/ or models/
(the rule: Settings.for_warehouse, docs/settings.md)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.cli.conftest import INTENTS_CSV, conversations_file
from tests.conftest import REPO


def _tree(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` (but ``skip``) -> (size, mtime_ns)."""
    skip = skip.resolve()
    out = {}
    for p in root.rglob("*"):
        if p.is_file() and skip not in p.resolve().parents:
            st = p.stat()
            out[str(p.relative_to(REPO))] = (st.st_size, st.st_mtime_ns)
    return out


def test_db_commands_write_nothing_into_the_checkout(cli, tmp_path: Path) -> None:
    from tierlens.reviews import store as reviews
    from tierlens.settings import get_settings

    settings = get_settings()
    assert settings.serving_dir == REPO / "data" / "serving"  # the checkout's own defaults
    # the embedding/ONNX cache is machine-wide by design (setting cache_dir), not per warehouse
    before = {**_tree(REPO / "data", settings.cache_dir),
              **_tree(REPO / "models", settings.cache_dir)}
    db = tmp_path / "x.duckdb"
    home = tmp_path / "x.tierlens"
    store = home / "reviews.sqlite"

    cli("run", conversations_file(tmp_path / "in.jsonl"), "--db", db)
    snapshot = home / "serving" / "serving.duckdb"
    assert snapshot.exists()
    snap = duckdb.connect(str(snapshot), read_only=True)
    assert snap.execute("SELECT count(*) FROM conversations").fetchone() == (5,)
    snap.close()

    no_store = cli("audit", "verify", "--db", db)   # nothing reviewed yet: says so, exit 0
    assert no_store.exit_code == 0 and str(store) in no_store.output
    store.parent.mkdir(parents=True, exist_ok=True)
    cli("train-intents", INTENTS_CSV, "--no-corrections", "--db", db)  # 'weather' becomes known
    reviews.record_label_correction(store, "w-1", 0, "intent", "alarm", "weather", "qa",
                                    text="any chance of hail this evening",
                                    settings=settings.for_warehouse(db))
    assert str(store) in cli("audit", "verify", "--db", db).output
    exported = cli("export-corrections", "intent", "--out", tmp_path / "c.csv", "--db", db)
    assert "wrote 1 intent correction" in exported.output
    trained = cli("train-intents", INTENTS_CSV, "--db", db)
    assert '"corrections_used": 1' in trained.output
    cli("intents", "list", "--db", db)
    cli("score", "--db", db)
    cli("rescore", "--since", "2026-10-01", "--db", db)
    cli("intents", "use", "default", "--db", db)
    cli("kpis", "--month", "2026-10", "--db", db)

    snap = duckdb.connect(str(snapshot), read_only=True)  # the review store was mirrored
    assert snap.execute("SELECT count(*) FROM audit_log").fetchone()[0] >= 1
    snap.close()
    after = {**_tree(REPO / "data", settings.cache_dir),
             **_tree(REPO / "models", settings.cache_dir)}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "c.csv", "in.jsonl", "x.duckdb", "x.tierlens"]


def test_explicit_settings_win_over_the_derived_paths(tmp_path: Path) -> None:
    from tierlens.settings import Settings

    derived = Settings().for_warehouse(tmp_path / "x.duckdb")
    assert (derived.serving_dir, derived.review_store) == (
        tmp_path / "x.tierlens" / "serving", tmp_path / "x.tierlens" / "reviews.sqlite")
    assert derived.reports_dir == tmp_path / "x.tierlens" / "reports"
    explicit = Settings(serving_dir=tmp_path / "s", review_store=tmp_path / "r.sqlite",
                        reports_dir=tmp_path / "rep")
    mine = explicit.for_warehouse(tmp_path / "x.duckdb")
    assert (mine.warehouse, mine.serving_dir, mine.review_store, mine.reports_dir) == (
        tmp_path / "x.duckdb", tmp_path / "s", tmp_path / "r.sqlite", tmp_path / "rep")
    same = Settings()
    assert same.for_warehouse(same.warehouse) is same and same.for_warehouse(None) is same
