"""Audit history: changes.csv over consecutive generated months, on a DuckDB file and on PostgreSQL.

Three months of one city (pipelines/synth/months.py) with known roll edits: the audit's
changes.csv must equal the edits exactly, whichever warehouse holds the history.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pipelines.cli import main
from pipelines.errors import InputError
from pipelines.io.warehouse import TABLES, describe, is_month_end, open_warehouse, resolve_url
from pipelines.run.audit import run_audit
from pipelines.synth import generate_city
from pipelines.synth.months import evolve_month

MONTHS = (dt.date(2026, 10, 31), dt.date(2026, 11, 30), dt.date(2026, 12, 31))
PG_DB = f"dibao_history_test_{os.getpid()}"  # per process: parallel runs apart


def _pg_admin() -> Any:
    psycopg2 = pytest.importorskip("psycopg2")
    con = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres",
                           connect_timeout=5)
    con.autocommit = True
    return con


def _fresh_pg(name: str) -> str:
    con = _pg_admin()
    with con.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    con.close()
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Input folders of three consecutive month ends; months 2 and 3 carry truth/changes.csv."""
    base = tmp_path_factory.mktemp("months")
    first = base / MONTHS[0].isoformat()
    generate_city(first, 160, 5, MONTHS[0])
    folders = [first]
    for seed, day in enumerate(MONTHS[1:], start=2):
        folders.append(base / day.isoformat())
        evolve_month(folders[-2], folders[-1], day, seed)
    return folders


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _store(out: Path, warehouse: str | None) -> str:
    """The warehouse a run used: the given URL, else the default file beside the outputs."""
    return warehouse or str(out / "warehouse.duckdb")


