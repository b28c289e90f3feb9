"""Build a serving snapshot for dashboard tests with the REAL pipeline (ingest + publish).

Conversations come from ``tierlens.simulate.simulate`` when it exists, else from a small
hand-written JSONL generator below. Score tables (``conversation_scores``,
``compliance_flags``, ``kpi_monthly``, ``qa_criteria_scores``) are produced by the scoring
the ingest stage; where the snapshot lacks them, ``add_fixture_scores`` adds TEST-FIXTURE rows with the
exact PRODUCT.md columns so the pages are exercised. They are labelled as fixtures
(model_version / rulebook_version = 'test-fixture').
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from tierlens.settings import Settings
from tierlens.stages.publish import publish
from tierlens.store.db import connect
from tierlens.store.publish import snapshot_path

QUEUES = ["bot", "billing", "cards", "complaints"]
INTENTS = ["billing_inquiry", "lost_card", "complaint", "order_status"]


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_jsonl(out_dir: Path, n: int = 90, seed: int = 1) -> Path:
    """Hand-written generator: n conversations over 3 months (Sep-Nov 2026)."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "conversations.jsonl"
    start = datetime(2026, 9, 1, tzinfo=UTC)
    with path.open("w") as fh:
        for i in range(n):
            t = start + timedelta(hours=i * 24, minutes=rng.randint(0, 600))
            bot_v = "bot-v3" if i % 3 else "bot-v2"
            turns = [{"speaker": "customer", "text": "I was charged twice on my bill", "ts": _iso(t)},
                     {"speaker": "bot", "text": "Hello! I can help with billing.",
                      "ts": _iso(t + timedelta(seconds=5)), "agent_id": bot_v,
                      "bot_confidence": round(rng.uniform(0.5, 0.99), 2)}]
            if i % 2 == 0:
                turns += [{"speaker": "customer", "text": "I want to talk to a human agent please",
                           "ts": _iso(t + timedelta(seconds=20))},
                          {"speaker": "system", "event": "handoff", "text": "",
                           "ts": _iso(t + timedelta(seconds=25))},
                          {"speaker": "agent", "agent_id": f"agent-{i % 4 + 1}",
                           "text": "Hi, I'm Sam. Sorry about that, my card number is "
                                   "4111 1111 1111 1111 for the refund test." if i % 10 == 0
                           else "Hi, I'm Sam from billing. I have refunded the duplicate.",
                           "ts": _iso(t + timedelta(seconds=25 + rng.randint(5, 60)))}]
            turns.append({"speaker": "customer", "text": "Thanks, bye",
                          "ts": _iso(t + timedelta(seconds=200))})
            rec = {"conversation_id": f"c-{i:04d}", "channel": "chat", "customer_id": f"cust-{i % 30}",
                   "started_at": _iso(t), "ended_at": _iso(t + timedelta(seconds=200)),
                   "queue": QUEUES[i % 4] if i % 2 == 0 else "bot", "language": "en",
                   "csat": rng.randint(1, 5), "metadata": {"brand": "acme", "bot_version": bot_v},
                   "turns": turns}
            fh.write(json.dumps(rec) + "\n")
        fh.write('{"conversation_id": "bad-1", "turns": []}\n')  # quarantined: no started_at
    return path


