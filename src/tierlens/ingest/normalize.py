"""Normalise raw conversation records into the canonical polars frames.

Pure functions: records in, frames out. Only what is needed to *build* the frames is
checked here (a record is an object, ``turns`` is a list of objects, values have the
right type). Everything about *valid content* (ids present, known speakers, parseable
times, non-empty conversations...) is decided by the Great Expectations hard suite in
:mod:`tierlens.validate`, on the frames this module returns.

Grains of the output (see :mod:`tierlens.schema`): ``conversations`` one row per record,
``turns`` one row per turn, keyed by ``(conversation_id, turn_index)`` plus the internal
``_rec`` column (the record's position in the batch) used to map failures back to records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain, repeat
from typing import Any

import orjson
import polars as pl

from tierlens.errors import RecordError
from tierlens.ingest.record import RawRecord
from tierlens.ingest.redact import redact_changes, redact_value
from tierlens.ingest.values import number, parse_ts, pseudonym, text_field, time_text
from tierlens.schema import CONVERSATION_SCHEMA, QUARANTINE_SCHEMA, TURN_SCHEMA, UTC_DATETIME

PAYLOAD_CHARS = 2_000  # quarantined payloads are redacted and cut to this length
# Sane time window: a timestamp before EARLIEST or more than FUTURE_SLACK after ingest time
# is quarantined (year 9999 would otherwise create KPI months up to 9999-12).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


@dataclass
class Batch:
    """Frames for one batch of records, plus the records that failed to normalise."""

    conversations: pl.DataFrame  # CONVERSATION_SCHEMA + _rec
    turns: pl.DataFrame  # TURN_SCHEMA + _rec
    rejected: list[tuple[RawRecord, RecordError]] = field(default_factory=list)
    payloads: dict[int, Any] = field(default_factory=dict)  # _rec -> payload (for quarantine)

    @property
    def n_records(self) -> int:
        return self.conversations.height + len(self.rejected)


TURN_KEYS = ("speaker", "text", "ts", "agent_id", "bot_confidence", "event", "queue")
_TIME_COLS = {"conversations": ("started_at", "ended_at"), "turns": ("ts",)}


def _conversation_row(rec: RawRecord, salt: str) -> tuple[tuple[Any, ...], list[Any]]:
    """Check and flatten one record's conversation fields; returns (row, turns list).

    Raises :class:`RecordError` for the first problem found, in the same order the
    per-record path has always checked them (``turns``, ``metadata``, then the fields).
    """
    p = rec.payload
    assert p is not None
    turns = p.get("turns")
    if turns is None:
        raise RecordError("missing_field", "required field 'turns' is missing", "turns")
    if not isinstance(turns, list):
        raise RecordError("bad_type", f"'turns' must be a list, got {type(turns).__name__}",
                          "turns")
    meta = p.get("metadata")
    if isinstance(meta, str) and meta:
        try:
            meta = orjson.loads(meta)
        except orjson.JSONDecodeError as exc:
            raise RecordError("bad_type", "metadata must be a JSON object",
                              "metadata") from exc
    if meta is not None and not isinstance(meta, dict):
        raise RecordError("bad_type", "metadata must be an object", "metadata")
    nps = p.get("nps", meta.get("nps") if isinstance(meta, dict) else None)
    conv = (
        text_field(p.get("conversation_id"), "conversation_id"),
        text_field(p.get("channel"), "channel"),
        pseudonym(text_field(p.get("customer_id"), "customer_id"), salt),
        time_text(p.get("started_at"), "started_at"),
        time_text(p.get("ended_at"), "ended_at"),
        text_field(p.get("queue"), "queue"),
        text_field(p.get("language"), "language"),
        number(p.get("csat"), "csat", int),
        number(nps, "nps", int),
        None if meta is None else orjson.dumps(meta, option=orjson.OPT_SORT_KEYS).decode(),
        rec.source_file,
        rec.source_line,
    )
    return conv, turns


def _turn_rows(turns: list[Any]) -> list[tuple[Any, ...]]:
    """Per-record path: check and flatten one record's turns (raises :class:`RecordError`)."""
    rows = []
    for i, t in enumerate(turns):
        if type(t) is not dict:
            raise RecordError("bad_type", f"turns[{i}] must be an object", f"turns[{i}]")
        conf = t.get("bot_confidence")
        rows.append((
            text_field(t.get("speaker"), f"turns[{i}].speaker"),
            text_field(t.get("text"), f"turns[{i}].text"),
            time_text(t.get("ts"), f"turns[{i}].ts"),
            text_field(t.get("agent_id"), f"turns[{i}].agent_id"),
            conf if type(conf) is float else number(conf, f"turns[{i}].bot_confidence", float),
            text_field(t.get("event"), f"turns[{i}].event"),
            text_field(t.get("queue"), f"turns[{i}].queue"),
        ))
    return rows


