"""Load test of the review app: simulated caseworkers against the served app.

Usage: .venv/bin/python -m benchmarks.load_review [--database postgresql|sqlite]
       [--clients 20] [--seconds 60] [--households 2000] [--seed 1]

A generated city is audited once (benchmarks/_work/), imported into a fresh database (PostgreSQL
`dibao_review_load` on 127.0.0.1:5432, or a new SQLite file, the embedded default), and served by
`dibao-audit serve` (uvicorn, one process) on a free loopback port. Each client logs in as its own caseworker (clients spread over the
districts, several per district, so they contend for the same findings) and for the given time
repeats: view the queue (random filter), open a household, and sometimes decide (confirm,
dismiss, escalate or add a note) on an open finding. Afterwards every decision the clients saw
succeed must be in the database exactly once (matched by request_id), no other decision rows may
exist, and no finding may have more status changes than its version says. Meanwhile /healthz is
probed twice a second. Then a storm: as many simultaneous logins as clients (argon2 each), with
/healthz probed throughout. Prints Markdown. Not run in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict

import httpx

from benchmarks.common import CLI, WORK, city, machine

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/"
DB = "dibao_review_load"
AS_OF = "2026-10-31"
PASSWORD = "load-test-password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HOUSEHOLD = re.compile(r'href="/households/([^"]+)"')
FORM = re.compile(r'<form method="post" action="/findings/(F[0-9a-f]+)/decide" '
                  r'class="decide-(\w+)">(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(sql)
    conn.close()


def database_url(kind: str) -> str:
    return PG + DB if kind == "postgresql" else f"sqlite:///{WORK / 'review-load.sqlite3'}"


def prepare(url: str, households: int, seed: int, clients: int) -> list[tuple[str, str]]:
    """Audit output imported into a fresh database; (username, district) per client."""
    from sqlalchemy import func, select

    from pipelines.review.auth import add_user
    from pipelines.review.db import open_database
    from pipelines.review.importer import import_run
    from pipelines.review.models import Finding

    output = WORK / f"review-out-{households}-s{seed}" / AS_OF
    if not (output / "findings.csv").exists():
        subprocess.run([*CLI, "run", "--input", str(city(households, seed)), "--output",
                        str(output), "--as-of", AS_OF], check=True)
    if url.startswith("sqlite"):
        WORK.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            (WORK / f"review-load.sqlite3{suffix}").unlink(missing_ok=True)
    else:
        _admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        _admin(f"CREATE DATABASE {DB}")
    engine, factory = open_database(url)
    import_run(factory, output, imported_by="load-test")
    with factory() as session:
        districts = [d for (d,) in session.execute(
            select(Finding.district).where(Finding.household_id.is_not(None))
            .group_by(Finding.district).order_by(func.count().desc()))]
    users = []
    for number in range(clients):
        district = districts[number % len(districts)]
        username = f"load{number:02d}"
        add_user(factory, username, PASSWORD, "caseworker", district)
        users.append((username, district))
    engine.dispose()
    return users


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.decided: list[str] = []  # request_ids the server confirmed (303)
        self.conflicts = 0


async def caseworker(base: str, username: str, until: float, stats: Stats,
                     rng: random.Random) -> None:
    async with httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=60) as client:
        page = await client.get("/login")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        response = await client.post("/login", data={"username": username, "password": PASSWORD,
                                                      "csrf_token": token})
        assert response.status_code == 303, response.text
        households: list[str] = []

        async def timed(kind: str, method: str, url: str, **kw: object) -> httpx.Response:
            started = time.perf_counter()
            try:
                result = await client.request(method, url, **kw)  # type: ignore[arg-type]
            except httpx.HTTPError:  # timed out or dropped: an error the user saw
                stats.latency[kind].append(time.perf_counter() - started)
                stats.errors[kind] += 1
                return httpx.Response(599, text="")
            stats.latency[kind].append(time.perf_counter() - started)
            if result.status_code >= 500 or result.status_code in (401, 403, 404):
                stats.errors[kind] += 1
            return result

        while time.perf_counter() < until:
            roll = rng.random()
            if roll < 0.4 or not households:
                params = rng.choice([{}, {"severity": "high"}, {"status": "open"},
                                     {"code": "STAFF_LINKED"}, {"page": "2"}])
                result = await timed("queue", "GET", "/queue", params=params)
                households = HOUSEHOLD.findall(result.text) or households
                continue
            household = rng.choice(households)
            result = await timed("household", "GET", f"/households/{household}")
            if roll < 0.75:
                continue
            forms = [(fid, action, dict(HIDDEN.findall(body)))
                     for fid, action, body in FORM.findall(result.text)]
            choices = [f for f in forms if f[1] in ("confirm", "dismiss", "escalate")] or [
                f for f in forms if f[1] == "note"]
            if not choices:
                continue
            await asyncio.sleep(rng.uniform(0.0, 0.5))  # reading the evidence
            fid, action, fields = rng.choice(choices)
            data = {**fields, "note": f"load test {username}"}
            if action == "dismiss":
                data["reason_code"] = rng.choice(["wrong_person", "legitimate", "handled"])
            result = await timed("decision", "POST", f"/findings/{fid}/decide", data=data)
            if result.status_code == 303:
                stats.decided.append(fields["request_id"])
            elif result.status_code == 409:
                stats.conflicts += 1


def verify(url: str, stats: Stats) -> dict[str, int]:
    """Decisions in the database against what the clients saw succeed."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT request_id FROM decisions")).scalars().all()
        over = conn.execute(text("""
            SELECT count(*) FROM findings f
            WHERE (SELECT count(*) FROM decisions d
                   WHERE d.finding_id = f.finding_id AND d.action <> 'note') <> f.version - 1
        """)).scalar_one()
    engine.dispose()
    in_db = [r for r in rows if r]
    client_ids = set(stats.decided)
    return {"client_decisions": len(stats.decided), "db_rows": len(rows),
            "lost": len(client_ids - set(in_db)), "unexpected": len(set(in_db) - client_ids),
            "duplicated": len(in_db) - len(set(in_db)) + len(stats.decided) - len(client_ids),
            "version_mismatch": int(over)}


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) >= 2 else values[0]


