"""Adapter: the public "Customer Support on Twitter" CSV (one row per tweet).

Columns: ``tweet_id, author_id, inbound, created_at, text, response_tweet_id,
in_response_to_tweet_id``; ``created_at`` like ``Tue Oct 31 22:10:47 +0000 2017``;
``response_tweet_id`` may list several comma-separated ids; ids may be written as floats
(``119237.0``) by the pandas export.

Conversations are rebuilt from reply chains:

- a tweet's parent is ``in_response_to_tweet_id`` when that tweet is in the file, else the
  tweet whose ``response_tweet_id`` lists it, else none;
- a **thread root** is a tweet without a parent (no ``in_response_to``, or its parent is
  missing from the file); every tweet belongs to the thread of the root its reply chain
  leads to (branching replies included);
- every thread is one conversation, ``tw-<root tweet_id>``: customer tweets are ``customer``
  turns, brand tweets ``agent`` turns with ``agent_id`` = the brand's handle; ``customer_id``
  = the root's author when the root is a customer tweet, else the first customer who tweeted
  in the thread; ``channel`` = ``social``; ``queue`` and ``metadata.brand`` = the first brand
  that tweeted; turns are ordered by ``created_at`` (then tweet id); HTML entities
  (``&amp;``) are unescaped;
- ``metadata.partial`` = true when the thread's beginning is not in the file: its root
  answers a tweet the file lacks (``in_response_to_tweet_id`` points outside it; a real
  export cut from a larger stream has many), or the root tweet itself is unusable;
  ``metadata.opened_by`` = ``"brand"`` when the first turn is a brand tweet (a reply whose
  customer tweet is missing, or the brand's proactive outreach). Both keys are absent
  otherwise.

Tweets that can't be converted are yielded as errors (never raised), one per tweet:
``bad_id`` (tweet_id), ``bad_value`` (inbound), ``bad_timestamp`` (created_at),
``duplicate_id`` and ``reply_cycle``. So every data row ends up as exactly one turn or one
error: ``turns + errors = rows`` (nothing is dropped silently).
``source_line`` is the CSV row number counting the header as row 1 (the file line, unless a
text field spans several lines).

Memory: the file is read whole (threads can span the file), the parent -> root mapping is
built with polars joins by pointer doubling (O(log depth) joins, no Python recursion), then
conversations are assembled with a vectorised group-by. Peak memory is about 4.5x the CSV
size (measured in docs/adapters.md).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from tierlens.errors import InputError, RecordError, describe
from tierlens.ingest.record import RawRecord

NAME = "twitter"
COLUMNS = ("tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id",
           "in_response_to_tweet_id")
TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"
MAX_DOUBLINGS = 64  # a safety bound: chains up to 2**64 deep


def sniff(path: Path, head: bytes) -> bool:
    """The header row holds all seven Twitter customer-support columns."""
    first = head.split(b"\n", 1)[0].lstrip(b"\xef\xbb\xbf").decode("utf-8", "replace")
    names = {c.strip().strip('"').strip() for c in first.split(",")}
    return set(COLUMNS) <= names


def _id(col: str) -> pl.Expr:
    """An id column as Int64: accepts ``123`` and the pandas float form ``123.0``."""
    return (pl.col(col).str.strip_chars().str.replace(r"\.0+$", "")
            .cast(pl.Int64, strict=False))


def load(path: Path) -> pl.DataFrame:
    """The file as one typed frame, one row per tweet, with its CSV ``row`` number."""
    src = str(path)
    try:
        if path.name.lower().endswith(".gz"):
            lf = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy").lazy()
        else:
            lf = pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy")
        names = lf.collect_schema().names()
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError) as exc:
        raise InputError(f"{src}: can't read as a Twitter support CSV ({exc})") from exc
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise InputError(f"{src}: missing column(s) {', '.join(missing)}; the Twitter adapter "
                         f"needs {', '.join(COLUMNS)}")
    inbound = pl.col("inbound").str.strip_chars().str.to_lowercase()
    try:
        typed = lf.select(COLUMNS).with_row_index("row", offset=2).with_columns(
            _id("tweet_id").alias("id"),
            _id("in_response_to_tweet_id").alias("reply_to"),
            pl.when(inbound.is_in(["true", "1"])).then(True)
            .when(inbound.is_in(["false", "0"])).then(False).otherwise(None).alias("is_inbound"),
            pl.col("created_at").str.strip_chars()
            .str.strptime(pl.Datetime("us", "UTC"), TIME_FORMAT, strict=False).alias("ts"),
        )
        # raw strings are kept only where they failed to parse (for the error message)
        return typed.select(
            "row", "id", "reply_to", "is_inbound", "ts", "author_id", "text", "response_tweet_id",
            pl.when(pl.col("id").is_null()).then(pl.col("tweet_id")).alias("tweet_id"),
            pl.when(pl.col("is_inbound").is_null()).then(pl.col("inbound")).alias("inbound"),
            pl.when(pl.col("ts").is_null()).then(pl.col("created_at")).alias("created_at"),
        ).collect()
    except pl.exceptions.ComputeError as exc:
        raise InputError(f"{src}: malformed CSV ({str(exc).splitlines()[0]})") from exc


def resolve_roots(edges: pl.DataFrame) -> pl.DataFrame:
    """Map every tweet to the root of its reply chain.

    ``edges`` has one row per tweet: ``id`` (unique) and ``parent`` (null for a root; must be
    an ``id`` of the frame). Returns ``id, root``; ``root`` is null for tweets on (or hanging
    from) a reply cycle. Pointer doubling: each join makes every pointer jump twice as far, so
    a chain of depth d needs about log2(d) joins. A chain of depth d has tweets at every depth
    below d, so each round resolves some of them; a round that resolves none means the tweets
    left are stuck on cycles, and the loop stops.
    """
    roots = edges.filter(pl.col("parent").is_null()).select(pl.col("id").alias("anc"))
    flags = roots.with_columns(pl.col("anc").alias("root"))
    ptr = edges.select("id", pl.coalesce("parent", "id").alias("anc"))
    still_open = ptr.height + 1
    for _ in range(MAX_DOUBLINGS):
        n_open = ptr.join(roots, on="anc", how="anti").height
        if n_open == 0 or n_open == still_open:
            break
        still_open = n_open
        ptr = (ptr.join(ptr.select(pl.col("id").alias("anc"), pl.col("anc").alias("anc2")),
                        on="anc", how="left")
               .select("id", pl.col("anc2").alias("anc")))
    return ptr.join(flags, on="anc", how="left").select("id", "root")


def threads(df: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[int, RecordError]]]:
    """Assign each valid tweet its thread root; return (tweets with ``root``, row errors)."""
    errors: list[tuple[int, RecordError]] = []
    bad_id = df.filter(pl.col("id").is_null())
    for row, raw in bad_id.select("row", "tweet_id").iter_rows():
        errors.append((row, RecordError("bad_id",
                                        f"tweet_id: not a numeric tweet id ({describe(raw)})",
                                        "tweet_id")))
    df = df.filter(pl.col("id").is_not_null())
    dup = df.filter(pl.col("id").is_duplicated() & (pl.col("row") != pl.col("row").min().over("id")))
    for row, tid in dup.select("row", "id").iter_rows():
        errors.append((row, RecordError("duplicate_id",
                                        f"tweet_id {tid} appears earlier in the file", "tweet_id")))
    df = df.filter(pl.col("row") == pl.col("row").min().over("id"))

    known = df.select("id")
    # parent from in_response_to_tweet_id when that tweet is present ...
    direct = df.select("id", "reply_to").join(known.rename({"id": "reply_to"}).with_columns(
        pl.lit(True).alias("present")), on="reply_to", how="left")
    direct = direct.select("id", pl.when(pl.col("present")).then(pl.col("reply_to")).alias("p1"))
    # ... else from a tweet whose response_tweet_id lists this one
    listed = (df.select(pl.col("id").alias("p2"),
                        pl.col("response_tweet_id").str.split(",").alias("child"))
              .explode("child")
              .select("p2", _id("child").alias("id"))
              .drop_nulls().filter(pl.col("id") != pl.col("p2"))
              .group_by("id").agg(pl.col("p2").min()))
    edges = (direct.join(listed, on="id", how="left")
             .select("id", pl.coalesce("p1", "p2").alias("parent")))
    df = df.drop("response_tweet_id")
    roots = resolve_roots(edges)
    df = df.join(roots, on="id", how="left")
    for row, tid in df.filter(pl.col("root").is_null()).select("row", "id").iter_rows():
        errors.append((row, RecordError("reply_cycle",
                                        f"tweet {tid} is on a reply cycle (it answers itself "
                                        "through its replies); fix the ids", "in_response_to_tweet_id")))
    return df.filter(pl.col("root").is_not_null()), errors


def _thread_frames(tweets: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[int, RecordError]]]:
    """Vectorised per-thread assembly: one row per thread with a usable tweet, plus the
    errors of the unusable tweets (one each).

    The returned frame has one row per conversation, ordered by its root's row, with the
    turns as parallel lists (``speaker, text, ts, agent``) already in time order.
    """
    usable = pl.col("ts").is_not_null() & pl.col("is_inbound").is_not_null()
    roots = tweets.filter(pl.col("id") == pl.col("root")).select(
        "root", pl.col("row").alias("root_row"),
        # the thread's beginning is outside the file: the root answers a missing tweet, or
        # the root itself is unusable (quarantined below)
        (pl.col("reply_to").is_not_null() | ~usable).alias("partial"),
        usable.alias("root_ok"),
        pl.when(pl.col("is_inbound").eq_missing(True)).then(pl.col("author_id"))
        .alias("root_customer"))
    t = tweets.join(roots, on="root", how="left")
    errors: list[tuple[int, RecordError]] = []
    bad = t.filter(~usable)
    for row, ts, created, inbound in bad.select("row", "ts", "created_at", "inbound").iter_rows():
        if ts is None:
            errors.append((row, RecordError(
                "bad_timestamp", "created_at: not like 'Tue Oct 31 22:10:47 +0000 2017' "
                f"({describe(created)})", "created_at")))
        else:
            errors.append((row, RecordError(
                "bad_value", f"inbound: not True or False ({describe(inbound)})", "inbound")))
    # brands in order of their first tweet (known even when that tweet itself is unusable)
    brands = (t.filter(pl.col("is_inbound").eq_missing(False))
              .sort(["ts", "id"], nulls_last=True)
              .group_by("root", maintain_order=True)
              .agg(pl.col("author_id").unique(maintain_order=True).alias("brands")))
    n_tweets = t.group_by("root").agg(pl.len().alias("n_tweets"))
    convs = (t.filter(usable)
             .sort(["root_row", "ts", "id"])
             .group_by("root", maintain_order=True)
             # source line: the root's row, else (root quarantined) the first turn's row, so
             # a record never shares its line with another quarantine row
             .agg(pl.when(pl.col("root_ok").first()).then(pl.col("root_row").first())
                  .otherwise(pl.col("row").first()).alias("root_row"),
                  pl.coalesce(pl.col("root_customer").first(),
                              pl.col("author_id").filter(pl.col("is_inbound")).first())
                  .alias("customer_id"),
                  pl.when(pl.col("is_inbound")).then(pl.lit("customer"))
                  .otherwise(pl.lit("agent")).alias("speaker"),
                  pl.col("text").fill_null(""),
                  pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("ts"),
                  pl.when(pl.col("is_inbound")).then(None)
                  .otherwise(pl.col("author_id")).alias("agent"),
                  pl.col("partial").first())
             .join(brands, on="root", how="left")
             .join(n_tweets, on="root", how="left"))
    return convs, errors


def _payload(root: int, customer_id: str | None, speakers: list[str], texts: list[str],
             stamps: list[str], agents: list[str | None], partial: bool,
             brands: list[str] | None, n_tweets: int) -> dict[str, Any]:
    turns: list[dict[str, Any]] = []
    for speaker, text, ts, agent in zip(speakers, texts, stamps, agents, strict=True):
        turn: dict[str, Any] = {"speaker": speaker,
                                "text": html.unescape(text) if "&" in text else text, "ts": ts}
        if agent is not None:
            turn["agent_id"] = agent
        turns.append(turn)
    brand = brands[0] if brands else None
    metadata: dict[str, Any] = {"source": NAME, "brand": brand, "root_tweet_id": str(root),
                                "n_tweets": n_tweets}
    if brands and len(brands) > 1:
        metadata["other_brands"] = brands[1:]
    if partial:
        metadata["partial"] = True
    if speakers[0] == "agent":
        metadata["opened_by"] = "brand"
    return {
        "conversation_id": f"tw-{root}",
        "channel": "social",
        "customer_id": customer_id,
        "started_at": stamps[0],
        "ended_at": stamps[-1],
        "queue": brand,
        "metadata": metadata,
        "turns": turns,
    }


def read(path: Path) -> Iterator[RawRecord]:
    """Yield the tweet errors (by row), then one conversation per thread (root order)."""
    src = str(path)
    tweets, errors = threads(load(path))
    convs, thread_errors = _thread_frames(tweets)
    del tweets
    for row, err in sorted(errors + thread_errors, key=lambda e: e[0]):
        yield RawRecord(src, row, None, err)
    cols = ("root", "customer_id", "speaker", "text", "ts", "agent", "partial", "brands",
            "n_tweets")
    for row in convs.select("root_row", *cols).iter_rows():
        yield RawRecord(src, row[0], _payload(*row[1:]))
