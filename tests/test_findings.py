"""Findings and lists: stable ids, ranking, the exact CSV columns, byte-identical re-runs."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb

from pipelines.rules.findings import (
    ADD_COLUMNS,
    FINDINGS_COLUMNS,
    REMOVE_COLUMNS,
    finding_id,
    write_outputs,
)
from pipelines.rules.policy import FINDING_CODES
from tests.test_rules import AS_OF, STAFF, member, run, world


def city() -> duckdb.DuckDBPyConnection:
    """Four households with findings of different weight, and two register people."""
    people = [
        member(1, "H1", "张伟", size=2, amount=1200.0),               # head of H1
        member(2, "H1", "李娜", relation="配偶", size=2, amount=None),  # died: high, 600 x 0.97
        member(3, "H2", "王芳", amount=1000.0),                        # car: medium, 1000 x 1.0
        member(4, "H3", "赵强", amount=1000.0, phone="13800000001"),   # staff phone: low x 1000
        member(5, "H4", "孙丽", amount=1000.0, phone="13800000001"),   # same phone, same priority
        member(6, "H1", "张小伟", relation="子", size=2, amount=None, roll_id=""),  # blank ID, car
    ]
    links = [("deaths", "D1", 2, 0.97), ("vehicles", "V1", 3, 1.0), ("vehicles", "V2", 6, 0.6)]
    register = [
        {"record_id": "L1", "name": "周一", "id_number": "X1", "p_id18": "X1", "district": "江岸区",
         "street": "大智街道", "community": "幸福社区", "district_code": "420102",
         "category_code": "urban", "household_size": 2, "per_capita_income": 900.0,
         "group": "低保边缘家庭"},                                  # gap 150 x 2 = 300
        {"record_id": "L2", "name": "吴二", "id_number": "X2", "p_id18": "X2",
         "district_code": "420102", "category_code": "rural", "household_size": 1,
         "per_capita_income": 350.0},                              # gap 500 x 1 = 500: first
    ]
    return world(people, links,
                 deaths=[{"record_id": "D1", "death_date": "2026-01-15"}],
                 vehicles=[{"record_id": "V1", "vehicle_type": "小型轿车", "status_code": "active"},
                           {"record_id": "V2", "vehicle_type": "小型轿车", "status_code": "active"}],
                 staff=STAFF, low_income=register)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_finding_id_is_the_documented_hash_and_sql_agrees() -> None:
    assert finding_id("DECEASED", "ID0002", "deaths", "D1") == \
        "F" + __import__("hashlib").sha256(b"DECEASED|ID0002|deaths|D1").hexdigest()[:16]
    found = run(city())
    by_code = {(f["finding_code"], f["household_id"]): f for f in found}
    dead = by_code[("DECEASED", "H1")]
    assert dead["finding_id"] == finding_id("DECEASED", "ID0002", "deaths", "D1")
    linked = by_code[("STAFF_LINKED", "H3")]
    assert linked["finding_id"] == finding_id("STAFF_LINKED", "H3", "staff", "S01")
    assert len({f["finding_id"] for f in found}) == len(found)


def test_finding_id_does_not_depend_on_the_audit_date() -> None:
    first = {(f["finding_code"], f["subject"]): f["finding_id"] for f in run(city(), AS_OF)}
    later = {(f["finding_code"], f["subject"]): f["finding_id"]
             for f in run(city(), AS_OF + dt.timedelta(days=30))}
    assert first == later and len(first) == 7


def test_findings_csv_has_the_contract_columns_and_formatted_values(tmp_path: Path) -> None:
    con = city()
    run(con)
    counts = write_outputs(con, tmp_path)
    assert list(counts) == list(FINDING_CODES)
    assert counts["VEHICLE"] == 2 and counts["STAFF_LINKED"] == 2 and counts["DECEASED"] == 1
    assert counts["PROPERTY"] == 0
    with (tmp_path / "findings.csv").open(encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n")
    assert header == ",".join(FINDINGS_COLUMNS) == (
        "finding_id,household_id,id_number,name,finding_code,severity,score,dataset,record_id,"
        "evidence,amount_at_stake,tier")
    rows = read(tmp_path / "findings.csv")
    assert [r["finding_code"] for r in rows] == [
        "DECEASED", "VEHICLE", "VEHICLE", "STAFF_LINKED", "STAFF_LINKED", "ADD_CANDIDATE",
        "ADD_CANDIDATE"]
    dead = rows[0]
    assert (dead["score"], dead["amount_at_stake"], dead["severity"]) == ("0.9700", "600.00", "high")
    blank = next(r for r in rows if r["record_id"] == "V2")
    assert blank["id_number"] == "" and blank["household_id"] == "H1"
    add = [r for r in rows if r["finding_code"] == "ADD_CANDIDATE"]
    assert {r["household_id"] for r in add} == {""} and {r["severity"] for r in add} == {""}


def test_remove_list_ranks_by_weight_times_amount_times_score(tmp_path: Path) -> None:
    con = city()
    run(con)
    write_outputs(con, tmp_path)
    with (tmp_path / "remove_list.csv").open(encoding="utf-8") as handle:
        assert handle.readline().rstrip("\n") == ",".join(REMOVE_COLUMNS)
    rows = read(tmp_path / "remove_list.csv")
    ranked = [(r["rank"], r["household_id"], r["priority"]) for r in rows]
    # H2 car 2 x 1000 x 1.0; H1 death 3 x 600 x 0.97 (its car: 2 x 1200 x 0.6 = 1440 is lower);
    # H3 and H4 staff phone 1 x 1000 x 1.0, tied: by household_id.
    assert ranked == [("1", "H2", "2000.00"), ("2", "H1", "1746.00"), ("3", "H3", "1000.00"),
                      ("4", "H4", "1000.00")]
    h1 = rows[1]
    assert h1["finding_codes"] == "DECEASED;VEHICLE"
    assert h1["proposed_action"] == "remove member, recalculate"
    assert (h1["head_name"], h1["members"], h1["monthly_amount"]) == ("张伟", "3", "1200.00")
    assert len(h1["finding_ids"].split(";")) == 2


def test_add_list_ranks_by_gap(tmp_path: Path) -> None:
    con = city()
    run(con)
    write_outputs(con, tmp_path)
    with (tmp_path / "add_list.csv").open(encoding="utf-8") as handle:
        assert handle.readline().rstrip("\n") == ",".join(ADD_COLUMNS)
    rows = read(tmp_path / "add_list.csv")
    assert [(r["rank"], r["record_id"], r["gap_amount"], r["standard"]) for r in rows] == [
        ("1", "L2", "500.00", "850.00"), ("2", "L1", "300.00", "1050.00")]
    assert rows[1]["group"] == "低保边缘家庭" and rows[1]["id_number"] == "X1"


def _outputs(folder: Path, con: duckdb.DuckDBPyConnection) -> dict[str, bytes]:
    run(con)
    write_outputs(con, folder)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_rerun_writes_byte_identical_files(tmp_path: Path) -> None:
    first = _outputs(tmp_path / "a", city())
    second = _outputs(tmp_path / "b", city())
    con = city()
    _outputs(tmp_path / "c", con)
    again = _outputs(tmp_path / "c", con)           # the same connection, rules applied twice
    assert set(first) == {"findings.csv", "remove_list.csv", "add_list.csv"}
    assert first == second == again
    assert first["findings.csv"].count(b"\n") == 8


def test_without_low_income_the_add_list_is_the_header_only(tmp_path: Path) -> None:
    con = world([member(1, "H1", "甲")])
    run(con)
    counts = write_outputs(con, tmp_path)
    assert (tmp_path / "add_list.csv").read_text(encoding="utf-8") == ",".join(ADD_COLUMNS) + "\n"
    assert (tmp_path / "findings.csv").read_text(encoding="utf-8") == \
        ",".join(FINDINGS_COLUMNS) + "\n"
    assert sum(counts.values()) == 0
