"""Customer repeated themselves after handoff.

For an escalated conversation, the *before* customer turns are those before the end of the bot
part (the first handoff event, else the first agent turn); the *after* customer turns are those
after the escalation trigger (or after the first agent turn when no trigger is known). The flag
is true when an after turn

- shares an entity with a before turn: e-mail addresses, numbers with 3+ digits (separators
  removed), order/ticket ids (``AB-1234``, ``#12345``) and redaction placeholders (``[EMAIL]``,
  ``<CARD>``, ``{PHONE}``), compared case-insensitively; or
- restates a before turn nearly word for word: the overlap coefficient of their sets of
  content-word tokens (``STOPWORDS`` removed: function words, courtesies, "already told"),
  ``|A & B| / min(|A|, |B|)``, is at least ``LEXICAL_OVERLAP`` (0.8) and the smaller set has
  at least ``LEXICAL_MIN_TOKENS`` (2) tokens ("As I said, <the same sentence>"); or
- (optional input) has an embedding whose cosine similarity with a before turn's embedding is at
  least ``similarity_threshold`` (near-duplicate meaning).

Non-escalated conversations get NULL; the KPI is a rate over escalations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

Embeddings = pl.DataFrame | Callable[[Sequence[str]], np.ndarray]
"""Turn embeddings: a frame (conversation_id, turn_index, embedding), or a function from
texts to their (n, d) embedding matrix (e.g. the encoder's ``encode``)."""

ENTITY_PATTERN = (
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"          # e-mail
    r"|\[[A-Z_]{2,}\]|<[A-Z_]{2,}>|\{[A-Z_]{2,}\}"  # redaction placeholders
    r"|\b[A-Za-z]{2,5}-?\d{3,}\b"            # order / ticket ids
    r"|#\d{3,}"                               # #12345
    r"|\d[\d ,.\-/]*\d"                       # numbers (filtered to 3+ digits below)
)
# The cosine threshold belongs to the encoder (models/fit_restate_threshold.py measures it on
# every pair of the banking77 held-out requests: 2,055 requests, 2.1M pairs). For the shipped
# adapter: 0.78. There, 4.5e-5 of different-intent pairs score above it (the frozen encoder at
# its 0.85: 3.3e-5) and 10.2% of same-intent pairs (frozen: 5.0%). 0.78 was first chosen on a
# 200k-pair sample that put its false-positive rate level with the frozen one; on all pairs,
# 0.81 would match it (7.7% of same-intent pairs).
SIMILARITY_THRESHOLD = 0.78
LEXICAL_OVERLAP = 0.8
LEXICAL_MIN_TOKENS = 2
# Words that carry no information a customer could "restate": function words, courtesies and
# meta-complaints ("I've already told you this!" is frustration, not restated information).
_STOPWORD_TEXT = """
a an the i i'm i've me my mine you your yours it it's its this that these those is am are was
were be been being do does did done have has had to of in on at for from with by about as and
or but if so not no yes ok okay please thanks thank thankyou cheers hi hello hey bye goodbye
all any some just really very too also can could would will shall should may might must there
here what when where which who how why again already told tell said say still we us our they
them their he she him her his hers one much many more most help great good nice lovely day
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _phase_turns(turns: pl.DataFrame, episodes: pl.DataFrame) -> pl.LazyFrame:
    """Customer turns of escalated conversations, tagged before/after. Grain: one row per turn."""
    ep = episodes.lazy().filter(pl.col("escalated")).select(
        "conversation_id", "pre_end_idx",
        pl.coalesce("trigger_index", "first_agent_idx").alias("post_start_idx"))
    idx = pl.col("turn_index")
    return (
        turns.lazy().filter(pl.col("speaker") == "customer")
        .select("conversation_id", "turn_index", "text")
        .join(ep, on="conversation_id")
        .with_columns(phase=pl.when(idx < pl.col("pre_end_idx")).then(pl.lit("before"))
                      .when(idx > pl.col("post_start_idx")).then(pl.lit("after")))
        .filter(pl.col("phase").is_not_null())
    )


def _by_text(phased: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(turns keyed by integer conversation key ``k`` and text id ``tid``, distinct texts).

    Entities and tokens are extracted once per distinct text and compared as 64-bit hashes on
    integer keys (no string joins on the hot path)."""
    # collected once, so every branch of the plan sees the same text ids
    texts = (phased.select(pl.col("text").fill_null("")).unique().collect()
             .with_row_index("tid").lazy())
    ph = (phased.with_columns(pl.col("text").fill_null(""),
                              k=pl.col("conversation_id").cast(pl.Categorical).to_physical())
          .join(texts, on="text").select("conversation_id", "k", "turn_index", "phase", "tid"))
    return ph, texts


def _entity_matches(ph: pl.LazyFrame, texts: pl.LazyFrame) -> pl.LazyFrame:
    ents = (
        texts.select("tid", ent=pl.col("text").str.extract_all(ENTITY_PATTERN))
        .explode("ent").filter(pl.col("ent").is_not_null())
        .with_columns(
            ent=pl.when(pl.col("ent").str.contains(r"^\d[\d ,.\-/]*\d$"))
            .then(pl.col("ent").str.replace_all(r"[^\d]", ""))
            .otherwise(pl.col("ent").str.to_lowercase()))
        .filter(~pl.col("ent").str.contains(r"^\d{0,2}$"))
        .select("tid", h=pl.col("ent").hash()).unique()
    )
    e = ph.join(ents, on="tid").select("k", "phase", "h").unique()
    before = e.filter(pl.col("phase") == "before").select("k", "h")
    after = e.filter(pl.col("phase") == "after").select("k", "h")
    return before.join(after, on=["k", "h"]).select("k").unique()


def _lexical_matches(ph: pl.LazyFrame, texts: pl.LazyFrame) -> pl.LazyFrame:
    """Conversations with a before/after pair of near-identical content-word sets."""
    toks = (texts.select("tid", tok=pl.col("text").str.to_lowercase()
                         .str.extract_all(r"[a-z0-9£€$'@.]+"))
            .explode("tok")
            .filter(pl.col("tok").is_not_null() & ~pl.col("tok").is_in(list(STOPWORDS)))
            .select("tid", h=pl.col("tok").hash()).unique()
            .with_columns(n=pl.len().over("tid")))
    t = ph.join(toks, on="tid")
    before = t.filter(pl.col("phase") == "before").select("k", "h", b="turn_index", nb="n")
    after = t.filter(pl.col("phase") == "after").select("k", "h", a="turn_index", na="n")
    return (
        before.join(after, on=["k", "h"])
        .group_by("k", "b", "a")
        .agg(shared=pl.len(), nb=pl.col("nb").first(), na=pl.col("na").first())
        .with_columns(small=pl.min_horizontal("nb", "na"))
        .filter((pl.col("small") >= LEXICAL_MIN_TOKENS)
                & (pl.col("shared") >= LEXICAL_OVERLAP * pl.col("small")))
        .select("k").unique()
    )


def _embedded(phased: pl.LazyFrame, embeddings: Embeddings) -> pl.DataFrame:
    """The phased turns with their ``embedding`` (a function encodes only these turns)."""
    if isinstance(embeddings, pl.DataFrame):
        ph = phased.select("conversation_id", "turn_index", "phase").collect()
        return ph.join(embeddings.select("conversation_id", "turn_index", "embedding"),
                       on=["conversation_id", "turn_index"])
    ph = (phased.filter(pl.col("text").fill_null("").str.strip_chars() != "")
          .select("conversation_id", "turn_index", "phase", "text").collect())
    if ph.is_empty():
        return ph.drop("text").with_columns(embedding=pl.lit(None, pl.List(pl.Float32)))
    vecs = np.asarray(embeddings(ph.get_column("text").to_list()), dtype=np.float32)
    return ph.drop("text").with_columns(embedding=pl.Series(list(vecs)))


def _embedding_matches(phased: pl.LazyFrame, embeddings: Embeddings,
                       threshold: float) -> pl.DataFrame:
    """Conversations with a before/after customer-turn pair at cosine >= threshold."""
    emb = _embedded(phased, embeddings)
    if emb.is_empty():
        return pl.DataFrame(schema={"conversation_id": pl.String})
    mat = np.asarray(emb.get_column("embedding").to_list(), dtype=np.float32)
    mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
    emb = emb.with_row_index("_row")
    pairs = (emb.filter(pl.col("phase") == "before").select("conversation_id", a="_row")
             .join(emb.filter(pl.col("phase") == "after").select("conversation_id", b="_row"),
                   on="conversation_id"))
    if pairs.is_empty():
        return pl.DataFrame(schema={"conversation_id": pl.String})
    a = pairs.get_column("a").to_numpy()
    b = pairs.get_column("b").to_numpy()
    cos = np.einsum("ij,ij->i", mat[a], mat[b])
    return (pairs.with_columns(cos=pl.Series(cos)).filter(pl.col("cos") >= threshold)
            .select("conversation_id").unique())


def repeated_after_handoff(turns: pl.DataFrame, episodes: pl.DataFrame,
                           embeddings: Embeddings | None = None,
                           similarity_threshold: float = SIMILARITY_THRESHOLD) -> pl.DataFrame:
    """The flag per conversation. Grain: one row per conversation of ``episodes``.

    ``embeddings`` (optional): one row per turn, ``conversation_id, turn_index, embedding``
    (a list/array of floats, e.g. the shared encoder's output), or a function from texts to
    their embeddings, called once with the before/after customer turns' texts.
    """
    phased = _phase_turns(turns, episodes)
    ph, texts = _by_text(phased)
    ph, texts = ph.cache(), texts.cache()
    keys = pl.concat([_entity_matches(ph, texts), _lexical_matches(ph, texts)]).unique()
    hits = (ph.select("k", "conversation_id").unique().join(keys, on="k")
            .select("conversation_id").collect().with_columns(pl.lit(True).alias("_hit")))
    if embeddings is not None:
        emb_hits = _embedding_matches(phased, embeddings, similarity_threshold)
        hits = pl.concat([hits.select("conversation_id"), emb_hits]).unique().with_columns(
            pl.lit(True).alias("_hit"))
    return (
        episodes.select("conversation_id", "escalated")
        .join(hits, on="conversation_id", how="left")
        .select("conversation_id",
                repeated_after_handoff=pl.when(pl.col("escalated"))
                .then(pl.col("_hit").fill_null(False)))
    )
