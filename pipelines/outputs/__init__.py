"""Step 5, outputs: the audit's files and its record in the warehouse.

Takes: the result tables of the rules step. Gives: the review bundle (`evidence.py`), the
history tables and `changes.csv` against the previous month end (`history.py`), and the run
manifest with the quarantine summaries (`manifest.py`).
"""
