-- 0007: elapsed time kept apart from handle time (docs/metrics.md, "Handle time and elapsed
-- time"). aht_seconds, bot_seconds and human_seconds are active work time (capped gaps per
-- channel); elapsed_seconds is the first turn to the last. Appended at the end of the table.
ALTER TABLE outcomes ADD COLUMN elapsed_seconds DOUBLE;