_CONV_KEYS = [k for k in CONVERSATION_SCHEMA if k not in ("n_turns", "tier_path", "content_hash")]
_TEXT_TS = {"started_at": pl.String, "ended_at": pl.String, "ts": pl.String}
_TURN_TEXT_SCHEMA = {**{k: _TEXT_TS.get(k, v) for k, v in TURN_SCHEMA.items()}, "_rec": pl.Int64}


def normalize(records: Iterable[RawRecord], salt: str, *, fast: bool = True,
              now: datetime | None = None) -> Batch:
    """Flatten records into canonical frames. Records that can't be flattened are rejected.

    With ``fast`` (the default) a batch is flattened a column at a time
    (:func:`_normalize_fast`); a batch it can't take exactly as the per-record path would is
    flattened per record instead. Both give identical results (property-tested
    in tests/ingest/test_fast_path.py). ``now`` (default: the clock) is the ingest time the
    future end of the timestamp window is measured from.
    """
    records = records if isinstance(records, list) else list(records)
    latest = (now or datetime.now(UTC)) + FUTURE_SLACK
    if fast:
        batch = _normalize_fast(records, salt, latest)
        if batch is not None:
            return batch
    return _normalize_records(records, salt, latest)


def _normalize_records(records: list[RawRecord], salt: str,
                       latest: datetime | None = None) -> Batch:
    """Per-record path: flatten every turn in Python (any input, exact error messages)."""
    conv_cols: dict[str, list[Any]] = {k: [] for k in [*_CONV_KEYS, "n_turns", "_rec"]}
    turn_cols: dict[str, list[Any]] = {k: [] for k in _TURN_TEXT_SCHEMA}
    rejected: list[tuple[RawRecord, RecordError]] = []
    payloads: dict[int, Any] = {}

    for rec_no, rec in enumerate(records):
        if rec.error is not None or rec.payload is None:
            rejected.append((rec, rec.error or RecordError("empty_record", "record is empty")))
            continue
        try:
            conv, turns = _conversation_row(rec, salt)
            rows = _turn_rows(turns)
        except RecordError as err:
            rejected.append((rec, err))
            continue
        payloads[rec_no] = rec.payload
        for key, value in zip(_CONV_KEYS, conv, strict=True):
            conv_cols[key].append(value)
        conv_cols["n_turns"].append(len(rows))
        conv_cols["_rec"].append(rec_no)
        cid = conv[0]
        for i, row in enumerate(rows):
            turn_cols["conversation_id"].append(cid)
            turn_cols["turn_index"].append(i)
            for key, value in zip(TURN_KEYS, row, strict=True):
                turn_cols[key].append(value)
            turn_cols["_rec"].append(rec_no)
    turns_frame = pl.DataFrame(turn_cols, schema=_TURN_TEXT_SCHEMA)
    return _finish(_conversations_frame(conv_cols), turns_frame, rejected, payloads, latest)


