-- links: every dataset's links (the roll with itself first), as the link stage wrote them.
-- inputs: $paths (links_<dataset>.parquet of the run's work folder, in link order).
-- grain: (dataset, record_id, member_key). key: the same.
SELECT * FROM read_parquet($paths)
