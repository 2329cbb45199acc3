"""Engines, sessions and migrations for SQLite (embedded) and PostgreSQL (by URL).

SQLite runs in WAL mode. Writers take the database lock when their transaction
starts (``BEGIN IMMEDIATE``) so that appends to the hash-chained ledger serialise
instead of failing half-way; readers use deferred transactions and never block them.
On PostgreSQL every write transaction locks the ledger head row with
``SELECT … FOR UPDATE`` before it reads anything instead (see ``Workspace.transaction``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from tutela.errors import StoreError

__all__ = ["Database", "normalise_url", "sqlite_url"]

log = logging.getLogger(__name__)

_MIGRATIONS = "tutela.store:migrations"
_BUSY_TIMEOUT_MS = 60_000
_PG_MIGRATION_LOCK = 0x7475_7465_6C61  # "tutela": one advisory lock id for migrations


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def normalise_url(url: str) -> URL:
    """Accept the URLs people paste and pick the driver we ship (psycopg 3)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            "cannot parse the database URL",
            expected="sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
            found=_redact(url),
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    raise StoreError(
        "unsupported database",
        expected="sqlite or postgresql",
        found=backend,
        hint="set TUTELA_DATABASE_URL or --db to a SQLite path or a PostgreSQL URL",
    )


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event decide how transactions start.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


class Database:
    """One database: a writer engine and a reader engine over the same URL."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.dialect = self.url.get_backend_name()
        self.display_url = self.url.render_as_string(hide_password=True)
        if self.dialect == "sqlite":
            db_path = self.url.database
            if not db_path or db_path == ":memory:":
                raise StoreError("an in-memory SQLite database cannot be shared; give a file path")
            self.writer = self._sqlite_engine("IMMEDIATE", echo)
            self.reader = self._sqlite_engine("DEFERRED", echo)
        else:
            self.writer = create_engine(self.url, echo=echo, pool_pre_ping=True)
            self.reader = self.writer
        self._write_sessions = sessionmaker(self.writer, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.reader, expire_on_commit=False)

    def _sqlite_engine(self, begin: str, echo: bool) -> Engine:
        # NullPool: each session opens its own connection, so a forked worker or a
        # second process never inherits a live SQLite handle.
        engine = create_engine(self.url, echo=echo, poolclass=NullPool)
        event.listen(engine, "connect", _sqlite_on_connect)

        def _begin(conn: Any) -> None:
            conn.exec_driver_sql(f"BEGIN {begin}")

        event.listen(engine, "begin", _begin)
        return engine

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception."""
        with self._guard(), self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._guard(), self._read_sessions() as session, session.begin():
            yield session

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except (sqlite3.DatabaseError, DBAPIError) as exc:
            raise self._explain(exc) from exc

    def _explain(self, exc: BaseException) -> StoreError:
        message = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        if "file is not a database" in message or "malformed" in message:
            return StoreError(
                "the database file is corrupt or not a SQLite database",
                subject=self.display_url,
                found=message,
                hint="restore it from a backup, or `tutela init` a new workspace",
            )
        if isinstance(exc, OperationalError) or "could not connect" in message:
            return StoreError(
                "cannot use the database",
                subject=self.display_url,
                found=message,
                hint="check the URL, that the server runs, and file permissions",
            )
        return StoreError("database error", subject=self.display_url, found=message)

    def migrate(self) -> None:
        """Bring the schema to the newest revision; a no-op when it is current."""
        config = Config()
        config.set_main_option("script_location", _MIGRATIONS)
        head = ScriptDirectory.from_config(config).get_current_head()
        try:
            with self.writer.begin() as conn:
                if self.dialect == "postgresql":
                    # Several processes may open a new workspace at once.
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK}
                    )
                current = MigrationContext.configure(conn).get_current_revision()
                if current == head:
                    return
                known = {s.revision for s in ScriptDirectory.from_config(config).walk_revisions()}
                if current is not None and current not in known:
                    raise StoreError(
                        "the database was written by a newer Tutela",
                        subject=self.display_url,
                        expected=f"schema revision {head}",
                        found=current,
                        hint="upgrade tutela",
                    )
                log.info("migrating %s from %s to %s", self.display_url, current, head)
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except (sqlite3.DatabaseError, DBAPIError) as exc:
            raise self._explain(exc) from exc
        except SQLAlchemyError as exc:  # pragma: no cover - unexpected driver state
            raise self._explain(exc) from exc

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()