# Fast path. The per-record path spends its time checking and copying every turn field in
# Python. When every turn is a dict and every turn field already has the type the canonical
# frame wants (str or None; bot_confidence float, int or None), that path would copy the
# values unchanged, so they are gathered a column at a time and checked with one type() set
# per column instead. Anything else (a number where a string goes, a boolean, a NaN-bearing
# CSV cell, a turn that isn't an object...) sends the whole batch to the per-record path,
# which produces the exact rejection message.
_NONE = type(None)
_ALLOWED_TYPES = {k: frozenset({float, int, _NONE}) if k == "bot_confidence"
                  else frozenset({str, _NONE}) for k in TURN_KEYS}


def _normalize_fast(records: list[RawRecord], salt: str,
                    latest: datetime | None = None) -> Batch | None:
    """Column-at-a-time flattening, or None when the batch needs the per-record path."""
    conv_cols: dict[str, list[Any]] = {k: [] for k in [*_CONV_KEYS, "n_turns", "_rec"]}
    rejected: list[tuple[RawRecord, RecordError]] = []
    payloads: dict[int, Any] = {}
    turn_lists: list[list[Any]] = []
    for rec_no, rec in enumerate(records):
        if rec.error is not None or rec.payload is None:
            rejected.append((rec, rec.error or RecordError("empty_record", "record is empty")))
            continue
        try:
            conv, turns = _conversation_row(rec, salt)
        except RecordError as err:
            rejected.append((rec, err))
            continue
        turn_lists.append(turns)
        payloads[rec_no] = rec.payload
        for key, value in zip(_CONV_KEYS, conv, strict=True):
            conv_cols[key].append(value)
        conv_cols["n_turns"].append(len(turns))
        conv_cols["_rec"].append(rec_no)
    all_turns = list(chain.from_iterable(turn_lists))
    if not set(map(type, all_turns)) <= {dict}:
        return None
    columns: dict[str, pl.Series] = {}
    for key in TURN_KEYS:
        values = list(map(dict.get, all_turns, repeat(key)))
        if not set(map(type, values)) <= _ALLOWED_TYPES[key]:
            return None
        try:
            columns[key] = pl.Series(key, values, dtype=_TURN_TEXT_SCHEMA[key])
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            return None  # e.g. text with lone surrogates: the per-record path reports it
    keys = pl.DataFrame({"_rec": conv_cols["_rec"], "conversation_id": conv_cols["conversation_id"],
                         "n": conv_cols["n_turns"]},
                        schema={"_rec": pl.Int64, "conversation_id": pl.String, "n": pl.Int32})
    keys = (keys.filter(pl.col("n") > 0)
            .select("_rec", "conversation_id",
                    turn_index=pl.int_ranges(0, pl.col("n"), dtype=pl.Int32))
            .explode("turn_index"))
    turns_frame = keys.with_columns(**columns).with_columns(
        ts=pl.when(pl.col("ts") != "").then(pl.col("ts"))).select(list(_TURN_TEXT_SCHEMA))
    return _finish(_conversations_frame(conv_cols), turns_frame, rejected, payloads, latest)


def _conversations_frame(conv_cols: dict[str, list[Any]]) -> pl.DataFrame:
    return pl.DataFrame(conv_cols, schema={
        **{k: _TEXT_TS.get(k, CONVERSATION_SCHEMA[k]) for k in _CONV_KEYS},
        "n_turns": pl.Int32, "_rec": pl.Int64})


# Free-form identifier fields: stored as given, so PII typed into one (an e-mail as the
# conversation id, a phone number as the queue) is redacted like turn text, before anything
# (validation messages, quarantine, the warehouse) sees it.
ID_COLUMNS = {"conversations": ("conversation_id", "channel", "first_queue", "language"),
              "turns": ("conversation_id", "agent_id", "queue")}


