"""Compliance evaluation: a rulebook over whole frames of turns, vectorised.

Pure functions on polars frames (no I/O). Every regex runs once per rule over the whole
(speaker- and channel-filtered) turns frame (polars / Rust regex); ``required``, ``ordering``,
``trapped_customer`` and ``vulnerable_customer`` use window expressions over
``conversation_id``. There is no per-turn Python loop over regexes. Semantic rules compare turn
embeddings (computed once by the shared encoder, or passed in) with each rule's examples.

Frames (grains):
- hits (:data:`HIT_SCHEMA`): one row per rule hit: conversation, turn (NULL for a
  conversation-level ``required`` miss), character span in the *redacted* text, matched text
  (redacted; an unredacted card found by the Luhn scan is stored as ``[CARD]``), rule id,
  rule version, kind, severity, rulebook version, and ``detail`` (cue type, PII type, ...);
- scores (:data:`SCORE_SCHEMA`): one row per conversation and rulebook version.

Risk: ``risk_score = 1 - exp(-sum(w))`` over the *distinct rules* hit in the conversation, with
severity weights from the rulebook (default critical 1.0, major 0.4, minor 0.1). ``red_flag`` =
any critical hit, or ``risk_score >= scoring.red_flag_threshold`` (default 0.5: two majors, or
one major and two minors...).

The frames and their schemas live in :mod:`tierlens.score.compliance_frames`, the semantic
rules in :mod:`tierlens.score.compliance_semantic`; this module evaluates the other kinds and
the whole rulebook.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from tierlens.score.compliance_frames import (
    CID,
    HIT_SCHEMA,
    LOC_SCHEMA,
    SCORE_SCHEMA,
    TI,
    Embeddings,
    empty_loc,
    prepare_turns,
    rule_turns,
)
from tierlens.score.compliance_semantic import (
    eval_semantic,
    scope_key,
    semantic_rows,
    semantic_scores,
)
from tierlens.score.rules import (
    Match,
    Negation,
    OrderingRule,
    PhraseRule,
    PiiExposureRule,
    RequiredRule,
    Rulebook,
    SemanticRule,
    TrappedCustomerRule,
    VulnerableCustomerRule,
)

_CLAUSE_BREAK = r"(?i)\b(?:but|however|although|though|because)\b"
_DIGIT_RUN = r"\b\d(?:[ -]?\d){12,18}\b"
# as in ingest redaction: a number introduced as an order/reference/... number is not a card
_NOT_A_CARD = (r"(?i)\b(?:order|tracking|reference|ref|confirmation|invoice|ticket|case|"
               r"booking|parcel)\s*(?:number|no\.?|num|#|id|code)?\s*(?:is|was|:|#)?\s*$")
HUMAN_EVENTS = ("handoff", "transfer")



def find_matches(frame: pl.DataFrame, match: Match, negation: Negation,
                 first_only: bool = True) -> pl.DataFrame:
    """First non-negated match of ``match`` per turn of ``frame``.

    Returns conversation_id, turn_index, span_start, span_end (characters), matched_text.
    A match is negated when the clause before it (up to ``negation.window_chars`` characters,
    cut at punctuation and "but"/"however"...) contains a negation cue.
    """
    rx = match.regex()
    cand = frame.filter(pl.col("text").str.contains(rx)).select(CID, TI, "text")
    if cand.is_empty():
        return empty_loc().drop("detail")
    m = (cand.with_columns(matched_text=pl.col("text").str.extract_all(rx))
         .explode("matched_text")
         .filter(pl.col("matched_text").str.len_chars() > 0)
         .unique([CID, TI, "matched_text"], maintain_order=True)
         .with_columns(span_start=pl.col("text").str.split(pl.col("matched_text"))
                       .list.first().str.len_chars().cast(pl.Int32)))
    m = m.with_columns(span_end=(pl.col("span_start")
                                 + pl.col("matched_text").str.len_chars()).cast(pl.Int32))
    if match.ignore_negated:
        lo = pl.max_horizontal(pl.col("span_start") - negation.window_chars, pl.lit(0))
        clause = (pl.col("text").str.slice(lo, pl.col("span_start") - lo)
                  .str.replace_all(_CLAUSE_BREAK, ".")
                  .str.extract(r"([^.!?;,:\n]*)$", 1))
        m = m.filter(~clause.str.contains("(?i)" + negation.cues).fill_null(False))
    m = m.sort(CID, TI, "span_start")
    if first_only:
        m = m.unique([CID, TI], keep="first", maintain_order=True)
    return m.select(CID, TI, "span_start", "span_end", "matched_text")


def _first_per_conversation(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(CID, TI).unique(CID, keep="first", maintain_order=True)


# ----------------------------------------------------------------------------- rule kinds
def eval_phrase(rule: PhraseRule, base: pl.DataFrame, neg: Negation) -> pl.DataFrame:
    found = find_matches(rule_turns(base, rule.speakers, rule.channels), rule.match(), neg)
    return found.with_columns(detail=pl.lit(None, pl.String))


def eval_required(rule: RequiredRule, base: pl.DataFrame, neg: Negation) -> pl.DataFrame:
    scope = rule_turns(base, None, rule.channels)
    speakers = rule.must_say.speakers or rule.speakers
    said_by = scope.filter(pl.col("speaker").is_in(list(speakers)))
    trig = None
    if rule.trigger is not None:
        tspk = rule.trigger.speakers or ("customer",)
        trig = _first_per_conversation(find_matches(
            scope.filter(pl.col("speaker").is_in(list(tspk))), rule.trigger, neg))
        said_by = (said_by.join(trig.select(CID, pl.col(TI).alias("t_turn")), on=CID)
                   .filter(pl.col(TI) > pl.col("t_turn")).drop("t_turn"))
    said_by = said_by.with_columns(_rank=pl.int_range(pl.len()).over("_g"))
    in_window = said_by.filter(pl.col("_rank") < rule.within_turns)
    ok = find_matches(in_window, rule.must_say, neg).select(CID).unique()
    missing = said_by.select(CID).unique().join(ok, on=CID, how="anti")
    if missing.is_empty():
        return empty_loc()
    late = _first_per_conversation(find_matches(
        said_by.filter(pl.col("_rank") >= rule.within_turns).join(missing, on=CID),
        rule.must_say, neg)).select(CID, pl.col(TI).alias("late_turn"),
                                    pl.col("span_start").alias("ls"), pl.col("span_end").alias("le"),
                                    pl.col("matched_text").alias("lm"))
    out = missing.join(late, on=CID, how="left")
    who = "/".join(speakers)
    late_note = pl.when(pl.col("late_turn").is_not_null()).then(
        pl.format("said late, at turn {}", pl.col("late_turn"))).otherwise(pl.lit("never said"))
    if trig is not None:
        out = out.join(trig, on=CID).with_columns(detail=pl.format(
            f"no required response within {rule.within_turns} {who} turns after the trigger; {{}}",
            late_note))
        return out.select(CID, TI, "span_start", "span_end", "matched_text", "detail")
    return out.select(
        CID, pl.col("late_turn").cast(pl.Int32).alias(TI),
        pl.col("ls").alias("span_start"), pl.col("le").alias("span_end"),
        pl.col("lm").alias("matched_text"),
        pl.format(f"not said in the first {rule.within_turns} {who} turns; {{}}",
                  late_note).alias("detail"))


def eval_ordering(rule: OrderingRule, base: pl.DataFrame, neg: Negation) -> pl.DataFrame:
    scope = rule_turns(base, None, rule.channels)
    a_spk = rule.first.speakers or rule.speakers
    b_spk = rule.then.speakers or rule.speakers
    a = _first_per_conversation(find_matches(
        scope.filter(pl.col("speaker").is_in(list(a_spk))), rule.first, neg)).select(
        CID, pl.col(TI).alias("a_turn"), pl.col("span_start").alias("a_start"))
    b = find_matches(scope.filter(pl.col("speaker").is_in(list(b_spk))), rule.then, neg)
    # violated when `first` never happened, or only later (later turn, or later in the turn)
    viol = b.join(a, on=CID, how="left").filter(
        pl.col("a_turn").is_null() | (pl.col("a_turn") > pl.col(TI))
        | ((pl.col("a_turn") == pl.col(TI)) & (pl.col("a_start") > pl.col("span_start"))))
    viol = _first_per_conversation(viol).with_columns(detail=pl.when(
        pl.col("a_turn").is_null()).then(pl.lit("required step never happened"))
        .otherwise(pl.format("required step only at turn {}", pl.col("a_turn"))))
    return viol.select(CID, TI, "span_start", "span_end", "matched_text", "detail")


def _luhn_valid_runs(scope: pl.DataFrame) -> pl.DataFrame:
    """Luhn-valid 13-19 digit runs left in the (redacted) text: a card redaction missed.

    Same card test as ingest redaction: first digit 2-6, Luhn-valid, and not introduced as an
    order / tracking / reference / invoice... number.
    """
    cand = scope.filter(pl.col("text").str.contains(_DIGIT_RUN)).select(CID, TI, "text")
    if cand.is_empty():
        return empty_loc()
    runs = (cand.with_columns(run=pl.col("text").str.extract_all(_DIGIT_RUN)).explode("run")
            .drop_nulls("run").unique([CID, TI, "run"], maintain_order=True)
            .with_columns(digits=pl.col("run").str.replace_all(r"\D", ""),
                          _pre=pl.col("text").str.split(pl.col("run")).list.first())
            .filter(pl.col("digits").str.len_chars().is_between(13, 19)
                    & pl.col("digits").str.contains("^[2-6]")  # card-network prefixes
                    & ~pl.col("_pre").str.slice(-40).str.contains(_NOT_A_CARD))
            .with_row_index("_rid"))
    if runs.is_empty():
        return empty_loc()
    d = (runs.select("_rid", ch=pl.col("digits").str.reverse().str.split("")).explode("ch")
         .with_columns(v=pl.col("ch").cast(pl.Int32), pos=pl.int_range(pl.len()).over("_rid")))
    dbl = pl.col("v") * 2
    d = d.with_columns(v=pl.when(pl.col("pos") % 2 == 1)
                       .then(pl.when(dbl > 9).then(dbl - 9).otherwise(dbl)).otherwise(pl.col("v")))
    valid = d.group_by("_rid").agg(s=pl.col("v").sum()).filter(pl.col("s") % 10 == 0)
    hits = runs.join(valid.select("_rid"), on="_rid")
    return hits.select(
        CID, TI,
        pl.col("text").str.split(pl.col("run")).list.first().str.len_chars().cast(pl.Int32)
        .alias("span_start"), pl.col("run").str.len_chars().cast(pl.Int32).alias("_len"),
    ).select(CID, TI, "span_start", (pl.col("span_start") + pl.col("_len")).alias("span_end"),
             matched_text=pl.lit("[CARD]"),
             detail=pl.lit("CARD unredacted in stored text (Luhn-valid)"))


def eval_pii(rule: PiiExposureRule, base: pl.DataFrame, pii_spans: pl.DataFrame,
             neg: Negation) -> pl.DataFrame:
    scope = rule_turns(base, rule.speakers, rule.channels)
    parts = []
    if rule.pii_types and not pii_spans.is_empty():
        spans = (pii_spans.select(pl.col(CID).cast(pl.String), pl.col(TI).cast(pl.Int32),
                                  "pii_type", pl.col("span_start").cast(pl.Int32),
                                  pl.col("span_end").cast(pl.Int32))
                 .filter(pl.col("pii_type").is_in(list(rule.pii_types)))
                 .join(scope.select(CID, TI, "text"), on=[CID, TI]))
        parts.append(spans.select(
            CID, TI, "span_start", "span_end",
            pl.col("text").str.slice(pl.col("span_start"),
                                     pl.col("span_end") - pl.col("span_start")).alias("matched_text"),
            pl.format("{} said", pl.col("pii_type")).alias("detail")))
    if rule.luhn_scan:
        parts.append(_luhn_valid_runs(scope))
    if rule.request is not None:
        parts.append(find_matches(scope, rule.request, neg)
                     .with_columns(detail=pl.lit("requested")))
    if not parts:
        return empty_loc()
    out = pl.concat([p.cast(LOC_SCHEMA) for p in parts])
    return out.unique([CID, TI, "span_start"], keep="first", maintain_order=True)


def human_context(base: pl.DataFrame) -> pl.DataFrame:
    """Per turn: bots so far, agents before it, and the next turn where a human is reached.

    One row per turn: conversation_id, turn_index, bot_cum (bot turns up to and including
    this one), agent_before, next_human (index of the next agent turn or handoff/transfer
    event strictly after this turn, else null), bots_to_next_human (bot turns after this one
    up to that point, or to the end when there is none).
    """
    # base is sorted by conversation: running sums over the whole frame minus the sum at the
    # conversation's start, and fills that stop at conversation boundaries (no window groups)
    g = pl.col("_g")
    first = g != g.shift(1).fill_null(-1)
    last = g != g.shift(-1).fill_null(-1)
    is_bot = (pl.col("speaker") == "bot").cast(pl.Int32)
    is_agent = (pl.col("speaker") == "agent").cast(pl.Int32)
    is_human = ((pl.col("speaker") == "agent")
                | pl.col("event").is_in(list(HUMAN_EVENTS)).fill_null(False))
    t = base.select(CID, TI, "_g", "speaker", "event").with_columns(
        _bc=is_bot.cum_sum(), _ac=is_agent.cum_sum(), _bot=is_bot, _agent=is_agent,
        _first=first, _last=last, _human=is_human)
    t = t.with_columns(
        bot_cum=pl.col("_bc") - pl.when("_first").then(pl.col("_bc") - pl.col("_bot"))
        .forward_fill(),
        agent_before=pl.col("_ac") - pl.col("_agent")
        - pl.when("_first").then(pl.col("_ac") - pl.col("_agent")).forward_fill())
    t = t.with_columns(
        bot_total=pl.when("_last").then(pl.col("bot_cum")).backward_fill(),
        _h_g=pl.when("_human").then(g).shift(-1).backward_fill(),
        _h_idx=pl.when("_human").then(pl.col(TI)).shift(-1).backward_fill(),
        _h_bot=pl.when("_human").then(pl.col("bot_cum")).shift(-1).backward_fill())
    same = pl.col("_h_g") == g  # the next human turn is in this conversation
    t = t.with_columns(next_human=pl.when(same).then(pl.col("_h_idx")),
                       _next_h_bot=pl.when(same).then(pl.col("_h_bot")))
    return t.select(CID, TI, pl.col("bot_cum").cast(pl.Int32),
                    pl.col("agent_before").cast(pl.Int32), pl.col("next_human").cast(pl.Int32),
                    bots_to_next_human=(pl.coalesce("_next_h_bot", "bot_total")
                                        - pl.col("bot_cum")).cast(pl.Int32))


def eval_trapped(rule: TrappedCustomerRule, base: pl.DataFrame, neg: Negation,
                 ctx: pl.DataFrame) -> pl.DataFrame:
    asks = find_matches(rule_turns(base, rule.speakers, rule.channels), rule.human_request, neg)
    asks = asks.join(ctx, on=[CID, TI]).filter(pl.col("agent_before") == 0)
    n = pl.col("bots_to_next_human")
    trapped = asks.filter(
        (pl.col("next_human").is_null() & (n >= 1))
        | (pl.col("next_human").is_not_null() & (n > rule.max_bot_turns)))
    trapped = _first_per_conversation(trapped).with_columns(detail=pl.when(
        pl.col("next_human").is_null()).then(pl.format("no handoff; {} bot turns after the request", n))
        .otherwise(pl.format("handoff only after {} bot turns", n)))
    return trapped.select(CID, TI, "span_start", "span_end", "matched_text", "detail")


def eval_vulnerable(rule: VulnerableCustomerRule, base: pl.DataFrame, neg: Negation,
                    ctx: pl.DataFrame) -> pl.DataFrame:
    scope = rule_turns(base, rule.speakers, rule.channels)
    parts = [find_matches(scope, m, neg).with_columns(detail=pl.lit(cue))
             for cue, m in rule.cues.items()]
    cues = pl.concat(parts).sort(CID, TI).unique([CID, "detail"], keep="first",
                                                 maintain_order=True)
    cues = cues.join(ctx, on=[CID, TI]).filter(
        (pl.col("agent_before") == 0) & pl.col("next_human").is_null())
    return cues.select(CID, TI, "span_start", "span_end", "matched_text", "detail")


# ----------------------------------------------------------------------------- the rulebook
def evaluate_rule(rule: Any, base: pl.DataFrame, pii_spans: pl.DataFrame, negation: Negation,
                  ctx: pl.DataFrame | None = None, embeddings: Embeddings | None = None,
                  encoder: Any = None, semantic: tuple | None = None) -> pl.DataFrame:
    """Hits (location columns + detail) of one rule over prepared turns (:func:`prepare_turns`)."""
    if isinstance(rule, PhraseRule):
        return eval_phrase(rule, base, negation)
    if isinstance(rule, RequiredRule):
        return eval_required(rule, base, negation)
    if isinstance(rule, OrderingRule):
        return eval_ordering(rule, base, negation)
    if isinstance(rule, PiiExposureRule):
        return eval_pii(rule, base, pii_spans, negation)
    if isinstance(rule, SemanticRule):
        return eval_semantic(rule, base, embeddings, encoder, semantic)
    ctx = human_context(base) if ctx is None else ctx
    if isinstance(rule, TrappedCustomerRule):
        return eval_trapped(rule, base, negation, ctx)
    if isinstance(rule, VulnerableCustomerRule):
        return eval_vulnerable(rule, base, negation, ctx)
    raise TypeError(f"unknown rule type {type(rule).__name__}")  # pragma: no cover


def apply_suppression(rulebook: Rulebook, hits: pl.DataFrame) -> pl.DataFrame:
    """Drop a rule's hits on turns where a rule in its ``suppressed_by`` also hit."""
    for rule in rulebook.active_rules:
        if not rule.suppressed_by or hits.is_empty():
            continue
        covered = (hits.filter(pl.col("rule_id").is_in(list(rule.suppressed_by))
                               & pl.col(TI).is_not_null())
                   .select(CID, TI).unique().with_columns(_cov=pl.lit(True)))
        hits = (hits.join(covered, on=[CID, TI], how="left")
                .filter(~((pl.col("rule_id") == rule.id) & pl.col("_cov").fill_null(False)))
                .drop("_cov"))
    return hits


