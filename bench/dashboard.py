"""Benchmark: query time per dashboard page on a large synthetic serving snapshot.

    python bench/dashboard.py --conversations 1000000 --out /tmp/tierlens-bench [--apptest]

Builds (once, cached in --out) a synthetic snapshot with DuckDB SQL over ``range()`` with
the published tables' columns: conversations, turns (6 per conversation),
conversation_scores (routing and tier flags included), compliance_flags, kpi_monthly (every
KPI of the catalogue, with the trust layer's columns), qa_criteria_scores, misroute_matrix,
verification_sample, topics and conversation_topics, ingest_runs, quarantine, dq_results,
flow_runs and alerts. Then, for each page, runs the query functions the page calls on its
first load (its module of :mod:`tierlens.dashboard.queries`), each on a cursor of one
read-only DuckDB instance as ``ui.q`` does on a cache miss: ``cold`` is the first run on a
fresh instance, ``warm`` the median of 3 more. With ``--apptest`` it also renders every page with Streamlit's AppTest as
admin, twice: ``first`` (its queries not cached yet) and ``again`` (the same page rerun, as
after a widget change). Prints a table; the numbers are this machine's, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from tierlens.dashboard.kpi_view import HEADLINE
from tierlens.dashboard.queries import Filters, NotComputed, open_snapshot
from tierlens.dashboard.queries import compliance as compliance_q
from tierlens.dashboard.queries import conversation as conversation_q
from tierlens.dashboard.queries import data_quality as data_quality_q
from tierlens.dashboard.queries import executive as executive_q
from tierlens.dashboard.queries import qa as qa_q
from tierlens.dashboard.queries import review_queue as review_queue_q
from tierlens.dashboard.queries import routing as routing_q
from tierlens.dashboard.queries import topics as topics_q
from tierlens.dashboard.queries.base import connect
from tierlens.metrics.kpis import kpi_catalogue

N_TOPICS = 60


def build(path: Path, n: int) -> None:
    """Synthetic snapshot. Grain of each table as in PRODUCT.md's public views."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    con.execute("SET preserve_insertion_order = false")
    con.execute("CREATE TEMP MACRO h(x) AS (hash(x) % 1000003)::BIGINT")
    con.execute(f"""
    CREATE TABLE conversations AS
    SELECT 'c-' || i AS conversation_id, CASE WHEN i % 3 = 0 THEN 'voice' ELSE 'chat' END AS channel,
           'cus_' || (i % ({n} // 3 + 1)) AS customer_id,
           TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(i * (365 * 86400 // {n})) AS started_at,
           TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(i * (365 * 86400 // {n}) + 300) AS ended_at,
           (['bot', 'billing', 'cards', 'complaints', 'orders'])[1 + i % 5] AS first_queue,
           (['bot_only', 'bot_then_human', 'human_only'])[1 + (i % 7) % 3] AS tier_path,
           (['billing_inquiry', 'lost_card', 'complaint', 'order_status', 'password_reset'])[1 + i % 5]
               AS intent, 0.8 AS intent_confidence, 'en' AS language, (1 + i % 5)::SMALLINT AS csat,
           NULL::SMALLINT AS nps, 6 AS n_turns, '{{}}' AS metadata,
           'bot-v' || (2 + i % 3) AS bot_version
    FROM range({n}) t(i)""")
    con.execute("""
    CREATE TABLE turns AS
    SELECT c.conversation_id, j AS turn_index,
           (['customer', 'bot', 'customer', 'system', 'agent', 'customer'])[1 + j] AS speaker,
           CASE j WHEN 0 THEN 'I was charged twice on my bill' WHEN 1 THEN 'Hello! I can help.'
                  WHEN 2 THEN 'My card number is [CARD]' WHEN 3 THEN ''
                  WHEN 4 THEN 'Hi, I am Sam. I have refunded it.' ELSE 'Thanks, bye' END AS text,
           c.started_at + to_seconds(j * 20) AS ts,
           CASE j WHEN 1 THEN c.bot_version WHEN 4 THEN 'agent-' || (h(c.conversation_id) % 400)
           END AS agent_id,
           CASE WHEN j = 1 THEN 0.7 END AS bot_confidence,
           CASE WHEN j = 3 THEN 'handoff' END AS event,
           (['negative', 'neutral', 'positive'])[1 + j % 3] AS sentiment_label,
           (j % 3 - 1)::DOUBLE AS sentiment_score
    FROM conversations c, range(6) r(j)""")
    con.execute("""
    CREATE TABLE conversation_agents AS
    SELECT DISTINCT conversation_id, speaker AS role, agent_id FROM turns
    WHERE speaker IN ('agent', 'bot') AND agent_id IS NOT NULL""")
    con.execute("""
    CREATE TABLE conversation_scores AS
    SELECT conversation_id, -0.4 AS sentiment_start, (h(conversation_id) % 200) / 100.0 - 1 AS sentiment_end,
           0.3 AS sentiment_delta,
           (['resolved', 'resolved', 'unresolved', 'abandoned'])[1 + h(conversation_id) % 4] AS resolution,
           0.8 AS resolution_confidence, tier_path = 'bot_then_human' AS escalated,
           CASE WHEN tier_path = 'bot_then_human' THEN
               (['customer_request', 'low_confidence', 'policy', 'bot_failure'])[1 + h(conversation_id) % 4]
           END AS escalation_reason,
           CASE WHEN tier_path = 'bot_then_human' THEN (h(conversation_id) % 90)::DOUBLE END AS handoff_seconds,
           CASE WHEN tier_path = 'bot_then_human' THEN h(conversation_id) % 5 = 0 END AS repeated_after_handoff,
           h(conversation_id) % 500 = 0 AS trapped, tier_path = 'bot_only' AS contained_raw,
           tier_path = 'bot_only' AS contained_durable, FALSE AS repeat_strict, FALSE AS repeat_loose,
           first_queue = 'bot' AS routed_correctly, TRUE AS fcr,
           (h(conversation_id) % 101)::DOUBLE AS qa_score,
           (h(conversation_id) % 100) / 100.0 AS risk_score,
           h(conversation_id) % 50 = 0 AS red_flag, 3.5 AS csat_predicted,
           'bench' AS model_version, 'bench' AS rulebook_version, [1, 4] AS resolution_evidence,
           intent, 0.8 AS intent_confidence,
           CASE WHEN tier_path = 'bot_only' THEN 'ai' ELSE 'human' END AS tier,
           strftime(started_at, '%Y-%m') AS month, tier_path = 'bot_only' AS bot_entered,
           tier_path = 'bot_only' AND intent = 'complaint' AS should_have_escalated,
           tier_path <> 'bot_only' AND intent = 'password_reset' AS needless_escalation,
           300.0 AS aht_seconds, 4.2 AS cost, 0 AS n_hits
    FROM conversations""")
    con.execute("""
    CREATE TABLE compliance_flags AS
    SELECT s.conversation_id, 2 AS turn_index, 'pii_card' AS rule_id, '1' AS rule_version,
           (['critical', 'major', 'minor'])[1 + h(s.conversation_id) % 3] AS severity,
           18 AS span_start, 24 AS span_end, '[CARD]' AS matched_text, NULL::VARCHAR AS disposition
    FROM conversation_scores s WHERE h(s.conversation_id) % 20 = 0""")
    con.execute("CREATE TABLE kpi_names AS SELECT unnest(?) AS kpi",
                [[k.name for k in kpi_catalogue()]])
    con.execute("""
    CREATE TABLE kpi_monthly AS
    WITH m AS (SELECT strftime(started_at, '%Y-%m') AS month, avg(csat) AS v, count(*) AS n
               FROM conversations GROUP BY 1)
    SELECT month, t.tier, k.kpi, (v / 5.0 + hash(k.kpi) % 7 / 100.0)::DOUBLE AS value,
           (v * n / 5.0)::DOUBLE AS numerator, n AS denominator, 'bench' AS model_version,
           TIMESTAMPTZ '2027-01-01 00:00:00+00' AS as_of,
           CASE WHEN t.tier <> 'all' THEN (v / 5.0)::DOUBLE END AS value_corrected,
           CASE WHEN t.tier <> 'all' THEN (v / 5.0 - 0.03)::DOUBLE END AS ci_low,
           CASE WHEN t.tier <> 'all' THEN (v / 5.0 + 0.03)::DOUBLE END AS ci_high,
           CASE WHEN t.tier <> 'all' THEN 400 END::BIGINT AS n_reviewed
    FROM m, (VALUES ('ai'), ('human'), ('all')) t(tier), kpi_names k""")
    con.execute("DROP TABLE kpi_names")
    con.execute("""
    CREATE TABLE misroute_matrix AS
    SELECT 'bench' AS model_version, 'first_queue' AS evidence, 'bot' AS expected_queue,
           first_queue AS actual_queue, count(*) AS n
    FROM conversations WHERE first_queue <> 'bot' GROUP BY ALL""")
    con.execute("""
    CREATE TABLE verification_sample AS
    SELECT month, tier, conversation_id,
           row_number() OVER (PARTITION BY month, tier ORDER BY h(conversation_id)) AS sample_rank,
           count(*) OVER (PARTITION BY month, tier) AS population, 400 AS needed,
           h(conversation_id) % 3 = 0 AS reviewed
    FROM conversation_scores WHERE h(conversation_id) % 200 = 0""")
    con.execute(f"""
    CREATE TABLE conversation_topics AS
    SELECT conversation_id, (h(conversation_id) % {N_TOPICS})::BIGINT AS topic_id,
           ((h(conversation_id) % 1000) / 1000.0)::FLOAT AS distance, 0 AS turn_index
    FROM conversations""")
    con.execute("""
    CREATE TABLE topics AS
    WITH a AS (
        SELECT t.topic_id, strftime(c.started_at, '%Y-%m') AS month, count(*) AS n_conversations,
               avg((c.tier_path = 'bot_then_human')::INT) AS escalation_rate,
               avg((c.tier_path = 'bot_only')::INT) AS containment_durable,
               min(c.conversation_id) AS example
        FROM conversation_topics t JOIN conversations c USING (conversation_id) GROUP BY 1, 2)
    SELECT topic_id, 'topic ' || topic_id || ' billing charge' AS label,
           ['billing', 'charge', 'twice'] AS keywords, n_conversations,
           n_conversations / sum(n_conversations) OVER (PARTITION BY month) AS share,
           escalation_rate, containment_durable, 300.0 AS aht_seconds,
           4.2 * n_conversations AS cost, 0.01 AS change_vs_previous_month,
           [example] AS example_conversation_ids, month,
           CASE WHEN topic_id % 9 = 0 THEN 'new' ELSE 'stable' END AS status,
           CASE WHEN topic_id % 2 = 0 THEN 'billing_inquiry' END AS matched_intent,
           0.7 AS intent_share, 0.8 AS target_containment, (topic_id % 13) * 100.0 AS opportunity
    FROM a""")
    con.execute("""
    CREATE TABLE qa_criteria_scores AS
    SELECT conversation_id, c.criterion, 1.0 AS weight, TRUE AS applicable,
           (h(conversation_id || c.criterion) % 2)::TINYINT AS score
    FROM conversations, (VALUES ('greeting'), ('empathy'), ('closing')) c(criterion)""")
    con.execute("""CREATE TABLE ingest_runs AS SELECT 'run-' || i AS run_id,
        TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(i * 900) AS started_at,
        TIMESTAMPTZ '2026-01-01 00:05:00+00' + to_seconds(i * 900) AS finished_at,
        'succeeded' AS status, ['inbox/f' || i || '.jsonl'] AS paths, 1 AS files_seen,
        0 AS files_skipped, 0 AS files_failed, 1000 AS read, 990 AS stored, 0 AS updated,
        0 AS unchanged, 10 AS quarantined, 6000 AS turns_stored, NULL::VARCHAR AS error
        FROM range(2000) t(i)""")
    con.execute("""CREATE TABLE quarantine AS SELECT 'run-' || (i % 2000) AS run_id, 'h' AS file_hash,
        'inbox/f.jsonl' AS source_file, i AS source_line, 'x-' || i AS conversation_id,
        (['started_at', 'turns', NULL])[1 + i % 3] AS field,
        (['missing_field', 'invalid_json', 'bad_timestamp'])[1 + i % 3] AS reason,
        'record broke the contract' AS message, '{}' AS payload FROM range(20000) t(i)""")
    con.execute("""CREATE TABLE dq_results AS SELECT 'run-' || (i % 2000) AS run_id, 'h' AS file_hash,
        0 AS batch_index, 'inbox/f.jsonl' AS source_file, (['hard', 'soft'])[1 + i % 2] AS suite,
        'expect_' || (i % 12) AS expectation, 'text' AS column_name, i % 17 != 0 AS success,
        1000 AS element_count, i % 5 AS unexpected_count, NULL::VARCHAR AS details
        FROM range(24000) t(i)""")
    con.execute("""CREATE TABLE flow_runs AS SELECT 'flow-' || i AS run_id, 'pipeline' AS flow,
        TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(i * 3600) AS started_at,
        'succeeded' AS status, 1000 AS conversations FROM range(5000) t(i)""")
    con.execute("""CREATE TABLE alerts AS SELECT 'alert-' || i AS alert_id, 'dq' AS kind,
        'a batch failed a soft expectation' AS message,
        TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(i * 86400) AS raised_at
        FROM range(300) t(i)""")
    con.close()
    tmp.rename(path)


