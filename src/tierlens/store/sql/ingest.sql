-- Ingest (tierlens.store.writes). Grains:
--   ingest_runs: one row per ingest run (CLI call, flow run or demo run);
--   ingested_files: one row per distinct input file content (sha256), the first time ingested;
--   core_conversations: one row per conversation (its latest delivery);
--   quarantine: one row per rejected record (or unreadable file), with where and why;
--   dq_results: one row per expectation evaluated per validated batch.

-- name: stored_hashes
-- the incoming batch (registered as _incoming) against what is stored
SELECT i.conversation_id, c.content_hash AS old_hash, i.content_hash AS new_hash
FROM _incoming i LEFT JOIN core_conversations c USING (conversation_id)

-- name: running_ingests
SELECT run_id FROM ingest_runs WHERE status = 'running'

-- name: fail_ingests
UPDATE ingest_runs SET status = 'failed', error = ?, finished_at = ?
WHERE run_id IN (SELECT unnest(?::VARCHAR[]))

-- name: start_ingest
INSERT INTO ingest_runs (run_id, started_at, status, paths) VALUES (?, ?, ?, ?)

-- name: file_seen
SELECT 1 FROM ingested_files WHERE content_hash = ?

-- name: clear_file_quarantine
DELETE FROM quarantine WHERE file_hash = ?

-- name: clear_file_dq
DELETE FROM dq_results WHERE file_hash = ?

-- name: clear_file_failure
-- the file-level row (no source line) of a file, by its hash
DELETE FROM quarantine WHERE file_hash = ? AND source_line IS NULL

-- name: clear_unhashed_file_failure
-- the file-level row of a file that couldn't be hashed: the path is the only key
DELETE FROM quarantine WHERE file_hash IS NULL AND source_file = ? AND source_line IS NULL

-- name: record_file
INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, ?)
