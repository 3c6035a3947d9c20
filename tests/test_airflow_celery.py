"""The docker-compose topology as plain processes (benchmarks/airflow_cluster.py): Airflow 3
with the CeleryExecutor, two Celery workers, PostgreSQL and Redis on loopback. The test
triggers the nightly DAG on a small generated city through the REST API, its large registers
linked in partitions, waits for success, and checks that the tasks ran on both Celery workers
and that findings.csv equals that of the CLI's single-process run."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.airflow_cluster import Cluster, ClusterError, pg, running_cluster, trigger
from pipelines.cli import main

pytestmark = [pytest.mark.services, pytest.mark.slow]

DAG_ID = "dibao_nightly_audit"
AS_OF = "2026-10-31"
RUN_TIMEOUT = 480.0
WORKERS = ("worker-a", "worker-b")
#: registers of more than this many records are linked in partitions (mapped tasks)
PARTITION_RECORDS = 400


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    try:
        with running_cluster(tmp_path, WORKERS) as started:
            yield started
    except ClusterError as exc:
        pytest.fail(str(exc))


def test_nightly_dag_runs_on_celery_workers_like_the_cli(cluster: Cluster,
                                                        tmp_path: Path) -> None:
    import httpx

    # meanwhile the processes start: the input city and the CLI's result to compare with
    city = tmp_path / "city"
    assert main(["synth", "--households", "300", "--seed", "7", "--out", str(city)]) == 0
    cli_out = tmp_path / "cli" / AS_OF
    assert main(["run", "--input", str(city), "--output", str(cli_out), "--as-of", AS_OF]) == 0

    client = httpx.Client(base_url=cluster.api, timeout=10.0)
    cluster.wait_ready(client, DAG_ID)
    errors = client.get("/api/v2/importErrors").json()
    assert errors["total_entries"] == 0, errors

    out = tmp_path / "airflow_out"
    config = tmp_path / "partitions.yaml"
    config.write_text(f"resources:\n  partition_records: {PARTITION_RECORDS}\n",
                      encoding="utf-8")
    conf = {"input_dir": str(city), "output_dir": str(out), "as_of": AS_OF,
            "config_file": str(config)}
    run_id = trigger(cluster, client, DAG_ID, conf, RUN_TIMEOUT)
    runs = client.get(f"/api/v2/dags/{DAG_ID}/dagRuns").json()["dag_runs"]
    assert [r["dag_run_id"] for r in runs] == [run_id], runs

    with contextlib.closing(pg(cluster.dbname)) as conn, conn.cursor() as cur:
        cur.execute("SELECT task_id, map_index, state, queue, external_executor_id "
                    "FROM task_instance WHERE dag_id = %s AND run_id = %s", (DAG_ID, run_id))
        tis = cur.fetchall()

    def results() -> dict[str, str] | None:
        # the worker stores a task's Celery result just after the task reports its state to
        # the API server: the last task's result may land a moment after the run succeeds
        with contextlib.closing(pg(cluster.dbname)) as conn, conn.cursor() as cur:
            cur.execute("SELECT task_id, status FROM celery_taskmeta")
            found = dict(cur.fetchall())
        done = all(found.get(celery_id) != "STARTED" for *_, celery_id in tis)
        return found if done else None

    celery = cluster.wait("the Celery results", results, timeout=60)
    assert tis and all(state == "success" for _, _, state, _, _ in tis), tis
    mapped = {(task, index) for task, index, *_ in tis if index >= 0}
    assert len({i for t, i in mapped if t == "ingest"}) >= 5, tis
    linked = sorted(i for t, i in mapped if t == "link")
    # more link pieces than datasets: the registers of more than PARTITION_RECORDS records
    # were linked in partitions, one mapped task each
    pieces = json.loads((out / AS_OF / "manifest.json").read_text(encoding="utf-8"))["linkage"]
    assert len(linked) == sum(s["pieces"] for s in pieces if s["dataset"] != "roll"), tis
    assert len(linked) > len(pieces) - 1 and max(s["pieces"] for s in pieces) >= 3, pieces
    # every task instance went through Celery: a Celery task id, the default queue, and a
    # SUCCESS result in the Celery result backend
    for task, index, _, queue, celery_id in tis:
        assert queue == "default" and celery_id, (task, index, queue, celery_id)
        assert celery.get(celery_id) == "SUCCESS", (task, index, celery_id)
    # and the worker's log shows it executing each of them, mapped tasks one by one
    executed = {w: [line for line in cluster.log(w).read_text(errors="replace").splitlines()
                    if "Executing workload in Celery" in line] for w in WORKERS}
    for task, index, _, _, celery_id in tis:
        path = f"run_id={run_id}/task_id={task}/" + (f"map_index={index}/" if index >= 0 else "")
        assert any(f"[{celery_id}]" in line and path in line
                   for lines in executed.values() for line in lines), path
    # both workers linked pieces
    for worker, lines in executed.items():
        assert any("task_id=link/" in line for line in lines), (worker, lines)

    assert (out / AS_OF / "findings.csv").read_bytes() == (cli_out / "findings.csv").read_bytes()
    assert json.loads((out / AS_OF / "manifest.json").read_text(encoding="utf-8"))["findings"] \
        == json.loads((cli_out / "manifest.json").read_text(encoding="utf-8"))["findings"]
    # the worker recorded the audit in the PostgreSQL warehouse and imported it for review
    findings = len((cli_out / "findings.csv").read_text(encoding="utf-8").splitlines()) - 1
    with contextlib.closing(pg(f"{cluster.dbname}_warehouse")) as conn, conn.cursor() as cur:
        cur.execute("SELECT as_of::text, findings FROM runs")
        assert cur.fetchall() == [(AS_OF, findings)]
    with contextlib.closing(pg(f"{cluster.dbname}_review")) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM findings")
        assert cur.fetchone() == (findings,)
