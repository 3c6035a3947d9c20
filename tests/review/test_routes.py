"""Route tests of the review app, each on SQLite and on PostgreSQL (a fresh database per test):
anonymous access, every role's boundary, CSRF, four eyes, the conflict case, the audit log."""

from __future__ import annotations

import io
import re
from urllib.parse import urlencode

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from pipelines.review.export import DECISION_COLUMNS, export_decisions
from pipelines.review.models import AuditEntry, Decision, Finding
from tests.review.conftest import Env, csrf_of, form_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def findings_in(env: Env, district: str, street: str | None = None) -> list[Finding]:
    with env.factory() as session:
        stmt = select(Finding).where(Finding.district == district,
                                     Finding.household_id.is_not(None))
        if street:
            stmt = stmt.where(Finding.street == street)
        return list(session.scalars(stmt.order_by(Finding.priority.desc())))


def status_of(env: Env, finding_id: str) -> tuple[str, int]:
    with env.factory() as session:
        finding = session.get(Finding, finding_id)
        assert finding is not None
        return finding.status, finding.version


def decision_rows(env: Env, finding_id: str) -> int:
    with env.factory() as session:
        return int(session.scalar(select(func.count()).select_from(Decision)
                                  .where(Decision.finding_id == finding_id)) or 0)


def decide(client, finding: Finding, action: str, **extra: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/households/{finding.household_id}")
    assert page.status_code == 200, page.text
    data = {**form_of(page.text, finding.finding_id, action), **extra}
    return client.post(f"/findings/{finding.finding_id}/decide", data=data)


def test_healthz_answers_without_login_and_without_data(env: Env) -> None:
    response = env.client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/", "/queue", "/queue.xlsx", "/audit", "/households/X",
                                  "/findings/X"])
def test_anonymous_requests_are_sent_to_login(env: Env, path: str) -> None:
    response = env.client().get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_anonymous_post_gets_no_data_and_changes_nothing(env: Env) -> None:
    finding = findings_in(env, env.seed.district_a)[0]
    client = env.client()
    token = csrf_of(client.get("/login").text)
    response = client.post(f"/findings/{finding.finding_id}/decide",
                           data={"csrf_token": token, "action": "dismiss", "version": "1",
                                 "reason_code": "legitimate"})
    assert response.status_code in (303, 401)
    assert finding.name not in response.text
    assert status_of(env, finding.finding_id) == ("open", 1)


def test_login_sets_a_hardened_cookie_and_a_wrong_password_is_logged(env: Env) -> None:
    client = env.client()
    page = client.get("/login")
    bad = client.post("/login", data={"username": "cw_a", "password": "wrong password!",
                                      "csrf_token": csrf_of(page.text)})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    good = client.post("/login", data={"username": "cw_a", "password": "review-test-password",
                                       "csrf_token": csrf_of(page.text), "next": "/queue"})
    assert good.status_code == 303 and good.headers["location"] == "/queue"
    cookie = good.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    with env.factory() as session:
        actions = [e.action for e in session.scalars(
            select(AuditEntry).where(AuditEntry.username == "cw_a").order_by(AuditEntry.id))]
    assert actions == ["login_failed", "login"]


def test_repeated_failed_logins_lock_the_account_for_a_while(env: Env) -> None:
    client = env.client()
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        response = client.post("/login", data={"username": "cw_b", "password": "guess-guess",
                                               "csrf_token": token})
        assert response.status_code == 401
    response = client.post("/login", data={"username": "cw_b",
                                           "password": "review-test-password",
                                           "csrf_token": token})
    assert response.status_code == 429 and "分钟后再试" in response.text
    assert client.get("/queue").status_code == 303  # still signed out
    env.client("cw_a")  # other accounts are unaffected
    with env.factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "login_blocked", AuditEntry.username == "cw_b")) == 1


def test_open_redirect_after_login_is_refused(env: Env) -> None:
    client = env.client()
    page = client.get("/login")
    response = client.post("/login", data={"username": "cw_a", "password": "review-test-password",
                                           "csrf_token": csrf_of(page.text),
                                           "next": "//evil.example/"})
    assert response.headers["location"] == "/queue"


def test_caseworker_queue_holds_only_their_district(env: Env) -> None:
    client = env.client("cw_a")
    response = client.get("/queue", params={"district": env.seed.district_b})
    assert response.status_code == 200
    assert 'id="queue-total">0<' in response.text  # scope wins over the filter
    page = client.get("/queue")
    ids = set(re.findall(r'data-finding="(F[0-9a-f]+)"', page.text))
    with env.factory() as session:
        mine = set(session.scalars(select(Finding.finding_id).where(
            Finding.district == env.seed.district_a)))
    assert ids and ids <= mine
    assert env.seed.district_b not in page.text.split('id="queue-results"')[1]


