"""The docker-compose topology as plain processes: Airflow 3 with the CeleryExecutor.

The api-server, scheduler, dag-processor and two Celery workers run as child processes against
the machine's PostgreSQL (metadata and Celery results, a database of this test's own) and Redis
(broker, one DB number flushed before and after) on loopback. Workers reach the api-server
through the Execution API with the shared JWT secret, as in docker-compose.yml. The test
triggers the nightly DAG on a small generated city through the REST API, its large registers
linked in partitions, waits for success, and checks that the tasks ran on both Celery workers
and that findings.csv equals that of the CLI's single-process run.

Every process runs in its own process group and is ended in the fixture's teardown; the
database is dropped and the Redis DB flushed, pass or fail. Nothing listens beyond 127.0.0.1:
the worker's log server (which binds every interface) is not started; task logs are local
files anyway.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pipelines.cli import main

pytestmark = [pytest.mark.services, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"
DAG_ID = "dibao_nightly_audit"
AS_OF = "2026-10-31"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_DB = 5
AIRFLOW = [sys.executable, "-m", "airflow"]
START_TIMEOUT = 120.0
RUN_TIMEOUT = 480.0
WORKERS = ("worker-a", "worker-b")
#: registers of more than this many records are linked in partitions (mapped tasks)
PARTITION_RECORDS = 400


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg(dbname: str = "postgres") -> Any:
    import psycopg2

    conn = psycopg2.connect(dbname=dbname, connect_timeout=5, **PG)
    conn.autocommit = True
    return conn


def _redis() -> Any:
    import redis

    return redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_timeout=5)


@dataclass
class Cluster:
    env: dict[str, str]
    home: Path
    dbname: str
    api: str
    scheduler_health: str
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def log(self, name: str) -> Path:
        return self.home / f"{name}.log"

    def start(self, name: str, *args: str) -> None:
        with self.log(name).open("wb") as out:
            self.procs[name] = subprocess.Popen(
                [*AIRFLOW, *args], env=self.env, cwd=self.home, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                pytest.fail(f"airflow {name} exited with {proc.returncode}\n{self.report()}")

    def report(self) -> str:
        parts = []
        for name in [*self.procs, "migrate"]:
            path = self.log(name)
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace")
                parts.append(f"----- {name}.log (tail) -----\n{text[-6000:]}")
        for path in sorted((self.home / "logs").rglob("*.log"))[:40]:
            text = path.read_text(encoding="utf-8", errors="replace")
            if '"level":"error"' in text or "Traceback" in text:
                parts.append(f"----- {path.relative_to(self.home)} -----\n{text[-3000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            # the group may hold children (gunicorn/uvicorn workers, Celery pool, task
            # supervisors) that outlive their leader
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


def _wait(what: str, cluster: Cluster, probe: Any, timeout: float = START_TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cluster.check_alive()
        with contextlib.suppress(Exception):
            result = probe()
            if result:
                return result
        time.sleep(1)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{cluster.report()}")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    try:
        admin = _pg()
        _redis().ping()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL and Redis must run on loopback (scripts/services.sh): {exc}")
    dbname = f"dibao_airflow_{os.getpid()}_{secrets.token_hex(3)}"
    home = tmp_path / "airflow_home"
    home.mkdir()
    api_port, health_port = _free_port(), _free_port()
    api = f"http://127.0.0.1:{api_port}"
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{dbname}"
    secret = secrets.token_urlsafe(32)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW_", "AIRFLOW__", "DIBAO_"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple."
                                       "simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://postgres@127.0.0.1:5432/{dbname}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "pipelines.run.celery_config.CELERY_CONFIG",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"{api}/",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secret,
        "AIRFLOW__API_AUTH__JWT_SECRET": secret,
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(health_port),
        # Only the triggered run: unpausing would otherwise start the latest scheduled one
        # (catchup=False still runs the most recent interval), with the default locations.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        # and should one start anyway, its defaults point into this test's folder
        "AIRFLOW_VAR_DIBAO_INPUT_DIR": str(tmp_path / "no_input"),
        "AIRFLOW_VAR_DIBAO_OUTPUT_DIR": str(tmp_path / "no_output"),
        # the audit history and the review app on the same server, as in docker-compose.yml
        "DIBAO_WAREHOUSE": f"postgresql://postgres@127.0.0.1:5432/{dbname}_warehouse",
        "DIBAO_REVIEW_DATABASE_URL": f"postgresql+psycopg2://postgres@127.0.0.1:5432/"
                                     f"{dbname}_review",
    })
    cluster = Cluster(env=env, home=home, dbname=dbname, api=api,
                      scheduler_health=f"http://127.0.0.1:{health_port}/health")
    redis_db = _redis()
    redis_db.flushdb()
    for name in (dbname, f"{dbname}_warehouse", f"{dbname}_review"):
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        with cluster.log("migrate").open("wb") as out:
            done = subprocess.run([*AIRFLOW, "db", "migrate"], env=env, cwd=home, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=240)
        assert done.returncode == 0, cluster.report()
        cluster.start("api-server", "api-server", "--host", "127.0.0.1", "--port",
                      str(api_port), "--workers", "1")
        cluster.start("scheduler", "scheduler")
        cluster.start("dag-processor", "dag-processor")
        for worker in WORKERS:  # two workers, as two machines would run them
            cluster.start(worker, "celery", "worker", "--concurrency", "1", "--skip-serve-logs",
                          "--celery-hostname", f"{worker}.{dbname}@%h", "--without-mingle",
                          "--without-gossip")
        yield cluster
    finally:
        cluster.stop()
        redis_db.flushdb()
        for name in (dbname, f"{dbname}_warehouse", f"{dbname}_review"):
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_nightly_dag_runs_on_celery_workers_like_the_cli(cluster: Cluster,
                                                        tmp_path: Path) -> None:
    import httpx

    # meanwhile the processes start: the input city and the CLI's result to compare with
    city = tmp_path / "city"
    assert main(["synth", "--households", "300", "--seed", "7", "--out", str(city)]) == 0
    cli_out = tmp_path / "cli" / AS_OF
    assert main(["run", "--input", str(city), "--output", str(cli_out), "--as-of", AS_OF]) == 0

    client = httpx.Client(base_url=cluster.api, timeout=10.0)
    _wait("the api-server", cluster,
          lambda: client.get("/api/v2/monitor/health").status_code == 200)
    _wait("the scheduler health check", cluster,
          lambda: httpx.get(cluster.scheduler_health, timeout=5).status_code == 200)
    for worker in WORKERS:
        _wait(f"the Celery {worker}", cluster,
              lambda w=worker: " ready." in cluster.log(w).read_text(errors="replace"))
    _wait("the dag-processor to parse the DAG", cluster,
          lambda: client.get(f"/api/v2/dags/{DAG_ID}").status_code == 200)
    errors = client.get("/api/v2/importErrors").json()
    assert errors["total_entries"] == 0, errors

    assert client.patch(f"/api/v2/dags/{DAG_ID}", json={"is_paused": False}).status_code == 200
    out = tmp_path / "airflow_out"
    run_id = f"celery_test_{secrets.token_hex(4)}"
    config = tmp_path / "partitions.yaml"
    config.write_text(f"resources:\n  partition_records: {PARTITION_RECORDS}\n",
                      encoding="utf-8")
    conf = {"input_dir": str(city), "output_dir": str(out), "as_of": AS_OF,
            "config_file": str(config)}
    posted = client.post(f"/api/v2/dags/{DAG_ID}/dagRuns",
                         json={"dag_run_id": run_id, "logical_date": None, "conf": conf})
    assert posted.status_code == 200, posted.text

    def finished() -> str | None:
        state = client.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"]
        return state if state in ("success", "failed") else None

    state = _wait("the DAG run to finish", cluster, finished, timeout=RUN_TIMEOUT)
    assert state == "success", cluster.report()
    runs = client.get(f"/api/v2/dags/{DAG_ID}/dagRuns").json()["dag_runs"]
    assert [r["dag_run_id"] for r in runs] == [run_id], runs

    with contextlib.closing(_pg(cluster.dbname)) as conn, conn.cursor() as cur:
        cur.execute("SELECT task_id, map_index, state, queue, external_executor_id "
                    "FROM task_instance WHERE dag_id = %s AND run_id = %s", (DAG_ID, run_id))
        tis = cur.fetchall()

    def results() -> dict[str, str] | None:
        # the worker stores a task's Celery result just after the task reports its state to
        # the API server: the last task's result may land a moment after the run succeeds
        with contextlib.closing(_pg(cluster.dbname)) as conn, conn.cursor() as cur:
            cur.execute("SELECT task_id, status FROM celery_taskmeta")
            found = dict(cur.fetchall())
        done = all(found.get(celery_id) != "STARTED" for *_, celery_id in tis)
        return found if done else None

    celery = _wait("the Celery results", cluster, results, timeout=60)
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
    with contextlib.closing(_pg(f"{cluster.dbname}_warehouse")) as conn, conn.cursor() as cur:
        cur.execute("SELECT as_of::text, findings FROM runs")
        assert cur.fetchall() == [(AS_OF, findings)]
    with contextlib.closing(_pg(f"{cluster.dbname}_review")) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM findings")
        assert cur.fetchone() == (findings,)