async def probe(base: str, stop: asyncio.Event, stats: Stats) -> None:
    """/healthz twice a second until `stop`."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                ok = (await client.get("/healthz")).status_code == 200
            except httpx.HTTPError:
                ok = False
            stats.latency["healthz"].append(time.perf_counter() - started)
            if not ok:
                stats.errors["healthz"] += 1
            await asyncio.sleep(0.5)


async def drive(base: str, users: list[tuple[str, str]], seconds: float) -> tuple[Stats, float]:
    stats = Stats()
    started = time.perf_counter()
    until = started + seconds
    stop = asyncio.Event()
    prober = asyncio.create_task(probe(base, stop, stats))
    await asyncio.gather(*(caseworker(base, name, until, stats, random.Random(i))
                           for i, (name, _) in enumerate(users)))
    stop.set()
    await prober
    return stats, time.perf_counter() - started


async def storm(base: str, users: list[tuple[str, str]]) -> tuple[Stats, float]:
    """Every user logs in at the same moment; /healthz probed meanwhile."""
    stats = Stats()
    clients = [httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=120)
               for _ in users]
    tokens = []
    for client in clients:
        page = await client.get("/login")
        tokens.append(CSRF.search(page.text).group(1))  # type: ignore[union-attr]
    stop = asyncio.Event()
    prober = asyncio.create_task(probe(base, stop, stats))

    async def login(client: httpx.AsyncClient, token: str, username: str) -> None:
        started = time.perf_counter()
        try:
            ok = (await client.post("/login", data={
                "username": username, "password": PASSWORD, "csrf_token": token})
                  ).status_code == 303
        except httpx.HTTPError:
            ok = False
        stats.latency["login"].append(time.perf_counter() - started)
        if not ok:
            stats.errors["login"] += 1

    started = time.perf_counter()
    await asyncio.gather(*(login(c, t, name) for c, t, (name, _) in
                           zip(clients, tokens, users, strict=True)))
    wall = time.perf_counter() - started
    stop.set()
    await prober
    for client in clients:
        await client.aclose()
    return stats, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = database_url(args.database)
    users = prepare(url, args.households, args.seed, args.clients)
    port = _free_port()
    env = {**os.environ, "DIBAO_REVIEW_DATABASE_URL": url}
    # httpx, unlike browsers, sends no Secure cookie to http://127.0.0.1: plain-HTTP cookies.
    server = subprocess.Popen([*CLI, "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--insecure-cookies"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        stats, wall = asyncio.run(drive(base, users, args.seconds))
        logins, storm_wall = asyncio.run(storm(base, users))
    finally:
        server.terminate()
        server.wait()
    checks = verify(url, stats)
    total = sum(len(v) for k, v in stats.latency.items() if k != "healthz")
    print(f"Machine: {machine()}")
    print(f"Database: {args.database}. {args.clients} caseworkers, {wall:.0f} s, city of "
          f"{args.households} households; {total} requests, {total / wall:.1f} requests/s\n")
    print("| request | count | per s | median ms | p95 ms | errors |")
    print("|---|---|---|---|---|---|")
    for kind in ("queue", "household", "decision", "healthz"):
        values = stats.latency[kind]
        if values:
            print(f"| {kind} | {len(values)} | {len(values) / wall:.1f} | "
                  f"{statistics.median(values) * 1000:.0f} | {p95(values) * 1000:.0f} | "
                  f"{stats.errors[kind]} |")
    print(f"\nDecisions: {checks['client_decisions']} accepted by the server, "
          f"{stats.conflicts} conflicts (409) shown to the second decider; database rows "
          f"{checks['db_rows']}, lost {checks['lost']}, unexpected {checks['unexpected']}, "
          f"duplicated {checks['duplicated']}, findings whose version disagrees with their "
          f"decisions {checks['version_mismatch']}.")
    health = logins.latency["healthz"]
    print(f"\nLogin storm: {len(users)} simultaneous logins in {storm_wall:.1f} s "
          f"(median {statistics.median(logins.latency['login']):.2f} s, slowest "
          f"{max(logins.latency['login']):.2f} s, {logins.errors['login']} refused or failed); "
          f"/healthz meanwhile: {len(health)} probes, slowest {max(health) * 1000:.0f} ms.")
    if any(checks[k] for k in ("lost", "unexpected", "duplicated", "version_mismatch")) or \
            checks["db_rows"] != checks["client_decisions"]:
        sys.exit("decisions lost or duplicated")
    if args.database == "postgresql":
        _admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