def test_caseworker_of_another_district_gets_404_and_never_the_data(env: Env) -> None:
    foreign = findings_in(env, env.seed.district_a)[0]
    with env.factory() as session:
        names = [m for (m,) in session.execute(text(
            "SELECT name FROM members WHERE household_id = :h"), {"h": foreign.household_id})]
    client = env.client("cw_b")
    for path in (f"/households/{foreign.household_id}", f"/findings/{foreign.finding_id}"):
        response = client.get(path)
        assert response.status_code == 404, path
        for secret in [foreign.name, foreign.id_number, *names]:
            assert secret not in response.text, path
    token = csrf_of(client.get("/queue").text)
    response = client.post(f"/findings/{foreign.finding_id}/decide", data={
        "csrf_token": token, "action": "dismiss", "version": "1", "reason_code": "legitimate"})
    assert response.status_code == 404
    assert status_of(env, foreign.finding_id) == ("open", 1)
    export = client.get("/queue.xlsx")
    sheet = load_workbook(io.BytesIO(export.content)).active
    column = [cell.value for cell in sheet[1]].index("区")
    districts = {row[column] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert districts <= {env.seed.district_b}


def test_street_scoped_caseworker_sees_only_that_street(env: Env) -> None:
    inside = findings_in(env, env.seed.district_a, env.seed.street_a)
    outside = [f for f in findings_in(env, env.seed.district_a) if f.street != env.seed.street_a]
    assert inside and outside
    client = env.client("cw_as")
    assert client.get(f"/households/{inside[0].household_id}").status_code == 200
    assert client.get(f"/households/{outside[0].household_id}").status_code == 404
    page = client.get("/queue")
    with env.factory() as session:
        total = session.scalar(select(func.count()).select_from(Finding).where(
            Finding.district == env.seed.district_a, Finding.street == env.seed.street_a))
    assert f'id="queue-total">{total}<' in page.text
    assert outside[0].finding_id not in page.text


def test_supervisor_and_auditor_see_the_whole_city(env: Env) -> None:
    with env.factory() as session:
        total = session.scalar(select(func.count()).select_from(Finding))
    for user in ("sup1", "aud"):
        page = env.client(user).get("/queue")
        assert f'id="queue-total">{total}<' in page.text, user


def test_only_auditors_read_the_audit_log(env: Env) -> None:
    for user in ("cw_a", "sup1"):
        assert env.client(user).get("/audit").status_code == 403, user
    response = env.client("aud").get("/audit", params={"action": "login", "username": "aud"})
    assert response.status_code == 200
    assert 'id="audit-total">1<' in response.text


def test_auditors_search_the_log_by_target_and_day(env: Env) -> None:
    finding = findings_in(env, env.seed.district_a)[0]
    assert env.client("cw_a").get(f"/households/{finding.household_id}").status_code == 200
    auditor = env.client("aud")
    hits = auditor.get("/audit", params={"target": finding.household_id})
    assert 'id="audit-total">1<' in hits.text and "查看家庭信息" in hits.text
    assert "cw_a" in hits.text and "testclient" in hits.text
    old = auditor.get("/audit", params={"target": finding.household_id, "until": "2020-01-01"})
    assert 'id="audit-total">0<' in old.text
    partial = auditor.get("/audit", params={"username": "cw_a"},
                          headers={"HX-Request": "true", "HX-Target": "audit-results"})
    assert "<html" not in partial.text and 'id="audit-total">2<' in partial.text  # login, view


def test_auditor_is_read_only(env: Env) -> None:
    finding = findings_in(env, env.seed.district_a)[0]
    client = env.client("aud")
    page = client.get(f"/households/{finding.household_id}")
    assert page.status_code == 200 and "/decide" not in page.text
    response = client.post(f"/findings/{finding.finding_id}/decide", data={
        "csrf_token": csrf_of(page.text), "action": "note", "version": "1", "note": "x"})
    assert response.status_code == 403
    assert decision_rows(env, finding.finding_id) == 0


def test_posts_without_the_session_csrf_token_are_rejected(env: Env) -> None:
    finding = findings_in(env, env.seed.district_a)[0]
    client = env.client("cw_a")
    fields = form_of(client.get(f"/households/{finding.household_id}").text,
                     finding.finding_id, "dismiss")
    other_token = csrf_of(env.client("cw_a").get("/queue").text)  # another session's token
    for token in (None, "", "forged", other_token):
        data = {**fields, "reason_code": "legitimate"}
        if token is None:
            data.pop("csrf_token")
        else:
            data["csrf_token"] = token
        response = client.post(f"/findings/{finding.finding_id}/decide", data=data)
        assert response.status_code == 403 and "CSRF" in response.text, token
    assert status_of(env, finding.finding_id) == ("open", 1)
    anonymous = env.client()
    response = anonymous.post("/login", data={"username": "cw_a",
                                              "password": "review-test-password"})
    assert response.status_code == 403
    logout = client.post("/logout", data={})
    assert logout.status_code == 403


def test_a_confirmation_counts_only_after_another_supervisor_approves(env: Env) -> None:
    finding = findings_in(env, env.seed.district_a)[0]
    caseworker = env.client("cw_a")
    response = decide(caseworker, finding, "confirm", note="核实属实")
    assert response.status_code == 303
    assert status_of(env, finding.finding_id)[0] == "pending_approval"
    assert export_decisions(env.url) == []
    page = caseworker.get(f"/households/{finding.household_id}").text
    assert "decide-approve" not in page  # caseworkers never approve
    response = caseworker.post(f"/findings/{finding.finding_id}/decide", data={
        **form_of(page, finding.finding_id, "note"), "action": "approve"})
    assert response.status_code == 403

    second = findings_in(env, env.seed.district_a)[1]
    sup1 = env.client("sup1")
    assert decide(sup1, second, "confirm").status_code == 303
    own = sup1.get(f"/households/{second.household_id}").text
    assert f'/findings/{second.finding_id}/decide" class="decide-approve"' not in own
    response = sup1.post(f"/findings/{second.finding_id}/decide", data={
        **form_of(own, second.finding_id, "note"), "action": "approve",
        "version": str(status_of(env, second.finding_id)[1])})
    assert response.status_code == 403 and "另一名主管" in response.text

    assert decide(sup1, finding, "approve").status_code == 303
    assert decide(env.client("sup2"), second, "approve").status_code == 303
    rows = {r["finding_id"]: r for r in export_decisions(env.url)}
    assert rows[finding.finding_id]["decision"] == "confirmed"
    assert rows[finding.finding_id]["decided_by"] == "cw_a"
    assert rows[finding.finding_id]["approved_by"] == "sup1"
    assert rows[finding.finding_id]["approved_at"] >= rows[finding.finding_id]["decided_at"]
    assert list(rows[finding.finding_id]) == list(DECISION_COLUMNS)
    assert rows[second.finding_id]["decided_by"] == "sup1"
    assert rows[second.finding_id]["approved_by"] == "sup2"


def test_a_supervisor_can_send_a_confirmation_back(env: Env) -> None:
    finding = findings_in(env, env.seed.district_a)[0]
    assert decide(env.client("cw_a"), finding, "confirm").status_code == 303
    assert decide(env.client("sup1"), finding, "reject", note="证据不足").status_code == 303
    assert status_of(env, finding.finding_id) == ("open", 3)
    assert export_decisions(env.url) == []


def test_second_concurrent_decider_gets_a_conflict_and_keeps_their_text(env: Env) -> None:
    finding = findings_in(env, env.seed.district_a)[0]
    first, second = env.client("cw_a"), env.client("sup1")
    page_first = first.get(f"/households/{finding.household_id}").text
    page_second = second.get(f"/households/{finding.household_id}").text
    response = first.post(f"/findings/{finding.finding_id}/decide", data={
        **form_of(page_first, finding.finding_id, "dismiss"), "reason_code": "legitimate",
        "note": "已入户核实"})
    assert response.status_code == 303
    note = "主管意见：需要上报区民政局复核"
    response = second.post(f"/findings/{finding.finding_id}/decide", data={
        **form_of(page_second, finding.finding_id, "escalate"), "note": note})
    assert response.status_code == 409
    assert "保存失败" in response.text and "cw_a" in response.text
    assert note in response.text  # nothing the second person typed is lost
    assert status_of(env, finding.finding_id) == ("dismissed_legitimate", 2)
    assert decision_rows(env, finding.finding_id) == 1
    with env.factory() as session:
        conflicts = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "decision_conflict", AuditEntry.username == "sup1"))
    assert conflicts == 1


