-- Public views: the product's stable interface (see docs/views.md). Recreated after
-- every migration run. Don't rename columns; add new ones at the end.
-- Each conversation shows the model and rulebook version last applied to it
-- (applied_versions; the current version for one not scored since migration 0007).

-- grain: one row per conversation: the versions last applied to it (internal, not published)
CREATE OR REPLACE VIEW applied AS
SELECT
    c.conversation_id,
    coalesce(am.version, (SELECT version FROM current_versions WHERE component = 'model'))
        AS model_version,
    coalesce(ar.version, (SELECT version FROM current_versions WHERE component = 'rulebook'))
        AS rulebook_version
FROM core_conversations c
LEFT JOIN applied_versions am ON am.conversation_id = c.conversation_id AND am.component = 'model'
LEFT JOIN applied_versions ar
  ON ar.conversation_id = c.conversation_id AND ar.component = 'rulebook';

-- grain: one row per conversation (its latest delivery)
CREATE OR REPLACE VIEW conversations AS
SELECT
    c.conversation_id, c.channel, c.customer_id, c.started_at, c.ended_at, c.first_queue,
    c.tier_path, s.intent, s.intent_confidence,
    c.language, c.csat, c.nps, c.n_turns, c.metadata,
    json_extract_string(c.metadata, '$.bot_version') AS bot_version
FROM core_conversations c
JOIN applied a ON a.conversation_id = c.conversation_id
LEFT JOIN model_conversation_scores s
  ON s.conversation_id = c.conversation_id AND s.model_version = a.model_version;

-- grain: one row per turn
CREATE OR REPLACE VIEW turns AS
SELECT
    t.conversation_id, t.turn_index, t.speaker, t.text, t.ts, t.agent_id, t.bot_confidence,
    t.event, s.sentiment_label, s.sentiment_score,
    t.queue, s.intent, s.intent_confidence, s.oos_score, s.bot_outcome, s.csat_predicted,
    s.out_of_scope
FROM core_turns t
JOIN applied a ON a.conversation_id = t.conversation_id
LEFT JOIN turn_scores s
  ON s.conversation_id = t.conversation_id AND s.turn_index = t.turn_index
 AND s.model_version = a.model_version;

-- grain: one row per conversation, for the model and rulebook versions last applied to it;
-- outcomes are those derived under the current model version (from each conversation's
-- latest scores). All versions stay in model_conversation_scores / outcomes / compliance_scores.
CREATE OR REPLACE VIEW conversation_scores AS
SELECT
    c.conversation_id, m.sentiment_start, m.sentiment_end, m.sentiment_delta,
    m.resolution, m.resolution_confidence, o.escalated, o.escalation_reason, o.handoff_seconds,
    o.repeated_after_handoff, o.trapped, o.contained_raw, o.contained_durable,
    o.repeat_strict, o.repeat_loose, o.routed_correctly, o.fcr, o.qa_score,
    cs.risk_score, cs.red_flag, m.csat_predicted, v.model_version, v.rulebook_version,
    m.resolution_evidence, m.intent, m.intent_confidence, o.tier, o.month, o.repeat_status,
    o.should_have_escalated, o.needless_escalation, o.abandoned, o.bot_entered,
    o.aht_seconds, o.bot_seconds, o.human_seconds, o.cost, cs.n_hits, o.elapsed_seconds
FROM core_conversations c
JOIN applied v ON v.conversation_id = c.conversation_id
LEFT JOIN model_conversation_scores m
  ON m.conversation_id = c.conversation_id AND m.model_version = v.model_version
LEFT JOIN outcomes o
  ON o.conversation_id = c.conversation_id
 AND o.model_version = (SELECT version FROM current_versions WHERE component = 'model')
LEFT JOIN compliance_scores cs
  ON cs.conversation_id = c.conversation_id AND cs.rulebook_version = v.rulebook_version;

-- grain: one row per rule hit under the rulebook version last applied to its conversation,
-- with its latest disposition
CREATE OR REPLACE VIEW compliance_flags AS
SELECT
    h.conversation_id, h.turn_index, h.rule_id, h.rule_version, h.severity,
    h.span_start, h.span_end, h.matched_text, d.disposition,
    h.rulebook_version, h.kind, h.detail, d.note AS disposition_note, d.who AS disposed_by,
    d.disposed_at
FROM compliance_hits h
LEFT JOIN (
    SELECT * FROM dispositions
    QUALIFY row_number() OVER (PARTITION BY conversation_id, rule_id, coalesce(turn_index, -1)
                               ORDER BY disposed_at DESC, seq DESC) = 1
) d ON d.conversation_id = h.conversation_id AND d.rule_id = h.rule_id
   AND coalesce(d.turn_index, -1) = coalesce(h.turn_index, -1)
LEFT JOIN applied_versions ar
  ON ar.conversation_id = h.conversation_id AND ar.component = 'rulebook'
WHERE h.rulebook_version = coalesce(
    ar.version, (SELECT version FROM current_versions WHERE component = 'rulebook'));

-- grain: one row per conversation, role (agent | bot) and agent id (a bot's: its version)
-- that spoke in it: the dashboard's agent filters and leaderboards read it instead of the turns
CREATE OR REPLACE VIEW conversation_agents AS
SELECT DISTINCT conversation_id, speaker AS role, agent_id
FROM core_turns
WHERE speaker IN ('agent', 'bot') AND agent_id IS NOT NULL;

-- grain: one row per month (cohort = start month), tier (ai, human, all) and KPI
CREATE OR REPLACE VIEW kpi_monthly AS
SELECT month, tier, kpi, value, numerator, denominator, model_version, as_of,
       value_corrected, ci_low, ci_high, n_reviewed
FROM kpi_monthly_all
WHERE model_version = (SELECT version FROM current_versions WHERE component = 'model');

-- grain: one row per month and topic (contact-reason discovery; docs/topics.md)
CREATE OR REPLACE VIEW topics AS
SELECT m.topic_id, c.label, c.keywords, m.n_conversations, m.share, m.escalation_rate,
       m.containment_durable, m.aht_seconds, m.cost, m.change_vs_previous_month,
       m.example_conversation_ids, m.month, m.status, m.matched_intent, m.intent_share,
       m.target_containment, m.opportunity
FROM topic_monthly m JOIN topic_centroids c USING (topic_id);

-- grain: one row per conversation with a request
CREATE OR REPLACE VIEW conversation_topics AS
SELECT conversation_id, topic_id, distance, turn_index FROM conversation_topic_assignments;

-- Versioned derive outputs, as published: only the current model version's rows, so a
-- rescore under a new version never shows (or counts) a conversation twice. The snapshot
-- publishes each under the table's own name (tierlens.store.publish.PUBLISHED_FROM).
-- grain: one row per conversation (current model version)
CREATE OR REPLACE VIEW outcomes_current AS
SELECT * FROM outcomes
WHERE model_version = (SELECT version FROM current_versions WHERE component = 'model');

-- grain: one row per conversation and criterion (current model version)
CREATE OR REPLACE VIEW qa_criteria_scores_current AS
SELECT * FROM qa_criteria_scores
WHERE model_version = (SELECT version FROM current_versions WHERE component = 'model');

-- grain: one row per evidence kind, expected queue and actual queue (current model version)
CREATE OR REPLACE VIEW misroute_matrix_current AS
SELECT * FROM misroute_matrix
WHERE model_version = (SELECT version FROM current_versions WHERE component = 'model');
