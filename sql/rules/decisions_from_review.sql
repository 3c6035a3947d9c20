-- decisions_from_review: the review app's decisions as copied when the run started.
-- inputs: $path (decisions_review.parquet in the run's work folder). grain: one decision
-- (several per finding when decided again). _order: file order, for ties.
SELECT finding_id, decision, decided_by, decided_at, reason, approved_by, effective_from,
       'review' AS source, row_number() OVER () AS _order
FROM read_parquet($path)