def score_conversations(rulebook: Rulebook, conversation_ids: pl.Series,
                        hits: pl.DataFrame) -> pl.DataFrame:
    """One row per conversation: risk_score, red_flag, n_hits (see the module docstring)."""
    weights = rulebook.scoring.severity_weights
    per_rule = (hits.group_by(CID, "rule_id").agg(
        w=pl.col("severity").replace_strict(weights, default=0.0, return_dtype=pl.Float64).max(),
        crit=(pl.col("severity") == "critical").any(), n=pl.len()))
    agg = per_rule.group_by(CID).agg(w=pl.col("w").sum(), crit=pl.col("crit").any(),
                                     n_hits=pl.col("n").sum())
    ids = pl.DataFrame({CID: conversation_ids.cast(pl.String)}).unique(maintain_order=True)
    out = ids.join(agg, on=CID, how="left").with_columns(
        risk_score=(1.0 - (-pl.col("w").fill_null(0.0)).exp()))
    return out.select(
        CID, rulebook_version=pl.lit(rulebook.rulebook_version),
        risk_score=pl.col("risk_score"),
        red_flag=pl.col("crit").fill_null(False)
        | (pl.col("risk_score") >= rulebook.scoring.red_flag_threshold),
        n_hits=pl.col("n_hits").fill_null(0).cast(pl.Int32)).cast(SCORE_SCHEMA)


