-- Model scores and versions (tierlens.store.scores). Grains:
--   turn_scores: one row per scored turn and model_version;
--   model_conversation_scores: one row per conversation and model_version;
--   applied_versions: one row per conversation and component (model | rulebook);
--   current_versions: one row per component: which version the views show.

-- name: current_version
SELECT version FROM current_versions WHERE component = ?

-- name: set_current_version
INSERT OR REPLACE INTO current_versions VALUES (?, ?, now())

-- name: unscored_conversations
-- conversations without scores under the version ($1), or whose last applied model version
-- is another one (a changed re-delivery lost its scores), started on/after $3 (NULL: all)
SELECT conversation_id FROM core_conversations c
WHERE (NOT EXISTS (SELECT 1 FROM model_conversation_scores m
                   WHERE m.conversation_id = c.conversation_id AND m.model_version = $1)
       OR EXISTS (SELECT 1 FROM applied_versions a
                  WHERE a.conversation_id = c.conversation_id AND a.component = 'model'
                    AND a.version <> $1))
  AND ($2::TIMESTAMPTZ IS NULL OR c.started_at >= $2)
ORDER BY conversation_id

-- name: conversations_since
SELECT conversation_id FROM core_conversations c
WHERE ($1::TIMESTAMPTZ IS NULL OR c.started_at >= $1)
ORDER BY conversation_id

-- name: turns_of
-- core turns of the ids in the registered relation _ids (one row per turn)
SELECT t.* FROM core_turns t JOIN _ids USING (conversation_id)
ORDER BY conversation_id, turn_index

-- name: delete_turn_scores
DELETE FROM turn_scores WHERE model_version = ?
  AND conversation_id IN (SELECT conversation_id FROM _ids)

-- name: delete_conversation_scores
DELETE FROM model_conversation_scores WHERE model_version = ?
  AND conversation_id IN (SELECT conversation_id FROM _ids)

-- name: mark_applied
INSERT OR REPLACE INTO applied_versions
SELECT conversation_id, ?, ?, now() FROM _ids