def test_a_resubmitted_form_is_recorded_once(env: Env) -> None:
    finding = findings_in(env, env.seed.district_a)[0]
    client = env.client("cw_a")
    page = client.get(f"/households/{finding.household_id}").text
    data = {**form_of(page, finding.finding_id, "escalate"), "note": "上报"}
    assert client.post(f"/findings/{finding.finding_id}/decide", data=data).status_code == 303
    again = client.post(f"/findings/{finding.finding_id}/decide", data=data)
    assert again.status_code == 303
    assert decision_rows(env, finding.finding_id) == 1
    assert status_of(env, finding.finding_id) == ("escalated", 2)


def test_dismissals_notes_and_escalations_reach_the_export(env: Env) -> None:
    found = findings_in(env, env.seed.district_a)
    client = env.client("cw_a")
    assert decide(client, found[0], "dismiss", reason_code="wrong_person").status_code == 303
    assert decide(client, found[1], "dismiss", reason_code="handled", note="10月已停保") \
        .status_code == 303
    assert decide(client, found[2], "escalate").status_code == 303
    assert decide(client, found[3], "note", note="已电话联系").status_code == 303
    missing = decide(client, found[3], "dismiss")  # no reason chosen
    assert missing.status_code == 400
    # a wrong-person dismissal keeps the match out of later audits: it waits for a supervisor
    assert status_of(env, found[0].finding_id) == ("pending_dismissal", 2)
    assert {r["finding_id"] for r in export_decisions(env.url)} == {
        f.finding_id for f in found[1:3]}
    assert decide(env.client("sup1"), found[0], "approve").status_code == 303
    rows = {r["finding_id"]: r for r in export_decisions(env.url)}
    assert set(rows) == {f.finding_id for f in found[:3]}
    wrong = rows[found[0].finding_id]
    assert wrong["decision"] == "dismissed_wrong_person" and wrong["decided_by"] == "cw_a"
    assert wrong["approved_by"] == "sup1"
    assert (wrong["dataset"], wrong["record_id"]) == (found[0].dataset, found[0].record_id)
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", wrong["decided_at"])
    assert rows[found[1].finding_id]["decision"] == "dismissed_legitimate"
    assert rows[found[1].finding_id]["reason"] == "already handled: 10月已停保"
    assert rows[found[2].finding_id]["decision"] == "escalated"
    assert rows[found[2].finding_id]["approved_at"] == ""
    assert status_of(env, found[3].finding_id) == ("open", 1)
    history = client.get(f"/households/{found[3].household_id}").text
    assert "已电话联系" in history