def _changes(path: Path) -> list[list[str]]:
    """changes.csv without the place columns (the truth does not carry them)."""
    return [row[:7] for row in _rows(path)]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.services)])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None: the default DuckDB file beside the outputs; else a fresh PostgreSQL database."""
    yield None if request.param == "duckdb" else _fresh_pg(PG_DB)


@pytest.mark.slow
def test_three_months_of_changes_reruns_and_a_mid_month_nightly_run(
        months: list[Path], tmp_path: Path, warehouse: str | None) -> None:
    """One warehouse through October, a mid-November nightly run, November (run twice) and
    December: the changes match the roll edits; a re-run replaces its date; the nightly run
    compares with the month end, like the month-end run."""
    out = tmp_path / "out"
    mid = dt.date(2026, 11, 15)
    run_audit(months[0], out / MONTHS[0].isoformat(), MONTHS[0], warehouse=warehouse)
    run_audit(months[1], out / mid.isoformat(), mid, warehouse=warehouse)  # nightly, mid-month
    run_audit(months[1], out / MONTHS[1].isoformat(), MONTHS[1], warehouse=warehouse)
    before = (out / MONTHS[1].isoformat() / "changes.csv").read_bytes()
    # the same date again
    run_audit(months[1], out / MONTHS[1].isoformat(), MONTHS[1], warehouse=warehouse)
    assert (out / MONTHS[1].isoformat() / "changes.csv").read_bytes() == before
    # the mid-month run compared with October's month end, like the month-end run
    assert _changes(out / mid.isoformat() / "changes.csv") == _changes(
        out / MONTHS[1].isoformat() / "changes.csv")
    with open_warehouse(_store(out, warehouse)) as store:
        assert store.audits() == [(MONTHS[0], True), (mid, False), (MONTHS[1], True)]
        snapshot = store.read("roll_households", MONTHS[1]).column("household_id").to_pylist()
        assert len(snapshot) == len(set(snapshot)) > 0          # replaced, not duplicated
        assert store.previous_month_end(dt.date(2026, 12, 31)) == MONTHS[1]
        assert store.previous_month_end(MONTHS[1]) == MONTHS[0]
        assert store.previous_month_end(MONTHS[0]) is None
    manifest = (out / MONTHS[1].isoformat() / "manifest.json").read_text(encoding="utf-8")
    assert '"compared_with": "2026-10-31"' in manifest

    run_audit(months[2], out / MONTHS[2].isoformat(), MONTHS[2], warehouse=warehouse)
    first = _rows(out / MONTHS[0].isoformat() / "changes.csv")
    assert first == [["household_id", "change", "old_amount", "new_amount", "members_before",
                      "members_after", "reason", "district", "street", "community"]]
    for folder, day in zip(months[1:], MONTHS[1:], strict=True):
        got = _changes(out / day.isoformat() / "changes.csv")
        expected = _rows(folder / "truth" / "changes.csv")
        assert got == expected, day
        kinds = {row[1] for row in expected[1:]}
        assert {"新增", "停保", "调整", "成员增加", "成员减少"} <= kinds
    if warehouse is None:
        assert (out / "warehouse.duckdb").is_file()
    # summaries: the street rows add up to the district rows and to the households audited
    last = out / MONTHS[2].isoformat()
    streets = _rows(last / "summary_by_street.csv")
    districts = _rows(last / "summary_by_district.csv")
    assert sum(int(r[2]) for r in streets[1:]) == sum(int(r[1]) for r in districts[1:])
    added = sum(1 for r in _rows(last / "changes.csv")[1:] if r[1] == "新增")
    assert sum(int(r[5]) for r in streets[1:]) == added
    with open_warehouse(_store(out, warehouse)) as store:
        assert [d for d, _ in store.audits()] == [MONTHS[0], mid, MONTHS[1], MONTHS[2]]
        households = store.read("roll_households", MONTHS[2])
        assert households.num_rows == sum(int(r[2]) for r in streets[1:])


@pytest.mark.slow
def test_confirmed_finding_is_the_reason_and_dismissed_match_is_not_reported_again(
        months: list[Path], tmp_path: Path, warehouse: str | None) -> None:
    out = tmp_path / "out"
    run_audit(months[0], out / MONTHS[0].isoformat(), MONTHS[0], warehouse=warehouse)
    findings = _rows(out / MONTHS[0].isoformat() / "findings.csv")
    header = findings[0]
    col = {name: i for i, name in enumerate(header)}
    deceased = next(r for r in findings[1:] if r[col["finding_code"]] == "DECEASED")
    other = next(r for r in findings[1:] if r[col["finding_code"]] == "VEHICLE")
    # next month: the office stops the deceased person's household after a caseworker
    # confirmed it; another finding was dismissed as the wrong person
    second = tmp_path / "second"
    household = deceased[col["household_id"]]
    try:
        expected = evolve_month(months[0], second, MONTHS[1], 2, stop=[household])
    except ValueError:
        pytest.skip("the household of the first DECEASED finding is not editable in this city")
    with (second / "decisions.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["finding_id", "decision", "decided_by", "decided_at", "reason"])
        writer.writerow([deceased[col["finding_id"]], "确认", "caseworker01", "2026-11-05",
                         "火化证明核实"])
        writer.writerow([other[col["finding_id"]], "dismissed_wrong_person", "caseworker02",
                         "2026-11-06", "车主为同名同生日的另一人"])
    run_audit(second, out / MONTHS[1].isoformat(), MONTHS[1], warehouse=warehouse)
    changes = _rows(out / MONTHS[1].isoformat() / "changes.csv")
    stopped = [r for r in changes[1:] if r[0] == household]
    assert [r[1] for r in stopped] == ["停保"]
    assert stopped[0][6] == "核查确认: DECEASED"
    others = [r[:7] for r in changes[1:] if r[0] != household]
    assert [["household_id", *changes[0][1:7]], *others] == [
        r for r in _rows(second / "truth" / "changes.csv") if r[0] != household]
    assert len(expected) == len(changes) - 1
    ids = {r[0] for r in _rows(out / MONTHS[1].isoformat() / "findings.csv")[1:]}
    assert other[col["finding_id"]] not in ids
    with open_warehouse(_store(out, warehouse)) as store:
        decided = store.read("decisions", MONTHS[1]).to_pylist()
    assert {(d["finding_id"], d["decision"]) for d in decided} == {
        (deceased[col["finding_id"]], "confirmed"),
        (other[col["finding_id"]], "dismissed_wrong_person")}


# --- the warehouse on its own ------------------------------------------------------------

def _one_household(day: dt.date, amount: float) -> dict[str, pa.Table]:
    return {"roll_households": pa.Table.from_pylist([{
        "as_of": day, "household_id": "H1", "district": "江岸区", "street": "大智街道",
        "community": "幸福社区", "head_name": "张伟", "category": "城市低保",
        "household_size": 2, "members": 2, "monthly_amount": amount}],
        schema=TABLES["roll_households"]),
        "runs": pa.Table.from_pylist([{"as_of": day, "month_end": is_month_end(day),
                                       "output_dir": "x", "households": 1, "persons": 2,
                                       "findings": 0}], schema=TABLES["runs"])}


@pytest.mark.parametrize("backend", ["duckdb", pytest.param("postgres",
                                                            marks=pytest.mark.services)])
def test_replace_is_idempotent_and_atomic(backend: str, tmp_path: Path) -> None:
    url = str(tmp_path / "w.duckdb") if backend == "duckdb" else _fresh_pg(PG_DB + "_unit")
    day = dt.date(2026, 10, 31)
    with open_warehouse(url) as store:
        store.replace(day, _one_household(day, 1200.0))
        store.replace(day, _one_household(day, 1300.0))   # a re-run replaces the date
        rows = store.read("roll_households", day).to_pylist()
        assert [(r["household_id"], r["monthly_amount"]) for r in rows] == [("H1", 1300.0)]
        broken = _one_household(day, 9.0)
        broken["findings"] = pa.table({"as_of": [day]})  # missing columns: the write fails
        with pytest.raises(KeyError):
            store.replace(day, broken)
    with open_warehouse(url) as store:                  # ... and the earlier state is kept
        rows = store.read("roll_households", day).to_pylist()
        assert [(r["household_id"], r["monthly_amount"]) for r in rows] == [("H1", 1300.0)]
        assert store.audits() == [(day, True)]


def test_default_location_and_password_never_shown(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIBAO_WAREHOUSE", raising=False)
    assert resolve_url(None, None, tmp_path / "out" / "2026-10-31") == str(
        tmp_path / "out" / "warehouse.duckdb")
    assert resolve_url("pg", "cfg", tmp_path) == "pg"
    assert resolve_url(None, "cfg", tmp_path) == "cfg"
    monkeypatch.setenv("DIBAO_WAREHOUSE", "env")
    assert resolve_url(None, "cfg", tmp_path) == "env"
    assert describe("postgresql://audit:s3cret@db:5432/h") == "postgresql://audit@db:5432/h"


@pytest.mark.services
def test_unreachable_warehouse_is_exit_2_without_outputs(minimal_input: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    out = tmp_path / "out" / "2026-10-31"
    url = "postgresql://nobody:secret@127.0.0.1:5432/no_such_database_here"
    code = main(["run", "--input", str(minimal_input), "--output", str(out), "--as-of",
                 "2026-10-31", "--warehouse", url])
    assert code == 2
    err = capsys.readouterr().err
    assert "warehouse postgresql://nobody@127.0.0.1:5432/no_such_database_here" in err
    assert "dibao-audit run: service unavailable: " in err  # not "input unusable"
    assert "secret" not in err
    assert not out.exists()
    with pytest.raises(InputError), open_warehouse(url):
        pass
    shutil.rmtree(tmp_path / "out", ignore_errors=True)


# --- dibao-audit publish over the stored audit ------------------------------------------------

@pytest.mark.slow
def test_publish_lists_changes_and_decided_cases_and_leaks_nothing(
        months: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        warehouse: str | None) -> None:
    from openpyxl import load_workbook

    from pipelines.ingest.names import mask_name, normalise_name
    from tests.test_publicity import Secrets, leaks

    out = tmp_path / "out"
    run_audit(months[0], out / MONTHS[0].isoformat(), MONTHS[0], warehouse=warehouse)
    second = tmp_path / "second"
    shutil.copytree(months[1], second)
    first_findings = _rows(out / MONTHS[0].isoformat() / "findings.csv")
    col = {name: i for i, name in enumerate(first_findings[0])}
    truth = _rows(months[1] / "truth" / "changes.csv")
    stopped = {r[0] for r in truth[1:] if r[1] == "停保"}
    remove = next(r for r in first_findings[1:] if r[col["finding_code"]] != "ADD_CANDIDATE"
                  and r[col["household_id"]] not in stopped)
    add = next(r for r in first_findings[1:] if r[col["finding_code"]] == "ADD_CANDIDATE")
    undecided = next(r for r in first_findings[1:] if r[col["finding_code"]] != "ADD_CANDIDATE"
                     and r[col["household_id"]] not in stopped | {remove[col["household_id"]]})
    with (second / "decisions.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["finding_id", "decision", "decided_by", "decided_at", "reason"])
        writer.writerow([remove[col["finding_id"]], "confirmed", "cw01", "2026-11-20", "核实"])
        writer.writerow([add[col["finding_id"]], "confirmed", "cw02", "2026-11-21", "已入户"])
        writer.writerow([undecided[col["finding_id"]], "escalated", "cw03", "2026-11-22", ""])
    day = MONTHS[1]
    target = out / day.isoformat()
    run_audit(second, target, day, warehouse=warehouse)
    where = ["--warehouse", warehouse] if warehouse else []
    assert main(["publish", "--as-of", day.isoformat(), "--output", str(target), *where]) == 0

    decided_remove = _rows(target / "decided" / "remove_list.csv")
    assert [r[0] for r in decided_remove[1:]] == [remove[col["household_id"]]]
    assert remove[col["finding_id"]] in decided_remove[1][8]
    decided_add = _rows(target / "decided" / "add_list.csv")
    assert [r[0] for r in decided_add[1:]] == [add[col["finding_id"]]]

    publicity = sorted((target / "publicity").iterdir())
    with open_warehouse(_store(out, warehouse)) as store:
        households = store.read("roll_households", day).to_pylist()
        before = {h["household_id"]: h for h in store.read("roll_households", MONTHS[0]).to_pylist()}
    places = {(h["street"], h["community"]) for h in households}
    stems = {p.stem for p in publicity if p.suffix == ".pdf"}
    assert stems == {f"{s}-{c}" for s, c in places}
    assert sum(p.suffix == ".xlsx" for p in publicity) == len(places) + 1  # + city workbook

    def cells(household: dict[str, Any]) -> list[list[str]]:
        book = load_workbook(target / "publicity" /
                             f"{household['street']}-{household['community']}.xlsx")
        return [[str(c.value) for c in row if c.value is not None]
                for ws in book.worksheets for row in ws.iter_rows()]

    new = next(h for h in households if h["household_id"] == next(
        r[0] for r in truth[1:] if r[1] == "新增"))
    assert any(mask_name(normalise_name(new["head_name"])) in row and "新增" in row
               for row in cells(new))
    gone = before[sorted(stopped)[0]]
    text = [c for row in cells(gone) for c in row]
    assert "本期停保" in "".join(text)
    assert mask_name(normalise_name(gone["head_name"])) in text

    # privacy: nothing of the roll's personal data, no unmasked head name, in any file
    import pandas as pd

    frame = pd.read_csv(second / "roll.csv", encoding="gb18030", dtype=str,
                        keep_default_na=False)
    secrets = Secrets()
    for column in ("身份证号码", "联系电话", "家庭住址", "代发账号", "户编号"):
        secrets.add(frame[column])
    secrets.unmasked_names = {h["head_name"] for h in households if len(h["head_name"]) >= 2}
    assert leaks(publicity, secrets) == []

    # one community again: only its two files are rewritten; unknown dates and names: exit 2
    one = publicity[0]
    street, community = one.stem.split("-", 1)
    stamp = {p.name: p.stat().st_mtime_ns for p in publicity}
    single = tmp_path / "one-worker.yaml"
    single.write_text("publicity:\n  workers: 1\n", encoding="utf-8")
    assert main(["publish", "--as-of", day.isoformat(), "--output", str(target),
                 "--community", community, "--config", str(single), *where]) == 0
    changed = {p.name for p in (target / "publicity").iterdir()
               if p.stat().st_mtime_ns != stamp.get(p.name)}
    assert {Path(n).stem for n in changed} <= {p.stem for p in publicity
                                               if p.stem.endswith("-" + community)}
    assert changed
    capsys.readouterr()
    assert main(["publish", "--as-of", "2026-09-30", "--output", str(target), *where]) == 2
    assert (f"--output {target} holds the audit of {day.isoformat()}, not --as-of 2026-09-30"
            in capsys.readouterr().err)
    assert main(["publish", "--as-of", day.isoformat(), "--output", str(target),
                 "--community", "没有这个社区", *where]) == 2


@pytest.mark.services
def test_create_database_makes_a_missing_one_once() -> None:
    from pipelines.io.warehouse import create_database

    url = _fresh_pg(PG_DB + "_created")
    con = _pg_admin()
    with con.cursor() as cur:
        cur.execute(f'DROP DATABASE "{PG_DB}_created"')
    con.close()
    assert create_database(url) is True
    assert create_database(url) is False
    assert create_database("/tmp/some.duckdb") is False
    with open_warehouse(url) as store:
        assert store.audits() == []


@pytest.mark.slow
def test_leads_undecided_after_their_working_days_are_listed_overdue(
        months: list[Path], tmp_path: Path) -> None:
    """October's leads still undecided at November's month end are overdue: found 2026-10-31,
    due 15 working days later (2026-11-20), 6 working days late on Monday 2026-11-30. A
    confirmed lead is not listed; an escalated one is, as escalated; a lead first found in
    November is not yet due; a district given 30 days is not late."""
    out = tmp_path / "out"
    run_audit(months[0], out / MONTHS[0].isoformat(), MONTHS[0])
    assert _rows(out / MONTHS[0].isoformat() / "overdue.csv")[1:] == []
    october = _rows(out / MONTHS[0].isoformat() / "findings.csv")
    col = {name: i for i, name in enumerate(october[0])}
    leads = october[1:]
    confirmed, escalated = leads[0][col["finding_id"]], leads[1][col["finding_id"]]
    second = tmp_path / "second"
    shutil.copytree(months[1], second)
    with (second / "decisions.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["finding_id", "decision", "decided_by", "decided_at", "reason"])
        writer.writerow([confirmed, "confirmed", "caseworker01", "2026-11-05", ""])
        writer.writerow([escalated, "escalated", "caseworker01", "2026-11-06", ""])
    run_audit(second, out / MONTHS[1].isoformat(), MONTHS[1])
    november = {r[col["finding_id"]]: r for r in
                _rows(out / MONTHS[1].isoformat() / "findings.csv")[1:]}
    overdue = _rows(out / MONTHS[1].isoformat() / "overdue.csv")
    assert overdue[0] == ["finding_id", "household_id", "finding_code", "district", "street",
                          "community", "first_found", "due_date", "working_days_overdue",
                          "status"]
    listed = {r[0]: r for r in overdue[1:]}
    old = {r[col["finding_id"]] for r in leads} & set(november)
    expected = old - {confirmed}
    assert set(listed) == expected and len(expected) > 5
    assert {tuple(r[6:9]) for r in listed.values()} == {("2026-10-31", "2026-11-20", "6")}
    if escalated in november:
        assert listed[escalated][9] == "escalated"
    assert {r[9] for k, r in listed.items() if k != escalated} == {"open"}
    assert all(r[3] for r in listed.values())  # every lead has its district
    # a district given a longer period has no overdue leads
    district = next(iter(listed.values()))[3]
    config = tmp_path / "config.yaml"
    config.write_text(f"accountability:\n  due_days_by_district: {{{district}: 30}}\n",
                      encoding="utf-8")
    run_audit(second, out / "again", MONTHS[1], config_file=config,
              warehouse=str(out / "warehouse.duckdb"))
    again = _rows(out / "again" / "overdue.csv")[1:]
    assert {r[0] for r in again} == {k for k, r in listed.items() if r[3] != district}


def test_a_warehouse_made_before_a_column_was_added_gains_it(tmp_path: Path,
                                                             warehouse: str | None) -> None:
    """decisions.effective_from and source came later: opening an older warehouse adds them
    (older dates read NULL), and a new audit date is written with them."""
    url = warehouse or str(tmp_path / "old.duckdb")
    old = ('CREATE TABLE "decisions" ("as_of" DATE, "finding_id" VARCHAR, "decision" VARCHAR, '
           '"decided_by" VARCHAR, "decided_at" VARCHAR, "reason" VARCHAR, "approved_by" VARCHAR, '
           'PRIMARY KEY (as_of, finding_id))')
    insert = ("INSERT INTO decisions VALUES ('2026-09-30', 'F1', 'confirmed', 'cw', "
              "'2026-09-01', '', '')")
    if warehouse is None:
        import duckdb

        con = duckdb.connect(url)
        con.execute(old)
        con.execute(insert)
        con.close()
    else:
        import psycopg2

        with psycopg2.connect(url) as pg, pg.cursor() as cur:
            cur.execute(old)
            cur.execute(insert)
    with open_warehouse(url) as store:
        before = store.read("decisions", dt.date(2026, 9, 30)).to_pylist()
        assert before[0]["effective_from"] is None and before[0]["source"] is None
        store.replace(dt.date(2026, 10, 31), {"decisions": pa.Table.from_pylist([{
            "as_of": dt.date(2026, 10, 31), "finding_id": "F2", "decision": "confirmed",
            "decided_by": "cw", "decided_at": "2026-10-20", "reason": "", "approved_by": "sup",
            "effective_from": "2026-11-04", "source": "review"}])})
    with open_warehouse(url) as store:  # opened again: nothing added twice
        after = store.read("decisions", dt.date(2026, 10, 31)).to_pylist()
    assert (after[0]["effective_from"], after[0]["source"]) == ("2026-11-04", "review")
