"""The oversight figures, page and monthly report against a small case counted by hand, on
SQLite and PostgreSQL.

The case (today 2026-11-27; every audit lead found 2026-10-31, due 15 working days later on
2026-11-20):
- district 甲区 (80 of the roll's 100 members, 城市低保): 4 DECEASED leads; 3 confirmed
  (approved 11-06, 11-13, 11-06: 5, 10, 5 working days), 1 dismissed 11-13 (10). Median 7.5.
- district 乙区 (20 members, 农村低保): 6 VEHICLE leads; 1 confirmed (approved 11-20: 15
  working days), 3 dismissed 11-06 (5 each), 2 open and 5 working days overdue. Median 5.
- two complaints about an 乙区 household, received 11-25 (phone) and 11-26 (letter): open,
  not yet due.
So: 12 leads, 4 confirmed, 4 dismissed, 4 open, 2 overdue. VEHICLE's rate 1/4 = 25% is under
the 50% floor with 4 >= 3 decided leads: flagged. 乙区 holds 6/10 = 60% of the audit leads
against 20% of the roll (more than 1.5 x) and confirms 25% against 甲区's 75%: flagged; so is
农村低保 (60% of leads, 30% of the roll). Every person is a man born 1980 (sex and age band
have no other group to compare with: not flagged).
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from pipelines.config import AccountabilityConfig
from pipelines.review import accountability, oversight, report
from pipelines.review.app import create_app
from pipelines.review.auth import Account, add_user
from pipelines.review.db import open_database
from pipelines.review.models import Finding, Member, RollProfile, Run
from tests.review.conftest import BACKENDS, PASSWORD, login, pg_admin, pg_url

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
TODAY = "2026-11-27"
CONFIG = AccountabilityConfig(min_decided=3, confirmation_floor=0.5, disparity_multiple=1.5)
SHANGHAI_NOON = dt.time(4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
PG_DB = "dibao_oversight_test"


def _id(n: int) -> str:
    return f"42010219800101{n:02d}1X"  # a man (odd 17th digit) born 1980-01-01


def _at(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), SHANGHAI_NOON)


def _lead(n: int, code: str, district: str, status: str, day: str | None,
          by: str) -> dict[str, Any]:
    decided = _at(day) if day else None
    return {"finding_id": f"F{n:016x}", "household_id": f"H{n:03d}", "id_number": _id(n),
            "name": f"测试{n}", "finding_code": code, "severity": "high", "score": 1.0,
            "dataset": "deaths", "record_id": f"R{n}", "evidence": "证据",
            "amount_at_stake": 100.0, "priority": 300.0, "tier": "confirmed",
            "district": district, "street": f"{district}一街道", "community": "社区",
            "first_as_of": "2026-10-31", "last_as_of": "2026-10-31", "status": status,
            "version": 2, "decided_by": by if day else None, "decided_at": decided,
            "approved_by": "sup2" if status == "confirmed" else None,
            "approved_at": decided if status == "confirmed" else None, "source": "audit",
            "due_on": "2026-11-20"}


LEADS = [
    _lead(1, "DECEASED", "甲区", "confirmed", "2026-11-06", "cw_a"),
    _lead(2, "DECEASED", "甲区", "confirmed", "2026-11-13", "cw_a"),
    _lead(3, "DECEASED", "甲区", "confirmed", "2026-11-06", "cw_a"),
    _lead(4, "DECEASED", "甲区", "dismissed_legitimate", "2026-11-13", "cw_a"),
    _lead(5, "VEHICLE", "乙区", "confirmed", "2026-11-20", "cw_b"),
    _lead(6, "VEHICLE", "乙区", "dismissed_wrong_person", "2026-11-06", "cw_b"),
    _lead(7, "VEHICLE", "乙区", "dismissed_legitimate", "2026-11-06", "cw_b"),
    _lead(8, "VEHICLE", "乙区", "dismissed_handled", "2026-11-06", "cw_b"),
    _lead(9, "VEHICLE", "乙区", "open", None, ""),
    _lead(10, "VEHICLE", "乙区", "open", None, ""),
]
PROFILE = {  # per district; the city: 甲区 80 乙区 20, 男/女 50/50, 18-59/60-79 60/40, 城市/农村 70/30
    "甲区": {"district": {"甲区": 80}, "sex": {"男": 40, "女": 40},
            "age_band": {"18-59岁": 48, "60-79岁": 32}, "category": {"城市低保": 70, "农村低保": 10}},
    "乙区": {"district": {"乙区": 20}, "sex": {"男": 10, "女": 10},
            "age_band": {"18-59岁": 12, "60-79岁": 8}, "category": {"农村低保": 20}}}


@pytest.fixture(params=BACKENDS)
def case(request: pytest.FixtureRequest, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    monkeypatch.setenv(accountability.TODAY_ENV, TODAY)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'review.sqlite3'}"
    else:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {PG_DB}")
        url = pg_url(PG_DB)
    engine, factory = open_database(url)
    with factory.begin() as session:
        session.add(Run(as_of="2026-10-31", source="test", imported_by="test", findings_total=10,
                        findings_new=10, accountability=CONFIG.model_dump_json()))
        for lead in LEADS:
            session.add(Finding(**lead))
            session.add(Member(household_id=lead["household_id"], member_key=1,
                               as_of="2026-10-31", name=lead["name"],
                               id_number=lead["id_number"], relation="户主",
                               district=lead["district"], street=lead["street"],
                               community="社区", monthly_amount=100.0,
                               category="城市低保" if lead["district"] == "甲区" else "农村低保"))
        for district, dimensions in PROFILE.items():
            for dimension, groups in dimensions.items():
                for group, members in groups.items():
                    session.add(RollProfile(as_of="2026-10-31", district=district,
                                            dimension=dimension, grp=group, members=members))
    add_user(factory, "sup1", PASSWORD, "supervisor")
    clerk = Account(id=0, username="clerk", role="supervisor", district=None, street=None)
    for channel, day in (("phone", "2026-11-25"), ("letter", "2026-11-26")):
        accountability.record_complaint(factory, clerk, channel=channel, received_on=day,
                                        household_id="H009", content="举报其家庭有经营收入")
    yield url, factory
    engine.dispose()
    if request.param != "sqlite":
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def test_the_figures_match_the_hand_count(case: tuple[str, Any]) -> None:
    _, factory = case
    with factory() as session:
        result = oversight.compute(session, report.SYSTEM, CONFIG)
    t = result.total
    assert (t.found, t.confirmed, t.dismissed, t.open, t.overdue) == (12, 4, 4, 4, 2)
    vehicle, deceased = result.by_code["VEHICLE"], result.by_code["DECEASED"]
    assert (vehicle.found, vehicle.confirmed, vehicle.dismissed, vehicle.open) == (6, 1, 3, 2)
    assert vehicle.rate == 0.25 and deceased.rate == 0.75
    assert result.by_code["COMPLAINT"].found == 2 and result.by_code["COMPLAINT"].overdue == 0
    assert result.flagged_codes == ["VEHICLE"]
    assert {d: (x.found, x.overdue) for d, x in result.by_district.items()} == {
        "甲区": (4, 0), "乙区": (8, 2)}
    assert {m: x.found for m, x in result.by_month.items()} == {"2026-10": 10, "2026-11": 2}
    assert result.days_by_street == [("乙区 乙区一街道", 4, 5.0), ("甲区 甲区一街道", 4, 7.5)]
    assert result.days_by_caseworker == [("cw_a", 4, 7.5), ("cw_b", 4, 5.0)]
    assert {m: dict(c) for m, c in result.complaints.items()} == {
        "2026-11": {"phone": 1, "letter": 1}}
    assert sorted(f.finding_id for f in result.overdue) == [LEADS[8]["finding_id"],
                                                            LEADS[9]["finding_id"]]
    flagged = {(d.dimension, d.group): d for d in result.flagged_groups}
    assert set(flagged) == {("district", "乙区"), ("category", "农村低保")}
    assert flagged[("district", "乙区")].lead_share == 0.6
    assert flagged[("district", "乙区")].roll_share == 0.2
    assert (flagged[("district", "乙区")].rate, flagged[("district", "乙区")].rest_rate) == (
        0.25, 0.75)
    by_group = {(d.dimension, d.group): d for d in result.disparity}
    assert not by_group[("sex", "男")].flagged and by_group[("sex", "男")].lead_share == 1.0
    # one district: its own figures, no district disparity
    with factory() as session:
        one = oversight.compute(session, report.SYSTEM, CONFIG, district="甲区")
    assert (one.total.found, one.total.confirmed, one.flagged_codes) == (4, 3, [])
    assert all(d.dimension != "district" for d in one.disparity)
    shares = {(d.dimension, d.group): d.roll_share for d in one.disparity}
    assert shares[("category", "城市低保")] == 70 / 80  # the district's own make-up


def test_the_page_and_the_report_show_those_figures(case: tuple[str, Any],
                                                    tmp_path: Path) -> None:
    url, _ = case
    app = create_app(url)
    try:
        from fastapi.testclient import TestClient

        client = TestClient(app, base_url="https://testserver", follow_redirects=False)
        login(client, "sup1")
        page = client.get("/oversight").text
        assert "线索 12 条：已确认 4 条，已排除 4 条，未决 4 条，其中逾期 2 条" in page
        assert "需复核规则：名下车辆" in page and "差异提示：区“乙区”占线索 60.0%" in page
        assert page.count("<svg") >= 5
        workbook = client.get("/oversight/report.xlsx")
        assert workbook.status_code == 200
        book = load_workbook(io.BytesIO(workbook.content))
        rows = {r[1]: r for r in book["按线索类型"].iter_rows(min_row=2, values_only=True)}
        assert rows["VEHICLE"][2:9] == (6, 1, 3, 2, 2, 0.25, "是")
        streets = list(book["用时-街道"].iter_rows(min_row=2, values_only=True))
        assert streets == [("乙区 乙区一街道", 4, 5), ("甲区 甲区一街道", 4, 7.5)]
        pdf = client.get("/oversight/report.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        text = _pdf_text(pdf.content, tmp_path)
        assert "线索 12 条" in text and "需复核规则" in text and "差异提示" in text
        _png(pdf.content, "oversight-report")
        (ARTIFACTS / "oversight-page.html").write_text(page, encoding="utf-8")
        month = client.get("/oversight", params={"month": "2026-11"}).text
        assert "线索 2 条" in month and "群众举报 2 件" in month
    finally:
        app.state.engine.dispose()


def test_the_monthly_reports_per_district(case: tuple[str, Any], tmp_path: Path) -> None:
    url, _ = case
    written = report.write_reports(url, "2026-10", tmp_path)
    names = sorted(p.name for p in written)
    assert names == sorted(f"{n}督办报告-2026-10.{k}" for n in ("全市", "甲区", "乙区")
                           for k in ("pdf", "xlsx"))
    book = load_workbook(tmp_path / "report" / "2026-10" / "乙区督办报告-2026-10.xlsx")
    lines = [r[0] for r in book["概况"].iter_rows(min_row=2, values_only=True)]
    assert lines[0].startswith("线索 6 条：已确认 1 条，已排除 3 条，未决 2 条，其中逾期 2 条")
    assert not list((tmp_path / "report").glob(".*"))  # no staging folder left


def _pdf_text(data: bytes, folder: Path) -> str:
    path = folder / "doc.pdf"
    path.write_bytes(data)
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext missing: scripts/system-packages.sh test installs poppler-utils")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def _png(data: bytes, name: str) -> None:
    """The first page of a PDF as a PNG in test-artifacts/screenshots (to be looked at)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / f"{name}.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(ARTIFACTS / name)], check=True)
    assert (ARTIFACTS / f"{name}.png").stat().st_size > 0


def test_complaints_are_leads_without_another_dataset_s_record(case: tuple[str, Any]) -> None:
    """A complaint lead carries the complaint's own words and no evidence record, and is due
    15 working days after it was received."""
    _, factory = case
    with factory() as session:
        complaints = [f for f in session.query(Finding).filter(Finding.source == "complaint")]
    assert len(complaints) == 2
    assert all(f.evidence_record is None and "群众举报" in f.evidence for f in complaints)
    assert {f.first_as_of: f.due_on for f in complaints} == {
        "2026-11-25": "2026-12-16", "2026-11-26": "2026-12-17"}
    assert {f.district for f in complaints} == {"乙区"}
