"""Turn scoring: encode every turn once, then let every head read that one encoding.

Input: the canonical turns frame (``tierlens.schema.TURN_SCHEMA``; one row per turn).
Output of :func:`score_turns` (``TURN_SCORE_SCHEMA``): one row per NON-EMPTY, non-system
turn, keyed by (conversation_id, turn_index):

- ``sentiment_label`` (negative / neutral / positive), ``sentiment_score`` = p(pos) - p(neg)
  in [-1, 1], ``sentiment_confidence`` (calibrated probability of the label);
- ``intent`` + ``intent_confidence`` (taxonomy head) and ``oos_score`` = how far the turn is
  outside the active taxonomy (:mod:`tierlens.score.oos`); ``out_of_scope`` = ``oos_score`` at
  or above the threshold shipped with the model, on each conversation's request turn only
  (:func:`on_requests_only`; None elsewhere, and for a custom taxonomy trained before
  taxonomies carried a threshold);
- ``bot_outcome`` + ``bot_outcome_confidence``: success / failure / request_more / goodbye /
  other, for bot turns only (null otherwise);
- ``outcome_cue`` + ``outcome_cue_confidence``: the same head on bot AND agent turns (used by
  conversation-level resolution; not a store column, see ``TURN_SCORE_COLUMNS``);
- ``csat_predicted``: predicted satisfaction 1-5 after a customer turn (customer turns only);
  always a *prediction*, never a survey score;
- ``model_version``: the encoder version and every head version (see :func:`model_version`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from tierlens.errors import ModelError
from tierlens.score.encoder import Encoder
from tierlens.score.heads import HEAD_NAMES, Head, load_head
from tierlens.score.oos import oos_decision

TURN_SCORE_SCHEMA: dict[str, pl.DataType] = {
    "conversation_id": pl.String,
    "turn_index": pl.Int32,
    "sentiment_label": pl.String,
    "sentiment_score": pl.Float64,
    "sentiment_confidence": pl.Float64,
    "intent": pl.String,
    "intent_confidence": pl.Float64,
    "oos_score": pl.Float64,
    "bot_outcome": pl.String,
    "bot_outcome_confidence": pl.Float64,
    "csat_predicted": pl.Float64,
    "model_version": pl.String,
    "out_of_scope": pl.Boolean,
    "outcome_cue": pl.String,
    "outcome_cue_confidence": pl.Float64,
}
# the columns of the warehouse table turn_scores (everything but the outcome cue)
TURN_SCORE_COLUMNS = [c for c in TURN_SCORE_SCHEMA if not c.startswith("outcome_cue")]
KEY_SCHEMA: dict[str, pl.DataType] = {"conversation_id": pl.String, "turn_index": pl.Int32,
                                      "speaker": pl.String}


def load_heads(heads_dir: Path, intent_head: str | Path = "intent") -> dict[str, Head]:
    """The heads by role (five turn heads and the conversation-level ``resolution`` model).

    ``intent_head`` is a head name in ``heads_dir`` or the path of a head's ``.json`` written
    by :func:`tierlens.score.train_intents.train_intents` (a user's own taxonomy).
    """
    ipath = Path(intent_head)
    if ipath.suffix == ".json" or len(ipath.parts) > 1:
        intent = load_head(ipath.stem if ipath.suffix == ".json" else ipath.name,
                           ipath.parent)
    else:
        intent = load_head(str(intent_head), heads_dir)
    return {"sentiment": load_head("sentiment", heads_dir),
            "intent": intent,
            "oos": load_head("oos", heads_dir),
            "bot_outcome": load_head("bot_outcome", heads_dir),
            "csat": load_head("csat", heads_dir),
            "resolution": load_head("resolution", heads_dir)}


def check_heads_match(encoder: Encoder, heads: dict[str, Head]) -> None:
    """ModelError if a head was trained on other encoder weights (another adapter or none).

    Only the weights part of the version counts (``all-MiniLM-L6-v2@0.1.0+lora-<digest>``):
    int8 heads serve the fp32 runtime of the same weights, but a head fit on the frozen
    encoder reads meaningless features from an adapted one, and the reverse."""
    weights = encoder.version.split("/")[0]
    for name, head in heads.items():
        trained = str(head.meta.get("encoder_version", "")).split("/")[0]
        if trained and trained != weights:
            raise ModelError(f"model head {name!r} was trained on encoder {trained}, but the "
                             f"encoder is {weights}: retrain the heads (models/README.md) or "
                             "change the encoder_adapter setting")


def model_version(encoder: Encoder, heads: dict[str, Head],
                  names: Sequence[str] = HEAD_NAMES) -> str:
    """``<encoder>|<head>@<hash8>|...``, e.g.
    ``all-MiniLM-L6-v2@0.1.0/int8|sentiment@1a2b3c4d|intent@...|oos@...|bot_outcome@...|csat@...
    |resolution@...`` (conversation scores come from these heads too, so a retrained
    resolution model is a new version). ``names``: the heads it covers, in order (the
    resolution training names only the turn heads it scores with).
    """
    check_heads_match(encoder, heads)
    return "|".join([encoder.version] + [heads[k].version for k in names])


def turn_keys(turns: pl.DataFrame) -> pl.DataFrame:
    """The turns that get scored: non-system, with non-blank text (one row per turn)."""
    return (turns.filter((pl.col("speaker") != "system")
                         & (pl.col("text").fill_null("").str.strip_chars() != ""))
            .select(pl.col("conversation_id").cast(pl.String),
                    pl.col("turn_index").cast(pl.Int32),
                    pl.col("speaker").cast(pl.String), pl.col("text").cast(pl.String)))


def encode_turns(turns: pl.DataFrame, encoder: Encoder) -> tuple[pl.DataFrame, np.ndarray]:
    """(keys, embeddings): keys has one row per scored turn (conversation_id, turn_index,
    speaker); row i of the (n, 384) float32 matrix is that turn's embedding. Compliance's
    semantic rules reuse these instead of encoding again."""
    keys = turn_keys(turns)
    emb = encoder.encode(keys.get_column("text").to_list())
    return keys.select(list(KEY_SCHEMA)), emb


def score_embeddings(keys: pl.DataFrame, emb: np.ndarray, heads: dict[str, Head],
                     version: str) -> pl.DataFrame:
    """Apply every head to the embeddings of ``keys`` (pure; one row per key)."""
    n = keys.height
    if n == 0:
        return pl.DataFrame(schema=TURN_SCORE_SCHEMA)
    sent = heads["sentiment"]
    p = sent.predict_proba(emb)
    lab = list(sent.labels)
    s_idx = p.argmax(1)
    s_score = p[:, lab.index("positive")] - p[:, lab.index("negative")]
    ihead = heads["intent"]
    ip = ihead.predict_proba(emb)
    i_idx = ip.argmax(1)
    intent, intent_conf = np.asarray(ihead.labels, object)[i_idx], ip[np.arange(n), i_idx]
    oos, oos_flag = oos_decision(ihead, heads["oos"], emb, ip)
    cue, cue_conf = heads["bot_outcome"].predict(emb)
    csat = heads["csat"].regress(emb)
    speaker = keys.get_column("speaker")
    return (keys.select("conversation_id", "turn_index")
            .with_columns(pl.Series("sentiment_label", np.asarray(lab, object)[s_idx],
                                    pl.String),
                          pl.Series("sentiment_score", s_score, pl.Float64),
                          pl.Series("sentiment_confidence", p[np.arange(n), s_idx], pl.Float64),
                          pl.Series("intent", intent, pl.String),
                          pl.Series("intent_confidence", intent_conf, pl.Float64),
                          pl.Series("oos_score", oos, pl.Float64),
                          pl.Series("_oos_flag", oos_flag, pl.Boolean)
                          if oos_flag is not None else pl.lit(None, pl.Boolean)
                          .alias("_oos_flag"),
                          pl.Series("_cue", cue, pl.String),
                          pl.Series("_cue_conf", cue_conf, pl.Float64),
                          pl.Series("_csat", csat, pl.Float64),
                          speaker.alias("_speaker"))
            .with_columns(
                pl.when(pl.col("_speaker") == "bot").then(pl.col("_cue")).alias("bot_outcome"),
                pl.when(pl.col("_speaker") == "bot").then(pl.col("_cue_conf"))
                .alias("bot_outcome_confidence"),
                pl.when(pl.col("_speaker") == "customer").then(pl.col("_csat"))
                .alias("csat_predicted"),
                pl.lit(version, pl.String).alias("model_version"),
                pl.when(pl.col("_speaker") == "customer").then(pl.col("_oos_flag"))
                .alias("out_of_scope"),
                pl.when(pl.col("_speaker").is_in(["bot", "agent"])).then(pl.col("_cue"))
                .alias("outcome_cue"),
                pl.when(pl.col("_speaker").is_in(["bot", "agent"])).then(pl.col("_cue_conf"))
                .alias("outcome_cue_confidence"))
            .select(list(TURN_SCORE_SCHEMA))
            .cast(TURN_SCORE_SCHEMA))


def score_turns(turns: pl.DataFrame, encoder: Encoder, heads_dir: Path,
                intent_head: str | Path = "intent") -> pl.DataFrame:
    """Score every non-empty, non-system turn (one row per turn, ``TURN_SCORE_SCHEMA``).

    Each turn is encoded at most once (identical texts once, cached across runs) and every
    head reads that encoding.
    """
    heads = load_heads(heads_dir, intent_head)
    return score_with_heads(turns, encoder, heads, model_version(encoder, heads))


def score_with_heads(turns: pl.DataFrame, encoder: Encoder, heads: dict[str, Head],
                     version: str) -> pl.DataFrame:
    """Score one batch of turns with loaded ``heads`` (``TURN_SCORE_SCHEMA``): encode, apply
    every head, keep ``out_of_scope`` on request turns only. The one path of
    :func:`score_turns` and :func:`tierlens.score.batch.score_batch`, so the request rule is
    applied in one place."""
    keys, emb = encode_turns(turns, encoder)
    return on_requests_only(score_embeddings(keys, emb, heads, version), turns)


def on_requests_only(scores: pl.DataFrame, turns: pl.DataFrame) -> pl.DataFrame:
    """``out_of_scope`` is a decision about the customer's request: keep it on each
    conversation's request turn (its first substantive customer turn, the rule of
    :func:`tierlens.topics.requests.first_requests`) and leave it NULL elsewhere, where the
    customer answers the bot ("the last four digits are 6669") rather than asks for something
    (``oos_score`` itself stays on every turn)."""
    from tierlens.topics.requests import first_requests

    req = first_requests(turns.select("conversation_id", "turn_index", "speaker", "text")
                         ).select("conversation_id", "turn_index", _req=pl.lit(True))
    return (scores.join(req, on=["conversation_id", "turn_index"], how="left")
            .with_columns(pl.when(pl.col("_req")).then(pl.col("out_of_scope"))
                          .alias("out_of_scope"))
            .drop("_req"))


def oos_threshold(heads_dir: Path) -> float:
    """The default taxonomy's operating threshold for ``oos_score``, stored with the oos head
    (chosen on validation data by models/train_oos.py, see models/cards/oos.md)."""
    return float(load_head("oos", heads_dir).meta["threshold"])
