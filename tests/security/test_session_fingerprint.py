"""Attack: with a copy of the session table, test guessed addresses and browsers against each session's hash.
Defence: no hash of the client's address or browser is stored with a session (Flask-Login's "_id" is dropped).
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from monitoring.core.db import Base, db
from monitoring.core.sessions import WebSession
from tests.conftest import login

ADDRESS = "198.51.100.23"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/140.0"


def _guesses() -> set[str]:
    """What a thief would compute for a guessed address and browser: Flask-Login's identifier and kin."""
    texts = [f"{ADDRESS}|{BROWSER.encode()}", f"{ADDRESS}|{BROWSER}", ADDRESS, BROWSER]
    return {
        getattr(hashlib, name)(text.encode()).hexdigest()
        for text in texts
        for name in ("sha512", "sha256", "sha1", "md5")
    }


def _every_value(app):
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                for value in row:
                    if value is not None:
                        yield table.name, value if isinstance(value, bytes) else str(value).encode()


def test_no_session_row_holds_a_hash_of_address_or_browser(app, monitor, coordinator):
    for user in (monitor, coordinator):
        client = app.test_client()
        client.environ_base.update({"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": BROWSER})
        assert login(client, user).status_code == 302
        assert client.get("/").status_code == 200
    guesses = _guesses()
    # The attack: look for the hash Flask-Login computes at login (or any plain hash) anywhere.
    found = [
        (table, guess[:12])
        for table, raw in _every_value(app)
        for guess in guesses
        if guess.encode() in raw or bytes.fromhex(guess) in raw
    ]
    assert found == []
    with app.app_context():
        rows = db.session.scalars(select(WebSession).where(WebSession.user_id.is_not(None))).all()
        assert len(rows) == 2
        for row in rows:
            data = json.loads(row.data)
            assert "_user_id" in data and "_id" not in data
            assert ADDRESS not in row.data and "Firefox" not in row.data
