"""dibao-audit: audits minimum-living-allowance (低保) rolls against cross-reference data.

The public surface the CLI, the DAGs and the review app call. Names resolve lazily, so that
`import pipelines` (e.g. while Airflow parses a DAG file) loads nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "run_audit": "pipelines.run",
    "stages": "pipelines",
    "load_config": "pipelines.config",
    "load_rules": "pipelines.policy",
    "InputError": "pipelines.errors",
    "ingest_dataset": "pipelines.ingest",
    "find_inputs": "pipelines.ingest",
    "validate": "pipelines.quality",
    "link_all": "pipelines.linkage.linker",
    "apply_rules": "pipelines.rules",
    "write_outputs": "pipelines.findings",
    "generate_city": "pipelines.synth",
    "evaluate_run": "pipelines.evaluation",
    "PublicityRow": "pipelines.publicity",
    "write_publicity": "pipelines.publicity",
    "publish_audit": "pipelines.publication",
    "open_warehouse": "pipelines.io.warehouse",
    "ServiceUnavailable": "pipelines.errors",
    "UsageError": "pipelines.errors",
    "evolve_month": "pipelines.synth.months",
    "export_decisions": "pipelines.review.export",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pipelines' has no attribute {name!r}")
    if module == "pipelines":
        return importlib.import_module(f"pipelines.{name}")
    return getattr(importlib.import_module(module), name)