def test_viewing_personal_data_is_audit_logged_with_the_client_address(env: Env) -> None:
    finding = findings_in(env, env.seed.district_a)[0]
    client = env.client("cw_a")
    page = client.get(f"/households/{finding.household_id}")
    assert finding.id_number in page.text  # full ID only here
    queue = client.get("/queue").text
    assert finding.id_number not in queue
    with env.factory() as session:
        add = session.scalars(select(Finding).where(Finding.finding_code == "ADD_CANDIDATE")
                              ).first()
    assert add is not None
    assert env.client("sup1").get(f"/findings/{add.finding_id}").status_code == 200
    with env.factory() as session:
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(["view_household", "view_person"])).order_by(AuditEntry.id)
        ).all()
    assert [(e.username, e.action, e.target) for e in entries] == [
        ("cw_a", "view_household", finding.household_id),
        ("sup1", "view_person", add.finding_id)]
    assert all(e.client_addr == "testclient" for e in entries)


def test_the_audit_log_and_decisions_reject_update_and_delete(env: Env) -> None:
    finding = findings_in(env, env.seed.district_a)[0]
    assert decide(env.client("cw_a"), finding, "escalate").status_code == 303
    statements = ["UPDATE audit_log SET username = 'nobody'", "DELETE FROM audit_log",
                  "UPDATE decisions SET username = 'nobody'", "DELETE FROM decisions"]
    if env.seed.backend == "postgresql":
        statements += ["TRUNCATE audit_log", "TRUNCATE decisions CASCADE"]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), env.factory.kw["bind"].begin() as c:
            c.execute(text(statement))
    with env.factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) >= 3
        assert decision_rows(env, finding.finding_id) == 1
    methods = {m for route in env.app.routes for m in getattr(route, "methods", set())}
    assert methods <= {"GET", "HEAD", "POST"}


