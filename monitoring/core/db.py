"""Database engine, session and declarative base shared by every feature."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

logger = logging.getLogger(__name__)

# The same constraint names on SQLite and PostgreSQL, so Alembic can find them again.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _app_context_id() -> int:
    from flask import g

    # One Session per application context (request, CLI command or test block).
    return id(g._get_current_object())


@dataclass
class DatabaseState:
    """Per-application engine, and what new sessions bind to (tests bind a connection)."""

    engine: Engine
    bind: Engine | Connection
    join_transaction_mode: str = "conditional_savepoint"


class Database:
    """The context-scoped session; each application keeps its own engine."""

    def __init__(self) -> None:
        # A plain factory serves as well as a sessionmaker (scoped_session only calls it).
        self.session: scoped_session[Session] = scoped_session(
            self._make_session,  # type: ignore[arg-type]
            scopefunc=_app_context_id,
        )

    @staticmethod
    def state(app: Flask | None = None) -> DatabaseState:
        return (app or current_app).extensions["monitoring.db"]

    @property
    def engine(self) -> Engine:
        return self.state().engine

    def _make_session(self) -> Session:
        state = self.state()
        return Session(
            bind=state.bind,
            expire_on_commit=False,
            join_transaction_mode=state.join_transaction_mode,  # type: ignore[arg-type]
        )

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False))
        app.extensions["monitoring.db"] = DatabaseState(engine=engine, bind=engine)

        @app.teardown_appcontext
        def _remove_session(exc: BaseException | None) -> None:
            self.session.remove()


# How long a SQLite writer waits for another one's lock before "database is locked" (seconds).
# Long enough for the longest write transaction (an import of thousands of rows) to finish.
SQLITE_BUSY_TIMEOUT = 30
# Requests with these methods only read (the API's GET routes write nothing; a page's session
# touch is a short transaction of its own).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Set by the background worker (``flask jobs worker``), whose every transaction writes.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def sqlite_begin_statement() -> str:
    """How a SQLite transaction starts: ``BEGIN IMMEDIATE`` for a request that writes.

    In WAL mode readers never wait, and writers queue on the write lock for the busy timeout.
    But a deferred transaction that has read and then writes cannot wait: if another writer
    committed after its first read, its snapshot is stale and SQLite answers "database is
    locked" at once, whatever the timeout. A request that may write therefore takes the write
    lock when it begins, and waits there for its turn. Reads, command-line commands and jobs
    (and the test suite's outer transaction) begin deferred; the import worker's take the lock
    at once too (``write_intent``), so a login between two of its batches never breaks them.
    """
    if write_intent.get() or (has_request_context() and request.method not in READ_METHODS):
        return "BEGIN IMMEDIATE"
    return "BEGIN"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite turn on foreign keys, WAL, a busy timeout and real transactions."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite's own transaction handling breaks SAVEPOINT; we emit BEGIN ourselves.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # Readers do not block writers nor writers readers; the journal persists in the file.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            connection.exec_driver_sql(sqlite_begin_statement())

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


db = Database()


def get_session() -> Session:
    """Return the session of the current application context."""
    return db.session()
