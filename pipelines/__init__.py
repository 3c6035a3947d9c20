"""dibao-audit: audits minimum-living-allowance (低保) rolls against cross-reference data.

The public surface the CLI, the DAGs and the review app call. Names resolve lazily, so that
`import pipelines` (e.g. while Airflow parses a DAG file) loads nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "run_audit": "pipelines.run.audit",
    "stages": "pipelines.run.stages",
    "load_config": "pipelines.config",
    "load_rules": "pipelines.rules.policy",
    "InputError": "pipelines.errors",
    "ingest_dataset": "pipelines.ingest.dataset",
    "find_inputs": "pipelines.ingest.dataset",
    "validate": "pipelines.validate.quality",
    "link_all": "pipelines.link.linker",
    "apply_rules": "pipelines.rules.runner",
    "write_outputs": "pipelines.rules.findings",
    "generate_city": "pipelines.synth",
    "evaluate_run": "pipelines.synth.evaluation",
    "PublicityRow": "pipelines.publicity.lists",
    "write_publicity": "pipelines.publicity.lists",
    "publish_audit": "pipelines.publicity.publish",
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
    if module.endswith(f".{name}"):  # a module exported as a whole (stages)
        return importlib.import_module(module)
    return getattr(importlib.import_module(module), name)
