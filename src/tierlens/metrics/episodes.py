"""Episode structure of each conversation: who answered, escalation, handoff, trapped, timings.

Pure polars. Input ``turns`` has :data:`tierlens.schema.TURN_SCHEMA` (one row per turn); the
optional ``turn_signals`` frame (one row per turn: ``conversation_id, turn_index`` plus
``sentiment_label`` and/or ``bot_outcome``) comes from the ``turn_scores`` table.
Output of :func:`episode_frame`: one row per conversation that has at least one turn.

Definitions (PRODUCT.md, implemented exactly; see docs/metrics.md for the precise rules):

- bot-entered: the first non-customer, non-system turn is a ``bot`` turn;
- escalated: bot-entered and (an ``agent`` turn exists, or a ``handoff`` event exists);
- trigger: the first ``handoff`` event, else the first customer turn asking for a human
  that comes before the first agent turn;
- handoff_seconds: trigger -> first agent turn after the trigger (NULL if none);
- escalation reason, precedence customer_request > policy > low_confidence > bot_failure >
  negative_sentiment > unknown, each read on the turns *before the handoff*;
- trapped: the customer asked for a human and 2 or more bot turns followed before the first
  handoff event or agent turn after the request (or before the end, when none came);
- tier (for the monthly KPIs) is the tier the contact *entered*: ``ai`` when bot-entered,
  ``human`` when the first responder is an agent, NULL when nobody answered.
"""

from __future__ import annotations

import polars as pl

from tierlens.schema import ESCALATION_REASONS

# A customer turn "asks for a human" (customer turns only, case-insensitive). Alternatives:
# a bare request as the last sentence ("agent", "Me again. operator"); talk/speak/chat to a human noun *not* followed by
# "to ..." or "about ..." (so "do I need to speak to a representative to change my pin?" is a
# question, not a request; "about this/it" still counts); get/put/connect/transfer/pass/
# escalate me to a human; a real / live / actual person; not a bot; call me back.
# The Rust regex engine has no look-around, so the exception is a second pattern.
_HUMAN = (r"(?:real |live |actual |human )?(?:human(?: being)?|person|agent|advisor|adviser|"
          r"representative|rep|operator|someone|somebody|manager|supervisor|colleague|"
          r"customer service)\b")
REQUEST_SPEAK = r"(?i)\b(?:talk|speak|chat)(?: to| with) (?:an? |the |some )?" + _HUMAN
REQUEST_SPEAK_NOT = REQUEST_SPEAK + r" (?:to|about)\b"  # "... to change my pin", "... about X"
REQUEST_SPEAK_ABOUT_THIS = REQUEST_SPEAK + r" about (?:this|it)\b"
REQUEST_OTHER = (
    r"(?i)(?:^|[.!?,;])\W*(?:talk to |speak to |chat to )?(?:an? )?(?:human|agent|operator|"
    r"representative|advisor|adviser|person)(?: please)?\W*$"
    r"|\b(?:get|give|put|connect|transfer|pass|escalate) (?:me|this|it|us)(?: through)?"
    r"(?: to| with)? (?:an? |the |some )?" + _HUMAN +
    r"|\b(?:want|need|like) (?:an? |to (?:talk|speak|chat) to an? )?(?:real |live |actual )?"
    r"(?:human|person)\b"
    r"|\b(?:real|live|actual) (?:person|human|agent)\b|\bhuman being\b"
    r"|\bnot (?:want to talk to |talk to )?an? (?:bot|robot|machine)\b"
    r"|\b(?:talk|speak|chat) to an? (?:bot|robot|machine)\b"
    r"|\bcall me back\b|\bis (?:anyone|anybody) there\b"
)


# Every request contains one of these words: a fast literal prefilter before the regexes.
REQUEST_KEYWORDS = ("human", "agent", "person", "operator", "representative", "advisor",
                    "adviser", "someone", "somebody", "manager", "supervisor", "colleague",
                    "customer service", "bot", "robot", "machine", "call me back", "anyone",
                    "anybody", " rep")


def asking_texts(texts: pl.LazyFrame, col: str = "text") -> pl.LazyFrame:
    """The rows of ``texts`` whose ``col`` asks for a human (prefilter, then the regexes)."""
    # collected between the two steps so the optimiser can't fuse them into one predicate
    # that runs the regexes on every text
    candidates = texts.filter(pl.col(col).str.contains_any(
        list(REQUEST_KEYWORDS), ascii_case_insensitive=True)).collect()
    return candidates.lazy().filter(asks_for_human(pl.col(col)))


