"""`rescore --rules NEW --since DATE`: earlier months keep their compliance results, and the
chosen rulebook stays current for the next plain `score` (docs/compliance.md)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from tests.cli.conftest import conversations_file
from tierlens.score.rules import DEFAULT_RULEBOOK_PATH

BUNDLED = yaml.safe_load(DEFAULT_RULEBOOK_PATH.read_text())["rulebook_version"]  # shipped


def new_rulebook(path: Path) -> Path:
    text = DEFAULT_RULEBOOK_PATH.read_text(encoding="utf-8")
    assert f'rulebook_version: "{BUNDLED}"' in text
    path.write_text(text.replace(f'rulebook_version: "{BUNDLED}"', 'rulebook_version: "new.1"')
                    .replace("red_flag_threshold: 0.5", "red_flag_threshold: 0.3"),
                    encoding="utf-8")
    return path


def _by_conversation(db: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0]: r[1:] for r in con.execute(
            "SELECT conversation_id, rulebook_version, red_flag, risk_score "
            "FROM conversation_scores").fetchall()}
    finally:
        con.close()


def _one(db: Path, sql: str, params: list | None = None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchone()
    finally:
        con.close()


def test_rescore_since_keeps_earlier_months_and_the_choice_persists(cli, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    cli("run", conversations_file(tmp_path / "in.jsonl"), "--db", db)
    assert {v[0] for v in _by_conversation(db).values()} == {BUNDLED}

    new = new_rulebook(tmp_path / "new.yaml")
    cli("rescore", "--rules", new, "--since", "2026-10-01", "--db", db)
    rows = _by_conversation(db)
    assert {c: v[0] for c, v in rows.items()} == {
        "w-1": BUNDLED, "r-1": BUNDLED, "a-1": "new.1", "c-1": "new.1", "w-2": "new.1"}
    assert all(v[1] is not None and v[2] is not None for v in rows.values()), rows
    for month in ("2026-09", "2026-10"):
        denominator = _one(db, "SELECT denominator FROM kpi_monthly WHERE month = ? AND "
                               "tier = 'all' AND kpi = 'red_flag_rate'", [month])
        assert denominator is not None and denominator[0] > 0, month
    assert _one(db, "SELECT count(*) FROM outcomes WHERE rulebook_version = ?", [BUNDLED]
                )[0] == 2

    # a plain score, as the 15-minute flow runs it, keeps the chosen rulebook
    cli("ingest", conversations_file(tmp_path / "nov.jsonl", [
        ("d-1", "2026-11-02T10:00:00Z", "is it going to snow on friday")]), "--db", db)
    scored = cli("score", "--db", db)
    assert "[rulebook new.1]" in scored.output
    after = _by_conversation(db)
    assert after["d-1"][0] == "new.1" and after["w-1"][0] == BUNDLED
    assert _one(db, "SELECT version FROM current_versions WHERE component = 'rulebook'"
                ) == ("new.1",)
    snap = get_snapshot(db)
    assert _one(snap, "SELECT count(*) FROM conversation_scores WHERE red_flag IS NULL") == (0,)


def get_snapshot(db: Path) -> Path:
    from tierlens.settings import get_settings

    return get_settings().for_warehouse(db).serving_dir / "serving.duckdb"


def test_a_changed_redelivery_is_scored_again_under_the_current_rulebook(cli, tmp_path: Path) -> None:
    from tests.cli.conftest import CUSTOMER_SAYS

    db = tmp_path / "w.duckdb"
    cli("run", conversations_file(tmp_path / "in.jsonl"), "--db", db)
    cli("rescore", "--rules", new_rulebook(tmp_path / "new.yaml"), "--since", "2026-10-01",
        "--db", db)
    changed = [("w-1", CUSTOMER_SAYS[0][1], "my card was charged twice, refund me"),
               ("a-1", CUSTOMER_SAYS[2][1], "cancel my alarm subscription now")]
    cli("run", conversations_file(tmp_path / "changed.jsonl", changed), "--db", db)
    rows = _by_conversation(db)
    # ingest cleared their results; as new content they get the current rulebook and model
    assert rows["w-1"][0] == "new.1" and rows["a-1"][0] == "new.1"
    assert rows["r-1"][0] == BUNDLED  # untouched September keeps its own
    assert all(v[1] is not None for v in rows.values()), rows
    assert _one(db, "SELECT count(*) FROM turns WHERE conversation_id IN ('w-1', 'a-1') AND "
                    "speaker <> 'system' AND sentiment_label IS NULL") == (0,)
