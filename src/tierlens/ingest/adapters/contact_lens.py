"""Adapter: Amazon Connect Contact Lens conversational-analytics output JSON (voice and chat).

One file is one contact (the ``*_analysis_*.json`` objects Contact Lens writes under
``Analysis/Voice/`` or ``Analysis/Chat/`` in the instance bucket; original or redacted).

Mapping to the input contract:

- ``conversation_id`` = ``CustomerMetadata.ContactId`` (else the contact id at the start of
  the file name); ``channel`` = ``Channel`` lowered (``voice`` / ``chat``); ``language`` =
  the primary subtag of ``LanguageCode``.
- speakers: ``AGENT`` and ``SUPERVISOR`` -> ``agent``; ``CUSTOMER`` -> ``customer``;
  ``CUSTOM_BOT`` and chat ``SYSTEM`` messages whose display name is ``BOT`` (Amazon Lex) ->
  ``bot``; other ``SYSTEM`` messages (contact-flow prompts) -> ``system``. Voice files give
  the role per participant (``Participants``), chat files per transcript item.
- chat events: an agent joining after a bot has spoken -> ``handoff``; a transfer ->
  ``transfer``; chat ended -> ``end``. Other events (typing, read receipts, joins without a
  bot, leaves) carry no meaning for QA and are counted in metadata, not turned into turns.
- time: chat items carry ``AbsoluteTime``. Voice files carry only offsets from the start of
  the call, so the absolute start is estimated, and metadata ``contact_lens.start_time_source``
  says how: ``file_name`` (the ``_analysis_<UTC time>`` stamp in the object key, which is when
  the analysis was written, minus the call duration) or ``file_mtime`` (the same from the
  file's modification time). Join with the contact trace record for an exact start.
- Contact Lens' own sentiment (per turn and overall) and matched categories go in
  ``metadata.contact_lens``; they are never used as tierlens scores.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from tierlens.errors import InputError, RecordError, describe
from tierlens.ingest.record import RawRecord

NAME = "contact_lens"

_SIGNATURE_KEYS = (b'"ContentMetadata"', b'"ConversationCharacteristics"', b'"Participants"',
                   b'"JobStatus"', b'"CustomerMetadata"', b'"Transcript"')
_KEY_TIME = re.compile(r"_analysis(?:_redacted)?_(\d{4}-\d{2}-\d{2})T(\d{2})[:_](\d{2})[:_](\d{2})Z")
_KEY_CONTACT = re.compile(r"^([0-9a-fA-F-]{36})_analysis")

_ROLES = {"AGENT": "agent", "SUPERVISOR": "agent", "CUSTOMER": "customer",
          "CUSTOM_BOT": "bot", "BOT": "bot", "SYSTEM": "system"}
_EVENT_PREFIX = "application/vnd.amazonaws.connect.event."
BOT_AGENT_ID = "amazon-lex"


class _Turns(NamedTuple):
    turns: list[dict[str, Any]]
    sentiments: list[str | None]  # Contact Lens' label per output turn (None for events)
    start: datetime
    end: datetime
    start_source: str
    dropped: int  # transcript items that carry no QA meaning (typing, joins, attachments)


def sniff(path: Path, head: bytes) -> bool:
    """A ``.json`` file whose first 64 KiB show the Contact Lens top-level keys."""
    name = path.name.lower()
    if not name.endswith((".json", ".json.gz")):
        return False
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not body.startswith(b"{") or b'"Channel"' not in head:
        return False
    return sum(key in head for key in _SIGNATURE_KEYS) >= 2


def read(path: Path) -> Iterator[RawRecord]:
    """Yield the one contact in ``path`` (or the reason it can't be converted)."""
    src = str(path)
    try:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rb") as fh:  # type: ignore[operator]
            raw = fh.read()
        mtime = path.stat().st_mtime
    except (OSError, EOFError) as exc:
        raise InputError(f"{src}: can't read Contact Lens file ({exc})") from exc
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        yield RawRecord(src, 1, None, RecordError(
            "invalid_json", f"not valid JSON ({exc}); re-export the Contact Lens analysis file"))
        return
    try:
        payload = to_conversation(doc, file_name=path.name,
                                  mtime=datetime.fromtimestamp(mtime, UTC))
    except RecordError as err:
        yield RawRecord(src, 1, None, err)
        return
    yield RawRecord(src, 1, payload)


def _iso(ts: datetime) -> str:
    ts = ts.astimezone(UTC)
    spec = "seconds" if ts.microsecond == 0 else "milliseconds"
    return ts.isoformat(timespec=spec).replace("+00:00", "Z")


def _parse_abs(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise RecordError("bad_timestamp", f"{field} is missing or not a string", field)
    try:
        ts = datetime.fromisoformat(value)
    except ValueError as exc:
        raise RecordError("bad_timestamp", f"{field}: not an ISO-8601 time ({describe(value)})",
                          field) from exc
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _offset_ms(item: dict[str, Any], key: str, field: str) -> int:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise RecordError("bad_timestamp",
                          f"{field}.{key} must be a non-negative number of milliseconds", field)
    return int(value)


def _voice_start(doc: dict[str, Any], file_name: str, mtime: datetime,
                 duration_ms: int) -> tuple[datetime, str]:
    """Estimated call start: the key's analysis stamp (else the file mtime) minus the duration."""
    uri = (doc.get("CustomerMetadata") or {}).get("InputS3Uri") or ""
    for candidate in (file_name, str(uri)):
        m = _KEY_TIME.search(candidate)
        if m:
            stamp = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}:{m.group(3)}:{m.group(4)}"
                                           "+00:00")
            return stamp - timedelta(milliseconds=duration_ms), "file_name"
    return mtime - timedelta(milliseconds=duration_ms), "file_mtime"


