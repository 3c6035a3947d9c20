"""Server-side sessions and account administration, each on SQLite and on PostgreSQL: a cookie
captured before logout, deactivation or a password change is worthless afterwards; login
throttling per client address; `dibao-audit users passwd/deactivate/list`."""

from __future__ import annotations

import base64
import io
import json

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlalchemy import select, update

from pipelines.cli import main
from pipelines.review.app import ADDRESS_FAILURES
from pipelines.review.db import secret_key
from pipelines.review.models import AuditEntry, Finding, LoginSession, User
from tests.review.conftest import PASSWORD, Env, csrf_of, login

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
COOKIE = "dibao_review_session"
NEW_PASSWORD = "a-new-password-2026"


def some_finding(env: Env) -> Finding:
    with env.factory() as session:
        finding = session.scalars(select(Finding).where(
            Finding.district == env.seed.district_a, Finding.household_id.is_not(None))
            .order_by(Finding.priority.desc())).first()
    assert finding is not None
    return finding


def with_cookie(env: Env, value: str) -> TestClient:
    """Another browser replaying a captured session cookie."""
    client = env.client()
    client.headers["Cookie"] = f"{COOKIE}={value}"
    return client


def assert_works(env: Env, cookie: str, finding: Finding) -> None:
    response = with_cookie(env, cookie).get(f"/households/{finding.household_id}")
    assert response.status_code == 200 and finding.name in response.text


def assert_rejected(env: Env, cookie: str, finding: Finding) -> None:
    replay = with_cookie(env, cookie)
    page = replay.get(f"/households/{finding.household_id}")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert finding.name not in page.text and (finding.id_number or "-") not in page.text
    partial = replay.get("/queue", headers={"HX-Request": "true", "HX-Target": "queue-results"})
    assert partial.status_code == 401 and "HX-Redirect" in partial.headers
    assert finding.finding_id not in partial.text
    export = replay.get("/queue.xlsx")
    assert export.status_code == 303 and not export.content.startswith(b"PK")


def signed_in(env: Env, username: str) -> tuple[TestClient, str]:
    client = env.client(username)
    cookie = client.cookies.get(COOKIE)
    assert cookie
    return client, cookie


def audit_actions(env: Env, action: str) -> list[tuple[str, str | None, str | None]]:
    with env.factory() as session:
        return [(e.username, e.target, e.detail) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))]


def test_a_cookie_captured_before_logout_is_rejected_after_logout(env: Env) -> None:
    finding = some_finding(env)
    client, cookie = signed_in(env, "cw_a")
    _, other_cookie = signed_in(env, "cw_a")  # the same account in a second browser
    assert_works(env, cookie, finding)
    token = csrf_of(client.get("/queue").text)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert_rejected(env, cookie, finding)
    replay = with_cookie(env, cookie)  # a form posted with the old cookie and its token
    response = replay.post(f"/findings/{finding.finding_id}/decide", data={
        "csrf_token": token, "action": "dismiss", "version": "1", "reason_code": "legitimate"})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    with env.factory() as session:
        assert session.get(Finding, finding.finding_id).status == "open"  # type: ignore[union-attr]
    assert_works(env, other_cookie, finding)  # logout ends this session only
    assert [u for u, _, _ in audit_actions(env, "logout")] == ["cw_a"]


def test_deactivation_ends_every_session_of_the_account_at_once(env: Env) -> None:
    finding = some_finding(env)
    _, cookie = signed_in(env, "cw_a")
    _, other = signed_in(env, "sup1")
    assert_works(env, cookie, finding)
    assert main(["users", "deactivate", "--username", "cw_a", "--database", env.url]) == 0
    assert_rejected(env, cookie, finding)
    assert_works(env, other, finding)  # other accounts keep theirs
    client = env.client()
    response = client.post("/login", data={"username": "cw_a", "password": PASSWORD,
                                           "csrf_token": csrf_of(client.get("/login").text)})
    assert response.status_code == 401
    entries = audit_actions(env, "user_deactivate")
    assert len(entries) == 1 and entries[0][0].startswith("cli:")
    assert entries[0][1:] == ("cw_a", "deactivated, 1 sessions ended")


