"""dibao-audit: audits minimum-living-allowance (低保) rolls against cross-reference data.

The public surface the CLI, the DAGs and the review app call. Names resolve lazily, so that
`import pipelines` (e.g. while Airflow parses a DAG file) loads nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # running the audit: the CLI's run, the stages the DAG tasks call, what the tasks do
    "run_audit": "pipelines.run.audit",
    "stages": "pipelines.run.stages",
    "nightly": "pipelines.run.nightly",
    "monthly": "pipelines.run.monthly",
    "settings": "pipelines.run.settings",
    "publish_audit": "pipelines.publicity.publish",
    # configuration and errors
    "load_config": "pipelines.config",
    "load_rules": "pipelines.rules.policy",
    "codes": "pipelines.rules.codes",
    "InputError": "pipelines.errors",
    "UsageError": "pipelines.errors",
    "ServiceUnavailable": "pipelines.errors",
    # the steps, for tests and benchmarks
    "ingest_dataset": "pipelines.ingest.dataset",
    "find_inputs": "pipelines.ingest.dataset",
    "validate": "pipelines.validate.quality",
    "link_all": "pipelines.link.linker",
    "apply_rules": "pipelines.rules.runner",
    "write_outputs": "pipelines.rules.findings",
    "write_publicity": "pipelines.publicity.lists",
    "PublicityRow": "pipelines.publicity.lists",
    "open_warehouse": "pipelines.io.warehouse",
    "export_decisions": "pipelines.review.export",
    # generated cities with known answers
    "generate_city": "pipelines.synth",
    "evolve_month": "pipelines.synth.months",
    "evaluate_run": "pipelines.synth.evaluation",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pipelines' has no attribute {name!r}")
    if module.endswith(f".{name}"):  # a module exported as a whole (stages)
        return importlib.import_module(module)
    return getattr(importlib.import_module(module), name)
