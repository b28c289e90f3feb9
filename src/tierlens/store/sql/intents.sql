-- Intent taxonomies (tierlens.store.intents). Grains:
--   intent_taxonomies: one row per intent taxonomy trained for this warehouse;
--   warehouse_choices: one row per choice a user made for this warehouse.

-- name: save_taxonomy
INSERT OR REPLACE INTO intent_taxonomies VALUES (?, ?, ?, ?, ?, ?, ?, ?)

-- name: taxonomy_exists
SELECT 1 FROM intent_taxonomies WHERE name = ?

-- name: set_choice
INSERT OR REPLACE INTO warehouse_choices VALUES (?, ?, ?)

-- name: choice
SELECT value FROM warehouse_choices WHERE choice = ?

-- name: head_files
SELECT head_json, head_npz FROM intent_taxonomies WHERE name = ?

-- name: taxonomies
SELECT name, n_intents, source, trained_at FROM intent_taxonomies ORDER BY name

-- name: taxonomy_policy
SELECT routing_policy_json FROM intent_taxonomies WHERE name = ?