def test_a_new_password_ends_the_old_sessions_and_replaces_the_old_password(
        env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    finding = some_finding(env)
    _, cookie = signed_in(env, "cw_a")
    _, second = signed_in(env, "cw_a")
    _, other = signed_in(env, "sup1")
    monkeypatch.setattr("sys.stdin", io.StringIO(NEW_PASSWORD + "\n"))
    assert main(["users", "passwd", "--username", "cw_a", "--password-stdin",
                 "--database", env.url]) == 0
    assert_rejected(env, cookie, finding)
    assert_rejected(env, second, finding)
    assert_works(env, other, finding)
    client = env.client()
    old = client.post("/login", data={"username": "cw_a", "password": PASSWORD,
                                      "csrf_token": csrf_of(client.get("/login").text)})
    assert old.status_code == 401
    fresh = env.client()
    login(fresh, "cw_a", NEW_PASSWORD)
    assert fresh.get(f"/households/{finding.household_id}").status_code == 200
    entries = audit_actions(env, "user_password")
    assert [(t, d) for _, t, d in entries] == [("cw_a", "2 sessions ended")]
    with env.factory() as session:
        hashed = session.scalar(select(User.password_hash).where(User.username == "cw_a"))
    assert hashed and NEW_PASSWORD not in hashed and hashed.startswith("$argon2id$")


def test_an_expired_session_and_a_cookie_without_a_session_are_refused(env: Env) -> None:
    finding = some_finding(env)
    _, cookie = signed_in(env, "cw_a")
    assert_works(env, cookie, finding)
    with env.factory.begin() as session:
        session.execute(update(LoginSession).values(expires_at=LoginSession.created_at))
    assert_rejected(env, cookie, finding)
    # a correctly signed cookie of the old kind (the account id only, no session) is refused
    with env.factory() as session:
        uid = session.scalar(select(User.id).where(User.username == "cw_a"))
    payload = base64.b64encode(json.dumps({"uid": uid}).encode())
    forged = TimestampSigner(secret_key(env.factory)).sign(payload).decode()
    assert_rejected(env, forged, finding)


def test_twenty_failed_logins_from_one_address_block_that_address(env: Env) -> None:
    client = env.client()
    token = csrf_of(client.get("/login").text)
    for n in range(ADDRESS_FAILURES):  # a different user name each time: no account lockout
        response = client.post("/login", data={"username": f"guess{n}",
                                               "password": "guess-guess", "csrf_token": token})
        assert response.status_code == 401, n
    response = client.post("/login", data={"username": "cw_a", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 429 and "网络地址" in response.text
    assert client.get("/queue").status_code == 303  # still signed out
    elsewhere = TestClient(env.app, base_url="https://testserver", follow_redirects=False,
                           client=("10.1.2.3", 50000))
    login(elsewhere, "cw_a")  # the account itself is not locked
    assert elsewhere.get("/queue").status_code == 200
    blocked = audit_actions(env, "login_blocked")
    assert [(u, d) for u, _, d in blocked] == [("cw_a", "address")]


def test_users_list_passwd_and_deactivate_report_unknown_users_and_never_print_hashes(
        env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    signed_in(env, "sup1")
    capsys.readouterr()
    assert main(["users", "list", "--database", env.url]) == 0
    out = capsys.readouterr().out
    lines = [line.split("\t") for line in out.strip().splitlines()]
    assert lines[0] == ["username", "role", "district", "street", "active", "created_at",
                        "sessions"]
    rows = {row[0]: row for row in lines[1:]}
    assert set(rows) == {"aud", "cw_a", "cw_as", "cw_b", "sup1", "sup2"}
    assert rows["cw_as"][1:5] == ["caseworker", env.seed.district_a, env.seed.street_a, "yes"]
    assert rows["sup1"][6] == "1" and rows["sup2"][6] == "0"
    assert "argon2" not in out and "$" not in out
    assert len(audit_actions(env, "user_list")) == 1

    for argv in (["users", "deactivate", "--username", "nobody"],
                 ["users", "passwd", "--username", "nobody", "--password-stdin"]):
        monkeypatch.setattr("sys.stdin", io.StringIO(NEW_PASSWORD + "\n"))
        assert main([*argv, "--database", env.url]) == 2, argv
        assert "no user 'nobody'" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "passwd", "--username", "cw_b", "--password-stdin",
                 "--database", env.url]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    assert audit_actions(env, "user_password") == audit_actions(env, "user_deactivate") == []

    assert main(["users", "deactivate", "--username", "cw_b", "--database", env.url]) == 0
    assert main(["users", "list", "--database", env.url]) == 0
    listed = {line.split("\t")[0]: line.split("\t") for line in
              capsys.readouterr().out.strip().splitlines()[1:]}
    assert listed["cw_b"][4] == "no" and listed["cw_a"][4] == "yes"