Call = tuple[Callable, tuple]
ALL = Filters()
FILTERED = Filters(tier="human", queue="billing", red_flag=True)
AGENT = Filters(agent="agent-7")


def pages(month: str, cid: str, flagged: str) -> dict[str, list[Call]]:
    """Each page's queries on its first load (what renders before any click), plus the
    views a click away that read the most (coaching, drill-downs), as separate rows."""
    return {
        "executive (KPIs, headline trends, any-KPI trend)": [
            (executive_q.kpi_months, ()), (executive_q.kpi_table, (month,)),
            (executive_q.kpi_history, (month, HEADLINE, 6)), (executive_q.kpi_names, ()),
            (executive_q.kpi_trend, ("containment_durable",))],
        "qa": [(qa_q.filter_options, ()), (qa_q.filtered_count, (ALL,)),
               (qa_q.score_distribution, (ALL,)), (qa_q.resolution_distribution, (ALL,)),
               (qa_q.leaderboard, (ALL, "agent")), (qa_q.leaderboard, (ALL, "bot")),
               (qa_q.conversation_list, (ALL, 1000))],
        "qa (filtered: tier=human, queue=billing, red flag)": [
            (qa_q.filtered_count, (FILTERED,)), (qa_q.score_distribution, (FILTERED,)),
            (qa_q.resolution_distribution, (FILTERED,)), (qa_q.leaderboard, (FILTERED, "agent")),
            (qa_q.leaderboard, (FILTERED, "bot")), (qa_q.conversation_list, (FILTERED, 1000))],
        "qa coaching (one agent picked)": [
            (qa_q.coach_trend, (AGENT,)), (qa_q.coach_criteria, (AGENT, ALL)),
            (qa_q.coach_examples, (AGENT, "greeting", 5))],
        "conversation": [(conversation_q.conversation, (cid,)),
                         (conversation_q.transcript, (cid,)), (conversation_q.flags_of, (cid,))],
        "review_queue": [(review_queue_q.verification_progress, ()),
                         (review_queue_q.verification_todo, (month,)),
                         (review_queue_q.conversation_list, (ALL, 200))],
        "compliance": [(compliance_q.red_flag_queue, (None,)),
                       (compliance_q.transcript, (flagged,))],
        "routing": [(routing_q.escalation_summary, (30.0,)), (routing_q.misroute_matrix, ()),
                    (routing_q.handoff_histogram, ()), (routing_q.escalation_reasons, ()),
                    (routing_q.tier_adherence, ())],
        "routing drill-downs (each on demand)": [
            (routing_q.drill, ("escalation_reason", "policy")), (routing_q.drill, ("trapped", True)),
            (routing_q.drill, ("first_queue", "billing"))],
        "data_quality": [(data_quality_q.ingest_runs, ()), (data_quality_q.quarantine_reasons, ()),
                         (data_quality_q.quarantine_rows, ("missing_field",)),
                         (data_quality_q.dq_summary, ()), (data_quality_q.ledger, ("flow_runs",)),
                         (data_quality_q.ledger, ("alerts",))],
        "topics": [(topics_q.topic_months, ()), (topics_q.topic_table, (month,)),
                   (topics_q.topic_conversations, (0, month))],
    }


