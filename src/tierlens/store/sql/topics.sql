-- Topics (tierlens.store.topics). Grains:
--   core_turns: one row per turn of the latest delivery of each conversation;
--   topic_centroids: one row per topic ever discovered (stable ids; retired: active false);
--   conversation_topic_assignments: one row per conversation with a request;
--   topic_monthly: one row per month and topic with at least one conversation.

-- name: customer_turns
SELECT conversation_id, turn_index, speaker, text FROM core_turns
WHERE speaker = 'customer' AND text IS NOT NULL AND text <> ''
ORDER BY conversation_id, turn_index

-- name: centroids
SELECT topic_id, label, keywords, centroid, n_requests, active, created_at, refit_at
FROM topic_centroids ORDER BY topic_id
