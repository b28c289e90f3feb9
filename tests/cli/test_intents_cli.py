"""A warehouse's own intent taxonomy, end to end: train-intents -> run -> views; switch with
`tierlens intents use`; reviewers' corrections retrain it (tierlens.cli_intents)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.cli.conftest import EXPECTED_INTENT, INTENTS_CSV, conversations_file

CUSTOM = {"weather", "restaurant_reservation", "alarm", "recipe"}
ROUTING = INTENTS_CSV.with_name("clinc_style_routing.yaml")
NOTE = ("has no entry for 4 of the 4 intent(s): alarm, recipe, restaurant_reservation, weather; "
        "they are expected in its default queue")


def _customer_intents(db: Path) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute("SELECT conversation_id, intent FROM turns "
                                "WHERE speaker = 'customer' AND turn_index = 0").fetchall())
    finally:
        con.close()


def _report(output: str) -> dict:
    return json.loads(output[output.index("{"):output.rindex("}") + 1])


def test_trained_taxonomy_is_used_by_run_and_switched_back(cli, tmp_path: Path) -> None:
    from tierlens.dashboard.queries.routing import tier_adherence
    from tierlens.settings import get_settings

    db = tmp_path / "w.duckdb"
    trained = cli("train-intents", INTENTS_CSV, "--name", "clinc_style", "--routing-policy",
                  ROUTING, "--db", db)
    # the text labelled twice as weather and once as alarm: a warning, not a stop
    assert "warning:" in trained.output and "is it going to rain tomorrow" in trained.output
    report = _report(trained.output)
    assert report["n_intents"] == 4 and report["taxonomy"] == "clinc_style"
    assert not (Path("models") / "heads" / "clinc_style.json").exists()
    listed = cli("intents", "list", "--db", db).output
    assert "* clinc_style" in listed and "  default" in listed

    cli("run", conversations_file(tmp_path / "in.jsonl"), "--db", db)
    got = _customer_intents(db)
    assert set(got.values()) <= CUSTOM
    assert sum(got[c] == want for c, want in EXPECTED_INTENT.items()) >= 4, got
    con = duckdb.connect(str(db), read_only=True)
    versions = {r[0] for r in con.execute("SELECT model_version FROM conversation_scores"
                                          ).fetchall()}
    con.close()
    assert len(versions) == 1 and "|clinc_style@" in versions.pop()
    # the taxonomy's own out-of-scope decision reaches the view, on each conversation's
    # request turn (its first substantive customer turn) and nowhere else
    con = duckdb.connect(str(db), read_only=True)
    decided = con.execute("SELECT count(DISTINCT conversation_id), count(out_of_scope), "
                          "count(*) FILTER (WHERE out_of_scope IS NOT NULL AND speaker <> "
                          "'customer') FROM turns WHERE oos_score IS NOT NULL").fetchone()
    con.close()
    assert decided[0] > 0 and decided[1] == decided[0] and decided[2] == 0
    # the taxonomy's own routing policy: derive used it, the snapshot carries it
    snapshot = get_settings().for_warehouse(db).serving_dir / "serving.duckdb"
    snap = duckdb.connect(str(snapshot), read_only=True)
    assert dict(snap.execute("SELECT intent, expected_queue FROM routing_policy").fetchall()
                ) == {"weather": "bot", "alarm": "bot", "recipe": "bot",
                      "restaurant_reservation": "concierge"}
    # r-1 (a reservation) first landed in the bot queue: a misroute under this policy
    assert got["r-1"] == "restaurant_reservation"
    assert snap.execute("SELECT routed_correctly FROM conversation_scores WHERE "
                        "conversation_id = 'r-1'").fetchone() == (False,)
    # the dashboard's routing page reads that policy: tier-1 intents handed to a human
    adherence = tier_adherence(snap)
    assert set(adherence.get_column("intent")) == {"weather", "alarm", "recipe"}
    assert set(adherence.get_column("kind")) == {"needless_escalation"}
    snap.close()

    assert "note:" not in trained.output  # its own policy names every intent
    used = cli("intents", "use", "default", "--db", db)
    assert "'default' is now active" in used.output
    assert "* default" in cli("intents", "list", "--db", db).output
    cli("score", "--db", db)
    back = _customer_intents(db)
    assert back.keys() == got.keys() and not set(back.values()) & CUSTOM, back
    con = duckdb.connect(str(db), read_only=True)  # and the bundled policy is back
    assert "restaurant_reservation" not in {r[0] for r in con.execute(
        "SELECT intent FROM routing_policy").fetchall()}
    con.close()

    cli("intents", "use", "clinc_style", "--db", db)
    cli("score", "--db", db)  # its scores are back (re-scored, same head version)
    assert _customer_intents(db) == got


def test_reviewer_intent_corrections_retrain_the_warehouse_taxonomy(cli, tmp_path: Path) -> None:
    from tierlens.reviews import store as reviews
    from tierlens.settings import get_settings

    db = tmp_path / "w.duckdb"
    own = get_settings().for_warehouse(db)
    store = own.review_store
    store.parent.mkdir(parents=True)
    # an intent of no taxonomy yet is refused; once the warehouse has one, its labels count
    with pytest.raises(reviews.ReviewError, match="intent label 'weather' is unknown"):
        reviews.record_label_correction(store, "w-1", 0, "intent", "alarm", "weather", "qa",
                                        text="any chance of hail this evening", settings=own)
    first = cli("train-intents", INTENTS_CSV, "--no-corrections", "--db", db).output
    # no policy of its own: the bundled one names none of its intents, and says so
    assert NOTE in first
    reviews.record_label_correction(store, "w-1", 0, "intent", "alarm", "weather", "qa",
                                    text="any chance of hail this evening", settings=own)
    reviews.record_label_correction(store, "w-1", 1, "intent", "weather", "billing_inquiry", "qa",
                                    text="my invoice is wrong", settings=own)
    report = _report(cli("train-intents", INTENTS_CSV, "--db", db).output)
    assert (report["corrections_used"], report["corrections_left_out"]) == (1, 1)
    assert report["taxonomy"] == "clinc_style_intents"  # default name: the CSV's
    skipped = _report(cli("train-intents", INTENTS_CSV, "--no-corrections", "--db", db).output)
    assert skipped["corrections_used"] == 0
    assert NOTE in cli("intents", "use", "clinc_style_intents", "--db", db).output
    assert "note:" not in cli("intents", "use", "default", "--db", db).output


def test_unknown_taxonomy_is_a_one_line_error(cli, tmp_path: Path) -> None:
    out = cli("intents", "use", "nope", "--db", tmp_path / "w.duckdb", ok=False)
    assert out.exit_code != 0
    assert "no intent taxonomy 'nope'" in str(out.exception or out.output)
