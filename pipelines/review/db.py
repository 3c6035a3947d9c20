"""Database location, engine and migrations of the review app.

The URL comes from `--database`, else `$DIBAO_REVIEW_DATABASE_URL`, else the SQLite file
`var/review.sqlite3` under the current directory. The same models and migrations serve SQLite
(embedded default) and PostgreSQL (`postgresql+psycopg2://...`).
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from pipelines.config import REVIEW_DATABASE_ENV, review_database_url
from pipelines.errors import InputError
from pipelines.review.models import Setting

log = logging.getLogger(__name__)
T = TypeVar("T")

ENV_VAR = REVIEW_DATABASE_ENV
DEFAULT_SQLITE = Path("var") / "review.sqlite3"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def resolve_url(option: str | None = None) -> str:
    """`option` > $DIBAO_REVIEW_DATABASE_URL > sqlite:///var/review.sqlite3 (created)."""
    url = option or review_database_url()
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg2://" + url.removeprefix("postgresql://")
        return url
    path = Path.cwd() / DEFAULT_SQLITE
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def redact(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported as such elsewhere
        return "<unparsable URL>"


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    except Exception as exc:
        raise InputError(f"review database URL {redact(url)} is not usable: {exc}") from None
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        connection = engine.connect()
    except OperationalError as exc:
        reason = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
        raise InputError(f"cannot open the review database "
                         f"{redact(engine.url.render_as_string())}: "
                         f"{reason[0] if reason else exc}") from None
    with connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory for `url`, schema migrated."""
    engine = make_engine(url)
    migrate(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)


def secret_key(factory: sessionmaker[Session]) -> str:
    """The session signing key: $DIBAO_REVIEW_SECRET_KEY, else one generated once and stored."""
    configured = os.environ.get("DIBAO_REVIEW_SECRET_KEY")
    if configured:
        return configured
    with factory() as session:
        stored = session.scalar(select(Setting.value).where(Setting.key == "secret_key"))
    if stored:
        return stored
    value = secrets.token_urlsafe(48)
    try:
        with factory.begin() as session:
            session.add(Setting(key="secret_key", value=value))
    except IntegrityError:  # another process stored one first
        with factory() as session:
            return str(session.scalar(select(Setting.value).where(Setting.key == "secret_key")))
    return value


def retry_busy(factory: sessionmaker[Session], call: Callable[[], T]) -> T:
    """`call()` (which runs its own transaction); on SQLite a writer that lost the race for the
    file lock (its snapshot went stale) is retried, and the retry then sees the other's
    change. Other databases and other errors are not retried."""
    for attempt in range(5):
        try:
            return call()
        except OperationalError as exc:
            if factory.kw["bind"].dialect.name != "sqlite" or attempt == 4:
                raise
            log.info("SQLite busy (%s), retrying", exc.orig)
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")
