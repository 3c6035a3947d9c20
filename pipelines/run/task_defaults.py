"""Task defaults shared by the project's DAGs: owner, retries and backoff.

Kept apart from the task bodies (pipelines.run.nightly imports the data libraries) so that a DAG
file can import it at parse time for nothing but a few standard-library names.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any


def task_defaults(**extra: Any) -> dict[str, Any]:
    """default_args of every task: two retries, the first after $DIBAO_RETRY_DELAY seconds
    (default 120), doubling up to 30 minutes; `extra` adds to them (e.g. a failure callback)."""
    return {
        "owner": "dibao-audit",
        "retries": 2,
        "retry_delay": dt.timedelta(seconds=int(os.environ.get("DIBAO_RETRY_DELAY", "120"))),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": dt.timedelta(minutes=30),
        **extra,
    }