def asks_for_human(text: pl.Expr) -> pl.Expr:
    """Expression: the text asks for a human (see the patterns above)."""
    t = text.fill_null("")
    speak_ok = t.str.contains(REQUEST_SPEAK) & ~(
        t.str.contains(REQUEST_SPEAK_NOT) & ~t.str.contains(REQUEST_SPEAK_ABOUT_THIS))
    return t.str.contains(REQUEST_OTHER) | speak_ok


# bot_outcome labels (turn_scores) that count as a bot failure.
BOT_FAILURE_OUTCOMES = ("failure", "failed", "fallback", "not_understood", "error")
BOT_REPEAT_CHARS = 40
TRAPPED_BOT_TURNS = 2  # PRODUCT.md: "no handoff came within 2 bot turns" (2+ bot turns = trapped)

REASONS = ESCALATION_REASONS


def _secs(later: str | pl.Expr, earlier: str | pl.Expr) -> pl.Expr:
    a = pl.col(later) if isinstance(later, str) else later
    b = pl.col(earlier) if isinstance(earlier, str) else earlier
    return (a - b).dt.total_microseconds() / 1e6


def _min_idx(cond: pl.Expr) -> pl.Expr:
    """Smallest turn_index where ``cond`` holds (NULL if none), inside a group_by."""
    return pl.when(cond).then(pl.col("turn_index")).min()


def _min_ts(cond: pl.Expr) -> pl.Expr:
    return pl.when(cond).then(pl.col("ts")).min()


def _before(idx: str, end: str) -> pl.Expr:
    """``idx`` exists and lies before ``end`` (an open end when ``end`` is NULL)."""
    return pl.col(idx).is_not_null() & (pl.col(end).is_null() | (pl.col(idx) < pl.col(end)))


def keyed_turns(turns: pl.DataFrame, turn_signals: pl.DataFrame | None = None) -> pl.LazyFrame:
    """Turns with an integer conversation key ``k`` and the signal columns. Grain: one turn."""
    lf = turns.lazy().select("conversation_id", "turn_index", "speaker", "text", "ts",
                             "bot_confidence", "event")
    if turn_signals is not None:
        cols = [c for c in ("sentiment_label", "bot_outcome") if c in turn_signals.columns]
        lf = lf.join(turn_signals.lazy().select("conversation_id", "turn_index", *cols),
                     on=["conversation_id", "turn_index"], how="left")
    for c in ("sentiment_label", "bot_outcome"):
        if turn_signals is None or c not in turn_signals.columns:
            lf = lf.with_columns(pl.lit(None, pl.String).alias(c))
    return lf.with_columns(k=pl.col("conversation_id").cast(pl.Categorical).to_physical())


def episode_frame(turns: pl.DataFrame, turn_signals: pl.DataFrame | None = None,
                  bot_confidence_threshold: float = 0.9) -> pl.DataFrame:
    """Per-conversation episode facts (see :func:`episode_plan`)."""
    return episode_plan(turns, turn_signals, bot_confidence_threshold).collect()


