"""Account administration behind `dibao-audit users`: new password, deactivation, listing.

Each writes an audit-log row in the same transaction as its change. A new password and a
deactivation end every session of the account at once (pipelines.review.sessions)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pipelines.errors import UsageError
from pipelines.review import audit, sessions
from pipelines.review.auth import HASHER, check_password
from pipelines.review.models import LoginSession, User, utcnow


@dataclass(frozen=True)
class Listed:
    """One account as `users list` shows it (never the hash)."""

    username: str
    role: str
    district: str
    street: str
    active: bool
    created_at: str
    sessions: int


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise UsageError(f"no user {username.strip()!r}: check --username against "
                         "`dibao-audit users list`")
    return user


def require(factory: sessionmaker[Session], username: str) -> None:
    """UsageError unless the account exists."""
    with factory() as session:
        _user(session, username)


def change_password(factory: sessionmaker[Session], username: str, password: str,
                    by: str) -> int:
    """Set a new password and end the account's sessions; how many sessions ended."""
    check_password(password)
    hashed = HASHER.hash(password)
    with factory.begin() as session:
        user = _user(session, username)
        user.password_hash = hashed
        ended = sessions.end_all(session, user.id)
        audit.record(session, by, "user_password", user.username, f"{ended} sessions ended")
    return ended


def deactivate(factory: sessionmaker[Session], username: str, by: str) -> int:
    """Deactivate the account (it can no longer sign in) and end its sessions."""
    with factory.begin() as session:
        user = _user(session, username)
        was = "already inactive" if not user.active else "deactivated"
        user.active = 0
        ended = sessions.end_all(session, user.id)
        audit.record(session, by, "user_deactivate", user.username,
                     f"{was}, {ended} sessions ended")
    return ended


def set_staff_id(factory: sessionmaker[Session], username: str, staff_id: str,
                 by: str) -> None:
    """Name the staff member an account is (its staff_id on the staff roster; empty: none), so
    that the account recuses itself from leads naming them."""
    value = staff_id.strip() or None
    if value is not None and len(value) > 64:
        raise UsageError(f"--staff-id must be at most 64 characters, not {len(value)}")
    with factory.begin() as session:
        user = _user(session, username)
        user.staff_id = value
        audit.record(session, by, "user_staff_id", user.username, value or "none")


def list_users(factory: sessionmaker[Session], by: str) -> list[Listed]:
    """Every account with its live session count, by user name."""
    live = (select(LoginSession.user_id, func.count().label("n"))
            .where(LoginSession.expires_at > utcnow()).group_by(LoginSession.user_id).subquery())
    with factory.begin() as session:
        rows = session.execute(select(User, func.coalesce(live.c.n, 0))
                               .outerjoin(live, live.c.user_id == User.id)
                               .order_by(User.username)).all()
        audit.record(session, by, "user_list", None, f"{len(rows)} accounts")
    return [Listed(u.username, u.role, u.district or "", u.street or "", bool(u.active),
                   u.created_at.strftime("%Y-%m-%d %H:%M") if u.created_at else "", int(n))
            for u, n in rows]