def test_queue_is_ordered_by_priority_filtered_and_exported(env: Env) -> None:
    client = env.client("sup1")
    page = client.get("/queue", params={"severity": "high"}).text
    ids = re.findall(r'data-finding="(F[0-9a-f]+)"', page)
    with env.factory() as session:
        expected = list(session.scalars(select(Finding.finding_id).where(
            Finding.severity == "high").order_by(Finding.priority.desc(),
                                                 Finding.finding_id).limit(50)))
        weights = {"high": 3, "medium": 2, "low": 1}
        for finding in session.scalars(select(Finding)):
            assert finding.priority == pytest.approx(
                weights.get(finding.severity, 1) * finding.amount_at_stake * finding.score,
                abs=0.01)
    assert ids == expected
    partial = client.get("/queue", params={"severity": "high"},
                         headers={"HX-Request": "true", "HX-Target": "queue-results"})
    assert "<html" not in partial.text and 'id="queue-table"' in partial.text
    export = client.get("/queue.xlsx", params={"code": "DECEASED"})
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "优先级"
    assert {r[5] for r in rows[1:]} == {"死亡未停保"}
    with env.factory() as session:
        deceased = session.scalar(select(func.count()).select_from(Finding).where(
            Finding.finding_code == "DECEASED"))
    assert len(rows) - 1 == deceased
    assert all("*" in str(r[4]) for r in rows[1:] if r[4])  # IDs masked in exports


def test_queue_filters_and_sorts_by_match_tier(env: Env) -> None:
    client = env.client("sup1")
    with env.factory() as session:
        tiers = dict(session.execute(select(Finding.finding_id, Finding.tier)).tuples().all())
    assert {"confirmed", "possible"} <= set(tiers.values())
    page = client.get("/queue", params={"tier": "possible"}).text
    shown = re.findall(r'data-finding="(F[0-9a-f]+)"', page)
    assert shown and {tiers[f] for f in shown} == {"possible"}
    assert "待核实" in page
    # a code whose leads come in more than one tier, so that the order shows
    page = client.get("/queue", params={"sort": "tier", "code": "APPROVER_CONFLICT"}).text
    order = ["confirmed", "probable", "possible"]
    ranks = [order.index(tiers[f]) for f in re.findall(r'data-finding="(F[0-9a-f]+)"', page)]
    assert ranks == sorted(ranks) and len(set(ranks)) > 1
    export = client.get("/queue.xlsx", params={"tier": "possible"})
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    column = list(rows[0]).index("匹配等级")
    assert len(rows) > 1 and {r[column] for r in rows[1:]} == {"待核实"}


def test_street_and_community_options_narrow_to_the_chosen_district(env: Env) -> None:
    with env.factory() as session:
        def places(district: str, column):  # type: ignore[no-untyped-def]
            return set(session.scalars(select(column).where(Finding.district == district)
                                       .distinct())) - {None}
        streets_a = places(env.seed.district_a, Finding.street)
        streets_b = places(env.seed.district_b, Finding.street)
        communities_b = places(env.seed.district_b, Finding.community)
        in_b = session.scalar(select(func.count()).select_from(Finding).where(
            Finding.district == env.seed.district_b))
    assert streets_a and streets_b and not streets_a & streets_b

    def offered(html: str, name: str) -> set[str]:
        block = re.search(rf'<select name="{name}">(.*?)</select>', html, re.S)
        assert block, name
        return set(re.findall(r'<option value="([^"]+)"', block.group(1)))

    client = env.client("sup1")
    full = client.get("/queue").text
    assert offered(full, "street") >= streets_a | streets_b  # no district: every street
    page = client.get("/queue", params={"district": env.seed.district_b}).text
    assert offered(page, "street") == streets_b
    assert offered(page, "community") == communities_b
    # htmx: the district changes while a street of the old district is still chosen
    partial = client.get("/queue", params={"district": env.seed.district_b,
                                           "street": env.seed.street_a},
                         headers={"HX-Request": "true", "HX-Target": "queue-results"})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert '<span id="queue-places" hx-swap-oob="true">' in partial.text
    assert offered(partial.text, "street") == streets_b
    assert "selected" not in partial.text.split('<select name="street">')[1].split("</select>")[0]
    assert f'id="queue-total">{in_b}<' in partial.text  # the stale street is dropped
    assert partial.headers["HX-Push-Url"] == "/queue?" + urlencode(
        {"district": env.seed.district_b})
    kept = client.get("/queue", params={"district": env.seed.district_a,
                                        "street": env.seed.street_a},
                      headers={"HX-Request": "true", "HX-Target": "queue-results"})
    assert offered(kept.text, "street") == streets_a
    assert f'<option value="{env.seed.street_a}" selected>' in kept.text
    assert kept.headers["HX-Push-Url"] == "/queue?" + urlencode(
        {"district": env.seed.district_a, "street": env.seed.street_a})


