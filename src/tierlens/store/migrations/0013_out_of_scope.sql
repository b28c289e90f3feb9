-- 0013: out of scope as a decision. `out_of_scope` is TRUE when a customer turn's oos_score is
-- at or above the threshold shipped with the model version that scored it (the threshold is
-- part of that version: tierlens.score.oos). Rows scored before this migration keep NULL
-- until `tierlens rescore` scores them again.

ALTER TABLE turn_scores ADD COLUMN out_of_scope BOOLEAN;
