"""Step 2, validate: Great Expectations suites (expectations/<dataset>.json) over the ingested
tables.

Takes: the `norm_<dataset>` tables. Gives: `quality/validation.json`, data docs, and an
InputError (exit 2) naming each failed critical expectation with its file and rows.
"""