def test_household_page_reads_as_the_office_reads(env: Env) -> None:
    """The household's amount once (not on every member), money with two decimals, the
    priority explained where it is shown, the evidence record titled by its dataset's Chinese
    name, a favicon; an error page keeps the user bar and a way back."""
    finding = findings_in(env, env.seed.district_a)[0]
    client = env.client("cw_a")
    page = client.get(f"/households/{finding.household_id}").text
    members = page.split('id="members"')[1].split("</table>")[0]
    assert "月保障金额" not in members
    assert re.search(r'id="household-amount">户月保障金额：[\d,]+\.\d\d 元', page)
    assert re.search(r"涉及金额 [\d,]+\.\d\d 元/月", page)
    assert "严重程度权重" in page and "<abbr" in page
    assert f"比对记录：{finding.dataset} " not in page  # the dataset's Chinese name instead
    assert '<link rel="icon" href="/static/favicon.svg"' in page
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and "svg" in icon.headers["content-type"]
    missing = client.get("/households/NO-SUCH-HOUSEHOLD")
    assert missing.status_code == 404
    assert 'class="who"' in missing.text and "退出" in missing.text
    assert "返回线索列表" in missing.text


def test_a_repaired_roll_id_is_shown_beside_the_roll_s_own_writing(env: Env) -> None:
    """A 15-digit or otherwise repaired roll ID is shown repaired (to compare with the
    evidence) and as the roll wrote it (to check against the paper file)."""
    from pipelines.review.models import Member

    with env.factory() as session:
        member = session.scalars(select(Member).where(Member.id_as_written.is_not(None))
                                 .order_by(Member.household_id)).first()
        plain = session.scalars(select(Member).where(Member.id_as_written.is_(None))).first()
    assert member is not None and plain is not None
    assert member.id_as_written != member.id_number
    page = env.client("sup1").get(f"/households/{member.household_id}").text
    assert "身份证号（名册原写法）" in page
    assert member.id_as_written in page and (member.id_number or "") in page


def test_staff_are_shown_by_name_with_their_code_on_hover(env: Env, audit_run) -> None:
    """The roll's 经办人 and a record's 人员编号 read as the staff member's name (from the
    audit's review/staff.parquet); the code stays on hover. The match score is shown to four
    decimals, rounded down, and explained."""
    import html

    import pyarrow.parquet as pq

    from pipelines.review.models import Member, StaffMember

    roster = {r["staff_id"]: r for r in pq.read_table(
        audit_run / "review" / "staff.parquet").to_pylist()}
    with env.factory() as session:
        stored = {s.staff_id: s.name for s in session.scalars(select(StaffMember))}
        member = session.scalars(select(Member).where(Member.approved_by.in_(sorted(roster)))
                                 .order_by(Member.household_id)).first()
        linked = session.scalars(select(Finding).where(
            Finding.finding_code == "APPROVER_CONFLICT").order_by(Finding.finding_id)).first()
    assert stored == {k: v["name"] for k, v in roster.items()} and member is not None
    staff = roster[member.approved_by or ""]
    page = env.client("sup1").get(f"/households/{member.household_id}").text
    members = page.split('id="members"')[1].split("</table>")[0]
    assert re.search(rf'<span class="staff" title="人员编号 {member.approved_by}[^"]*">'
                     rf'{re.escape(staff["name"])}</span>', members)
    assert f"<td>{member.approved_by}</td>" not in members
    assert linked is not None and linked.household_id
    page = html.unescape(env.client("sup1").get(f"/households/{linked.household_id}").text)
    assert "匹配分</abbr> " in page and "只舍不入" in page
    shown = re.findall(r"匹配分</abbr> (\d\.\d{4})", page)
    assert shown and all(float(s) <= 1 for s in shown)
    queue = env.client("sup1").get("/queue").text
    assert "<th>匹配分</th>" not in queue and 'title="匹配分 ' in queue


def test_match_scores_are_rounded_down_so_only_a_full_match_reads_one() -> None:
    from pipelines.labels import match_score

    assert match_score(1.0) == "1.0000"
    assert match_score(0.99995) == "0.9999"
    assert match_score(0.9516) == "0.9516"
    assert match_score(0.0) == "0.0000" and match_score(None) == ""
