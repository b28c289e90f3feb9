"""A Twitter export is a slice of a larger stream: threads cut at the start of the file are
kept as partial conversations, and every tweet is one turn or one error."""

from __future__ import annotations

import random
from pathlib import Path

from tierlens.ingest.adapters import twitter

HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"


def _stream(n_threads: int, seed: int) -> list[tuple[int, int, str]]:
    """(tweet id, thread, csv row) for threads of 1-8 tweets alternating customer and brand,
    some opened by the brand (outreach); ids and times grow along the stream."""
    rng = random.Random(seed)
    rows: list[tuple[int, int, str]] = []
    tid = 1_000
    for k in range(n_threads):
        brand_first = rng.random() < 0.1
        prev = None
        for j in range(rng.randint(1, 8)):
            tid += 1
            inbound = (j % 2 == 0) != brand_first
            author = str(5_000 + k) if inbound else "AcmeSupport"
            minute = tid // 60
            ts = f"Mon Oct 02 {minute // 60 % 24:02d}:{minute % 60:02d}:{tid % 60:02d} +0000 2017"
            parent = "" if prev is None else f"{prev}.0"
            rows.append((tid, k, f"{tid},{author},{inbound},{ts},message {tid},,{parent}"))
            prev = tid
    return rows


def test_a_cut_stream_keeps_every_tweet(tmp_path: Path) -> None:
    stream = _stream(400, seed=3)
    cut = 137  # the export starts in the middle of a thread
    kept = stream[cut:]
    path = tmp_path / "slice.csv"
    path.write_text("\n".join([HEADER, *(r for _, _, r in kept)]) + "\n")
    recs = list(twitter.read(path))
    convs = [r.payload for r in recs if r.payload]
    errors = [r for r in recs if r.error]
    assert errors == []
    assert sum(len(c["turns"]) for c in convs) == len(kept)
    # exactly the thread cut by the slice is partial: its first tweet answers a missing one
    cut_thread = stream[cut][1]
    first_of_cut = next(t for t, k, _ in stream if k == cut_thread)
    assert stream[cut][0] != first_of_cut  # the fixed seed cuts a thread in the middle
    partial = [c["conversation_id"] for c in convs if c["metadata"].get("partial")]
    assert partial == [f"tw-{stream[cut][0]}"]
    # brand-opened threads (outreach, or the cut one when a brand tweet starts the file)
    opened = {c["conversation_id"] for c in convs if c["metadata"].get("opened_by") == "brand"}
    assert opened == {c["conversation_id"] for c in convs if c["turns"][0]["speaker"] == "agent"}
    assert opened
    assert len(convs) == len({k for _, k, _ in kept})
