"""One entry point: every per-conversation outcome and the monthly KPIs, from frames.

:func:`derive` is pure (frames in, frames out); :mod:`tierlens.store.outcomes` reads the
warehouse, calls it and writes the results. Grain of ``Derived.outcomes``: one row per
conversation of the input ``conversations`` frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from tierlens.config import RoutingPolicy, load_routing_policy
from tierlens.metrics.containment import with_containment
from tierlens.metrics.episodes import episode_frame, escalation_reason
from tierlens.metrics.fcr import with_fcr
from tierlens.metrics.handle import handle_times
from tierlens.metrics.kpis import kpi_monthly
from tierlens.metrics.repeat import default_as_of, repeat_contacts
from tierlens.metrics.restate import SIMILARITY_THRESHOLD, Embeddings, repeated_after_handoff
from tierlens.metrics.routing import misroute_matrix, queue_moves, routing_flags
from tierlens.metrics.scorecard import Scorecard, criteria_scores, load_scorecard, qa_scores
from tierlens.settings import Settings

# The columns of the ``outcomes`` table, in order (see migrations/0003_outcomes.sql).
OUTCOME_COLUMNS = (
    "conversation_id", "started_at", "month", "tier", "tier_path", "intent", "intent_tier",
    "resolution", "first_queue", "expected_queue", "bot_entered", "human_entered", "agent_spoke",
    "escalated", "escalation_reason", "trigger_kind", "handoff_seconds", "n_handoffs",
    "n_transfers", "n_human_transfers", "human_transfer", "repeated_after_handoff", "asked_human",
    "trapped", "contained_raw", "contained_durable", "repeat_status", "repeat_strict",
    "repeat_loose", "next_contact_s", "routed_correctly", "should_have_escalated",
    "needless_escalation", "fcr", "abandoned", "qa_score", "qa_critical", "aht_seconds",
    "bot_seconds", "human_seconds", "first_response_bot_s", "first_response_human_s", "cost",
    "csat", "nps", "csat_predicted", "risk_score", "red_flag", "elapsed_seconds",
)


@dataclass(frozen=True)
class Derived:
    outcomes: pl.DataFrame  # one row per conversation (OUTCOME_COLUMNS)
    kpis: pl.DataFrame  # one row per month, tier, kpi (kpis.KPI_SCHEMA)
    misroutes: pl.DataFrame  # one row per evidence, expected queue, actual queue
    qa_criteria: pl.DataFrame  # one row per conversation and criterion
    as_of: datetime | None


def _model_frame(conversation_scores: pl.DataFrame | None) -> pl.DataFrame:
    cols = {"conversation_id": pl.String, "intent": pl.String, "resolution": pl.String,
            "csat_predicted": pl.Float64, "sentiment_start": pl.Float64}
    if conversation_scores is None:
        return pl.DataFrame(schema=cols)
    return conversation_scores.select(
        [pl.col(c).cast(t) if c in conversation_scores.columns else pl.lit(None, t).alias(c)
         for c, t in cols.items()])


def derive(conversations: pl.DataFrame, turns: pl.DataFrame,
           conversation_scores: pl.DataFrame | None = None,
           turn_scores: pl.DataFrame | None = None,
           compliance_scores: pl.DataFrame | None = None,
           compliance_hits: pl.DataFrame | None = None,
           embeddings: Embeddings | None = None, *,
           settings: Settings, policy: RoutingPolicy | None = None,
           scorecard: Scorecard | None = None, as_of: datetime | None = None) -> Derived:
    """Derive all outcomes and KPIs.

    - ``conversations``/``turns``: the canonical frames (tierlens.schema);
    - ``conversation_scores``: one row per conversation with ``intent, resolution``
      (+ optional ``csat_predicted, sentiment_start``): model outputs, or the truth;
    - ``turn_scores``: one row per turn with ``sentiment_label`` / ``bot_outcome`` (optional);
    - ``compliance_scores``: one row per conversation (``risk_score, red_flag``), optional;
    - ``compliance_hits``: one row per hit (``conversation_id, severity``), optional;
    - ``embeddings``: one row per turn (``embedding``), or a function from texts to their
      embedding matrix (the encoder's ``encode``: only the turns restatement compares are
      encoded), optional, for the semantic restatement check;
    - ``settings``: the thresholds, windows and costs (passed in: derive reads no settings);
    - ``as_of``: the data's as-of time for repeat windows (default: the latest start).
    """
    s = settings
    policy = policy or load_routing_policy()
    card = scorecard or load_scorecard()
    if as_of is None:
        as_of = default_as_of(conversations)
    model = _model_frame(conversation_scores)
    conv = conversations.select("conversation_id", "customer_id", "started_at", "first_queue",
                                "csat", "nps").join(model, on="conversation_id", how="left")
    ep = episode_frame(turns, turn_scores, s.bot_confidence_threshold)
    ep = ep.join(handle_times(turns, conversations, ep, s.handle_time), on="conversation_id",
                 how="left")
    rep = repeat_contacts(conv, s.repeat_window_days, as_of)
    restated = repeated_after_handoff(turns, ep, embeddings, SIMILARITY_THRESHOLD)
    moves = queue_moves(turns, conversations, policy)
    comp = pl.DataFrame(schema={"conversation_id": pl.String, "risk_score": pl.Float64,
                                "red_flag": pl.Boolean})
    if compliance_scores is not None:
        comp = compliance_scores.select("conversation_id", "risk_score", "red_flag")
    flags = ("bot_entered", "human_entered", "escalated", "asked_human", "trapped", "agent_spoke")
    frame = (
        conv.join(ep, on="conversation_id", how="left")
        .with_columns([pl.col(f).fill_null(False) for f in flags])
        .with_columns(pl.col("n_handoffs").fill_null(0), pl.col("n_transfers").fill_null(0))
        .join(rep.select("conversation_id", "repeat_status", "repeat_strict", "repeat_loose",
                         "next_contact_s"), on="conversation_id", how="left")
        .join(restated, on="conversation_id", how="left")
        .join(comp, on="conversation_id", how="left")
    )
    frame = routing_flags(frame, moves, policy)
    frame = with_fcr(with_containment(frame))
    frame = frame.with_columns(_tier2=pl.col("intent_tier") == 2).with_columns(
        escalation_reason=escalation_reason("_tier2"),
        abandoned=pl.when(pl.col("resolution").is_not_null())
        .then(pl.col("resolution") == "abandoned"),
        cost=pl.when(pl.col("aht_seconds").is_not_null()).then(
            pl.col("bot_seconds").fill_null(0.0) / 60.0 * s.cost_per_bot_minute
            + pl.col("human_seconds").fill_null(0.0) / 60.0 * s.cost_per_agent_minute),
        month=pl.col("started_at").dt.convert_time_zone("UTC").dt.strftime("%Y-%m"),
    )
    crit = criteria_scores(frame, turns, compliance_hits, card, turn_scores)
    qa = qa_scores(crit, compliance_hits, card)
    outcomes = frame.join(qa, on="conversation_id", how="left").select(OUTCOME_COLUMNS)
    kpis = kpi_monthly(outcomes, s.handoff_target_seconds)
    misroutes = misroute_matrix(outcomes, moves)
    return Derived(outcomes, kpis, misroutes, crit, as_of)
