"""Reading the published topics, and promoting a topic to an intent (pure over a connection)."""

from __future__ import annotations

import re

import duckdb
import polars as pl

from tierlens.errors import InputError, StoreError

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_INTENT = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


def topics_for_month(con: duckdb.DuckDBPyConnection, month: str | None = None) -> pl.DataFrame:
    """The ``topics`` view for one month (default: the latest), by opportunity."""
    if month is not None and not _MONTH.match(month):
        raise InputError(f"--month {month!r} is not a month; use YYYY-MM, e.g. 2026-10")
    try:
        latest = con.execute("SELECT max(month) FROM topics").fetchone()[0]
    except duckdb.Error:
        raise StoreError("no topics yet; run `tierlens score` (or `tierlens run`) first") from None
    month = month or latest
    df = con.execute("SELECT * FROM topics WHERE month = ? ORDER BY opportunity DESC, "
                     "n_conversations DESC, topic_id", [month]).pl()
    if df.is_empty():
        raise StoreError(f"no topics for {month}; months with topics end at {latest}")
    return df


def promotion_examples(con: duckdb.DuckDBPyConnection, topic_id: int, intent: str,
                       limit: int = 500) -> pl.DataFrame:
    """A topic's requests (redacted text) as ``text,intent`` training examples for
    ``tierlens train-intents``, closest to the centroid first. Duplicated texts once. Reads
    the public views, so it works on the warehouse and on the serving snapshot alike."""
    check_intent_name(intent)
    n = con.execute("SELECT count(*) FROM conversation_topics WHERE topic_id = ?",
                    [topic_id]).fetchone()[0]
    if not n:
        raise InputError(f"topic {topic_id} does not exist; see `tierlens topics`")
    return con.execute("""
        SELECT text, ? AS intent FROM (
            SELECT t.text, min(a.distance) AS d
            FROM conversation_topics a
            JOIN turns t ON t.conversation_id = a.conversation_id
                        AND t.turn_index = a.turn_index
            WHERE a.topic_id = ? GROUP BY t.text)
        ORDER BY d, text LIMIT ?""", [intent, topic_id, limit]).pl()


def check_intent_name(intent: str) -> str:
    """A new intent's name: lowercase letters, digits and underscores."""
    if not _INTENT.match(intent or ""):
        raise InputError(f"intent {intent!r}: use lowercase letters, digits and _ "
                         "(e.g. add_baggage)")
    return intent