def evaluate_rulebook(rulebook: Rulebook, conversations: pl.DataFrame, turns: pl.DataFrame,
                      pii_spans: pl.DataFrame, embeddings: Embeddings | None = None,
                      *, encoder: Any = None, kinds: set[str] | None = None
                      ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply every enabled rule; return (hits, scores) frames (see the module docstring).

    ``embeddings``: optional precomputed turn embeddings, (keys frame with conversation_id and
    turn_index, float32 array row-aligned with it); turns it lacks are encoded with
    ``encoder`` (required when the rulebook has semantic rules). ``kinds`` restricts evaluation to some rule kinds
    (benchmarks use it); scores then reflect only those rules.
    """
    base = prepare_turns(conversations, turns)
    neg = rulebook.negation
    ctx = None
    rules = [r for r in rulebook.active_rules if kinds is None or r.kind in kinds]
    by_scope: dict[tuple, list[SemanticRule]] = {}
    for r in rules:
        if isinstance(r, SemanticRule):
            by_scope.setdefault(scope_key(r), []).append(r)
    scored = {key: semantic_scores(group, base, embeddings, encoder)
              for key, group in by_scope.items()}  # one pass per scope for all its rules
    parts = []
    for rule in rules:
        if isinstance(rule, TrappedCustomerRule | VulnerableCustomerRule) and ctx is None:
            ctx = human_context(base)
        sem = scored.get(scope_key(rule)) if isinstance(rule, SemanticRule) else None
        loc = evaluate_rule(rule, base, pii_spans, neg, ctx, embeddings, encoder, sem)
        parts.append(loc.cast(LOC_SCHEMA).with_columns(
            rule_id=pl.lit(rule.id), rule_version=pl.lit(rule.version),
            rulebook_version=pl.lit(rulebook.rulebook_version), kind=pl.lit(rule.kind),
            severity=pl.lit(rule.severity)))
    hits = (pl.concat(parts).select(list(HIT_SCHEMA)).cast(HIT_SCHEMA) if parts
            else pl.DataFrame(schema=HIT_SCHEMA))
    hits = apply_suppression(rulebook, hits)
    hits = hits.sort(CID, TI, "rule_id", "span_start", nulls_last=True)
    ids = pl.concat([conversations[CID].cast(pl.String), turns[CID].cast(pl.String)])
    return hits, score_conversations(rulebook, ids, hits)


__all__ = ["HIT_SCHEMA", "SCORE_SCHEMA", "evaluate_rule", "evaluate_rulebook", "find_matches",
           "human_context", "prepare_turns", "score_conversations", "semantic_rows",
           "semantic_scores"]
