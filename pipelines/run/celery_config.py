"""Celery settings of the project's Airflow workers: Airflow's own defaults, plus the modules
the task bodies import, loaded once when a worker starts.

An Airflow 3 Celery worker forks a fresh process for every task instance; the task body then
imports pipelines.run.nightly (pandas, DuckDB, the review app's models), about 3.5 s per task on
this project's machine. Imported in the worker's main process, before its pool forks, they
are already loaded in every task's process. Selected with
AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=pipelines.run.celery_config.CELERY_CONFIG
(docker-compose.yml; the plain-process test in tests/test_airflow_celery.py).
"""

from __future__ import annotations

from typing import Any

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

# the task bodies of dags/dibao_nightly_audit.py and dags/dibao_monthly_publicity.py
TASK_MODULES = ("pipelines.run.nightly", "pipelines.run.monthly")

CELERY_CONFIG: dict[str, Any] = {**DEFAULT_CELERY_CONFIG, "imports": TASK_MODULES}