def time_page(db: duckdb.DuckDBPyConnection, calls: list[Call]) -> float:
    """Run a page's queries as ``ui.q`` does on a cache miss: a cursor of the snapshot's one
    read-only DuckDB instance per query."""
    t0 = time.perf_counter()
    for fn, args in calls:
        con = db.cursor()
        try:
            fn(con, *args)
        except NotComputed as exc:
            raise RuntimeError(f"{fn.__module__}.{fn.__name__}: {exc}") from exc
        finally:
            con.close()
    return time.perf_counter() - t0


APP_PAGES = ("executive", "qa", "conversation", "review_queue", "compliance", "routing",
             "data_quality", "topics")


def apptest_times(root: Path, cid: str) -> dict[str, tuple[float, float]]:
    """Render each page as admin. ``first``: its first load with Streamlit's caches empty
    (query results and the snapshot's DuckDB instance, as after a publish); ``again``: a
    rerun of the same page (a widget change). One throwaway render first, so imports are not
    counted: a dashboard server is a long-lived process."""
    import logging

    import streamlit as st
    from _common import reread_settings
    from streamlit.testing.v1 import AppTest

    os.environ["TIERLENS_SERVING_DIR"] = str(root)
    os.environ["TIERLENS_DATA_DIR"] = str(root / "data")
    reread_settings()  # the app, run in this process, reads these
    app = Path(__file__).resolve().parents[1] / "dashboards"

    def fresh() -> AppTest:
        at = AppTest.from_file(str(app / "streamlit_app.py"), default_timeout=600)
        at.session_state["tierlens_user"] = {"username": "admin", "name": "bench",
                                             "role": "admin"}
        at.query_params["id"] = cid
        return at

    fresh().run()  # warm-up: imports and Streamlit's start-up
    for name in list(logging.root.manager.loggerDict):  # "missing ScriptRunContext" noise
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)
    out = {}
    for page in APP_PAGES:
        at = fresh()
        if page != "executive":
            at.run()  # lands on the default page first, as a browser does
            at.switch_page(str(app / "pages" / f"{page}.py"))
        st.cache_data.clear()
        st.cache_resource.clear()
        t0 = time.perf_counter()
        at.run()
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        at.run()
        again = time.perf_counter() - t0
        problems = [e.message for e in at.exception] + [e.value for e in at.error] + [
            i.value for i in at.info if str(i.value).startswith("Not computed")]
        if problems:
            raise RuntimeError(f"{page}: {problems}")
        out[page] = (first, again)
    return out


