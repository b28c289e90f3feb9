"""Conversation-level resolution model: features over the whole conversation + a small
multinomial logistic regression (the head ``resolution``; models/train_resolution.py).

:func:`features` (pure polars) turns the turns frame and the turn scores into one row per
conversation: ``conversation_id``, one float column per name in :data:`FEATURES`, and the
turn indices each feature points at (``_lo_idx`` the last outcome turn, ``_lc_idx`` the
customer's last turn, ``_last_idx`` the last scored turn, ``_wait_idx`` a handoff/transfer/hold
event after it). :func:`predict` applies the head: label, probability, evidence turns and a
short reason naming the features that pushed hardest toward the predicted label.

Outcome cues come from the ``bot_outcome`` head on bot and agent turns (counted when their
calibrated confidence is at least 0.5); customer acts are light lexical cues (thanks,
negation that is not a closing such as "no, that's all", closing words) plus the sentiment head; a repeated request is a customer turn whose
intent (confidence >= 0.5) the customer already asked for earlier.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tierlens.score.heads import Head

LABELS = ("resolved", "unresolved", "abandoned")
_CUE_MIN_CONFIDENCE = 0.5
_CUES = ("success", "failure", "request_more", "goodbye", "other")
_THANKS = r"\b(thanks?|thank ?you|thx|ty|cheers|appreciated?|grateful)\b"
_NEGATION = r"(^|\W)(no|nope|nah|not|never|don'?t|doesn'?t|didn'?t|isn'?t|won'?t|can'?t)\b"
_CLOSING = (r"\b(that'?s all|that is all|that'?s it|nothing else|all set|all good|no need|"
            r"(good)?bye)\b")
_STAFF_REGRET = (r"\b(sorry|unfortunately|unable|cannot|can'?t|couldn'?t|could not|"
                 r"not available|unavailable|no availability|fully booked|there (is|are) no|"
                 r"i (did not|didn'?t) find|no (results?|matches))\b")
_REPEAT_MIN_INTENT = 0.5

# feature name -> (evidence turn column or None, reason shown when it decides)
FEATURE_INFO: dict[str, tuple[str | None, str]] = {
    "last_outcome_success": ("_lo_idx", "the last bot/agent outcome is a success"),
    "last_outcome_failure": ("_lo_idx", "the last bot/agent outcome is a failure"),
    "no_outcome": (None, "no success or failure outcome was stated"),
    "n_success": ("_lo_idx", "success outcomes stated"),
    "n_failure": ("_lo_idx", "failure outcomes stated"),
    "regret_after_outcome": ("_lr_idx", "a bot/agent apology or refusal followed the outcome"),
    "regret_last_staff": ("_lr_idx", "the bot/agent's last turn apologises or refuses"),
    "n_regret": ("_lr_idx", "bot/agent apologies or refusals"),
    "cust_turns_after_outcome": ("_lc_idx", "the customer kept talking after the outcome"),
    "thanks_after_failure": ("_lc_idx", "the customer thanked after a failure"),
    "negation_after_failure": ("_lc_idx", "the customer said no after a failure"),
    "thanks_after_success": ("_lc_idx", "the customer thanked after a success"),
    "negation_after_success": ("_lc_idx", "the customer said no after a success"),
    "last_speaker_customer": ("_last_idx", "the customer spoke last"),
    "last_speaker_agent": ("_last_idx", "a human agent spoke last"),
    **{f"last_cue_{c}": ("_last_idx", f"the conversation ends on a bot/agent '{c}' turn")
       for c in _CUES},
    "unanswered_question": ("_last_idx", "the bot/agent's last question was never answered"),
    "end_sentiment": ("_lc_idx", "the customer's last sentiment"),
    "min_sentiment": (None, "the customer's lowest sentiment"),
    "sentiment_delta": (None, "the customer's sentiment change"),
    "last_cust_thanks": ("_lc_idx", "the customer's last turn thanks"),
    "last_cust_negation": ("_lc_idx", "the customer's last turn says no"),
    "last_cust_closing": ("_lc_idx", "the customer's last turn closes the conversation"),
    "last_cust_repeat": ("_lc_idx", "the customer's last turn repeats an earlier request"),
    "n_repeats": ("_lc_idx", "the customer repeated requests"),
    "handoff": (None, "the conversation was handed off"),
    "wait_after_last": ("_wait_idx", "a handoff/transfer/hold came after the last turn"),
    "agent_present": (None, "a human agent took part"),
    "last_gap_log": ("_last_idx", "the pause before the last turn"),
    "has_ts": (None, "turn timestamps known"),
}
FEATURES = tuple(FEATURE_INFO)
EVIDENCE_COLUMNS = ("_lo_idx", "_lc_idx", "_last_idx", "_wait_idx", "_lr_idx")


def _turn_rows(turns: pl.DataFrame, turn_scores: pl.DataFrame) -> pl.DataFrame:
    """Scored turns joined to speaker/text/ts, with per-turn cue and act flags."""
    cue = "outcome_cue" if "outcome_cue" in turn_scores.columns else "bot_outcome"
    t = turns.select("conversation_id", pl.col("turn_index").cast(pl.Int32), "speaker",
                     pl.col("text").fill_null(""), "ts")
    text = pl.col("text").str.to_lowercase()
    staff = pl.col("speaker").is_in(["bot", "agent"])
    cust = pl.col("speaker") == "customer"
    cue_ok = pl.col("_cue_conf").fill_null(0) >= _CUE_MIN_CONFIDENCE
    s = (turn_scores.select("conversation_id", "turn_index", "sentiment_score", "intent",
                            "intent_confidence", pl.col(cue).alias("_cue"),
                            pl.col(f"{cue}_confidence").alias("_cue_conf"))
         .join(t, on=["conversation_id", "turn_index"], how="left")
         .sort("conversation_id", "turn_index")
         .with_columns(_staff=staff, _cust=cust,
                       _succ=staff & (pl.col("_cue") == "success") & cue_ok,
                       _fail=staff & (pl.col("_cue") == "failure") & cue_ok,
                       _thanks=cust & text.str.contains(_THANKS),
                       _neg=cust & text.str.contains(_NEGATION)
                       & ~text.str.contains(_CLOSING),
                       _closing=cust & text.str.contains(_CLOSING),
                       _question=staff & text.str.contains(r"\?"),
                       _regret=staff & text.str.contains(_STAFF_REGRET)))
    ask = (pl.col("_cust") & (pl.col("intent_confidence") >= _REPEAT_MIN_INTENT)
           & ~pl.col("_thanks") & ~pl.col("_closing"))
    first_ask = (pl.col("turn_index").filter(ask).min()
                 .over("conversation_id", "intent"))
    cid = "conversation_id"
    idx = pl.col("turn_index")
    return s.with_columns(
        _repeat=ask & (idx > first_ask).fill_null(False),
        _lf=idx.filter(pl.col("_fail")).max().over(cid),
        _ls=idx.filter(pl.col("_succ")).max().over(cid))


def features(turns: pl.DataFrame, turn_scores: pl.DataFrame) -> pl.DataFrame:
    """One row per conversation with scored turns: the :data:`FEATURES` (Float64) and the
    evidence turn columns (Int32, null when absent)."""
    s = _turn_rows(turns, turn_scores)
    idx = pl.col("turn_index")
    lo = pl.max_horizontal(pl.col("_lf"), pl.col("_ls"))
    after_fail = (pl.col("_lf") > pl.col("_ls").fill_null(-1)) & (idx > pl.col("_lf"))
    after_succ = (pl.col("_ls") > pl.col("_lf").fill_null(-1)) & (idx > pl.col("_ls"))
    cust, staff = pl.col("_cust"), pl.col("_staff")
    last_cust = lambda c: pl.col(c).filter(cust).last()
    cust_sent = pl.col("sentiment_score").filter(cust)
    gaps = pl.col("ts").diff().dt.total_seconds()
    agg = s.group_by("conversation_id").agg(
        _lo_idx=lo.first(), _lr_idx=idx.filter(pl.col("_regret")).max(),
        regret_after_outcome=(pl.col("_regret") & (idx > lo.fill_null(-1))).any(),
        regret_last_staff=pl.col("_regret").filter(staff).last(),
        n_regret=pl.col("_regret").sum().log1p(),
        _lc_idx=idx.filter(cust).max(), _last_idx=idx.max(),
        _has_s=pl.col("_ls").first().is_not_null(), _has_f=pl.col("_lf").first().is_not_null(),
        _succ_last=(pl.col("_ls").first().fill_null(-1) > pl.col("_lf").first().fill_null(-1)),
        n_success=pl.col("_succ").sum().log1p(), n_failure=pl.col("_fail").sum().log1p(),
        cust_turns_after_outcome=(cust & (idx > lo)).sum().log1p(),
        thanks_after_failure=(pl.col("_thanks") & after_fail).any(),
        negation_after_failure=(pl.col("_neg") & after_fail).any(),
        thanks_after_success=(pl.col("_thanks") & after_succ).any(),
        negation_after_success=(pl.col("_neg") & after_succ).any(),
        _last_speaker=pl.col("speaker").last(), _last_cue=pl.col("_cue").last(),
        _last_question=pl.col("_question").last(),
        end_sentiment=cust_sent.last(), min_sentiment=cust_sent.min(),
        sentiment_delta=cust_sent.last() - cust_sent.first(),
        last_cust_thanks=last_cust("_thanks"), last_cust_negation=last_cust("_neg"),
        last_cust_closing=last_cust("_closing"), last_cust_repeat=last_cust("_repeat"),
        n_repeats=pl.col("_repeat").sum().log1p(),
        agent_present=(pl.col("speaker") == "agent").any(),
        last_gap_log=gaps.last().clip(0, None).log1p(),
        has_ts=pl.col("ts").is_not_null().all())
    events = (turns.filter(pl.col("event").is_in(["handoff", "transfer", "hold"]))
              .group_by("conversation_id")
              .agg(_ev_idx=pl.col("turn_index").cast(pl.Int32).max(),
                   handoff=pl.col("event").is_in(["handoff", "transfer"]).any()))
    agg = agg.join(events, on="conversation_id", how="left")
    staff_last = pl.col("_last_speaker").is_in(["bot", "agent"])
    waiting = pl.col("_ev_idx").fill_null(-1) > pl.col("_last_idx")
    out = agg.with_columns(
        last_outcome_success=pl.col("_succ_last"),
        last_outcome_failure=pl.col("_has_f") & ~pl.col("_succ_last"),
        no_outcome=~pl.col("_has_s") & ~pl.col("_has_f"),
        last_speaker_customer=pl.col("_last_speaker") == "customer",
        last_speaker_agent=pl.col("_last_speaker") == "agent",
        **{f"last_cue_{c}": staff_last & (pl.col("_last_cue") == c) for c in _CUES},
        unanswered_question=staff_last & pl.col("_last_question"),
        wait_after_last=waiting,
        _wait_idx=pl.when(waiting).then(pl.col("_ev_idx")))
    return (out.select("conversation_id",
                       *[pl.col(f).cast(pl.Float64).fill_null(0.0) for f in FEATURES],
                       *[pl.col(c).cast(pl.Int32) for c in EVIDENCE_COLUMNS])
            .sort("conversation_id"))


def matrix(feats: pl.DataFrame) -> np.ndarray:
    """The (n, len(FEATURES)) float matrix of a :func:`features` frame."""
    return feats.select(FEATURES).to_numpy().astype(np.float64)


def standardise(x: np.ndarray, head: Head) -> np.ndarray:
    mean = np.asarray(head.meta["feature_mean"], np.float64)
    scale = np.asarray(head.meta["feature_scale"], np.float64)
    return (x - mean) / scale


def predict(feats: pl.DataFrame, head: Head) -> pl.DataFrame:
    """``conversation_id, resolution, resolution_confidence, resolution_evidence,
    resolution_reason`` for each row of :func:`features`.

    Evidence: of the features present in the conversation (non-zero), the two whose
    contribution to the predicted label's logit (relative to the mean over labels) is the
    largest and positive; their turns form the evidence and their reasons the reason.
    """
    if tuple(head.meta.get("features", ())) != FEATURES:
        from tierlens.errors import ModelError
        raise ModelError("model head 'resolution' was trained on other features; retrain it "
                         "with models/train_resolution.py")
    x = matrix(feats)
    z = standardise(x, head)
    proba = head.predict_proba(z.astype(np.float32))
    k = proba.argmax(1)
    w = head.layers[0][0].astype(np.float64)  # (features, labels)
    rel = w - w.mean(axis=1, keepdims=True)
    contrib = z * rel[:, k].T
    contrib[(x == 0) | (contrib <= 0)] = -np.inf
    order = np.argsort(-contrib, axis=1)[:, :2]  # (n, 2) feature positions
    found = np.isfinite(np.take_along_axis(contrib, order, axis=1))
    # each feature's evidence column (position in EVIDENCE_COLUMNS, or -1 for none)
    ev_of = np.asarray([EVIDENCE_COLUMNS.index(FEATURE_INFO[f][0])
                        if FEATURE_INFO[f][0] else -1 for f in FEATURES])
    ev = feats.select(EVIDENCE_COLUMNS).to_numpy().astype(np.float64)  # NaN when absent
    ev = np.concatenate([ev, np.full((len(ev), 1), np.nan)], axis=1)  # column -1: none
    turn = np.take_along_axis(ev, ev_of[order], axis=1)
    turn[~found] = np.nan
    reasons = np.asarray([FEATURE_INFO[f][1] for f in FEATURES], dtype=object)
    why = np.where(found, reasons[order], None)
    picked = pl.DataFrame({"t0": turn[:, 0], "t1": turn[:, 1], "r0": why[:, 0], "r1": why[:, 1]},
                          schema={"t0": pl.Float64, "t1": pl.Float64, "r0": pl.String,
                                  "r1": pl.String}, nan_to_null=True)
    evidence = picked.select(pl.concat_list(pl.col("t0", "t1").cast(pl.Int32))
                             .list.drop_nulls().list.unique().list.sort()).to_series()
    reason = picked.select(pl.concat_str("r0", "r1", separator="; ", ignore_nulls=True)
                           .fill_null("no single feature decided")).to_series()
    return pl.DataFrame({
        "conversation_id": feats.get_column("conversation_id"),
        "resolution": pl.Series(np.asarray(head.labels, dtype=object)[k], dtype=pl.String),
        "resolution_confidence": pl.Series(proba[np.arange(len(k)), k], dtype=pl.Float64),
        "resolution_evidence": pl.Series(evidence, dtype=pl.List(pl.Int32)),
        "resolution_reason": pl.Series(reason, dtype=pl.String)})
