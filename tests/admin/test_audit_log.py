"""The audit log: filters, keyset pages and the chain check."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from monitoring.core import audit
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.admin.helpers import next_link
from tests.conftest import post_form

AUDIT = "/admin/audit"


@pytest.fixture
def entries(app):
    """Five entries about widgets, oldest first, with the ids they got."""
    with app.app_context():
        made = [
            audit.record(
                "widget.poke",
                f"Poked widget {n}",
                object_type="widget",
                object_id=n,
                data={"n": n, "note": "<b>bold</b>"},
            )
            for n in range(1, 6)
        ]
        db.session.commit()
        return [entry.id for entry in made]


def _ids(page):
    return [int(part.split('"')[0]) for part in page.split('<tr id="entry-')[1:]]


def test_newest_first_with_summary_actor_object_and_data(client_for, admin, entries):
    page = client_for(admin).get(AUDIT).get_data(as_text=True)
    ids = _ids(page)
    assert ids == sorted(ids, reverse=True)
    assert set(entries) <= set(ids)
    assert "Poked widget 5" in page
    assert "<details>" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page  # data is escaped, never rendered
    assert "not translated" in page
    assert f'href="/admin/users/{admin.id}">{admin.email}</a>' in page  # the login entry's actor


def test_filters(app, client_for, admin, monitor, entries):
    client = client_for(admin)
    page = client.get(f"{AUDIT}?action=widget.poke").get_data(as_text=True)
    assert sorted(_ids(page)) == entries

    page = client.get(f"{AUDIT}?object_type=widget&object_id=3").get_data(as_text=True)
    assert _ids(page) == [entries[2]]

    page = client.get(f"{AUDIT}?object_type=user_account&object_id={monitor.id}").get_data(as_text=True)
    assert _ids(page) and "widget" not in page.split("<tbody>")[1]

    page = client.get(f"{AUDIT}?actor={admin.email.upper()}").get_data(as_text=True)
    actions = page.split("<tbody>")[1]
    assert "admin" in actions and "widget.poke" not in actions
    assert "login.success" in actions

    assert _ids(client.get(f"{AUDIT}?actor=nobody@example.org").get_data(as_text=True)) == []


def test_date_filters(app, client_for, admin, entries):
    client = client_for(admin)
    with app.app_context():
        db.session.execute(
            update(AuditEntry)
            .where(AuditEntry.id == entries[0])
            .values(created_dt=datetime(2020, 3, 1, 23, 59, tzinfo=UTC))
        )
        db.session.commit()
    today = datetime.now(UTC).date()
    page = client.get(f"{AUDIT}?action=widget.poke&date_to=2020-03-01").get_data(as_text=True)
    assert _ids(page) == [entries[0]]
    page = client.get(f"{AUDIT}?action=widget.poke&date_from=2020-03-02").get_data(as_text=True)
    assert sorted(_ids(page)) == entries[1:]
    page = client.get(f"{AUDIT}?action=widget.poke&date_from={today}&date_to={today}").get_data(as_text=True)
    assert sorted(_ids(page)) == entries[1:]
    tomorrow = today + timedelta(days=1)
    assert _ids(client.get(f"{AUDIT}?date_from={tomorrow}").get_data(as_text=True)) == []


def test_bad_filters_are_shown_not_applied(client_for, admin, entries):
    response = client_for(admin).get(f"{AUDIT}?action=no.such&date_from=yesterday")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="action-error"' in page and 'id="date_from-error"' in page
    assert set(entries) <= set(_ids(page))
    response = client_for(admin).get(f"{AUDIT}?date_from=2021-01-02&date_to=2021-01-01")
    assert 'id="date_to-error"' in response.get_data(as_text=True)


def test_keyset_pages_keep_the_filters(app, client_for, admin, entries, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    client = client_for(admin)
    page = client.get(f"{AUDIT}?action=widget.poke").get_data(as_text=True)
    assert "Newest entries" not in page
    seen = _ids(page)
    url = next_link(page)
    while url:
        assert "action=widget.poke" in url and "after=" in url
        # An entry written meanwhile does not shift the older pages.
        with app.app_context():
            audit.record("widget.poke", "Poked a new widget", object_type="widget", object_id=99)
            db.session.commit()
        page = client.get(url).get_data(as_text=True)
        assert "Newest entries" in page
        seen += _ids(page)
        url = next_link(page)
    assert seen == sorted(entries, reverse=True)


def test_bad_cursor_is_a_400(client_for, admin):
    assert client_for(admin).get(f"{AUDIT}?after=not-a-cursor").status_code == 400


def test_verify_the_chain(app, client_for, admin, entries):
    client = client_for(admin)
    response = post_form(client, f"{AUDIT}/verify", form_page=AUDIT)
    assert response.status_code == 302
    assert "The audit log is intact" in client.get(AUDIT).get_data(as_text=True)

    with app.app_context():
        db.session.execute(
            update(AuditEntry).where(AuditEntry.id == entries[2]).values(summary="Nothing happened")
        )
        db.session.commit()
    response = post_form(client, f"{AUDIT}/verify", form_page=AUDIT)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"broken at entry {entries[2]}" in page
    assert _ids(page)[0] == entries[2]  # the page opens at the broken entry


def test_verify_holds_the_chain_against_the_checkpoints(app, client_for, admin, entries):
    """The page's check reads the signed checkpoints as `flask audit verify` does: a cut tail shows."""
    from sqlalchemy import delete, select

    from monitoring.core.audit import AuditHead

    client = client_for(admin)
    post_form(client, f"{AUDIT}/verify", form_page=AUDIT)
    assert "No signed checkpoint was found" in client.get(AUDIT).get_data(as_text=True)
    assert app.test_cli_runner().invoke(args=["audit", "checkpoint"]).exit_code == 0
    with app.app_context():
        # Cut the two newest entries and move the head back: the chain alone stays valid.
        newest = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(2)).all()
        db.session.execute(delete(AuditEntry).where(AuditEntry.id.in_(newest)))
        last = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        head = db.session.get(AuditHead, 1)
        head.last_id, head.last_hash = last.id, last.hash
        db.session.commit()
    response = post_form(client, f"{AUDIT}/verify", form_page=AUDIT)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "cut short or rewritten after the checkpoint of" in page
    assert "The audit log is intact" not in page


def test_verify_names_a_wrong_audit_key(app, client_for, admin, entries, monkeypatch):
    client = client_for(admin)
    monkeypatch.setitem(app.config, "AUDIT_KEY", "not-the-key-this-log-was-written-with-0123456789")
    response = post_form(client, f"{AUDIT}/verify", form_page=AUDIT)
    monkeypatch.undo()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "audit key is not the key the audit log was written with" in page
