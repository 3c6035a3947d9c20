"""docker-compose.yml: the official Airflow 3 Celery topology with the project's image.

Docker does not run on every machine, so the structure is checked from the YAML (anchors
resolved); where the compose plugin exists, `docker compose config` must accept the file too.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
           "airflow-worker", "airflow-init")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return loaded


def test_services_of_the_celery_topology_are_all_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) >= {"postgres", "redis", *AIRFLOW}
    commands = {name: compose["services"][name].get("command") for name in AIRFLOW[:-1]}
    assert commands == {"airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
                        "airflow-dag-processor": "dag-processor",
                        "airflow-triggerer": "triggerer", "airflow-worker": "celery worker"}


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if name != "airflow-init":
            assert "test" in service.get("healthcheck", {}), name


def test_airflow_services_share_executor_database_broker_and_volumes(
        compose: dict[str, Any]) -> None:
    for name in AIRFLOW:
        service = compose["services"][name]
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql"), name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith(
            "http://airflow-apiserver:8080/"), name
        mounts = {v.split(":")[1] for v in service["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/data"} <= mounts, name
        assert service["build"] == "." and service["image"].startswith("dibao-audit"), name
        if name != "airflow-init":
            depends = service["depends_on"]
            assert depends["postgres"]["condition"] == "service_healthy", name
            assert depends["airflow-init"]["condition"] == "service_completed_successfully", name


def test_init_job_migrates_the_database_and_creates_the_admin(compose: dict[str, Any]) -> None:
    env = compose["services"]["airflow-init"]["environment"]
    assert env["_AIRFLOW_DB_MIGRATE"] == "true" and env["_AIRFLOW_WWW_USER_CREATE"] == "true"


def test_image_is_built_from_the_official_airflow_image_of_the_pinned_version() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    assert 'apache-airflow==3.3.2"' in pyproject
    assert dockerfile.startswith("# ") and "FROM apache/airflow:3.3.2-python3.11" in dockerfile
    for folder in ("pipelines", "config", "sql", "expectations", "dags"):
        assert f"COPY --chown=airflow:root {folder} " in dockerfile, folder


@pytest.mark.skipif(shutil.which("docker") is None or subprocess.run(
    ["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="no docker compose plugin on this machine; the YAML checks above stand in")
def test_docker_compose_accepts_the_file() -> None:
    subprocess.run(["docker", "compose", "config", "--quiet"], cwd=ROOT, check=True)


def test_review_app_service_serves_the_same_image_on_its_own_database(
        compose: dict[str, Any]) -> None:
    review = compose["services"]["review"]
    assert review["build"] == "." and review["image"] == (
        compose["services"]["airflow-apiserver"]["image"])
    assert review["command"] == ["dibao-audit", "serve", "--host", "0.0.0.0", "--port", "8000"]
    assert review["entrypoint"][0] == "/usr/bin/dumb-init"  # not the image's airflow wrapper
    url = review["environment"]["DIBAO_REVIEW_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg2://") and url.endswith("@postgres/dibao_review")
    assert review["healthcheck"]["test"][-1] == "http://localhost:8000/healthz"
    assert review["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "8000:8000" in review["ports"]
    mounts = {v.split(":")[1] for v in compose["services"]["postgres"]["volumes"]}
    assert "/docker-entrypoint-initdb.d" in mounts
    init = (ROOT / "docker" / "postgres-init" / "10-review.sql").read_text("utf-8")
    assert "CREATE DATABASE dibao_review" in init


def test_airflow_keeps_history_and_review_decisions_on_the_compose_postgres(
        compose: dict[str, Any]) -> None:
    init_sql = (ROOT / "docker" / "postgres-init" / "10-review.sql").read_text(encoding="utf-8")
    for name in ("airflow-scheduler", "airflow-worker", "airflow-init"):
        env = compose["services"][name]["environment"]
        assert "@postgres/dibao_warehouse" in env["DIBAO_WAREHOUSE"], name
        assert "@postgres/dibao_review" in env["DIBAO_REVIEW_DATABASE_URL"], name
    assert "CREATE DATABASE dibao_warehouse" in init_sql
    assert "CREATE DATABASE dibao_review" in init_sql
    init = " ".join(compose["services"]["airflow-init"]["command"])
    assert "create_database" in init and "DIBAO_WAREHOUSE" in init
    review_env = compose["services"]["review"]["environment"]
    assert review_env["DIBAO_REVIEW_DATABASE_URL"].endswith("@postgres/dibao_review")
