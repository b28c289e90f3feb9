"""Routing accuracy, misroute matrix, transfers between human queues, tier adherence.

Pure polars over the routing policy (:class:`tierlens.config.RoutingPolicy`).

- routed_correctly = ``first_queue == policy queue for the detected intent`` (an intent the
  policy does not list is expected in ``default_queue``); NULL when the intent or the first
  queue is unknown (left out of the denominator);
- transfers between human queues (a ``transfer`` event whose source and target are both human
  queues) are misroute evidence: flagged per conversation and listed in the matrix with
  ``evidence = 'transfer'``;
- should_have_escalated: a Tier-2 intent, bot-entered and never escalated (left with the bot);
- needless_escalation: a Tier-1 intent handled by a human (an agent spoke: escalated to an
  agent, or routed straight to one). Both NULL when the intent (or its policy tier) is
  unknown.
"""

from __future__ import annotations

import polars as pl

from tierlens.config import RoutingPolicy


def policy_frame(policy: RoutingPolicy) -> pl.DataFrame:
    """The policy as a frame. Grain: one row per listed intent."""
    rows = [(name, e.queue, e.tier, e.handoff_queue or e.queue)
            for name, e in policy.intents.items()]
    return pl.DataFrame(rows, schema={"intent": pl.String, "expected_queue": pl.String,
                                      "intent_tier": pl.Int8, "expected_handoff_queue": pl.String},
                        orient="row")


def queue_moves(turns: pl.DataFrame, conversations: pl.DataFrame,
                policy: RoutingPolicy) -> pl.DataFrame:
    """Every handoff/transfer event with its source and target queue. Grain: one row per event.

    The source of the first move is the conversation's ``first_queue``; each later move starts
    where the previous one (with a known target) ended.
    """
    human = list(policy.human_queues())
    ev = (
        turns.lazy().filter(pl.col("event").is_in(["handoff", "transfer"]))
        .select("conversation_id", "turn_index", "event", pl.col("queue").alias("to_queue"))
        .join(conversations.lazy().select("conversation_id", "first_queue"),
              on="conversation_id", how="left")
        .sort("conversation_id", "turn_index")
        .with_columns(
            from_queue=pl.coalesce(
                pl.col("to_queue").forward_fill().shift(1).over("conversation_id"),
                pl.col("first_queue")),
        )
        .with_columns(
            human_transfer=(pl.col("event") == "transfer")
            & pl.col("from_queue").is_in(human).fill_null(False)
            & pl.col("to_queue").is_in(human).fill_null(False)
            & (pl.col("from_queue") != pl.col("to_queue")).fill_null(False),
        )
    )
    return ev.select("conversation_id", "turn_index", "event", "from_queue", "to_queue",
                     "human_transfer").collect()


def routing_flags(frame: pl.DataFrame, moves: pl.DataFrame, policy: RoutingPolicy) -> pl.DataFrame:
    """Per-conversation routing flags. Grain: one row per conversation of ``frame``.

    ``frame`` needs ``conversation_id, intent, first_queue, bot_entered, escalated,
    agent_spoke``.
    Adds: expected_queue, intent_tier, routed_correctly, n_human_transfers, human_transfer,
    should_have_escalated, needless_escalation.
    """
    pol = policy_frame(policy)
    transfers = moves.group_by("conversation_id").agg(
        n_human_transfers=pl.col("human_transfer").sum().cast(pl.Int32))
    known_intent = pl.col("intent").is_not_null()
    return (
        frame.join(pol.select("intent", "expected_queue", "intent_tier"), on="intent", how="left")
        .join(transfers, on="conversation_id", how="left")
        .with_columns(
            expected_queue=pl.when(known_intent).then(
                pl.col("expected_queue").fill_null(policy.default_queue)),
            n_human_transfers=pl.col("n_human_transfers").fill_null(0),
        )
        .with_columns(
            routed_correctly=pl.when(known_intent & pl.col("first_queue").is_not_null()).then(
                pl.col("first_queue") == pl.col("expected_queue")),
            human_transfer=pl.col("n_human_transfers") > 0,
            should_have_escalated=pl.when(pl.col("intent_tier").is_not_null()).then(
                (pl.col("intent_tier") == 2) & pl.col("bot_entered") & ~pl.col("escalated")),
            needless_escalation=pl.when(pl.col("intent_tier").is_not_null()).then(
                (pl.col("intent_tier") == 1) & pl.col("agent_spoke")),
        )
    )


def misroute_matrix(flags: pl.DataFrame, moves: pl.DataFrame) -> pl.DataFrame:
    """Misroutes, expected -> actual. Grain: one row per (evidence, expected, actual) pair.

    ``evidence = 'first_queue'``: conversations with routed_correctly = false, from the
    policy's expected queue to the actual first queue. ``evidence = 'transfer'``: transfers
    between human queues, from the source queue to the target queue.
    """
    first = (flags.filter(pl.col("routed_correctly") == False)
             .group_by(pl.col("expected_queue"), pl.col("first_queue").alias("actual_queue"))
             .agg(n=pl.len().cast(pl.Int64))
             .with_columns(evidence=pl.lit("first_queue")))
    tr = (moves.filter(pl.col("human_transfer"))
          .group_by(pl.col("from_queue").alias("expected_queue"),
                    pl.col("to_queue").alias("actual_queue"))
          .agg(n=pl.len().cast(pl.Int64))
          .with_columns(evidence=pl.lit("transfer")))
    return (pl.concat([first, tr]).select("evidence", "expected_queue", "actual_queue", "n")
            .sort("evidence", "n", "expected_queue", "actual_queue",
                  descending=[False, True, False, False]))
