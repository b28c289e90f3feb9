"""Benchmark: query time per dashboard page on a large synthetic serving snapshot.

    python bench/dashboard.py --conversations 1000000 --out /tmp/tierlens-bench [--apptest]

Builds (once, cached in --out) a synthetic snapshot with DuckDB SQL over ``range()`` with
the public views' columns: conversations, turns (6 per conversation), conversation_scores,
compliance_flags, kpi_monthly, qa_criteria_scores, ingest_runs, quarantine, dq_results.
Then, for each page, runs the exact query functions the page calls
(:mod:`tierlens.dashboard.queries`) on a fresh read-only connection, as the dashboard does
on a cache miss: ``cold`` is the first run, ``warm`` the median of 3 more. With
``--apptest`` it also renders each page with Streamlit's AppTest as admin, twice:
``first`` (st.cache_data empty) and ``again`` (after the first load, cache warm).
Prints a table; the numbers are this machine's, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from tierlens.dashboard import queries
from tierlens.dashboard.queries import Filters


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
           'bench' AS model_version, 'bench' AS rulebook_version
    FROM conversations""")
    con.execute("""
    CREATE TABLE compliance_flags AS
    SELECT s.conversation_id, 2 AS turn_index, 'pii_card' AS rule_id, '1' AS rule_version,
           (['critical', 'major', 'minor'])[1 + h(s.conversation_id) % 3] AS severity,
           18 AS span_start, 24 AS span_end, '[CARD]' AS matched_text, NULL::VARCHAR AS disposition
    FROM conversation_scores s WHERE h(s.conversation_id) % 20 = 0""")
    con.execute("""
    CREATE TABLE kpi_monthly AS
    SELECT strftime(started_at, '%Y-%m') AS month, t.tier, k.kpi, avg(csat)::DOUBLE AS value,
           sum(csat)::DOUBLE AS numerator, count(*) AS denominator
    FROM conversations, (VALUES ('ai'), ('human'), ('all')) t(tier),
         (VALUES ('containment_raw'), ('escalation_rate'), ('fcr'), ('csat_mean'),
                 ('handoff_median_s'), ('aht_mean_s'), ('cost_per_contact'), ('routing_accuracy')) k(kpi)
    GROUP BY ALL""")
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
    con.close()
    tmp.rename(path)


PAGES: dict[str, list[tuple[str, tuple]]] = {
    "executive": [("kpi_months", ()), ("kpi_table", ("2026-06",)), ("kpi_names", ()),
                  ("kpi_trend", ("csat_mean",))],
    "qa": [("filter_options", ()), ("filtered_count", (Filters(),)),
           ("score_distribution", (Filters(),)), ("resolution_distribution", (Filters(),)),
           ("conversation_list", (Filters(), 1000)), ("leaderboard", (Filters(), "agent")),
           ("leaderboard", (Filters(), "bot"))],
    "qa (filtered: tier=human, queue=billing, red flag)": [
        ("filtered_count", (Filters(tier="human", queue="billing", red_flag=True),)),
        ("score_distribution", (Filters(tier="human", queue="billing", red_flag=True),)),
        ("conversation_list", (Filters(tier="human", queue="billing", red_flag=True), 1000)),
        ("leaderboard", (Filters(tier="human", queue="billing", red_flag=True), "agent"))],
    "conversation": [("conversation", ("c-123457",)), ("transcript", ("c-123457",)),
                     ("flags_of", ("c-123457",))],
    "review_queue": [("conversation_list", (Filters(), 200))],
    "compliance": [("red_flag_queue", (None,)), ("transcript", ("c-20",))],
    "routing": [("escalation_summary", (30.0,)), ("misroute_matrix", ()),
                ("handoff_histogram", ()), ("escalation_reasons", ()),
                ("drill", ("escalation_reason", "policy")), ("drill", ("trapped", True)),
                ("drill", ("first_queue", "billing")), ("tier_adherence", ())],
    "data_quality": [("ingest_runs", ()), ("quarantine_reasons", ()),
                     ("quarantine_rows", ("missing_field",)), ("dq_summary", ())],
}


def time_page(snap: Path, calls: list[tuple[str, tuple]]) -> float:
    t0 = time.perf_counter()
    for name, args in calls:
        fn: Callable = getattr(queries, name)
        try:
            with queries.open_snapshot(snap) as con:  # fresh connection per query, as ui.q does
                fn(con, *args)
        except queries.NotComputed:
            pass
    return time.perf_counter() - t0


def apptest_times(root: Path) -> dict[str, tuple[float, float]]:
    import os

    from _common import reread_settings
    from streamlit.testing.v1 import AppTest

    os.environ["TIERLENS_SERVING_DIR"] = str(root)
    os.environ["TIERLENS_DATA_DIR"] = str(root / "data")
    reread_settings()  # the app, run in this process, reads these
    app = Path(__file__).resolve().parents[1] / "dashboards"
    out = {}
    for page in ("executive", "qa", "conversation", "review_queue", "compliance", "routing",
                 "data_quality"):
        at = AppTest.from_file(str(app / "streamlit_app.py"), default_timeout=600)
        at.session_state["tierlens_user"] = {"username": "admin", "name": "bench", "role": "admin"}
        if page == "conversation":
            at.query_params["id"] = "c-123457"
        t0 = time.perf_counter()
        at.run()  # the default page (executive)
        first = time.perf_counter() - t0
        if page != "executive":
            at.switch_page(str(app / "pages" / f"{page}.py"))
            t0 = time.perf_counter()
            at.run()
            first = time.perf_counter() - t0
        t0 = time.perf_counter()
        at.run()
        again = time.perf_counter() - t0
        if at.exception:
            raise RuntimeError(f"{page}: {[e.message for e in at.exception]}")
        out[page] = (first, again)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/tierlens-bench"))
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--apptest", action="store_true", help="also render pages with AppTest")
    args = ap.parse_args()
    snap = args.out / f"n{args.conversations}" / "serving.duckdb"
    if args.rebuild or not snap.exists():
        t0 = time.perf_counter()
        build(snap, args.conversations)
        print(f"built {snap} ({snap.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - t0:.1f} s")
    with queries.open_snapshot(snap) as con:
        n_turns = con.execute("SELECT count(*) FROM turns").fetchone()[0]
    print(f"\nsnapshot: {args.conversations:,} conversations, {n_turns:,} turns\n")
    print(f"{'page':<55} {'cold s':>8} {'warm s':>8}")
    for page, calls in PAGES.items():
        cold = time_page(snap, calls)
        warm = statistics.median(time_page(snap, calls) for _ in range(3))
        print(f"{page:<55} {cold:8.3f} {warm:8.3f}")
    if args.apptest:
        print(f"\n{'AppTest render (admin)':<55} {'first s':>8} {'again s':>8}")
        for page, (first, again) in apptest_times(snap.parent).items():
            print(f"{page:<55} {first:8.3f} {again:8.3f}")


if __name__ == "__main__":
    main()
