"""The notification pages: own list, unread badge, mark read, 404 for someone else's."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.cases.models import CorrectiveAction
from monitoring.core.db import db
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.notifications.outbox import notify
from tests.cases.helpers import CaseWorld
from tests.conftest import PASSWORD, csrf_token, post_form
from tests.notifications.helpers import make_action, queue

PARAMS = {"reference": "C-2026-0042", "site": "Assembly Plant Shenzhen", "supplier": "Acme Electronics"}
_BADGE = re.compile(r'id="unread-count">(\d+)<')


def badge(page: str) -> int | None:
    match = _BADGE.search(page)
    return int(match.group(1)) if match else None


def read_dt(app: Flask, notification_id: int) -> Any:
    with app.app_context():
        return db.session.get(Notification, notification_id).read_dt


@contextmanager
def counted(app: Flask):  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = db.state(app).engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize("role", [r.value for r in UserRole])
def test_every_role_sees_its_own_list_and_badge(
    app: Flask, create_user: Callable[..., User], client_for: Callable[[User], FlaskClient], role: str
) -> None:
    user, other = create_user(role), create_user(role)
    queue(app, [user], NotificationKind.message_posted, params=PARAMS)
    queue(app, [user, other], NotificationKind.case_reopened, params={**PARAMS, "reference": "C-2026-0077"})
    queue(app, [other], NotificationKind.case_opened, params={**PARAMS, "reference": "C-2026-0099"})
    client = client_for(user)

    page = client.get("/notifications/").get_data(as_text=True)

    assert badge(page) == 2
    assert "C-2026-0042" in page and "C-2026-0077" in page
    assert "C-2026-0099" not in page  # someone else's
    home = client.get("/").get_data(as_text=True)
    assert badge(home) == 2 and 'href="/notifications/"' in home


def test_no_badge_when_nothing_is_unread(
    app: Flask, monitor: User, client_for: Callable[[User], FlaskClient]
) -> None:
    page = client_for(monitor).get("/").get_data(as_text=True)
    assert 'href="/notifications/"' in page and badge(page) is None


def test_menu_and_count_wait_for_the_second_factor(app: Flask, coordinator: User) -> None:
    queue(app, [coordinator], NotificationKind.case_opened, params=PARAMS)
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": coordinator.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    # Half logged in: every page leads to the second factor, and the menu shows no count.
    response = client.get("/notifications/")
    assert response.status_code == 302 and "two-factor" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert badge(page) is None and 'href="/notifications/"' not in page


def test_open_marks_read_and_goes_to_the_page(
    app: Flask, case_world: CaseWorld, client_for: Callable[[User], FlaskClient]
) -> None:
    case_id = case_world.case()
    action_id = case_world.action(case_id)
    supplier = case_world.supplier
    with app.app_context():
        requested = db.session.scalars(
            select(Notification).where(
                Notification.user_id == supplier.id, Notification.kind == NotificationKind.action_requested
            )
        ).one()
        requested_id = requested.id
    client = client_for(supplier)
    page = client.get("/notifications/").get_data(as_text=True)
    assert badge(page) == 1
    assert f"/notifications/{requested_id}/read" in page

    response = post_form(client, f"/notifications/{requested_id}/read", form_page="/notifications/")

    assert response.status_code == 302 and response.headers["Location"] == f"/actions/{action_id}"
    assert read_dt(app, requested_id) is not None
    assert badge(client.get("/notifications/").get_data(as_text=True)) is None
    # Reading it again changes nothing and still leads there.
    first = read_dt(app, requested_id)
    response = post_form(client, f"/notifications/{requested_id}/read", form_page="/notifications/")
    assert response.headers["Location"] == f"/actions/{action_id}" and read_dt(app, requested_id) == first


def test_case_notification_leads_to_the_case(
    app: Flask, case_world: CaseWorld, client_for: Callable[[User], FlaskClient]
) -> None:
    case_id = case_world.case(by="monitor")
    coordinator = case_world.coordinator
    with app.app_context():
        opened = db.session.scalars(
            select(Notification.id).where(
                Notification.user_id == coordinator.id, Notification.kind == NotificationKind.case_opened
            )
        ).first()
    assert opened is not None
    client = client_for(coordinator)
    response = post_form(client, f"/notifications/{opened}/read", form_page="/notifications/")
    assert response.headers["Location"] == f"/cases/{case_id}"


def test_mark_read_and_stay(app: Flask, monitor: User, client_for: Callable[[User], FlaskClient]) -> None:
    (notification_id,) = queue(app, [monitor], NotificationKind.case_opened, params=PARAMS)
    client = client_for(monitor)
    response = post_form(
        client, f"/notifications/{notification_id}/read", {"stay": "1"}, form_page="/notifications/"
    )
    assert response.status_code == 302 and response.headers["Location"] == "/notifications/"
    assert read_dt(app, notification_id) is not None


def test_someone_elses_notification_is_missing(
    app: Flask, create_user: Callable[..., User], client_for: Callable[[User], FlaskClient]
) -> None:
    owner, intruder = create_user(UserRole.monitor), create_user(UserRole.monitor)
    (notification_id,) = queue(app, [owner], NotificationKind.case_opened, params=PARAMS)
    client = client_for(intruder)
    response = post_form(client, f"/notifications/{notification_id}/read", form_page="/notifications/")
    assert response.status_code == 404
    assert post_form(client, "/notifications/999999999/read", form_page="/notifications/").status_code == 404
    assert read_dt(app, notification_id) is None


def test_read_needs_a_csrf_token(
    app: Flask, monitor: User, client_for: Callable[[User], FlaskClient]
) -> None:
    (notification_id,) = queue(app, [monitor], NotificationKind.case_opened, params=PARAMS)
    response = client_for(monitor).post(f"/notifications/{notification_id}/read")
    assert response.status_code == 400
    assert read_dt(app, notification_id) is None


def test_read_all_marks_only_own(
    app: Flask, create_user: Callable[..., User], client_for: Callable[[User], FlaskClient]
) -> None:
    user, other = create_user(UserRole.affiliate), create_user(UserRole.affiliate)
    mine = [queue(app, [user, other], NotificationKind.case_opened, params=PARAMS)[0] for _ in range(3)]
    (theirs,) = queue(app, [other], NotificationKind.case_closed, params=PARAMS)
    client = client_for(user)
    response = post_form(
        client, "/notifications/read-all", form_page="/notifications/", follow_redirects=True
    )
    assert response.status_code == 200
    assert "3 notifications marked read" in response.get_data(as_text=True)
    assert all(read_dt(app, n) is not None for n in mine)
    assert read_dt(app, theirs) is None


def test_unread_filter_and_pages(
    app: Flask, monitor: User, client_for: Callable[[User], FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    ids = [
        queue(
            app, [monitor], NotificationKind.case_opened, params={**PARAMS, "reference": f"C-2026-{n:04d}"}
        )[0]
        for n in range(1, 7)
    ]
    with app.app_context():
        db.session.get(Notification, ids[-1]).read_dt = db.session.get(Notification, ids[-1]).created_dt
        db.session.commit()
    client = client_for(monitor)
    first = client.get("/notifications/").get_data(as_text=True)
    shown = re.findall(r'id="notification-(\d+)"', first)
    assert [int(i) for i in shown] == ids[::-1][:4]  # newest first
    older = re.search(r'href="(/notifications/\?after=[^"]+)" rel="next"', first)
    assert older is not None
    second = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert [int(i) for i in re.findall(r'id="notification-(\d+)"', second)] == ids[::-1][4:]
    unread = client.get("/notifications/?unread=1").get_data(as_text=True)
    assert str(ids[-1]) not in re.findall(r'id="notification-(\d+)"', unread)
    assert f'id="notification-{ids[-2]}"' in unread


def test_list_runs_the_same_number_of_queries_for_more_notifications(
    app: Flask, case_world: CaseWorld, client_for: Callable[[User], FlaskClient]
) -> None:
    supplier = case_world.supplier

    def add(count: int) -> None:
        for _ in range(count):
            _case_id, action_id = make_action(
                app,
                site_id=case_world.site,
                monitor_org_id=case_world.orgs["monitors"],
                supplier_id=case_world.orgs["supplier_x"],
                plan_due=date(2027, 1, 10),
                closure_due=date(2027, 6, 10),
            )
            with app.app_context():
                action = db.session.get(CorrectiveAction, action_id)
                notify([db.session.get(User, supplier.id)], NotificationKind.action_requested, action=action)
                db.session.commit()

    def queries(client: FlaskClient) -> int:
        client.get("/notifications/")
        with counted(app) as statements:
            assert client.get("/notifications/").status_code == 200
        return len(statements)

    client = client_for(supplier)
    add(2)
    few = queries(client)
    add(12)
    many = queries(client)
    assert many == few
    # Without params the texts come from the case and action rows, loaded for the whole page.
    page = client.get("/notifications/").get_data(as_text=True)
    supplier_org = case_world.get(Organisation, case_world.orgs["supplier_x"])
    assert page.count(html.escape(supplier_org.name)) >= 14 and "N-2026-" in page
