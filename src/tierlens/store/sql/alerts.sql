-- Alerts (tierlens.store.alerts). Grains:
--   alerts: one row per alert event (a threshold crossed, detected by one run);
--   kpi_monthly (view): one row per month, tier and kpi of the current model version.

-- name: derived_kpis
SELECT count(*) FROM kpi_monthly_all

-- name: current_kpis
SELECT month, tier, kpi, value, numerator, denominator FROM kpi_monthly

-- name: known_alerts
SELECT alert_id FROM alerts
