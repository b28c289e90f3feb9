"""Per topic and month: volume, outcomes, trend, and the automation opportunity (pure).

Grain of :func:`topic_monthly`: one row per (month, topic_id) with at least one conversation.

- ``share``: the topic's conversations / the month's conversations that have a request;
- ``escalation_rate``: escalated / bot-entered; ``containment_durable``: durably contained /
  bot-entered (as the KPIs, docs/metrics.md); ``aht_seconds``: mean handle time;
  ``cost``: the topic's total cost in the month;
- ``change_vs_previous_month``: relative change in conversations vs the previous month
  (NULL when the topic had none then);
- ``status``: ``new`` (this is the topic's first month with conversations, and not the data's
  first month), ``emerging`` (conversations up 50% or more on the previous month, and at least
  ``EMERGING_MIN`` of them), else ``stable``;
- ``matched_intent``/``intent_share``: the intent most of the topic's conversations carry, and
  its share: where the share is at least ``INTENT_MATCH``, the topic IS that intent;
- ``opportunity``: the monthly cost the center would save if the bot contained this topic
  at the durable containment it reaches on comparable topics (the median of the
  ``NEIGHBOURS`` nearest topics by centroid that have at least ``MIN_BOT`` bot-entered
  conversations that month): conversations x max(0, that containment - this topic's) x (mean
  cost of a not-contained conversation - mean cost of a contained one, over the month).
"""

from __future__ import annotations

import numpy as np
import polars as pl

NEIGHBOURS = 3
MIN_BOT = 10
EMERGING_MIN = 20
INTENT_MATCH = 0.6
EXAMPLES = 3


def _targets(cents: pl.DataFrame, stats: pl.DataFrame) -> pl.DataFrame:
    """Per (month, topic): the median durable containment of its nearest comparable topics."""
    active = cents.filter(pl.col("active"))
    ids = active["topic_id"].to_list()
    if not ids:
        return pl.DataFrame(schema={"month": pl.String, "topic_id": pl.Int64,
                                    "target_containment": pl.Float64})
    m = np.asarray(active["centroid"].to_list(), np.float32)
    m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
    order = np.argsort(-(m @ m.T), axis=1)
    rows = []
    for month, part in stats.group_by("month"):
        ok = {r["topic_id"]: r["containment_durable"] for r in part.iter_rows(named=True)
              if r["bot_entered"] >= MIN_BOT and r["containment_durable"] is not None}
        for i, tid in enumerate(ids):
            near = [ok[ids[j]] for j in order[i] if j != i and ids[j] in ok][:NEIGHBOURS]
            rows.append({"month": month[0], "topic_id": tid,
                         "target_containment": float(np.median(near)) if near else None})
    return pl.DataFrame(rows, schema={"month": pl.String, "topic_id": pl.Int64,
                                      "target_containment": pl.Float64})


def topic_monthly(assigned: pl.DataFrame, outcomes: pl.DataFrame, cents: pl.DataFrame
                  ) -> pl.DataFrame:
    """``assigned``: conversation_id, topic_id, distance; ``outcomes``: conversation_id, month,
    intent, bot_entered, escalated, contained_durable, aht_seconds, cost; ``cents``: the
    topic table (topic_id, centroid, active)."""
    j = assigned.join(outcomes, on="conversation_id", how="inner")
    if j.is_empty():
        return pl.DataFrame()
    c = pl.col
    stats = (j.group_by("month", "topic_id").agg(
        n_conversations=pl.len(),
        bot_entered=c("bot_entered").fill_null(False).sum(),
        escalated=(c("escalated") & c("bot_entered")).fill_null(False).sum(),
        contained=c("contained_durable").fill_null(False).sum(),
        aht_seconds=c("aht_seconds").mean(),
        cost=c("cost").sum(),
        example_conversation_ids=c("conversation_id").sort_by("distance").head(EXAMPLES)))
    stats = stats.with_columns(
        share=c("n_conversations") / c("n_conversations").sum().over("month"),
        escalation_rate=pl.when(c("bot_entered") > 0).then(c("escalated") / c("bot_entered")),
        containment_durable=pl.when(c("bot_entered") > 0)
        .then(c("contained") / c("bot_entered")))
    intents = (j.filter(c("intent").is_not_null())
               .group_by("month", "topic_id", "intent").len()
               .sort("len", "intent", descending=[True, False])
               .group_by("month", "topic_id", maintain_order=True)
               .agg(matched_intent=c("intent").first(), _top=c("len").first()))
    saving = (j.filter(c("bot_entered").fill_null(False)).group_by("month").agg(
        unit_saving=(c("cost").filter(~c("contained_durable").fill_null(False)).mean()
                     - c("cost").filter(c("contained_durable").fill_null(False)).mean())))
    prev = stats.select(c("month"), "topic_id", prev_n=c("n_conversations")).with_columns(
        month=(c("month") + "-01").str.to_date().dt.offset_by("1mo").dt.strftime("%Y-%m"))
    first_month = stats.group_by("topic_id").agg(first_month=c("month").min())
    earliest = stats["month"].min()
    out = (stats.join(intents, on=["month", "topic_id"], how="left")
           .join(saving, on="month", how="left")
           .join(prev, on=["month", "topic_id"], how="left")
           .join(first_month, on="topic_id", how="left")
           .join(_targets(cents, stats), on=["month", "topic_id"], how="left")
           .with_columns(
               intent_share=c("_top") / c("n_conversations"),
               change_vs_previous_month=pl.when(c("prev_n") > 0)
               .then((c("n_conversations") - c("prev_n")) / c("prev_n")),
               opportunity=(c("n_conversations")
                            * (c("target_containment") - c("containment_durable").fill_null(0.0))
                            .clip(lower_bound=0.0)
                            * c("unit_saving").clip(lower_bound=0.0)).fill_null(0.0))
           .with_columns(status=pl.when((c("month") == c("first_month"))
                                        & (c("month") != earliest))
                         .then(pl.lit("new"))
                         .when((c("change_vs_previous_month") >= 0.5)
                               & (c("n_conversations") >= EMERGING_MIN))
                         .then(pl.lit("emerging")).otherwise(pl.lit("stable"))))
    return out.select(
        "month", "topic_id", "n_conversations", "share", "escalation_rate",
        "containment_durable", "aht_seconds", "cost", "change_vs_previous_month",
        "example_conversation_ids", "status", "matched_intent", "intent_share",
        "target_containment", "opportunity").sort("month", "opportunity", "topic_id",
                                                  descending=[False, True, False])