def _verdict(s: float, limit: float) -> str:
    return "ok" if s < limit else "SLOW"


NEEDED = ("conversation_agents", "misroute_matrix", "verification_sample", "topics",
          "conversation_topics", "flow_runs", "alerts")


def _stale(snap: Path) -> bool:
    """A snapshot cached by an older version of this script (without a table a page reads
    now) is rebuilt rather than failing the run."""
    with open_snapshot(snap) as con:
        have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")
                .fetchall()}
    return not set(NEEDED) <= have


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/tierlens-bench"))
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--apptest", action="store_true", help="also render pages with AppTest")
    args = ap.parse_args()
    snap = args.out / f"n{args.conversations}" / "serving.duckdb"
    if args.rebuild or not snap.exists() or _stale(snap):
        t0 = time.perf_counter()
        build(snap, args.conversations)
        print(f"built {snap} ({snap.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - t0:.1f} s")
    with open_snapshot(snap) as con:
        n_turns = con.execute("SELECT count(*) FROM turns").fetchone()[0]
        month = con.execute("SELECT max(month) FROM kpi_monthly").fetchone()[0]
        cid = con.execute("SELECT conversation_id FROM conversations "
                          "ORDER BY started_at DESC LIMIT 1 OFFSET 7").fetchone()[0]
        flagged = con.execute("SELECT conversation_id FROM compliance_flags "
                              "WHERE severity = 'critical' LIMIT 1").fetchone()[0]
    print(f"\nsnapshot: {args.conversations:,} conversations, {n_turns:,} turns; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(f"{'page (queries only)':<55} {'cold s':>8} {'warm s':>8}")
    for page, calls in pages(month, cid, flagged).items():
        db = connect(snap)  # a fresh instance: cold = its first run (as after a publish)
        cold = time_page(db, calls)
        warm = statistics.median(time_page(db, calls) for _ in range(3))
        db.close()
        print(f"{page:<55} {cold:8.3f} {warm:8.3f}")
    if args.apptest:
        print(f"\n{'AppTest render (admin)':<55} {'first s':>8} {'again s':>8}  target <2 / <0.5")
        for page, (first, again) in apptest_times(snap.parent, cid).items():
            print(f"{page:<55} {first:8.3f} {again:8.3f}  {_verdict(first, 2.0)} / "
                  f"{_verdict(again, 0.5)}")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
