-- Outcomes and KPIs (tierlens.store.outcomes). Grains:
--   outcomes: one row per conversation and model_version;
--   kpi_monthly_all: one row per month, tier, kpi and model_version;
--   qa_criteria_scores: one row per conversation, scorecard criterion and model_version;
--   misroute_matrix: one row per model_version, evidence kind, expected and actual queue;
--   verification_sample: one row per sampled conversation (the latest derive's);
--   routing_policy: one row per intent of the policy the latest derive used;
--   reviews: one row per review event (mirror of the review store).

-- name: kpis_for_month
SELECT month, tier, kpi, value, numerator, denominator, model_version,
       value_corrected, ci_low, ci_high, n_reviewed
FROM kpi_monthly_all WHERE month = ? AND model_version = ?

-- name: latest_kpi_version
SELECT max(model_version) FROM kpi_monthly_all

-- name: has_reviews
SELECT count(*) FROM information_schema.tables WHERE table_name = 'reviews'

-- name: review_events
-- every review event, in order (criteria: JSON {criterion: 1|0|null}); calibration picks each
-- reviewer's latest per conversation (tierlens.metrics.scorecard.latest_reviews)
SELECT seq, conversation_id, reviewer, criteria, total FROM reviews ORDER BY seq

-- name: auto_criteria
SELECT conversation_id, criterion, score FROM qa_criteria_scores WHERE model_version = ?

-- name: outcomes_of
SELECT conversation_id, month, intent, bot_entered, escalated, contained_durable,
       aht_seconds, cost
FROM outcomes WHERE model_version = ?
