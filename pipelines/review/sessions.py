"""Server-side sessions: the signed cookie carries only a random token; the `sessions` table
holds its SHA-256, the account and the expiry. Every request looks the token up, so deleting
the row (logout, deactivation, a new password) ends that session at once, wherever the cookie
went. A session lasts at most SESSION_HOURS from login, however active."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipelines.review.models import LoginSession, User, utcnow

SESSION_HOURS = 8


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(session: Session, user_id: int, client: str | None) -> str:
    """A new session for `user_id` (in the caller's transaction); returns the cookie token.
    Expired sessions of every account are purged on the way."""
    now = utcnow()
    session.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(id=_digest(token), user_id=user_id, created_at=now,
                             expires_at=now + dt.timedelta(hours=SESSION_HOURS),
                             client_addr=client))
    return token


def user_of(session: Session, token: object) -> User | None:
    """The active account of a live session token, else None."""
    if not isinstance(token, str) or not token:
        return None
    return session.scalar(select(User).join(LoginSession, LoginSession.user_id == User.id).where(
        LoginSession.id == _digest(token), LoginSession.expires_at > utcnow(), User.active == 1))


def end(session: Session, token: object) -> None:
    """End one session (logout). Unknown tokens are ignored."""
    if isinstance(token, str) and token:
        session.execute(delete(LoginSession).where(LoginSession.id == _digest(token)))


def end_all(session: Session, user_id: int) -> int:
    """End every session of an account (deactivation, password change); how many ended."""
    result = session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)
