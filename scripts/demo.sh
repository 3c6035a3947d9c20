#!/usr/bin/env bash
# Set up, generate a synthetic sample city, and audit it with the nightly Airflow DAG, run by
# Airflow itself (`airflow dags test`: SQLite metadata under var/airflow, no server; DuckDB
# in-process, files on disk), then publish its month-end publicity lists with the monthly DAG.
# Usage: scripts/demo.sh [households] [seed]
set -euo pipefail
cd "$(dirname "$0")/.."

households="${1:-2000}"
seed="${2:-1}"
as_of="2026-10-31"
scripts/setup.sh

root="$(pwd)"
export AIRFLOW_HOME="$root/var/airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$root/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$AIRFLOW_HOME/airflow.db"
mkdir -p "$AIRFLOW_HOME"

.venv/bin/dibao-audit synth --households "$households" --seed "$seed" --out sample/city
echo "demo: preparing the Airflow metadata database in $AIRFLOW_HOME" >&2
.venv/bin/airflow db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 \
  || { tail -n 30 "$AIRFLOW_HOME/db-migrate.log" >&2; exit 1; }

log="$AIRFLOW_HOME/dags-test-$as_of.log"
conf="{\"input_dir\": \"$root/sample/city\", \"output_dir\": \"$root/sample/out\", \"as_of\": \"$as_of\"}"
# a DAG run, its tasks printed as they finish (from the metadata database)
run_dag() {  # dag_id conf log
  .venv/bin/airflow dags test "$1" -c "$2" >"$3" 2>&1 &
  local pid=$!
  .venv/bin/python scripts/dag_progress.py "$AIRFLOW_HOME/airflow.db" "$1" "$pid" &
  local watcher=$!
  local status=0
  wait "$pid" || status=$?
  wait "$watcher" || true
  return "$status"
}
echo "demo: running DAG dibao_nightly_audit for $as_of (log: $log)" >&2
if ! run_dag dibao_nightly_audit "$conf" "$log"; then
  tail -n 40 "$log" >&2
  echo "demo: the DAG run failed; report: $root/sample/out/_failed/$as_of.json" >&2
  exit 1
fi
plog="$AIRFLOW_HOME/dags-test-publicity-$as_of.log"
pconf="{\"as_of\": \"$as_of\", \"output_dir\": \"$root/sample/out\"}"
echo "demo: running DAG dibao_monthly_publicity for $as_of (log: $plog)" >&2
if ! run_dag dibao_monthly_publicity "$pconf" "$plog"; then
  tail -n 40 "$plog" >&2
  echo "demo: the publicity run failed" >&2
  exit 1
fi
echo
echo "Outputs of the audit of $as_of are in $root/sample/out/$as_of:"
ls -1 "sample/out/$as_of"
echo "History (warehouse): $root/sample/out/warehouse.duckdb"
echo
.venv/bin/python -m pipelines.outputs.headline "$root/sample/out/$as_of"