def _redact_ids(conversations: pl.DataFrame, turns: pl.DataFrame
                ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Redact the identifier columns of both frames, each distinct value once."""
    frames = {"conversations": conversations, "turns": turns}
    values = pl.concat([frames[f].get_column(c).alias("v") for f, cols in ID_COLUMNS.items()
                        for c in cols])
    changed = redact_changes(values)
    if not changed:
        return conversations, turns
    return tuple(frames[f].with_columns(pl.col(c).replace(changed) for c in ID_COLUMNS[f])
                 for f in ("conversations", "turns"))


def _finish(conversations: pl.DataFrame, turns: pl.DataFrame,
            rejected: list[tuple[RawRecord, RecordError]], payloads: dict[int, Any],
            latest: datetime | None) -> Batch:
    """Redact identifier fields, parse times, reject records with unparseable or out-of-window
    ones, add tier_path and content_hash."""
    conversations, turns = _redact_ids(conversations, turns)
    conversations, turns, bad = _parse_times(conversations, turns)
    latest = latest or datetime.now(UTC) + FUTURE_SLACK
    for rec_no, err in _out_of_window(conversations, turns, latest).items():
        bad.setdefault(rec_no, err)
    if bad:
        by_rec = {r: e for r, e in bad.items()}
        for rec_no, err in sorted(by_rec.items()):
            rec = RawRecord(*(conversations.filter(pl.col("_rec") == rec_no)
                              .select("source_file", "source_line").row(0)), payloads.pop(rec_no))
            rejected.append((rec, err))
        drop = pl.Series(list(by_rec), dtype=pl.Int64).implode()
        conversations = conversations.filter(~pl.col("_rec").is_in(drop))
        turns = turns.filter(~pl.col("_rec").is_in(drop))
    conversations = with_content_hash(with_tier_path(conversations, turns), turns)
    return Batch(conversations.select(list(CONVERSATION_SCHEMA) + ["_rec"]), turns, rejected,
                 payloads)


def _parse_times(conversations: pl.DataFrame, turns: pl.DataFrame
                 ) -> tuple[pl.DataFrame, pl.DataFrame, dict[int, RecordError]]:
    """Parse timestamp text vectorised (RFC 3339); odd spellings fall back to
    :func:`tierlens.ingest.values.parse_ts`.

    Returns the frames with UTC datetimes and the records whose times can't be parsed.
    """
    bad: dict[int, RecordError] = {}
    out = []
    for name, frame in (("conversations", conversations), ("turns", turns)):
        for col in _TIME_COLS[name]:
            parsed = pl.col(col).str.to_datetime("%+", strict=False, time_zone="UTC",
                                                 time_unit="us")
            frame = frame.with_columns(parsed.alias(f"_{col}"))
            odd = frame.filter(pl.col(col).is_not_null() & pl.col(f"_{col}").is_null())
            fixed: dict[str, datetime | None] = {}
            for rec_no, idx, raw in odd.select(
                    "_rec", "turn_index" if name == "turns" else pl.lit(None), col).iter_rows():
                label = col if idx is None else f"turns[{idx}].{col}"
                try:
                    fixed[raw] = parse_ts(raw, label)
                except RecordError as err:
                    bad.setdefault(rec_no, err)
            if fixed:
                mapped = pl.col(col).replace_strict(fixed, default=None,
                                                    return_dtype=UTC_DATETIME)
                frame = frame.with_columns(pl.coalesce(f"_{col}", mapped).alias(f"_{col}"))
            frame = frame.drop(col).rename({f"_{col}": col})
        out.append(frame)
    conv, tr = out
    return (conv.select(*[c for c in conversations.columns]),
            tr.select(*[c for c in turns.columns]), bad)


def _out_of_window(conversations: pl.DataFrame, turns: pl.DataFrame,
                   latest: datetime) -> dict[int, RecordError]:
    """Records with a time before ``EARLIEST`` or after ``latest`` (the first such field)."""
    bad: dict[int, RecordError] = {}
    outside = (pl.col("_t") < EARLIEST) | (pl.col("_t") > latest)
    for name, frame in (("conversations", conversations), ("turns", turns)):
        for col in _TIME_COLS[name]:
            idx = pl.col("turn_index") if name == "turns" else pl.lit(None, pl.Int32)
            hits = frame.select("_rec", idx.alias("_i"), pl.col(col).alias("_t")).filter(outside)
            for rec_no, i in hits.select("_rec", "_i").iter_rows():
                label = col if i is None else f"turns[{i}].{col}"
                bad.setdefault(rec_no, RecordError(
                    "timestamp_out_of_window", f"{label} is before 2000-01-01 or more than a day "
                    "after ingest time; check the export's clock, time zone or epoch unit",
                    label))
    return bad


def with_content_hash(conversations: pl.DataFrame, turns: pl.DataFrame) -> pl.DataFrame:
    """Hash of each conversation's *normalised* content.

    Computed on the canonical frames, so it doesn't depend on the source format, key order,
    whitespace or timestamp spelling: the same conversation delivered as JSONL and later as
    CSV counts as unchanged.
    """
    def _row_text(cols: list[str]) -> pl.Expr:
        return pl.concat_str([pl.col(c).cast(pl.String).fill_null("\x00") for c in cols],
                             separator="\x1f")

    turn_text = (turns.sort("_rec", "turn_index")
                 .group_by("_rec", maintain_order=True)
                 .agg(_row_text(list(TURN_SCHEMA)).str.join("\x1e").alias("_t")))
    conv_cols = [c for c in CONVERSATION_SCHEMA
                 if c not in ("content_hash", "source_file", "source_line", "tier_path")]
    text = (conversations.join(turn_text, on="_rec", how="left")
            .select(pl.concat_str([_row_text(conv_cols), pl.col("_t").fill_null("")],
                                  separator="\x1d")))
    digests = [hashlib.sha256(t.encode()).hexdigest()[:32] for t in text.to_series().to_list()]
    return conversations.with_columns(content_hash=pl.Series(digests, dtype=pl.String))


def with_tier_path(conversations: pl.DataFrame, turns: pl.DataFrame) -> pl.DataFrame:
    """tier_path from who answered first and whether a human spoke (see docs/metrics.md)."""
    speakers = (
        turns.filter(pl.col("speaker").is_in(["bot", "agent"]))
        .group_by("_rec")
        .agg(first=pl.col("speaker").sort_by("turn_index").first(),
             has_agent=(pl.col("speaker") == "agent").any())
    )
    path = (
        pl.when(pl.col("first") == "bot")
        .then(pl.when(pl.col("has_agent")).then(pl.lit("bot_then_human"))
              .otherwise(pl.lit("bot_only")))
        .when(pl.col("first") == "agent").then(pl.lit("human_only"))
    )
    return conversations.join(speakers.select("_rec", path.alias("tier_path")), on="_rec",
                              how="left")


def quarantine_rows(rows: list[tuple[str, int | None, str | None, str | None, str, str, Any]],
                    redact) -> pl.DataFrame:
    """Build quarantine rows; payloads are redacted (raw text is never stored) and truncated,
    and so are the conversation id and the message (messages describe a bad value rather
    than repeat it; this is the safety net)."""
    out = []
    for source_file, line, cid, fld, reason, message, payload in rows:
        cid = None if cid is None else redact(cid)
        message = redact(message)
        if payload is None:
            text = None
        else:
            # strings are redacted before JSON escapes them (a tab between card digits
            # becomes the two characters \t in JSON text, which no detector reads as a space)
            text = payload if isinstance(payload, str) else orjson.dumps(
                redact_value(payload), default=str).decode()
            text = redact(text[: PAYLOAD_CHARS * 2])[:PAYLOAD_CHARS]
        out.append((source_file, line, cid, fld, reason, message, text))
    return pl.DataFrame(out, schema=QUARANTINE_SCHEMA, orient="row")
