"""Accountability in the review app, on the real audit of the seeded city (as of 2026-10-31)
and a fixed today (DIBAO_TODAY=2026-11-27), on SQLite and PostgreSQL: due dates in working days,
the approval period, the notice before a stop and the objection that reopens the lead, the
decided remove list that waits for both, complaints as leads."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pipelines.io.warehouse import open_warehouse
from pipelines.publicity.publish import decided_lists
from pipelines.review import accountability
from pipelines.review.export import export_decisions
from pipelines.review.models import AuditEntry, Decision, Finding, Run, StaffMember
from tests.review.conftest import AS_OF, Env, csrf_of, form_of

TODAY = "2026-11-27"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(accountability.TODAY_ENV, TODAY)
    yield


STOPS = ("DECEASED", "PUBLIC_EMPLOYEE", "VEHICLE", "PROPERTY", "BUSINESS", "INCOME_OVER_STANDARD")


def _lead(env: Env, code: str | tuple[str, ...], district: str | None = None) -> Finding:
    codes = (code,) if isinstance(code, str) else code
    with env.factory() as session:
        stmt = select(Finding).where(Finding.finding_code.in_(codes),
                                     Finding.household_id.is_not(None),
                                     Finding.status == "open")
        if district:
            stmt = stmt.where(Finding.district == district)
        found = session.scalars(stmt.order_by(Finding.finding_id)).first()
    assert found is not None, code
    return found


def _decide(env: Env, user: str, finding: Finding, action: str, **extra: str) -> None:
    client = env.client(user)
    page = client.get(f"/households/{finding.household_id}").text
    response = client.post(f"/findings/{finding.finding_id}/decide",
                           data={**form_of(page, finding.finding_id, action), **extra})
    assert response.status_code == 303, response.text


def _post(env: Env, user: str, household: str, path: str, **data: str) -> int:
    client = env.client(user)
    page = client.get(f"/households/{household}").text
    return client.post(f"/households/{household}/{path}",
                       data={"csrf_token": csrf_of(page), **data}).status_code


def _remove_list(env: Env, audit_run: Path, folder: Path, on: str) -> set[str]:
    with open_warehouse(str(audit_run.parent / "warehouse.duckdb")) as store:
        decided_lists(store, dt.date.fromisoformat(AS_OF), folder, env.url,
                      dt.date.fromisoformat(on))
    text = (folder / "remove_list.csv").read_text(encoding="utf-8").splitlines()
    return {line.split(",")[0] for line in text[1:]}


def test_leads_are_due_fifteen_working_days_after_the_audit_that_found_them(env: Env) -> None:
    """Found 2026-10-31, due 2026-11-20; on 2026-11-27 five working days late. The queue shows
    it, filters it, and the overdue count is every lead still waiting."""
    with env.factory() as session:
        dues = set(session.scalars(select(Finding.due_on)))
        waiting = len(session.scalars(select(Finding.finding_id).where(
            Finding.status.in_(accountability.AWAITING_DECISION))).all())
        stored = session.scalar(select(Run.accountability))
    assert dues == {"2026-11-20"}
    assert json.loads(stored or "{}")["due_days"] == 15
    client = env.client("sup1")
    page = client.get("/queue").text
    assert "决定逾期 5 个工作日" in page and "截止 2026-11-20" in page
    assert f"逾期线索 {waiting} 条" in page
    overdue = client.get("/queue", params={"due": "overdue"}).text
    assert f'id="queue-total">{waiting}<' in overdue
    assert "期限按工作日计算" in page  # the deadline explained where it is shown


def test_a_confirmation_waits_five_working_days_for_another_supervisor(env: Env) -> None:
    lead = _lead(env, STOPS, env.seed.district_a)
    _decide(env, "cw_a", lead, "confirm", note="火化证明已核实")
    with env.factory() as session:
        finding = session.get(Finding, lead.finding_id)
        assert finding is not None
        assert (finding.status, finding.approval_due_on) == ("pending_approval", "2026-12-04")
    page = env.client("sup1").get(f"/households/{lead.household_id}").text
    assert "审批剩余 5 个工作日" in page
    _decide(env, "sup1", lead, "reject")
    with env.factory() as session:
        back = session.get(Finding, lead.finding_id)
        assert back is not None and (back.status, back.approval_due_on) == ("open", None)


def test_a_stop_waits_for_the_notice_and_an_objection_reopens_it(
        env: Env, audit_run: Path, tmp_path: Path) -> None:
    """Confirmed and approved on 11-27; notice served 11-27, answer by 12-11 (10 working days);
    the decided remove list takes the household from the next working day, 12-14, not before. An objection reopens
    the lead (due 15 working days later, 12-18) and takes it off the list; decided again, it
    is back from the day of that decision."""
    lead = _lead(env, STOPS, env.seed.district_a)
    household = lead.household_id or ""
    assert household not in _remove_list(env, audit_run, tmp_path / "a", "2027-01-31")
    _decide(env, "cw_a", lead, "confirm", note="火化证明已核实")
    _decide(env, "sup1", lead, "approve")
    # approved, no notice yet: not acted on, whatever the day
    assert household not in _remove_list(env, audit_run, tmp_path / "b", "2027-01-31")
    page = env.client("cw_a").get(f"/households/{household}").text
    assert "尚未告知当事人" in page and 'id="serve-notice"' in page
    assert _post(env, "aud", household, "notice") == 403  # auditors are read-only
    assert _post(env, "cw_a", household, "notice") == 303
    with env.factory() as session:
        served = session.get(Finding, lead.finding_id)
        assert served is not None
        assert (served.notice_on, served.respond_by) == ("2026-11-27", "2026-12-11")
    exported = {r["finding_id"]: r for r in export_decisions(env.url)}
    # acted on from the first working day after the period: Monday 12-14
    assert exported[lead.finding_id]["effective_from"] == "2026-12-14"
    assert household not in _remove_list(env, audit_run, tmp_path / "c", "2026-12-13")
    assert household in _remove_list(env, audit_run, tmp_path / "d", "2026-12-14")
    # the household objects: the lead reopens, off the list
    assert _post(env, "cw_a", household, "objection", text="") == 400
    assert _post(env, "cw_a", household, "objection", text="死亡记录系同名他人") == 303
    with env.factory() as session:
        reopened = session.get(Finding, lead.finding_id)
        assert reopened is not None
        assert (reopened.status, reopened.objection_on, reopened.due_on) == (
            "open", TODAY, "2026-12-18")
    assert household not in _remove_list(env, audit_run, tmp_path / "e", "2027-01-31")
    # decided again after the objection: acted on from that decision
    _decide(env, "cw_a", lead, "confirm", note="复核：死亡记录属实")
    _decide(env, "sup1", lead, "approve")
    assert household in _remove_list(env, audit_run, tmp_path / "f", TODAY)
    page = env.client("cw_a").get(f"/households/{household}").text
    assert "异议已于 2026-11-27 处理完毕" in page
    with env.factory() as session:
        actions = [a for (a,) in session.execute(
            select(Decision.action).where(
                Decision.finding_id == lead.finding_id)
            .order_by(Decision.id))]
    assert actions == ["confirm", "approve", "notice", "object", "confirm", "approve"]


def test_the_notice_speaks_of_the_household_s_own_members_only(env: Env,
                                                                tmp_path: Path) -> None:
    """The notice names the household's member, the plain finding, the dates and the office;
    never an ID number, the evidence text, a staff member or another household."""
    lead = _lead(env, "APPROVER_CONFLICT")
    household = lead.household_id or ""
    with env.factory() as session:
        others = [f for f in session.scalars(select(Finding).where(
            Finding.household_id == household, Finding.status == "open"))]
        staff = [s.name for s in session.scalars(select(StaffMember)) if s.name]
    user = "sup2"
    for finding in others:
        _decide(env, user, finding, "confirm")
        _decide(env, "sup1", finding, "approve")
    assert _post(env, "sup2", household, "notice") == 303
    response = env.client("sup2").get(f"/households/{household}/notice.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    path = tmp_path / "notice.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    flat = re.sub(r"\s+", "", text)
    assert "最低生活保障待遇调整告知书" in flat and "送达地址" in flat
    assert "2026年12月11日" in flat and "2026年12月14日" in flat  # answer by; acted on from
    assert "利害关系的工作人员经办" in flat
    assert not re.search(r"\d{15,18}", flat)  # no ID number (nor bank account, phone)
    for name in staff:
        assert name not in flat, "a staff member's name on the notice"
    for finding in others:
        assert finding.evidence not in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(path),
                    str(ARTIFACTS / "notice")], check=True)
    with env.factory() as session:
        logged = session.execute(select(Decision.action).where(
            Decision.finding_id == others[0].finding_id)).scalars().all()
    assert "notice" in logged


def test_complaints_become_leads_with_the_same_deadline(env: Env) -> None:
    lead = _lead(env, STOPS, env.seed.district_a)
    client = env.client("cw_a")
    form = client.get("/complaints/new").text
    request_id = re.search(r'name="request_id" value="([0-9a-f]+)"', form)
    assert request_id is not None
    data = {"csrf_token": csrf_of(form), "request_id": request_id.group(1),
            "channel": "phone", "received_on": "2026-11-25",
            "household_id": lead.household_id or "", "content": "其子女经营网店，收入较高",
            "during_publicity": "1"}
    bad = client.post("/complaints", data={**data, "content": ""})
    assert bad.status_code == 400 and "请填写举报内容" in bad.text
    assert "2026-11-25" in bad.text  # what was typed is kept
    future = client.post("/complaints", data={**data, "received_on": "2026-11-30"})
    assert future.status_code == 400 and "不能晚于今天" in future.text
    saved = client.post("/complaints", data=data)
    assert saved.status_code == 303
    fid = saved.headers["location"].rsplit("/", 1)[-1]
    with env.factory() as session:
        complaint = session.get(Finding, fid)
        assert complaint is not None
        assert (complaint.source, complaint.finding_code, complaint.due_on,
                complaint.district) == ("complaint", "COMPLAINT", "2026-12-16",
                                        env.seed.district_a)
        assert "公示期内" in complaint.evidence
    queue = client.get("/queue", params={"source": "complaint"}).text
    assert 'id="queue-total">1<' in queue and "群众举报" in queue
    # the same form sent twice records one complaint
    again = client.post("/complaints", data=data)
    assert again.status_code == 303 and again.headers["location"].endswith(fid)
    # a household outside the caseworker's district gets the same answer as one that does not
    # exist (the form does not tell who is on the roll elsewhere); the refusal is logged
    other = _lead(env, STOPS, env.seed.district_b)
    refused = client.post("/complaints", data={**data, "household_id": other.household_id,
                                               "request_id": "r2"})
    missing = client.post("/complaints", data={**data, "household_id": "NO-SUCH",
                                               "request_id": "r3"})
    assert refused.status_code == missing.status_code == 400
    message = accountability.NOT_IN_SCOPE
    assert message in refused.text and message in missing.text
    with env.factory() as session:
        logged = session.scalars(select(AuditEntry.target).where(
            AuditEntry.action == "access_refused")).all()
    assert other.household_id in logged and "NO-SUCH" not in logged
    assert env.client("aud").get("/complaints/new").status_code == 403
    # decided like any lead
    with env.factory() as session:
        complaint = session.get(Finding, fid)
        assert complaint is not None
    _decide(env, "cw_a", complaint, "dismiss", reason_code="legitimate", note="网店已注销")
    with env.factory() as session:
        done = session.get(Finding, fid)
        assert done is not None and done.status == "dismissed_legitimate"


def test_only_supervisors_and_auditors_see_the_oversight_page(env: Env) -> None:
    assert env.client("cw_a").get("/oversight").status_code == 403
    page = env.client("sup1").get("/oversight").text
    assert "督办统计" in page and 'id="overdue-list"' in page and "<svg" in page
    assert env.client("aud").get("/oversight").status_code == 200


def test_late_objections_recused_staff_and_the_audit_s_copy_of_the_decisions(
        env: Env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A staff member named by a lead of the household may not serve its notice; an objection
    after the response period is refused; the decisions an audit copies from the app carry
    when a stop may be acted on, so `publish` without the app still waits for the notice."""
    import pyarrow.parquet as pq

    from pipelines.publicity.publish import _in_force
    from pipelines.review.accounts import set_staff_id
    from pipelines.review.decisions import named_staff
    from pipelines.rules.decisions import capture

    conflict = _lead(env, "APPROVER_CONFLICT")
    household = conflict.household_id or ""
    with env.factory() as session:
        leads = list(session.scalars(select(Finding).where(
            Finding.household_id == household, Finding.status == "open")))
    for finding in leads:
        _decide(env, "sup2", finding, "confirm")
        _decide(env, "sup1", finding, "approve")
    named = sorted(named_staff(conflict))
    assert named
    set_staff_id(env.factory, "sup1", named[0], "test")
    assert _post(env, "sup1", household, "notice") == 403  # recused
    page = env.client("sup1").get(f"/households/{household}").text
    assert 'id="serve-notice"' not in page
    assert _post(env, "sup2", household, "notice") == 303
    # the audit's copy: effective from the first working day after the period
    work = tmp_path / "work"
    work.mkdir()
    copied = pq.read_table(capture(work, env.url)).to_pylist()
    rows = {r["finding_id"]: r for r in copied}
    assert {rows[f.finding_id]["effective_from"] for f in leads} == {"2026-12-14"}
    assert {r["source"] for r in copied} == {"review"}
    assert not _in_force(rows[leads[0].finding_id], dt.date(2026, 12, 11))
    assert _in_force(rows[leads[0].finding_id], dt.date(2026, 12, 14))
    assert not _in_force({**rows[leads[0].finding_id], "effective_from": None},
                         dt.date(2027, 1, 31))  # approved in the app, household not told
    assert _in_force({"decision": "confirmed", "source": "file"}, dt.date(2026, 1, 1))
    # the period ends 12-11: an objection on 12-14 is too late
    monkeypatch.setenv(accountability.TODAY_ENV, "2026-12-14")
    client = env.client("sup2")
    page = client.get(f"/households/{household}").text
    late = client.post(f"/households/{household}/objection",
                       data={"csrf_token": csrf_of(page), "text": "不服"})
    assert late.status_code == 400 and "答复期已于 2026-12-11 届满" in late.text
    with env.factory() as session:
        assert {f.status for f in session.scalars(select(Finding).where(
            Finding.household_id == household, Finding.finding_id.in_(
                [f.finding_id for f in leads])))} == {"confirmed"}
