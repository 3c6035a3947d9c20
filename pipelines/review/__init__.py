"""Caseworker review app (issue 7): queue, evidence, decisions, audit trail.

Public surface: `create_app` (pipelines.review.app), `import_run` (importer),
`export_decisions` (export, the pipeline's hook), `resolve_url` / `open_database` (db).
"""

import logging

# Alembic announces every plugin and migration at INFO; only its warnings matter to users.
logging.getLogger("alembic").setLevel(logging.WARNING)
