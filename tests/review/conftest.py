"""Fixtures of the review app tests: one real generated audit run, imported into a seeded
database per backend (SQLite file, and this machine's PostgreSQL on loopback), cloned fresh for
every test (file copy / CREATE DATABASE ... TEMPLATE)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pipelines.cli import main
from pipelines.review.app import create_app, factory_of
from pipelines.review.auth import add_user
from pipelines.review.db import open_database
from pipelines.review.importer import import_run
from pipelines.review.models import Finding

AS_OF = "2026-10-31"
PASSWORD = "review-test-password"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
# per process: two test runs on one machine must not drop each other's databases
PG_TEMPLATE = f"dibao_review_tmpl_{os.getpid()}"
PG_TEST = f"dibao_review_test_{os.getpid()}"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)]


def pg_url(dbname: str) -> str:
    return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{dbname}"


def pg_admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(dbname="postgres", connect_timeout=5, **PG)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated city (300 households), shared by every review test."""
    folder = tmp_path_factory.mktemp("review_city")
    assert main(["synth", "--households", "300", "--seed", "1", "--out", str(folder)]) == 0
    return folder


@pytest.fixture(scope="session")
def audit_run(city: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real audit's output folder for that city."""
    output = tmp_path_factory.mktemp("review_out") / AS_OF
    assert main(["run", "--input", str(city), "--output", str(output), "--as-of", AS_OF]) == 0
    return output


@dataclass(frozen=True)
class Seed:
    """Where the seeded database is and which places the test users work in."""

    backend: str
    template: str  # SQLite file path or PostgreSQL database name
    district_a: str
    street_a: str
    district_b: str


def _places(factory: Any) -> tuple[str, str, str]:
    with factory() as session:
        districts = session.execute(
            select(Finding.district, func.count()).where(Finding.household_id.is_not(None))
            .group_by(Finding.district).order_by(func.count().desc(), Finding.district)).all()
        district_a, district_b = districts[0][0], districts[1][0]
        street_a = session.execute(
            select(Finding.street, func.count()).where(Finding.district == district_a)
            .group_by(Finding.street).order_by(func.count().desc(), Finding.street)).first()
    assert street_a is not None
    return district_a, street_a[0], district_b


def _seed(factory: Any, run: Path) -> tuple[str, str, str]:
    import_run(factory, run, imported_by="test")
    district_a, street_a, district_b = _places(factory)
    add_user(factory, "cw_a", PASSWORD, "caseworker", district_a)
    add_user(factory, "cw_as", PASSWORD, "caseworker", district_a, street_a)
    add_user(factory, "cw_b", PASSWORD, "caseworker", district_b)
    add_user(factory, "sup1", PASSWORD, "supervisor")
    add_user(factory, "sup2", PASSWORD, "supervisor")
    add_user(factory, "aud", PASSWORD, "auditor")
    return district_a, street_a, district_b


@pytest.fixture(scope="session")
def seeds(audit_run: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Seed]]:
    """Seeded databases, made on first use per backend."""
    made: dict[str, Seed] = {}
    folder = tmp_path_factory.mktemp("review_seed")

    def get(backend: str) -> Seed:
        if backend not in made:
            if backend == "sqlite":
                template = str(folder / "seed.sqlite3")
                url = f"sqlite:///{template}"
            else:
                template = PG_TEMPLATE
                pg_admin(f"DROP DATABASE IF EXISTS {PG_TEMPLATE} WITH (FORCE)")
                pg_admin(f"CREATE DATABASE {PG_TEMPLATE}")
                url = pg_url(PG_TEMPLATE)
            engine, factory = open_database(url)
            places = _seed(factory, audit_run)
            engine.dispose()
            made[backend] = Seed(backend, template, *places)
        return made[backend]

    yield get
    if "postgresql" in made:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_TEST} WITH (FORCE)")
        pg_admin(f"DROP DATABASE IF EXISTS {PG_TEMPLATE} WITH (FORCE)")


@dataclass
class Env:
    """One test's fresh copy of the seeded database and an app over it."""

    seed: Seed
    url: str
    app: Any

    @property
    def factory(self) -> Any:
        return factory_of(self.app)

    def client(self, username: str | None = None) -> TestClient:
        client = TestClient(self.app, base_url="https://testserver", follow_redirects=False)
        if username:
            login(client, username)
        return client


def fresh_copy(seed: Seed, folder: Path, pg_name: str = PG_TEST) -> str:
    """The URL of a fresh copy of the seeded database: a file copy in `folder` (SQLite), or
    database `pg_name` made from the template (PostgreSQL)."""
    if seed.backend == "sqlite":
        path = folder / "review.sqlite3"
        shutil.copyfile(seed.template, path)
        return f"sqlite:///{path}"
    pg_admin(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {pg_name} TEMPLATE {seed.template}")
    return pg_url(pg_name)


@pytest.fixture(params=BACKENDS)
def env(request: pytest.FixtureRequest, seeds: Any, tmp_path: Path) -> Iterator[Env]:
    seed: Seed = seeds(request.param)
    url = fresh_copy(seed, tmp_path)
    app = create_app(url)
    yield Env(seed, url, app)
    app.state.engine.dispose()


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_of(page.text), "next": "/queue"})
    assert response.status_code == 303, response.text
    return response


def form_of(html: str, finding_id: str, action: str) -> dict[str, str]:
    """The hidden fields of the decision form for `action` on `finding_id` in a case page."""
    pattern = re.compile(
        rf'<form method="post" action="/findings/{finding_id}/decide" class="decide-{action}">'
        r'(.*?)</form>', re.S)
    match = pattern.search(html)
    assert match, f"no {action} form for {finding_id}"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                             match.group(1)))
    return fields
