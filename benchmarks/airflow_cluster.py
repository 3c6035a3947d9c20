"""The docker-compose topology as plain processes: Airflow 3 with the CeleryExecutor.

The api-server, scheduler, dag-processor and Celery workers run as child processes against the
machine's PostgreSQL (metadata and Celery results, a database of their own) and Redis (broker,
one DB number flushed before and after) on loopback. Workers reach the api-server through the
Execution API with a shared JWT secret, as in docker-compose.yml. Used by
tests/test_airflow_celery.py and benchmarks/dag_scale.py.

Every process runs in its own process group and is ended when the context closes; the
databases are dropped and the Redis DB flushed, pass or fail. Nothing listens beyond 127.0.0.1:
the workers' log server (which binds every interface) is not started; task logs are local
files anyway.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_DB = 5
AIRFLOW = [sys.executable, "-m", "airflow"]
START_TIMEOUT = 120.0


class ClusterError(RuntimeError):
    """A process of the cluster died, or something it should do did not happen in time."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg(dbname: str = "postgres") -> Any:
    """A connection (autocommit) to a database of the machine's PostgreSQL."""
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
    workers: tuple[str, ...] = ()
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
                raise ClusterError(f"airflow {name} exited with {proc.returncode}\n"
                                   f"{self.report()}")

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

    def wait(self, what: str, probe: Callable[[], Any], timeout: float = START_TIMEOUT) -> Any:
        """Poll `probe` every second until it returns something true; that value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            with contextlib.suppress(Exception):
                result = probe()
                if result:
                    return result
            time.sleep(1)
        raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}\n{self.report()}")

    def wait_ready(self, client: Any, dag_id: str) -> None:
        """Until the api-server, the scheduler and every worker are up and `dag_id` is parsed."""
        self.wait("the api-server", lambda: client.get("/api/v2/monitor/health").status_code
                  == 200)
        import httpx

        self.wait("the scheduler health check",
                  lambda: httpx.get(self.scheduler_health, timeout=5).status_code == 200)
        for worker in self.workers:
            self.wait(f"the Celery {worker}",
                      lambda w=worker: " ready." in self.log(w).read_text(errors="replace"))
        self.wait("the dag-processor to parse the DAG",
                  lambda: client.get(f"/api/v2/dags/{dag_id}").status_code == 200)

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


def _environment(home: Path, scratch: Path, dbname: str, api_port: int, health_port: int
                 ) -> dict[str, str]:
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
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://postgres@127.0.0.1:5432/"
                                           f"{dbname}",
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
        # and should one start anyway, its defaults point into the scratch folder
        "AIRFLOW_VAR_DIBAO_INPUT_DIR": str(scratch / "no_input"),
        "AIRFLOW_VAR_DIBAO_OUTPUT_DIR": str(scratch / "no_output"),
        # the audit history and the review app on the same server, as in docker-compose.yml
        "DIBAO_WAREHOUSE": f"postgresql://postgres@127.0.0.1:5432/{dbname}_warehouse",
        "DIBAO_REVIEW_DATABASE_URL": f"postgresql+psycopg2://postgres@127.0.0.1:5432/"
                                     f"{dbname}_review",
    })
    return env


@contextlib.contextmanager
def running_cluster(scratch: Path, workers: tuple[str, ...] = ("worker-a", "worker-b"),
                    concurrency: int = 1) -> Iterator[Cluster]:
    """Migrate a fresh metadata database and start the api-server, scheduler, dag-processor
    and `workers` Celery workers (each running `concurrency` tasks at a time); stop them and
    drop the databases on the way out."""
    try:
        admin = pg()
        _redis().ping()
    except Exception as exc:  # noqa: BLE001
        raise ClusterError("PostgreSQL and Redis must run on loopback (scripts/services.sh): "
                           f"{exc}") from exc
    dbname = f"dibao_airflow_{os.getpid()}_{secrets.token_hex(3)}"
    home = scratch / "airflow_home"
    home.mkdir(parents=True)
    api_port, health_port = _free_port(), _free_port()
    env = _environment(home, scratch, dbname, api_port, health_port)
    cluster = Cluster(env=env, home=home, dbname=dbname, api=f"http://127.0.0.1:{api_port}",
                      scheduler_health=f"http://127.0.0.1:{health_port}/health",
                      workers=workers)
    redis_db = _redis()
    redis_db.flushdb()
    for name in (dbname, f"{dbname}_warehouse", f"{dbname}_review"):
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        with cluster.log("migrate").open("wb") as out:
            done = subprocess.run([*AIRFLOW, "db", "migrate"], env=env, cwd=home, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=240)
        if done.returncode != 0:
            raise ClusterError(f"airflow db migrate failed\n{cluster.report()}")
        cluster.start("api-server", "api-server", "--host", "127.0.0.1", "--port",
                      str(api_port), "--workers", "1")
        cluster.start("scheduler", "scheduler")
        cluster.start("dag-processor", "dag-processor")
        for worker in workers:  # as separate machines would run them
            cluster.start(worker, "celery", "worker", "--concurrency", str(concurrency),
                          "--skip-serve-logs", "--celery-hostname", f"{worker}.{dbname}@%h",
                          "--without-mingle", "--without-gossip")
        yield cluster
    finally:
        cluster.stop()
        redis_db.flushdb()
        for name in (dbname, f"{dbname}_warehouse", f"{dbname}_review"):
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def trigger(cluster: Cluster, client: Any, dag_id: str, conf: dict[str, str],
            timeout: float) -> str:
    """Unpause `dag_id`, trigger one run with `conf`, wait for it to end; its run id, once it
    succeeded (ClusterError otherwise)."""
    if client.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).status_code != 200:
        raise ClusterError(f"cannot unpause {dag_id}")
    run_id = f"run_{secrets.token_hex(4)}"
    posted = client.post(f"/api/v2/dags/{dag_id}/dagRuns",
                         json={"dag_run_id": run_id, "logical_date": None, "conf": conf})
    if posted.status_code != 200:
        raise ClusterError(f"cannot trigger {dag_id}: {posted.text}")

    def finished() -> str | None:
        state = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json()["state"]
        return state if state in ("success", "failed") else None

    state = cluster.wait("the DAG run to finish", finished, timeout=timeout)
    if state != "success":
        raise ClusterError(f"the DAG run {run_id} {state}\n{cluster.report()}")
    return run_id
