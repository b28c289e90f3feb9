-- Compliance results (tierlens.store.compliance). Grains:
--   compliance_rulebooks: one row per rulebook_version ever applied (content fixed);
--   compliance_hits: one row per rule hit and rulebook_version;
--   compliance_scores: one row per conversation and rulebook_version;
--   compliance_runs: one row per apply_rulebook call;
--   applied_versions: one row per conversation and component (model | rulebook).

-- name: registered_rulebook
SELECT content_hash, source FROM compliance_rulebooks WHERE rulebook_version = ?

-- name: register_rulebook
INSERT INTO compliance_rulebooks VALUES (?, ?, ?, ?, ?, ?)

-- name: current_rulebook
SELECT r.rulebook_json, r.source FROM current_versions v
JOIN compliance_rulebooks r ON r.rulebook_version = v.version
WHERE v.component = 'rulebook'

-- name: to_evaluate
-- $1 version, $2 since (NULL: all), $3 only those without results under the rulebook last
-- applied to them (none applied yet: this one), so a later rulebook never rewrites history
-- and a changed re-delivery is scored again
SELECT c.conversation_id FROM core_conversations c
WHERE ($2::TIMESTAMPTZ IS NULL OR c.started_at >= $2)
  AND (NOT $3 OR NOT EXISTS (
        SELECT 1 FROM compliance_scores s WHERE s.conversation_id = c.conversation_id
          AND s.rulebook_version = coalesce(
              (SELECT a.version FROM applied_versions a
               WHERE a.conversation_id = c.conversation_id AND a.component = 'rulebook'), $1)))
ORDER BY c.conversation_id

-- name: delete_hits
DELETE FROM compliance_hits WHERE rulebook_version = ?
  AND conversation_id IN (SELECT conversation_id FROM _ids)

-- name: batch_conversations
SELECT c.conversation_id, c.channel, c.started_at FROM core_conversations c
JOIN _ids USING (conversation_id)

-- name: batch_turns
SELECT t.conversation_id, t.turn_index, t.speaker, t.text, t.event
FROM core_turns t JOIN _ids USING (conversation_id)
ORDER BY t.conversation_id, t.turn_index

-- name: batch_pii
SELECT p.conversation_id, p.turn_index, p.pii_type, p.span_start, p.span_end
FROM pii_spans p JOIN _ids USING (conversation_id)

-- name: mark_applied
INSERT OR REPLACE INTO applied_versions
SELECT conversation_id, 'rulebook', ?, now() FROM _ids

-- name: record_run
INSERT INTO compliance_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: known_versions
SELECT DISTINCT rulebook_version FROM compliance_scores WHERE rulebook_version IN (?, ?)

-- name: diff_versions
-- one row per conversation scored under both versions whose red_flag changed
WITH o AS (SELECT conversation_id, red_flag, risk_score FROM compliance_scores
           WHERE rulebook_version = $old),
     n AS (SELECT conversation_id, red_flag, risk_score FROM compliance_scores
           WHERE rulebook_version = $new),
     ho AS (SELECT conversation_id, list(DISTINCT rule_id ORDER BY rule_id) AS rules
            FROM compliance_hits WHERE rulebook_version = $old GROUP BY 1),
     hn AS (SELECT conversation_id, list(DISTINCT rule_id ORDER BY rule_id) AS rules
            FROM compliance_hits WHERE rulebook_version = $new GROUP BY 1)
SELECT c.conversation_id, c.started_at, c.channel,
       CASE WHEN n.red_flag THEN 'newly_flagged' ELSE 'no_longer_flagged' END AS change,
       o.risk_score AS old_risk_score, n.risk_score AS new_risk_score,
       list_filter(coalesce(hn.rules, []), x -> NOT list_contains(coalesce(ho.rules, []), x))
           AS rules_only_new,
       list_filter(coalesce(ho.rules, []), x -> NOT list_contains(coalesce(hn.rules, []), x))
           AS rules_only_old
FROM o JOIN n USING (conversation_id)
JOIN core_conversations c USING (conversation_id)
LEFT JOIN ho USING (conversation_id) LEFT JOIN hn USING (conversation_id)
WHERE o.red_flag <> n.red_flag AND ($since IS NULL OR c.started_at >= $since)
ORDER BY change, new_risk_score DESC, c.conversation_id
