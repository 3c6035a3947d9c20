"""Accounts: argon2 password hashes, roles and what each role may see.

Roles: a caseworker sees the findings of one district (and, when set, one street); a supervisor
sees the whole city and approves confirmed stops (never their own); an auditor reads everything
and the audit log, and decides nothing. Accounts are created with `dibao-audit users add`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, and_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pipelines.errors import UsageError
from pipelines.review.models import Finding, Member, User

ROLES = ("caseworker", "supervisor", "auditor")
# argon2id, RFC 9106 "second recommended" profile (64 MiB, 3 passes, 4 lanes): see
# docs/decisions/0004-review-app.md for the measured hash time.
HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = HASHER.hash("not a password of anyone")
# Password checks one per four cores at a time (a check runs four lanes, on up to four cores,
# outside the GIL): a burst of logins queues here, taking no more CPU than one check at a time
# on a small server, instead of starving every other request.
_VERIFYING = threading.BoundedSemaphore(max(1, (os.cpu_count() or 4) // 4))
# seconds a login waits for its turn before it is answered "busy" (a waiting login holds one of
# the server's worker threads, which pages and /healthz need too)
VERIFY_WAIT = 10.0
MIN_PASSWORD = 10


@dataclass(frozen=True)
class Account:
    """The signed-in user, as the request handlers see them."""

    id: int
    username: str
    role: str
    district: str | None
    street: str | None
    staff_id: str | None = None

    @property
    def can_decide(self) -> bool:
        return self.role in ("caseworker", "supervisor")

    @property
    def can_approve(self) -> bool:
        return self.role == "supervisor"

    @property
    def can_audit(self) -> bool:
        return self.role == "auditor"

    def scope(self) -> ColumnElement[bool]:
        """SQL condition on Finding selecting what this account may see."""
        if self.role != "caseworker":
            return true()
        condition = Finding.district == self.district
        if self.street:
            condition = and_(condition, Finding.street == self.street)
        return condition

    def sees(self, finding: Finding) -> bool:
        if self.role != "caseworker":
            return True
        return finding.district == self.district and (
            not self.street or finding.street == self.street)

    def label(self) -> str:
        names = {"caseworker": "经办人员", "supervisor": "主管", "auditor": "审计人员"}
        where = "".join(p for p in (self.district, self.street) if p)
        return f"{self.username}（{names[self.role]}{'，' + where if where else ''}）"


def account(user: User) -> Account:
    return Account(user.id, user.username, user.role, user.district, user.street,
                   user.staff_id)


def _check_scope(username: str, role: str, district: str | None, street: str | None) -> None:
    """UsageError unless the name, role and district/street of a new account fit together."""
    if not username or len(username) > 64:
        raise UsageError(f"--username must be 1 to 64 characters, not {len(username)}: "
                         "choose another name")
    if role not in ROLES:
        raise UsageError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "caseworker" and not district:
        raise UsageError("a caseworker needs --district: add the district they work for, e.g. "
                         "--district 江岸区 (and optionally --street 大智街道)")
    if role != "caseworker" and (district or street):
        raise UsageError(f"a {role} works city-wide: leave out --district and --street")
    if street and not district:
        raise UsageError("--street needs --district: add the district the street belongs to")


def _taken(username: str) -> UsageError:
    return UsageError(f"user {username!r} already exists: choose another --username, or set "
                      f"its password with `dibao-audit users passwd --username {username}`")


def check_password(password: str) -> None:
    """UsageError unless the password is long enough."""
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"password too short: use at least {MIN_PASSWORD} characters")


def check_new_user(factory: sessionmaker[Session], username: str, role: str,
                   district: str | None = None, street: str | None = None) -> None:
    """UsageError when `add_user` would refuse these options (all but the password), so the
    command line says so before asking for a password."""
    username = username.strip()
    _check_scope(username, role, district, street)
    with factory() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise _taken(username)
        if district:
            _check_place(known_places(session), district, street)


def known_places(session: Session) -> dict[str, set[str]]:
    """District -> its streets, as the imported audits name them; before any import, the
    districts of the default city (whose streets are not known yet)."""
    places: dict[str, set[str]] = {}
    for table in (Finding, Member):
        for district, street in session.execute(
                select(table.district, table.street).distinct()):
            if district:
                places.setdefault(district, set()).update([street] if street else [])
    if not places:
        from pipelines.ingest.divisions import city_districts

        places = {name: set() for name in city_districts().values()}
    return places


def _close(value: str, known: set[str] | dict[str, set[str]]) -> str:
    import difflib

    names = sorted(known)
    close = [n for n in names if value in n or n in value]
    close += [n for n in difflib.get_close_matches(value, names, n=3, cutoff=0.4)
              if n not in close]
    return (f"did you mean {', '.join(close[:3])}? " if close else "") + \
        f"known: {', '.join(names[:12])}{' ...' if len(names) > 12 else ''}"


def _check_place(places: dict[str, set[str]], district: str, street: str | None) -> None:
    """UsageError unless the district (and street) are the city's: a caseworker scoped to a
    place that no lead names would see an empty queue forever."""
    if district not in places:
        raise UsageError(f"--district {district!r} is not a district of this city: "
                         f"{_close(district, places)}")
    streets = places[district]
    if street and streets and street not in streets:
        raise UsageError(f"--street {street!r} is not a street of {district}: "
                         f"{_close(street, streets)}")


def add_user(factory: sessionmaker[Session], username: str, password: str, role: str,
             district: str | None = None, street: str | None = None,
             staff_id: str | None = None) -> Account:
    """Create an account; UsageError (an InputError) on a bad role, scope, short password or
    taken name, with a message that says what to do."""
    username = username.strip()
    _check_scope(username, role, district, street)
    if staff_id and len(staff_id.strip()) > 64:
        raise UsageError(f"--staff-id must be at most 64 characters, not {len(staff_id.strip())}")
    check_password(password)
    user = User(username=username, password_hash=HASHER.hash(password), role=role,
                district=district or None, street=street or None, active=1,
                staff_id=(staff_id or "").strip() or None)
    try:
        with factory.begin() as session:
            session.add(user)
    except IntegrityError:
        raise _taken(username) from None
    return account(user)


def authenticate(session: Session, username: str, password: str) -> Account | None:
    """The account when the password matches an active user, else None (constant-ish time)."""
    user = session.scalar(select(User).where(User.username == username, User.active == 1))
    stored = user.password_hash if user is not None else _DUMMY_HASH
    found = account(user) if user is not None else None
    session.rollback()  # no connection held while the hash is checked
    if not _VERIFYING.acquire(timeout=VERIFY_WAIT):
        raise Busy("too many password checks waiting")
    try:
        HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    finally:
        _VERIFYING.release()
    return found


class Busy(Exception):
    """Too many password checks queued: the login is answered 503, try again."""