def _mk(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def build_snapshot(root: Path, with_scores: bool = True) -> Settings:
    """Ingest + publish into ``root``; returns Settings pointing there."""
    settings = Settings(data_dir=root / "data", warehouse=root / "wh" / "tierlens.duckdb",
                        serving_dir=root / "serving", inbox=root / "inbox",
                        cache_dir=root / "cache")
    inbox = root / "inbox"
    try:
        from tierlens.simulate import simulate  # type: ignore[attr-defined]

        simulate(n_conversations=300, months=3, seed=1, out_dir=root / "sim")
        (root / "sim" / "conversations.jsonl.gz").rename(_mk(inbox) / "conversations.jsonl.gz")
    except ImportError:
        write_jsonl(inbox)
    from tierlens.stages.ingest import ingest_paths

    con = connect(settings.warehouse)
    try:
        ingest_paths(con, [inbox], settings)
        publish(con, settings.serving_dir, settings.review_store)
    finally:
        con.close()
    if with_scores:
        add_fixture_scores(snapshot_path(settings.serving_dir))
    return settings


def add_fixture_scores(snap: Path) -> None:
    """TEST FIXTURE ONLY: add score tables the pipeline hasn't published yet (PRODUCT.md columns)."""
    con = duckdb.connect(str(snap))
    try:
        have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")
                .fetchall()}
        for name in ("conversation_scores", "compliance_flags", "kpi_monthly", "qa_criteria_scores",
                     "misroute_matrix"):
            # published by the pipeline but still empty (scoring not run): replace with fixture rows
            unscored = (name == "conversation_scores" and name in have and con.execute(
                "SELECT count(*) FROM conversation_scores WHERE model_version IS NOT NULL"
            ).fetchone()[0] == 0)
            if name in have and (unscored or
                                 con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == 0):
                con.execute(f"DROP TABLE {name}")
                have.discard(name)
        if "conversation_scores" not in have:
            con.execute("""
            CREATE TABLE conversation_scores AS
            SELECT conversation_id,
                   -0.5 AS sentiment_start, (hash(conversation_id) % 100) / 100.0 - 0.3 AS sentiment_end,
                   0.2 AS sentiment_delta,
                   CASE WHEN hash(conversation_id) % 5 = 0 THEN 'unresolved' ELSE 'resolved' END AS resolution,
                   0.8 AS resolution_confidence,
                   tier_path = 'bot_then_human' AS escalated,
                   CASE WHEN tier_path = 'bot_then_human' THEN 'customer_request' END AS escalation_reason,
                   CASE WHEN tier_path = 'bot_then_human' THEN 10.0 + hash(conversation_id) % 50 END
                       AS handoff_seconds,
                   CASE WHEN tier_path = 'bot_then_human' THEN hash(conversation_id) % 3 = 0 END
                       AS repeated_after_handoff,
                   FALSE AS trapped, tier_path = 'bot_only' AS contained_raw,
                   tier_path = 'bot_only' AS contained_durable, FALSE AS repeat_strict,
                   FALSE AS repeat_loose, first_queue = 'bot' AS routed_correctly, TRUE AS fcr,
                   (hash(conversation_id) % 101)::DOUBLE AS qa_score,
                   CASE WHEN right(conversation_id, 1) = '0' AND tier_path = 'bot_then_human'
                        THEN 0.9 ELSE 0.1 END AS risk_score,
                   right(conversation_id, 1) = '0' AND tier_path = 'bot_then_human' AS red_flag,
                   3.5 AS csat_predicted, 'test-fixture' AS model_version,
                   'test-fixture' AS rulebook_version, intent,
                   tier_path = 'bot_only' AND hash(conversation_id) % 7 = 0
                       AS should_have_escalated,
                   tier_path <> 'bot_only' AND hash(conversation_id) % 5 = 0
                       AS needless_escalation
            FROM conversations""")
        if "misroute_matrix" not in have:
            con.execute("""
            CREATE TABLE misroute_matrix AS
            SELECT 'test-fixture' AS model_version, 'first_queue' AS evidence,
                   'bot' AS expected_queue, first_queue AS actual_queue, count(*) AS n
            FROM conversations WHERE first_queue <> 'bot' GROUP BY ALL""")
        if "compliance_flags" not in have:
            con.execute("""
            CREATE TABLE compliance_flags AS
            SELECT t.conversation_id, t.turn_index, 'pii_exposure' AS rule_id, '1' AS rule_version,
                   'critical' AS severity, strpos(t.text, '[') - 1 AS span_start,
                   strpos(t.text, ']') AS span_end,
                   substr(t.text, strpos(t.text, '['), strpos(t.text, ']') - strpos(t.text, '[') + 1)
                       AS matched_text, NULL::VARCHAR AS disposition
            FROM turns t WHERE strpos(t.text, '[') > 0 AND strpos(t.text, ']') > strpos(t.text, '[')
            UNION ALL
            SELECT conversation_id, 1, 'greeting_missing', '1', 'minor', 0, 5, 'Hello', NULL
            FROM conversations WHERE right(conversation_id, 1) = '3'""")
        if "kpi_monthly" not in have:
            con.execute("""
            CREATE TABLE kpi_monthly AS
            SELECT strftime(started_at, '%Y-%m') AS month, t.tier, k.kpi,
                   avg(CASE WHEN k.kpi = 'containment_raw' THEN (tier_path = 'bot_only')::INT
                            WHEN k.kpi = 'escalation_rate'
                            THEN (tier_path = 'bot_then_human')::INT
                            ELSE csat END)::DOUBLE AS value,
                   sum(CASE WHEN k.kpi = 'containment_raw' THEN (tier_path = 'bot_only')::INT
                            WHEN k.kpi = 'escalation_rate'
                            THEN (tier_path = 'bot_then_human')::INT
                            ELSE csat END)::DOUBLE AS numerator, count(*) AS denominator
            FROM conversations,
                 (VALUES ('ai'), ('human'), ('all')) t(tier),
                 (VALUES ('containment_raw'), ('escalation_rate'), ('csat_surveyed'), ('csat_mean'))
                     k(kpi)
            WHERE t.tier = 'all' OR (t.tier = 'ai') = (tier_path = 'bot_only')
            GROUP BY ALL""")
        if con.execute("SELECT count(sentiment_label) FROM turns").fetchone()[0] == 0:
            # TEST FIXTURE: a sentiment on EVERY turn, bot and agent turns included, as a
            # customer-voice model would wrongly give them; the page must not show those
            con.execute("""
            UPDATE turns SET
              sentiment_score = ((hash(conversation_id || turn_index::VARCHAR) % 181)::INTEGER - 90) / 100.0,
              sentiment_label = CASE
                WHEN (hash(conversation_id || turn_index::VARCHAR) % 181)::INTEGER - 90 < -30 THEN 'negative'
                WHEN (hash(conversation_id || turn_index::VARCHAR) % 181)::INTEGER - 90 > 30 THEN 'positive'
                ELSE 'neutral' END
            WHERE speaker <> 'system'""")
        if "qa_criteria_scores" not in have:
            con.execute("""
            CREATE TABLE qa_criteria_scores AS
            SELECT conversation_id, c.criterion, 1 AS weight, TRUE AS applicable,
                   ((hash(conversation_id || c.criterion) % 2))::TINYINT AS score
            FROM conversations, (VALUES ('greeting'), ('empathy'), ('closing')) c(criterion)""")
    finally:
        con.close()
