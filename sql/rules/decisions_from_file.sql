-- decisions_from_file: decisions.csv of the input folder (without the review app).
-- inputs: norm_decisions. grain: one decision (several per finding when decided again).
-- _order: the file's row number, for ties.
SELECT finding_id, decision_code AS decision, decided_by,
       strftime(decided_at, '%Y-%m-%d') AS decided_at, reason,
       NULL::VARCHAR AS approved_by, NULL::VARCHAR AS effective_from, 'file' AS source,
       _row AS _order
FROM norm_decisions
