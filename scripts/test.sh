#!/usr/bin/env bash
# Set up everything and run all checks: ruff, mypy, and the whole pytest suite (slow and
# service-backed tests included). Usage: scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/system-packages.sh test
scripts/services.sh

echo "== ruff" >&2
.venv/bin/ruff check .
if ls dags/*.py >/dev/null 2>&1; then .venv/bin/ruff check --select AIR dags; fi
echo "== mypy" >&2
# mypy's cache lives beside uv's, outside the checkout, so that a fresh clone re-checks only
# what changed (cold: 36 s; mypy validates every cached module against its source's hash)
.venv/bin/mypy --cache-dir "${MYPY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dibao-audit/mypy}"
echo "== pytest" >&2
# two worker processes (two cores); a test file stays in one process, so its module-scoped
# fixtures (a generated city, an Airflow home, a review database) are made once; the longest
# files first (tests/conftest.py)
.venv/bin/pytest -n 2 --dist loadfile --no-loadscope-reorder "$@"
