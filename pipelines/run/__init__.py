"""Running the audit: the stages in order, in one process or as Airflow tasks.

- `stages.py`: each stage as a function of paths (what the CLI and the DAG tasks call);
- `audit.py`: `dibao-audit run`, the stages one after the other;
- `nightly.py`, `monthly.py`: what the DAG tasks do around the stages (locations, failure
  reports, month-end selection); `task_defaults.py`: owner, retries, backoff of every task;
- `workdir.py`: the run's work folder (Parquet tables, JSON facts, timings).
Importing this package loads nothing heavy (Airflow parses the DAG files that import it).
"""