def to_conversation(doc: Any, file_name: str = "", mtime: datetime | None = None) -> dict[str, Any]:
    """Convert one parsed Contact Lens document into an input-contract conversation dict.

    Raises :class:`RecordError` (with a reason code) when the document can't be converted.
    """
    if not isinstance(doc, dict):
        raise RecordError("not_an_object", "a Contact Lens file must hold one JSON object")
    transcript = doc.get("Transcript")
    if not isinstance(transcript, list):
        raise RecordError("missing_field", "Transcript (a list) is missing", "Transcript")
    status = doc.get("JobStatus")
    if status is not None and status != "COMPLETED":
        raise RecordError("analysis_not_completed",
                          f"JobStatus is not COMPLETED ({describe(status)}); only COMPLETED "
                          "analyses hold a transcript",
                          "JobStatus")
    channel = str(doc.get("Channel") or "").lower()
    if channel not in ("voice", "chat"):
        raise RecordError("bad_value", f"Channel: not VOICE or CHAT ({describe(doc.get('Channel'))})",
                          "Channel")
    meta_in = doc.get("CustomerMetadata") or {}
    contact_id = meta_in.get("ContactId")
    if not contact_id:
        m = _KEY_CONTACT.match(file_name)
        contact_id = m.group(1) if m else None
    if not contact_id:
        raise RecordError("missing_field", "CustomerMetadata.ContactId is missing and the file "
                          "name does not start with a contact id", "CustomerMetadata.ContactId")

    roles: dict[str, str] = {}
    names: dict[str, str] = {}
    for p in doc.get("Participants") or []:
        if isinstance(p, dict) and p.get("ParticipantId"):
            if p.get("ParticipantRole"):
                roles[p["ParticipantId"]] = p["ParticipantRole"]
            if p.get("DisplayName"):
                names[p["ParticipantId"]] = p["DisplayName"]

    chars = doc.get("ConversationCharacteristics") or {}
    if channel == "voice":
        conv = _voice_turns(transcript, roles, chars, doc, file_name, mtime or datetime.now(UTC))
    else:
        by_item: dict[str, str] = {}
        for group in (chars.get("Sentiment") or {}).get("DetailsByTranscriptItemGroup") or []:
            for ref in group.get("TranscriptItems") or []:
                if isinstance(ref, dict) and ref.get("Id"):
                    by_item[ref["Id"]] = group.get("Sentiment")
        conv = _chat_turns(transcript, roles, names, by_item)

    language = doc.get("LanguageCode")
    content_meta = doc.get("ContentMetadata") or {}
    contact_lens = {
        "contact_id": contact_id,
        "instance_id": meta_in.get("InstanceId"),
        "version": doc.get("Version") or doc.get("ChatTranscriptVersion"),
        "output": content_meta.get("Output"),
        "language_code": language,
        "start_time_source": conv.start_source,
        "turn_sentiment": conv.sentiments,
        "overall_sentiment": (chars.get("Sentiment") or {}).get("OverallSentiment"),
        "categories": (doc.get("Categories") or {}).get("MatchedCategories") or [],
        "items_not_turned_into_turns": conv.dropped,
    }
    return {
        "conversation_id": str(contact_id),
        "channel": channel,
        "started_at": _iso(conv.start),
        "ended_at": _iso(conv.end),
        "language": language.split("-")[0].lower() if isinstance(language, str) else None,
        "metadata": {"source": NAME, "contact_lens": contact_lens},
        "turns": conv.turns,
    }


