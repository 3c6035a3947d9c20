#!/usr/bin/env bash
# Set up the project on a fresh machine: uv (from PyPI) and the locked virtual environment.
# Idempotent: a second run only checks. Usage: scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  echo "setup: installing uv from PyPI" >&2
  python3 -m pip install --quiet "uv==0.13.8"
fi
UV="uv"
command -v uv >/dev/null 2>&1 || UV="python3 -m uv"

# The CJK font embedded in publicity PDFs (Debian's fonts-noto-cjk).
scripts/system-packages.sh runtime

# The lock file pins every package; --frozen refuses to drift from it.
$UV sync --frozen --all-extras --quiet
echo "setup: environment ready in .venv ($(.venv/bin/python --version))" >&2
