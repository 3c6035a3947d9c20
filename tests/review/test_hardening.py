"""Requests an ordinary user or a careless proxy sends, that once turned into HTTP 500 on
PostgreSQL (which enforces column lengths; SQLite does not) or wrote a false address into the
audit log."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.review.conftest import PASSWORD, Env, csrf_of, login

CLI = str(Path(sys.executable).with_name("dibao-audit"))
LONG = "幸福社区第一网格" * 20  # 160 characters


def test_long_queue_filters_and_audit_searches_are_answered_and_logged(env: Env) -> None:
    from pipelines.review.models import AuditEntry

    client = env.client("sup1")
    params = {"district": env.seed.district_a, "street": LONG, "community": LONG,
              "status": "open", "code": "DECEASED"}
    assert client.get("/queue", params=params).status_code == 200
    assert client.get("/queue.xlsx", params=params).status_code == 200
    auditor = env.client("aud")
    assert auditor.get("/audit", params={"target": LONG, "username": LONG}).status_code == 200
    with env.factory() as session:
        targets = [e.target for e in session.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(("view_queue", "export_queue", "view_audit_log"))))]
    assert targets and all(t is None or len(t) <= 128 for t in targets)
    assert any(t and t.endswith("…") for t in targets)
    # readable in the log, not URL-encoded
    assert any(t and t.startswith(f"district={env.seed.district_a}, street=幸福社区第一网格")
               for t in targets)


def test_long_client_address_is_kept_to_its_column(env: Env) -> None:
    from pipelines.review.models import AuditEntry

    address = "2001:db8:" + ":".join(["ffff"] * 30)  # what a proxy chain may pass on
    client = TestClient(env.app, base_url="https://testserver", follow_redirects=False,
                        client=(address, 50000))
    login(client, "cw_a")
    assert client.get("/queue").status_code == 200
    with env.factory() as session:
        logged = session.scalars(select(AuditEntry.client_addr).where(
            AuditEntry.username == "cw_a", AuditEntry.action == "login")).all()
    assert logged and all(a is not None and len(a) <= 64 for a in logged)


def test_overlong_request_id_is_refused_not_an_error(env: Env) -> None:
    from tests.review.conftest import form_of
    from tests.review.test_routes import findings_in

    finding = findings_in(env, env.seed.district_a)[0]
    client = env.client("cw_a")
    page = client.get(f"/households/{finding.household_id}").text
    form = {**form_of(page, finding.finding_id, "note"), "action": "note", "note": "x",
            "request_id": "r" * 500}
    response = client.post(f"/findings/{finding.finding_id}/decide", data=form)
    assert response.status_code == 400


@pytest.mark.parametrize("trusted", [None, "127.0.0.1"])
def test_forwarded_for_is_believed_only_from_a_configured_proxy(
        env: Env, tmp_path: Path, trusted: str | None) -> None:
    from pipelines.review.models import AuditEntry
    from tests.review.test_storm import serving

    if env.seed.backend != "sqlite":
        pytest.skip("the address handling is the server's, not the database's")
    forged = "203.0.113.77"
    with serving(env.url, tmp_path, *(["--trusted-proxies", trusted] if trusted else [])) \
            as base:
        client = httpx.Client(base_url=base, timeout=60)
        token = csrf_of(client.get("/login").text)
        refused = client.post("/login", headers={"X-Forwarded-For": forged},
                              data={"username": "cw_a", "password": PASSWORD + "-wrong",
                                    "csrf_token": token})
        assert refused.status_code == 401
    with env.factory() as session:
        addresses = session.scalars(select(AuditEntry.client_addr).where(
            AuditEntry.action == "login_failed")).all()
    assert addresses == [forged if trusted else "127.0.0.1"]


def _entries(env: Env, username: str, action: str) -> list[tuple[str | None, str | None]]:
    from pipelines.review.models import AuditEntry

    with env.factory() as session:
        return [(e.target, e.detail) for e in session.scalars(select(AuditEntry).where(
            AuditEntry.username == username, AuditEntry.action == action)
            .order_by(AuditEntry.id))]


def test_the_conflict_page_is_logged_as_a_view(env: Env) -> None:
    from tests.review.conftest import form_of
    from tests.review.test_routes import findings_in

    finding = findings_in(env, env.seed.district_a)[0]
    first, second = env.client("cw_a"), env.client("sup1")
    page_first = first.get(f"/households/{finding.household_id}").text
    page_second = second.get(f"/households/{finding.household_id}").text
    assert first.post(f"/findings/{finding.finding_id}/decide", data={
        **form_of(page_first, finding.finding_id, "dismiss"), "reason_code": "legitimate",
        "note": "已入户核实"}).status_code == 303
    before = len(_entries(env, "sup1", "view_household"))
    response = second.post(f"/findings/{finding.finding_id}/decide", data={
        **form_of(page_second, finding.finding_id, "escalate"), "note": "上报"})
    assert response.status_code == 409
    views = _entries(env, "sup1", "view_household")
    assert len(views) == before + 1 and views[-1][0] == finding.household_id


def test_requests_outside_the_users_scope_are_logged_as_refused(env: Env) -> None:
    from tests.review.conftest import form_of
    from tests.review.test_routes import findings_in

    theirs = findings_in(env, env.seed.district_a)[0]
    outsider = env.client("cw_b")
    assert outsider.get(f"/households/{theirs.household_id}").status_code == 404
    assert outsider.get(f"/findings/{theirs.finding_id}").status_code == 404
    form = form_of(env.client("cw_a").get(f"/households/{theirs.household_id}").text,
                   theirs.finding_id, "note")
    token = csrf_of(outsider.get("/queue").text)
    response = outsider.post(f"/findings/{theirs.finding_id}/decide",
                             data={**form, "csrf_token": token, "action": "note", "note": "x"})
    assert response.status_code == 404
    assert outsider.get("/households/no-such-household").status_code == 404  # not a refusal
    refused = _entries(env, "cw_b", "access_refused")
    assert [t for t, _ in refused] == [theirs.household_id, theirs.finding_id, theirs.finding_id]


def test_a_wrong_person_dismissal_needs_another_supervisors_approval(env: Env) -> None:
    from tests.review.test_routes import decide, findings_in, status_of

    finding = findings_in(env, env.seed.district_a)[0]
    assert decide(env.client("sup1"), finding, "dismiss", reason_code="wrong_person",
                  note="出生日期不同").status_code == 303
    assert status_of(env, finding.finding_id) == ("pending_dismissal", 2)
    own = env.client("sup1")
    page = own.get(f"/households/{finding.household_id}").text
    assert f'action="/findings/{finding.finding_id}/decide" class="decide-approve"' not in page
    from tests.review.conftest import form_of

    form = form_of(page, finding.finding_id, "note")
    refused = own.post(f"/findings/{finding.finding_id}/decide",
                       data={**form, "action": "approve"})
    assert refused.status_code == 403
    assert decide(env.client("sup2"), finding, "reject", note="证据充分").status_code == 303
    assert status_of(env, finding.finding_id) == ("open", 3)


def test_staff_named_by_a_lead_recuse_themselves(env: Env) -> None:
    from pipelines.review.auth import add_user
    from pipelines.review.decisions import named_staff
    from pipelines.review.models import Finding
    from tests.review.conftest import form_of

    with env.factory() as session:
        lead = next(f for f in session.scalars(select(Finding).where(
            Finding.finding_code.in_(("STAFF_RELATIVE_UNFILED", "APPROVER_CONFLICT",
                                      "STAFF_LINKED")), Finding.household_id.is_not(None)))
            if named_staff(f))
    staff_id = sorted(named_staff(lead))[0]
    add_user(env.factory, "sup_named", PASSWORD, "supervisor", staff_id=staff_id)
    named = env.client("sup_named")
    page = named.get(f"/households/{lead.household_id}").text
    assert f'action="/findings/{lead.finding_id}/decide"' not in page  # no form at all
    form = form_of(env.client("sup1").get(f"/households/{lead.household_id}").text,
                   lead.finding_id, "dismiss")
    token = csrf_of(page)
    refused = named.post(f"/findings/{lead.finding_id}/decide",
                         data={**form, "csrf_token": token, "reason_code": "wrong_person"})
    assert refused.status_code == 403 and "回避" in refused.text
    # another staff member's account decides as usual
    add_user(env.factory, "sup_other", PASSWORD, "supervisor", staff_id="ST999999")
    other = env.client("sup_other")
    form = form_of(other.get(f"/households/{lead.household_id}").text, lead.finding_id,
                   "escalate")
    assert other.post(f"/findings/{lead.finding_id}/decide", data=form).status_code in (303,)