def episode_plan(turns: pl.DataFrame, turn_signals: pl.DataFrame | None = None,
                 bot_confidence_threshold: float = 0.9) -> pl.LazyFrame:
    """Per-conversation episode facts. Grain: one row per conversation with turns.

    Columns: bot_entered, human_entered, escalated, tier_path, tier (ai|human|NULL),
    trigger_index, trigger_kind (handoff_event|customer_request|NULL), handoff_seconds,
    n_handoffs, n_transfers, asked_human, trapped, the reason signals (sig_*; the reason itself
    needs the intent: see :func:`escalation_reason`), first/last turn times, elapsed_seconds
    (first turn to last; handle time is :mod:`tierlens.metrics.handle`'s),
    first_response_bot_s, first_response_human_s.

    Implementation: a few group-bys on an integer conversation key; every "is there an X
    before the handoff" signal is "the first X comes before the handoff", so each is one min().
    """
    t = keyed_turns(turns, turn_signals).with_columns(
        _bot=pl.col("speaker") == "bot", _agent=pl.col("speaker") == "agent",
        _cust=pl.col("speaker") == "customer",
        _handoff=(pl.col("event") == "handoff").fill_null(False),
        _transfer=(pl.col("event") == "transfer").fill_null(False),
    ).cache()
    idx = pl.col("turn_index")
    is_bot, is_agent, is_cust = pl.col("_bot"), pl.col("_agent"), pl.col("_cust")
    # pass 1: first positions and counts (one group-by of conditional minimums; measured
    # faster at 10M turns than one narrow group-by per fact)
    p1 = t.group_by("k").agg(
        conversation_id=pl.col("conversation_id").first(),
        first_resp_idx=_min_idx(is_bot | is_agent),
        first_agent_idx=_min_idx(is_agent),
        first_bot_idx=_min_idx(is_bot),
        first_cust_idx=_min_idx(is_cust),
        first_handoff_idx=_min_idx(pl.col("_handoff")),
        n_handoffs=pl.col("_handoff").sum().cast(pl.Int32),
        n_transfers=pl.col("_transfer").sum().cast(pl.Int32),
        first_lowconf_idx=_min_idx(is_bot & (pl.col("bot_confidence") < bot_confidence_threshold)),
        first_neg_idx=_min_idx(is_cust & (pl.col("sentiment_label") == "negative")),
        first_failout_idx=_min_idx(is_bot & pl.col("bot_outcome").is_in(BOT_FAILURE_OUTCOMES)),
        first_ts=pl.col("ts").min(),
        last_ts=pl.col("ts").max(),
        n_bot_turns=is_bot.sum().cast(pl.Int32),
        n_agent_turns=is_agent.sum().cast(pl.Int32),
    )
    # customer turns asking for a human (the regex runs on customer turns only)
    cust = t.filter(is_cust).select("k", "turn_index", pl.col("text").fill_null(""))
    asking = asking_texts(cust.select("text").unique())
    req = cust.join(asking, on="text", how="semi").select("k", "turn_index").cache()
    # the bot repeating itself: the second bot turn with an already-seen normalised tail
    bot = t.filter(is_bot).select("k", "turn_index", pl.col("text").fill_null(""))
    tails = bot.select("text").unique().with_columns(
        tail=pl.col("text").str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
        .str.slice(-BOT_REPEAT_CHARS).hash())  # each distinct bot text once (bots repeat)
    rep = (bot.join(tails, on="text", how="left")
        .group_by("k", "tail").agg(second=pl.col("turn_index").sort().get(1, null_on_oob=True))
        .group_by("k").agg(first_botrepeat_idx=pl.col("second").min()))
    p1 = (
        p1.join(req.group_by("k").agg(first_req_idx=pl.col("turn_index").min()), on="k",
                how="left")
        .join(rep, on="k", how="left")
        .with_columns(
            bot_entered=(pl.col("first_resp_idx") == pl.col("first_bot_idx")).fill_null(False),
            human_entered=(pl.col("first_resp_idx") == pl.col("first_agent_idx"))
            .fill_null(False),
        )
        .with_columns(
            escalated=pl.col("bot_entered") & (pl.col("first_agent_idx").is_not_null()
                                               | pl.col("first_handoff_idx").is_not_null()),
        )
    )
    # first request before the first agent turn (a request after an agent spoke is no trigger)
    req_pre = (req.join(p1.select("k", "first_agent_idx"), on="k")
               .filter(pl.col("first_agent_idx").is_null()
                       | (pl.col("turn_index") < pl.col("first_agent_idx")))
               .group_by("k").agg(first_req_pre_agent_idx=pl.col("turn_index").min()))
    p1 = p1.join(req_pre, on="k", how="left").with_columns(
        trigger_index=pl.when(pl.col("escalated")).then(
            pl.coalesce("first_handoff_idx", "first_req_pre_agent_idx")),
        trigger_kind=pl.when(~pl.col("escalated")).then(None)
        .when(pl.col("first_handoff_idx").is_not_null()).then(pl.lit("handoff_event"))
        .when(pl.col("first_req_pre_agent_idx").is_not_null()).then(pl.lit("customer_request")),
        # end (exclusive) of the bot part of an escalated episode
        pre_end_idx=pl.when(pl.col("escalated")).then(
            pl.coalesce("first_handoff_idx", "first_agent_idx")),
    ).with_columns(
        sig_customer_request=_before("first_req_idx", "pre_end_idx"),
        sig_low_confidence=_before("first_lowconf_idx", "pre_end_idx"),
        sig_negative_sentiment=_before("first_neg_idx", "pre_end_idx"),
        sig_bot_failure=_before("first_failout_idx", "pre_end_idx")
        | _before("first_botrepeat_idx", "pre_end_idx"),
    ).cache()
    # pass 2: times relative to the positions found in pass 1
    th = p1.select("k", "trigger_index", "first_cust_idx", "first_req_idx")
    tt = t.select("k", "turn_index", "_bot", "_agent", "_handoff", "ts").join(th, on="k")
    hand = pl.col("_handoff") | is_agent
    p2 = tt.group_by("k").agg(
        trigger_ts=_min_ts(idx == pl.col("trigger_index")),
        agent_after_trigger_ts=_min_ts(is_agent & (idx > pl.col("trigger_index"))),
        first_agent_ts=_min_ts(is_agent),
        first_cust_ts=_min_ts(idx == pl.col("first_cust_idx")),
        first_bot_reply_ts=_min_ts(is_bot & (idx > pl.col("first_cust_idx"))),
        first_agent_reply_ts=_min_ts(is_agent & (idx > pl.col("first_cust_idx"))),
        handoff_after_req_idx=_min_idx(hand & (idx > pl.col("first_req_idx"))),
    )
    # pass 3 (conversations with a request only): bot turns between the request and the handoff
    stop = p1.filter(pl.col("first_req_idx").is_not_null() & pl.col("bot_entered")).select(
        "k", "first_req_idx").join(p2.select("k", "handoff_after_req_idx"), on="k")
    trap = (t.filter(is_bot).select("k", "turn_index").join(stop, on="k")
            .filter((idx > pl.col("first_req_idx"))
                    & (pl.col("handoff_after_req_idx").is_null()
                       | (idx < pl.col("handoff_after_req_idx"))))
            .group_by("k").agg(bot_after_req=pl.len().cast(pl.Int32)))
    out = (
        p1.join(p2, on="k", how="left")
        .join(trap, on="k", how="left")
        .with_columns(
            asked_human=pl.col("bot_entered") & pl.col("first_req_idx").is_not_null(),
            # from the speakers (as in the ingest): an escalation nobody answered stays bot_only
            tier_path=pl.when(pl.col("bot_entered") & pl.col("first_agent_idx").is_not_null())
            .then(pl.lit("bot_then_human"))
            .when(pl.col("bot_entered")).then(pl.lit("bot_only"))
            .when(pl.col("human_entered")).then(pl.lit("human_only")),
        )
        .with_columns(
            tier=pl.when(pl.col("bot_entered")).then(pl.lit("ai"))
            .when(pl.col("human_entered")).then(pl.lit("human")),
            trapped=pl.col("asked_human")
            & (pl.col("bot_after_req").fill_null(0) >= TRAPPED_BOT_TURNS),
            handoff_seconds=pl.when(pl.col("escalated")).then(
                _secs("agent_after_trigger_ts", "trigger_ts")),
            first_response_bot_s=pl.when(pl.col("bot_entered")).then(
                _secs("first_bot_reply_ts", "first_cust_ts")),
        )
        .with_columns(
            first_response_human_s=pl.when(pl.col("human_entered")).then(
                _secs("first_agent_reply_ts", "first_cust_ts"))
            .when(pl.col("escalated")).then(pl.col("handoff_seconds")),
            elapsed_seconds=_secs("last_ts", "first_ts"),
            agent_spoke=pl.col("first_agent_idx").is_not_null(),
        )
    )
    keep = ["conversation_id", "bot_entered", "human_entered", "escalated", "tier_path", "tier",
            "trigger_index", "trigger_kind", "pre_end_idx", "first_agent_idx", "handoff_seconds",
            "n_handoffs", "n_transfers", "asked_human", "trapped", "sig_customer_request",
            "sig_low_confidence", "sig_negative_sentiment", "sig_bot_failure", "first_ts",
            "last_ts", "elapsed_seconds", "first_response_bot_s",
            "first_response_human_s", "agent_spoke", "n_bot_turns", "n_agent_turns"]
    return out.select(keep)


def escalation_reason(tier2_flag: str = "is_tier2") -> pl.Expr:
    """Expression: the reason of an escalation, by precedence (NULL when not escalated).

    Needs columns ``escalated``, the ``sig_*`` signals and a boolean ``tier2_flag`` column
    (the conversation's intent is a Tier-2 intent of the routing policy).
    """
    c = pl.col
    return (
        pl.when(~c("escalated")).then(None)
        .when(c("sig_customer_request").fill_null(False)).then(pl.lit("customer_request"))
        .when(c(tier2_flag).fill_null(False)).then(pl.lit("policy"))
        .when(c("sig_low_confidence").fill_null(False)).then(pl.lit("low_confidence"))
        .when(c("sig_bot_failure").fill_null(False)).then(pl.lit("bot_failure"))
        .when(c("sig_negative_sentiment").fill_null(False)).then(pl.lit("negative_sentiment"))
        .otherwise(pl.lit("unknown"))
    )