def _speaker(role: str | None, display_name: str | None, field: str) -> str:
    if role == "SYSTEM" and (display_name or "").upper() == "BOT":
        return "bot"
    speaker = _ROLES.get(role or "")
    if speaker is None:
        raise RecordError("unknown_speaker", f"{field}: participant role ({describe(role)}) is not AGENT, "
                          "CUSTOMER, SYSTEM, SUPERVISOR or CUSTOM_BOT", field)
    return speaker


def _turn(speaker: str, text: str, ts: datetime, participant: str | None) -> dict[str, Any]:
    turn: dict[str, Any] = {"speaker": speaker, "text": text, "ts": _iso(ts)}
    if speaker == "agent" and participant and participant not in _ROLES:
        turn["agent_id"] = participant  # chat participant id; voice files only say "AGENT"
    elif speaker == "bot":
        turn["agent_id"] = BOT_AGENT_ID
    return turn


def _voice_turns(transcript: list[Any], roles: dict[str, str], chars: dict[str, Any],
                 doc: dict[str, Any], file_name: str, mtime: datetime) -> _Turns:
    items: list[tuple[int, int, int, dict[str, Any], str]] = []
    for i, item in enumerate(transcript):
        field = f"Transcript[{i}]"
        if not isinstance(item, dict):
            raise RecordError("bad_value", f"{field} is not an object", field)
        content = item.get("Content")
        if not isinstance(content, str):
            raise RecordError("missing_field", f"{field}.Content is missing", f"{field}.Content")
        begin = _offset_ms(item, "BeginOffsetMillis", field)
        end = _offset_ms(item, "EndOffsetMillis", field) if "EndOffsetMillis" in item else begin
        pid = item.get("ParticipantId")
        role = item.get("ParticipantRole") or roles.get(pid) or (pid if pid in _ROLES else None)
        items.append((begin, i, end, item, _speaker(role, None, f"{field}.ParticipantId")))
    items.sort(key=lambda t: (t[0], t[1]))
    duration = chars.get("TotalConversationDurationMillis")
    if not isinstance(duration, (int, float)) or isinstance(duration, bool):
        duration = max((t[2] for t in items), default=0)
    start, source = _voice_start(doc, file_name, mtime, int(duration))
    turns: list[dict[str, Any]] = []
    sentiments: list[str | None] = []
    for begin, _, _, item, speaker in items:
        ts = start + timedelta(milliseconds=begin)
        turns.append(_turn(speaker, item["Content"], ts, item.get("ParticipantId")))
        sentiments.append(item.get("Sentiment"))
    end_ms = max([int(duration)] + [t[2] for t in items])
    return _Turns(turns, sentiments, start, start + timedelta(milliseconds=end_ms), source, 0)


def _chat_turns(transcript: list[Any], roles: dict[str, str], names: dict[str, str],
                sentiment_by_item: dict[str, str]) -> _Turns:
    rows: list[tuple[datetime, int, dict[str, Any]]] = []
    for i, item in enumerate(transcript):
        field = f"Transcript[{i}]"
        if not isinstance(item, dict):
            raise RecordError("bad_value", f"{field} is not an object", field)
        rows.append((_parse_abs(item.get("AbsoluteTime"), f"{field}.AbsoluteTime"), i, item))
    rows.sort(key=lambda r: (r[0], r[1]))
    if not rows:
        raise RecordError("missing_field", "a chat Transcript with no items has no start time",
                          "Transcript")
    turns: list[dict[str, Any]] = []
    sentiments: list[str | None] = []
    dropped = 0
    bot_spoke = False
    for ts, i, item in rows:
        field = f"Transcript[{i}]"
        pid = item.get("ParticipantId")
        role = item.get("ParticipantRole") or roles.get(pid)
        display = item.get("DisplayName") or names.get(pid)
        content_type = str(item.get("ContentType") or "")
        if item.get("Type") == "EVENT" or content_type.startswith(_EVENT_PREFIX):
            event = content_type.removeprefix(_EVENT_PREFIX)
            mapped = None
            if event == "participant.joined" and role == "AGENT" and bot_spoke:
                mapped = "handoff"
            elif event.startswith("transfer.succeeded"):
                mapped = "transfer"
            elif event == "chat.ended":
                mapped = "end"
            if mapped is None:
                dropped += 1
                continue
            turns.append({"speaker": "system", "event": mapped, "text": "", "ts": _iso(ts)})
            sentiments.append(None)
            continue
        content = item.get("Content")
        if not isinstance(content, str):  # attachments and other non-text messages
            dropped += 1
            continue
        speaker = _speaker(role, display, f"{field}.ParticipantRole")
        bot_spoke = bot_spoke or speaker == "bot"
        turns.append(_turn(speaker, content, ts, pid))
        sentiments.append(item.get("Sentiment") or sentiment_by_item.get(item.get("Id", "")))
    return _Turns(turns, sentiments, rows[0][0], rows[-1][0], "absolute_time", dropped)
