"""The canonical schema: what every reader and adapter ends in.

Every input format is normalised into two polars frames with exactly these
schemas. The warehouse tables ``core_conversations`` and ``core_turns`` store
them (plus bookkeeping columns); the public views ``conversations`` and
``turns`` read from there.

Grains:
- conversations frame: one row per conversation delivery (latest wins in the store);
- turns frame: one row per turn, keyed by (conversation_id, turn_index), where
  ``turn_index`` is the 0-based position of the turn in the delivered list.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import polars as pl

SPEAKERS = ("customer", "bot", "agent", "system")

# A folder holding a file of this name is skipped when a parent folder is ingested (the
# simulator marks its ground-truth folder so; anyone can mark an archive or notes folder).
NO_INGEST_MARKER = ".noingest"
EVENTS = ("handoff", "transfer", "hold", "end")
CHANNELS = ("chat", "voice", "email", "social", "sms", "messaging")
TIER_PATHS = ("bot_only", "bot_then_human", "human_only")
# the reasons the escalation detector assigns (outcomes.escalation_reason) and reviewers may set
ESCALATION_REASONS = ("customer_request", "policy", "low_confidence", "bot_failure",
                      "negative_sentiment", "unknown")

UTC_DATETIME = pl.Datetime("us", "UTC")

CONVERSATION_SCHEMA: dict[str, pl.DataType] = {
    "conversation_id": pl.String,
    "channel": pl.String,
    "customer_id": pl.String,  # hashed pseudonym, never the raw id
    "started_at": UTC_DATETIME,
    "ended_at": UTC_DATETIME,
    "first_queue": pl.String,  # the input's `queue`: the queue first routed to; "bot" = AI tier
    "language": pl.String,
    "csat": pl.Int16,  # surveyed CSAT (1-5) when present
    "nps": pl.Int16,  # surveyed NPS (0-10) when present
    "metadata": pl.String,  # JSON text of the input's metadata object (redacted)
    "n_turns": pl.Int32,
    "tier_path": pl.String,  # bot_only | bot_then_human | human_only | null (nobody answered)
    "content_hash": pl.String,  # hash of the canonical content: detects changed re-deliveries
    "source_file": pl.String,
    "source_line": pl.Int64,
}

TURN_SCHEMA: dict[str, pl.DataType] = {
    "conversation_id": pl.String,
    "turn_index": pl.Int32,
    "speaker": pl.String,
    "text": pl.String,  # redacted
    "ts": UTC_DATETIME,
    "agent_id": pl.String,
    "bot_confidence": pl.Float64,
    "event": pl.String,
    "queue": pl.String,  # target queue of a transfer/handoff event, when given
}

PII_SPAN_SCHEMA: dict[str, pl.DataType] = {
    "conversation_id": pl.String,
    "turn_index": pl.Int32,
    "pii_type": pl.String,  # EMAIL, PHONE, CARD, SSN, IBAN, ACCOUNT, PASSWORD
    "span_start": pl.Int32,  # character offsets of the placeholder in the redacted text
    "span_end": pl.Int32,
}

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String,
    "source_line": pl.Int64,
    "conversation_id": pl.String,
    "field": pl.String,
    "reason": pl.String,  # short code, e.g. missing_field, invalid_json, unknown_speaker
    "message": pl.String,  # one human sentence: what is wrong and what to do
    "payload": pl.String,  # the offending record, redacted and truncated
}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


@dataclass
class IngestCounts:
    """What an ingest did, file- and record-wise. Nothing is silently dropped: every record
    read is stored, updated, unchanged or quarantined (:meth:`reconciles`)."""

    files_seen: int = 0
    files_skipped: int = 0
    files_failed: int = 0
    read: int = 0
    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0

    def reconciles(self) -> bool:
        return self.read == self.stored + self.updated + self.unchanged + self.quarantined


INGEST_COUNTS = tuple(f.name for f in fields(IngestCounts))
