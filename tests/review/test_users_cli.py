"""Mistakes with `dibao-audit users add/passwd/deactivate`, on SQLite and on PostgreSQL: exit 2
and one plain line `dibao-audit users <command>: <what to do>`, never a traceback, nothing
changed, and the options checked before any password is asked for."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.review.conftest import BACKENDS, PASSWORD, pg_admin, pg_url

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
PG_DB = f"dibao_review_users_cli_{os.getpid()}"


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty review database with one caseworker, zhang."""
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path / 'review.sqlite3'}"
    else:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {PG_DB}")
        database = pg_url(PG_DB)
    code = users(["add", "--username", "zhang", "--role", "caseworker", "--district", "江岸区",
                  "--password-stdin", "--database", database], stdin=PASSWORD)
    assert code == 0
    yield database
    if request.param != "sqlite":
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def users(argv: list[str], stdin: str | None = None) -> int:
    import sys

    saved = sys.stdin
    sys.stdin = io.StringIO("" if stdin is None else stdin + "\n")
    try:
        return main(["users", *argv])
    finally:
        sys.stdin = saved


def mistake(argv: list[str], capsys: pytest.CaptureFixture[str], stdin: str | None = None
            ) -> str:
    """Exit 2 and one plain line on stderr; that line."""
    capsys.readouterr()
    code = users(argv, stdin)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "input unusable" not in err, err
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def no_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(prompt: str = "") -> str:
        raise AssertionError(f"asked for a password ({prompt!r}) despite a mistake")

    monkeypatch.setattr("getpass.getpass", refuse)


def listed(url: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["users", "list", "--database", url]) == 0
    return [line.split("\t")[0] for line in capsys.readouterr().out.strip().splitlines()[1:]]


def test_add_scope_mistakes_are_reported_before_the_password_prompt(
        url: str, capsys: pytest.CaptureFixture[str], no_prompt: None) -> None:
    db = ["--database", url]
    assert mistake(["add", "--username", "wang", "--role", "caseworker", *db], capsys) == (
        "dibao-audit users add: a caseworker needs --district: add the district they work "
        "for, e.g. --district 江岸区 (and optionally --street 大智街道)")
    assert mistake(["add", "--username", "wang", "--role", "caseworker", "--street", "大智街道",
                    *db], capsys).startswith("dibao-audit users add: a caseworker needs "
                                             "--district: add the district")
    for role, place in (("supervisor", ["--district", "江岸区"]),
                        ("auditor", ["--street", "大智街道"])):
        assert mistake(["add", "--username", "wang", "--role", role, *place, *db], capsys) == (
            f"dibao-audit users add: a {role} works city-wide: leave out --district and "
            "--street")
    assert mistake(["add", "--username", "x" * 65, "--role", "auditor", *db], capsys) == (
        "dibao-audit users add: --username must be 1 to 64 characters, not 65: choose another "
        "name")
    assert mistake(["add", "--username", " zhang ", "--role", "supervisor", *db], capsys) == (
        "dibao-audit users add: user 'zhang' already exists: choose another --username, or set "
        "its password with `dibao-audit users passwd --username zhang`")
    assert listed(url, capsys) == ["zhang"]


def test_add_and_passwd_refuse_a_short_or_missing_password(
        url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--database", url]
    short = "123456789"  # the rule: at least 10 characters (pipelines.review.auth.MIN_PASSWORD)
    assert mistake(["add", "--username", "li", "--role", "supervisor", "--password-stdin", *db],
                   capsys, stdin=short) == (
        "dibao-audit users add: password too short: use at least 10 characters")
    assert mistake(["passwd", "--username", "zhang", "--password-stdin", *db], capsys,
                   stdin=short) == (
        "dibao-audit users passwd: password too short: use at least 10 characters")
    assert mistake(["add", "--username", "li", "--role", "supervisor", "--password-stdin", *db],
                   capsys, stdin=None) == (
        "dibao-audit users add: --password-stdin: standard input held no password: pipe it in "
        "as one line, or leave --password-stdin out to be asked for it")
    assert users(["add", "--username", "li", "--role", "supervisor", "--password-stdin", *db],
                 stdin="0123456789") == 0  # exactly 10 is accepted, as before
    assert listed(url, capsys) == ["li", "zhang"]


def test_prompted_passwords_that_differ_or_never_come(
        url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    db = ["--database", url]
    answers = iter(["first-password-1", "second-password-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert mistake(["add", "--username", "li", "--role", "auditor", *db], capsys) == (
        "dibao-audit users add: the two passwords differ, nothing changed: run the command "
        "again and type the same password twice")

    def closed(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", closed)
    assert mistake(["passwd", "--username", "zhang", *db], capsys) == (
        "dibao-audit users passwd: no password given, nothing changed: type it at the prompt, "
        "or pipe it with --password-stdin")
    assert listed(url, capsys) == ["zhang"]


def test_unknown_username_for_passwd_and_deactivate(
        url: str, capsys: pytest.CaptureFixture[str], no_prompt: None) -> None:
    for command, extra in (("passwd", []), ("deactivate", [])):
        assert mistake([command, "--username", "nobody", *extra, "--database", url],
                       capsys) == (f"dibao-audit users {command}: no user 'nobody': check "
                                   "--username against `dibao-audit users list`")


def test_database_folder_that_does_not_exist(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    nowhere = tmp_path / "no" / "such"
    assert mistake(["list", "--database", f"sqlite:///{nowhere / 'r.sqlite3'}"], capsys) == (
        f"dibao-audit users list: --database sqlite:///{nowhere}/r.sqlite3: the folder "
        f"{nowhere} does not exist: create it, or give another path")
    assert mistake(["list", "--database", "not a url"], capsys) == (
        "dibao-audit users list: --database is not a database URL: give e.g. "
        "sqlite:///var/review.sqlite3 or postgresql://user@host/dbname")
    assert not nowhere.parent.exists()


def test_add_user_itself_refuses_a_taken_name_with_the_same_message(url: str) -> None:
    from pipelines.errors import InputError, UsageError
    from pipelines.review.auth import add_user
    from pipelines.review.db import open_database

    engine, factory = open_database(url)
    try:
        with pytest.raises(UsageError, match=r"^user 'zhang' already exists: choose another "
                                             r"--username"):
            add_user(factory, "zhang", PASSWORD, "auditor")  # the insert's unique key
        assert issubclass(UsageError, InputError)  # the DAGs and stages still stop on it
    finally:
        engine.dispose()


def test_staff_id_is_set_cleared_and_checked(url: str, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    from sqlalchemy import select

    from pipelines.review.db import open_database
    from pipelines.review.models import User

    def staff_id() -> str | None:
        engine, factory = open_database(url)
        with factory() as session:
            value = session.scalar(select(User.staff_id).where(User.username == "zhang"))
        engine.dispose()
        return value

    assert users(["staff-id", "--username", "zhang", "--staff-id", "ST000021",
                  "--database", url]) == 0
    assert staff_id() == "ST000021"
    assert users(["staff-id", "--username", "zhang", "--staff-id", "S" * 65,
                  "--database", url]) == 2
    assert "--staff-id must be at most 64 characters" in capsys.readouterr().err
    assert staff_id() == "ST000021"
    assert users(["staff-id", "--username", "zhang", "--staff-id", "", "--database", url]) == 0
    assert staff_id() is None
    assert users(["staff-id", "--username", "nobody", "--staff-id", "S1",
                  "--database", url]) == 2
