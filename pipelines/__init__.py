"""dibao-audit: audits minimum-living-allowance (低保) rolls against cross-reference data.

The public surface the CLI, the DAGs and the review app call.
"""

__version__ = "0.1.0"
