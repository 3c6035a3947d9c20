#!/usr/bin/env bash
# Set up, generate a synthetic sample city, and audit it with the embedded default (DuckDB
# in-process, files on disk; no server). Usage: scripts/demo.sh [households] [seed]
set -euo pipefail
cd "$(dirname "$0")/.."

households="${1:-2000}"
seed="${2:-1}"
as_of="2026-10-31"
scripts/setup.sh

.venv/bin/dibao-audit synth --households "$households" --seed "$seed" --out sample/city
.venv/bin/dibao-audit run --input sample/city --output "sample/out/$as_of" --as-of "$as_of"
echo
echo "Outputs of the audit of $as_of are in $(pwd)/sample/out/$as_of:"
ls -1 "sample/out/$as_of"
