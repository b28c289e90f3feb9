"""Benchmark: the default compliance rulebook over 1M synthetic turns.

    .venv/bin/python bench/compliance.py [--turns 1000000] [--seed 7] [--encode-sample 2000]

Synthesises conversations (vectorised: numpy picks template sentences, polars gathers them)
from a few hundred realistic template sentences, with a sprinkling of rule triggers
(guarantees, requests for a human, vulnerability cues, PII placeholders, card-like digit
runs). Prints a table:

- non-semantic rules (regex, required, ordering, PII, trapped, vulnerable): turns/s;
- semantic rules with *precomputed* turn embeddings (the scoring step's single encoder pass):
  the cosine + threshold step alone, turns/s;
- full rulebook with precomputed embeddings: turns/s;
- the encoder itself (not part of the rules): sentences/s on distinct texts, cache off, so
  the cost of the one encoder pass per turn can be read separately.

Turn embeddings for the synthetic turns are real encoder outputs: each distinct template
text is encoded once and gathered per turn (as the encoder's dedup would do).
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time
from datetime import UTC, datetime

import numpy as np
import polars as pl

from tierlens.schema import PII_SPAN_SCHEMA
from tierlens.score.compliance import evaluate_rulebook
from tierlens.score.rules import load_rulebook

NON_SEMANTIC = {"phrase", "regex", "required", "ordering", "pii_exposure", "trapped_customer",
                "vulnerable_customer"}


def templates() -> dict[str, list[str]]:
    """A few hundred sentences per speaker; a few percent of them trigger some rule."""
    items = ["order", "parcel", "bill", "router", "subscription", "refund", "card", "account"]
    cust = [f"{a} {b}" for a, b in itertools.product(
        ["My", "The", "Where is my", "I have a problem with my", "Why is my", "Can you check my"],
        [f"{i}{s}" for i in items for s in ("", " again", " from last week", "?")])]
    cust += ["I want to speak to a human.", "agent", "Can I talk to a real person?",
             "My husband passed away last month.", "I lost my job and can't afford this.",
             "My card number is [CARD].", "I don't want to talk to a person, thanks.",
             "Order 4000123412341235 is late.", "thanks", "ok", "yes", "no, that's all"]
    bot = [f"{a} {b}" for a, b in itertools.product(
        ["I can help with your", "Let me check your", "Here is the latest on your",
         "I've found your", "Thanks, I'm looking at your"],
        [f"{i}{s}" for i in items for s in (".", " now.", " details.")])]
    bot += ["Welcome to Acme, this call is recorded for quality. How can I help?",
            "Hi! I'm the Acme assistant. How can I help?", "Is there anything else?",
            "Sorry, I didn't get that. Could you rephrase?", "Connecting you to an agent now.",
            "Your balance is $45.20.", "What's your date of birth to verify you?"]
    agent = [f"{a} {b}" for a, b in itertools.product(
        ["Hi, I'm Sam. I can see your", "Thanks for waiting, I've checked your",
         "I'm sorry about your", "I've updated your", "Let me look into your"],
        [f"{i}{s}" for i in items for s in (".", " right away.", " for you.")])]
    agent += ["Thanks, you're verified.", "I guarantee you'll have the money back by Friday.",
              "So that's [CARD], correct?", "What's your password?",
              "This call is recorded for training purposes.", "Is there anything else?",
              "That's not my problem.", "I've processed a refund of $49 to your card.",
              "I can't guarantee it, but I've sent the request."]
    return {"customer": cust, "bot": bot, "agent": agent}


def synthesise(n_turns: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame,
                                                  pl.DataFrame]:
    """(conversations, turns, pii_spans, texts) with about n_turns turns; texts = distinct."""
    rng = np.random.default_rng(seed)
    pools = templates()
    texts = pl.DataFrame({"speaker": [s for s, ts in pools.items() for _ in ts],
                          "text": [t for ts in pools.values() for t in ts]}).with_row_index("tid")
    offsets = {s: int(texts.filter(pl.col("speaker") == s)["tid"].min()) for s in pools}
    sizes = {s: len(ts) for s, ts in pools.items()}
    n_conv = n_turns // 8
    lengths = rng.integers(4, 13, n_conv)  # 4..12 turns, mean 8
    cid = np.repeat(np.arange(n_conv), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    ti = np.arange(len(cid)) - np.repeat(starts, lengths)
    human_from = np.repeat(rng.integers(3, 15, n_conv), lengths)  # bot first, then maybe agent
    staff = np.where(ti >= human_from, 2, 1)  # 1 bot, 2 agent
    speaker_code = np.where(ti % 2 == 0, 0, staff)  # customer on even turns
    handoff = (ti == human_from) & (ti % 2 == 1)
    speaker_code = np.where(handoff, 3, speaker_code)
    names = np.array(["customer", "bot", "agent", "system"])
    tid = np.zeros(len(cid), np.int64)
    for code, s in enumerate(["customer", "bot", "agent"]):
        mask = speaker_code == code
        # uniform over the pool: the rule-trigger sentences are a few percent of each pool
        pick = rng.integers(0, sizes[s], mask.sum())
        tid[mask] = offsets[s] + pick
    turns = pl.DataFrame({
        "conversation_id": pl.Series(cid).cast(pl.String).str.pad_start(7, "0"),
        "turn_index": ti.astype(np.int32), "speaker": names[speaker_code], "tid": tid})
    turns = turns.join(texts.select("tid", "text"), on="tid", how="left").with_columns(
        text=pl.when(pl.col("speaker") == "system").then(pl.lit("")).otherwise(pl.col("text")),
        event=pl.when(pl.col("speaker") == "system").then(pl.lit("handoff")))
    turns = turns.sort("conversation_id", "turn_index")
    channels = np.array(["chat", "voice", "email"])[rng.choice(3, n_conv, p=[0.6, 0.3, 0.1])]
    conv = pl.DataFrame({"conversation_id": pl.Series(np.arange(n_conv)).cast(pl.String)
                         .str.pad_start(7, "0"), "channel": channels})
    pii = (turns.filter(pl.col("text").str.contains(r"\[CARD\]"))
           .select("conversation_id", "turn_index", pii_type=pl.lit("CARD"),
                   span_start=pl.col("text").str.find(r"\[CARD\]").cast(pl.Int32))
           .with_columns(span_end=pl.col("span_start") + 6).cast(PII_SPAN_SCHEMA))
    return conv, turns.drop("tid"), pii, texts


def bench_db(book, conv, turns, pii, texts, tvecs, enc) -> None:
    """apply_rulebook end to end on a temporary warehouse: the `tierlens rescore` path."""
    import tempfile
    from pathlib import Path

    from tierlens.stages.compliance import apply_rulebook
    from tierlens.store.db import connect

    with tempfile.TemporaryDirectory() as tmp:
        con = connect(Path(tmp) / "bench.duckdb")
        core = conv.with_row_index("i").select(
            "conversation_id", "channel",
            started_at=pl.lit(datetime(2026, 10, 1, tzinfo=UTC)),
            n_turns=pl.lit(8), content_hash=pl.lit("h"), source_file=pl.lit("bench"),
            source_line=pl.col("i").cast(pl.Int64))
        for name, frame in (("_c", core), ("_t", turns), ("_p", pii)):
            con.register(name, frame.to_arrow())
        con.execute("INSERT INTO core_conversations (conversation_id, channel, started_at, "
                    "n_turns, content_hash, source_file, source_line) SELECT * FROM _c")
        con.execute("INSERT INTO core_turns (conversation_id, turn_index, speaker, text, event) "
                    "SELECT conversation_id, turn_index, speaker, text, event FROM _t")
        con.execute("INSERT INTO pii_spans SELECT * FROM _p")
        lookup = texts.unique("text", keep="first", maintain_order=True).select("text", "tid")

        def provider(batch: pl.DataFrame):  # the scoring step's embeddings, looked up
            keyed = batch.join(lookup, on="text", how="inner")
            return keyed.select("conversation_id", "turn_index"), tvecs[keyed["tid"].to_numpy()]

        for label, kw in (("apply_rulebook, first run", {}), ("apply_rulebook, rerun", {})):
            t, c = time.perf_counter(), time.process_time()
            out = apply_rulebook(con, book, embeddings_provider=provider, encoder=enc, **kw)
            s, cpu = time.perf_counter() - t, time.process_time() - c
            print(f"{label:<48} {s:>7.2f} {out['turns'] / s:>10,.0f} {cpu:>6.2f} "
                  f"{out['hits']:>8,} {out['red_flags']:>9,}")
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--encode-sample", type=int, default=2000)
    ap.add_argument("--db", action="store_true",
                    help="also time apply_rulebook (read + evaluate + write) on a temp DuckDB")
    args = ap.parse_args()
    book = load_rulebook()
    t0 = time.perf_counter()
    conv, turns, pii, texts = synthesise(args.turns, args.seed)
    gen_s = time.perf_counter() - t0
    n = turns.height
    print(f"synthesised {n:,} turns / {conv.height:,} conversations / {texts.height} distinct "
          f"texts in {gen_s:.1f}s")

    from _common import bench_settings

    from tierlens.score.encoder import Encoder, get_encoder

    settings = bench_settings()
    enc = get_encoder(settings)
    tvecs = enc.encode(texts["text"].to_list())  # real embeddings of every distinct text
    keys = turns.filter(pl.col("speaker").is_in(["agent", "bot"])).select(
        "conversation_id", "turn_index", "text")
    lookup = texts.unique("text", keep="first", maintain_order=True).select("text", "tid")
    tid = keys.join(lookup, on="text", how="left", maintain_order="left")["tid"].to_numpy()
    emb = (keys.select("conversation_id", "turn_index"), tvecs[tid])
    for r in book.active_rules:  # warm the example embeddings (cached by the encoder)
        if r.kind == "semantic":
            enc.encode(list(r.examples) + list(r.counter_examples))

    rows = []

    def timed(label: str, **kw) -> tuple[pl.DataFrame, pl.DataFrame]:
        t, c = time.perf_counter(), time.process_time()
        hits, scores = evaluate_rulebook(book, conv, turns, pii, encoder=enc, **kw)
        s, cpu = time.perf_counter() - t, time.process_time() - c
        rows.append((label, s, n / s, cpu, hits.height, int(scores["red_flag"].sum())))
        return hits, scores

    timed("non-semantic rules (12 rules)", kinds=NON_SEMANTIC)
    timed("semantic rules only, precomputed embeddings", embeddings=emb, kinds={"semantic"})
    hits, _ = timed("full default rulebook, precomputed embeddings", embeddings=emb)

    # the encoder's own cost, cache off, on distinct realistic sentences
    sample = [f"{t} (ref {i})" for i, t in
              zip(range(args.encode_sample), itertools.cycle(texts["text"].to_list()))]
    fresh = Encoder.from_settings(settings, enc.precision, cache=False)
    t = time.perf_counter()
    fresh.encode(sample)
    enc_s = time.perf_counter() - t

    print(f"\n{'step':<48} {'wall s':>7} {'turns/s':>10} {'cpu s':>6} {'hits':>8} "
          f"{'red flags':>9}")
    for label, s, rate, cpu, nh, rf in rows:
        print(f"{label:<48} {s:>7.2f} {rate:>10,.0f} {cpu:>6.2f} {nh:>8,} {rf:>9,}")
    print(f"{'encoder ' + enc.version + ' (distinct texts, no cache)':<48} {enc_s:>8.2f} "
          f"{len(sample) / enc_s:>12,.0f}   (sentences/s; {args.encode_sample} sentences)")
    print(f"\nhits by kind: {dict(hits.group_by('kind').len().iter_rows())}")
    if args.db:
        bench_db(book, conv, turns, pii, texts, tvecs, enc)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load avg {os.getloadavg()[0]:.1f}; python {platform.python_version()}, "
          f"polars {pl.__version__}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
