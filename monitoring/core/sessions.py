"""Server-side sessions stored in the database.

The cookie holds only a random session id; the database holds its SHA-256, so a copy of
the database cannot be used to take over a session. Any app server can serve any request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import ForeignKey, Result, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import CallbackDict

from monitoring.core.db import Base, db, write_intent
from monitoring.core.types import UTCDateTime, utcnow

logger = logging.getLogger(__name__)

# Write the last-seen time at most this often, so reads do not all turn into writes.
TOUCH_INTERVAL = timedelta(seconds=60)


class WebSession(Base):
    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def hash_sid(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


# Session keys never written to the database. Flask-Login puts an unkeyed SHA-512 of the
# client's address and browser under "_id" at every login, for a "session protection" this
# application does not use (it renews the session id at login instead): stored, that hash
# would let anyone with the table test guessed addresses and browsers against each session.
NEVER_STORED = frozenset({"_id"})


def _stored(session: ServerSession) -> str:
    """The session's data as stored: JSON, without the keys in NEVER_STORED."""
    return json.dumps({key: value for key, value in session.items() if key not in NEVER_STORED})


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """Session data with the id of its database row."""

    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None) -> None:
        def on_update(self: ServerSession) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.modified = False
        self.rotate = False
        self.next_sid: str | None = None

    def regenerate(self) -> None:
        """Give the session a new id at the next save and drop the old row."""
        self.rotate = True
        self.modified = True
        self.next_sid = None

    @property
    def cookie_id(self) -> str:
        """The id the cookie holds after this response, chosen now if it is to be new.

        Secrets kept in the session are encrypted under a key derived from it (see
        ``monitoring.accounts.keys``): the database holds only its hash.
        """
        if self.rotate or self.sid is None:
            if self.next_sid is None:
                self.next_sid = secrets.token_urlsafe(32)
            return self.next_sid
        return self.sid


def end_user_sessions(user_id: int) -> int:
    """Delete every session of a user (logout everywhere); return how many."""
    result = db.session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return _count(result)


def purge_expired_sessions(app: Flask) -> int:
    """Delete sessions past their idle or absolute timeout; return how many."""
    now = utcnow()
    idle = now - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    absolute = now - timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    anonymous = now - timedelta(minutes=app.config["ANONYMOUS_SESSION_MINUTES"])
    result = db.session.execute(
        delete(WebSession).where(
            (WebSession.last_seen_dt < idle)
            | (WebSession.created_dt < absolute)
            | (WebSession.user_id.is_(None) & (WebSession.last_seen_dt < anonymous))
        )
    )
    return _count(result)


def _count(result: Result[Any]) -> int:
    """The rows a bulk DELETE removed (a CursorResult's rowcount; typed as any Result)."""
    return int(getattr(result, "rowcount", 0) or 0)


class DatabaseSessionInterface(SessionInterface):
    """Keep session data in the ``web_session`` table."""

    def open_session(self, app: Flask, request: Request) -> ServerSession | None:
        if request.path.startswith(("/api/", "/static/")):
            # The API authenticates with bearer tokens only; static files need no session.
            return None
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid:
            return ServerSession()
        row = db.session.scalar(select(WebSession).where(WebSession.sid_hash == hash_sid(sid)))
        if row is None or self._expired(app, row):
            return ServerSession()
        try:
            data = json.loads(row.data)
        except ValueError:
            data = {}
        session = ServerSession(data, sid=sid)
        session.row_id = row.id  # type: ignore[attr-defined]
        session.last_seen_dt = row.last_seen_dt  # type: ignore[attr-defined]
        return session

    def _expired(self, app: Flask, row: WebSession) -> bool:
        now = utcnow()
        if row.user_id is None:
            idle = timedelta(minutes=app.config["ANONYMOUS_SESSION_MINUTES"])
        else:
            idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
        absolute = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
        return row.last_seen_dt + idle < now or row.created_dt + absolute < now

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession):
            return
        # Every statement below writes (a GET too, when it touches the session): on SQLite its
        # transaction takes the write lock when it begins, so another writer committing between
        # its read and its write cannot make it fail with "database is locked".
        intent = write_intent.set(True)
        try:
            self._save(app, session, response)
        finally:
            write_intent.reset(intent)

    def _save(self, app: Flask, session: ServerSession, response: Response) -> None:
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        # Whatever a handler left uncommitted is discarded: handlers commit their own work.
        db.session.rollback()
        row_id = getattr(session, "row_id", None)
        if session.rotate or (not session and row_id is not None):
            if row_id is not None:
                db.session.execute(delete(WebSession).where(WebSession.id == row_id))
            row_id = None
            session.sid = None
        if not session:
            if session.sid is None and request_had_cookie(name):
                response.delete_cookie(name, domain=domain, path=path)
            db.session.commit()
            return
        now = utcnow()
        user_id = _user_id(session)
        if row_id is None:
            session.sid = session.next_sid or secrets.token_urlsafe(32)
            db.session.add(
                WebSession(
                    sid_hash=hash_sid(session.sid),
                    user_id=user_id,
                    data=_stored(session),
                    created_dt=now,
                    last_seen_dt=now,
                )
            )
        elif session.modified or now - session.last_seen_dt > TOUCH_INTERVAL:  # type: ignore[attr-defined]
            row = db.session.get(WebSession, row_id)
            if row is not None:
                row.data = _stored(session)
                row.user_id = user_id
                row.last_seen_dt = now
        db.session.commit()
        response.set_cookie(
            name,
            session.sid or "",
            httponly=self.get_cookie_httponly(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            domain=domain,
            path=path,
        )


def request_had_cookie(name: str) -> bool:
    from flask import request

    return name in request.cookies


def _user_id(session: ServerSession) -> int | None:
    raw = session.get("_user_id")
    return int(raw) if raw is not None else None
