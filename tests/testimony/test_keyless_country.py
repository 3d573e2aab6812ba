"""No dead end for a worker: a country routed to an organisation without a usable key is refused
before the form, with where else to turn; coordinators and administrators are told once until it
is fixed, and a health page (and its API) lists every such route."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from monitoring.accounts.models import OrganisationKey, User, UserRole
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.notifications import render
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.supplychain import operations as supplychain
from monitoring.supplychain.models import SiteKind
from monitoring.testimony.jobs import run_clock_jobs
from monitoring.testimony.models import KeylessCoverageAlert, MonitorCoverage, WorkerReport
from tests.conftest import csrf_token, give_key_access

CANNOT = "Reports from Cambodia cannot be received yet"


@dataclass
class World:
    monitor: User  # of the organisation without a key
    organisation_id: int
    organisation_name: str
    coordinator: User
    admin: User
    site_id: int


@pytest.fixture
def world(app, create_user) -> World:
    """Cambodia's reports go to an organisation that has never made its key."""
    monitor = create_user(UserRole.monitor)
    coordinator, admin = create_user(UserRole.coordinator), create_user(UserRole.admin)
    with app.app_context():
        organisation = db.session.get(User, monitor.id).organisation
        db.session.add(MonitorCoverage(organisation_id=organisation.id, country="KH"))
        site = supplychain.create_site(
            None, supplychain.SiteData(name="Phnom Penh Cable Co", country="KH", kind=SiteKind.component)
        )
        db.session.commit()
        return World(monitor, organisation.id, organisation.name, coordinator, admin, site.id)


def choose(app, body: dict[str, str], lang: str = "en"):
    client = app.test_client()
    token = csrf_token(client, "/report/workplace")
    return client.post(f"/report/new?lang={lang}", data={**body, "csrf_token": token})


def alerts(app) -> list[Notification]:
    with app.app_context():
        query = select(Notification).where(Notification.kind == NotificationKind.coverage_without_key)
        return list(db.session.scalars(query.order_by(Notification.id)))


def test_a_worker_never_sees_the_form_and_is_told_where_else_to_turn(app, world):
    for body in ({"country": "KH"}, {"site": str(world.site_id)}):
        response = choose(app, body)
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert CANNOT in page
        assert "trade union" in page  # the general advice
        assert 'name="testimony"' not in page and 'name="submission"' not in page
        assert "key" not in page.lower()  # no talk of keys to a worker
        assert 'href="/report/workplace?lang=en"' in page


def test_a_forged_submission_files_nothing(app, world):
    client = app.test_client()
    token = csrf_token(client, "/report/workplace")
    data = {
        "country": "KH",
        "submission": "x",
        "testimony": "Text",
        "workplace": "A factory",
        "csrf_token": token,
    }
    page = client.post("/report/new", data=data).get_data(as_text=True)
    assert CANNOT in page
    with app.app_context():
        assert db.session.scalar(select(func.count(WorkerReport.id))) == 0


def test_the_advice_can_be_configured(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "WORKER_KEYLESS_ADVICE", "Call the Cambodia workers' hotline: 1280.")
    page = choose(app, {"country": "KH"}, lang="th").get_data(as_text=True)
    assert "Call the Cambodia workers&#39; hotline: 1280." in page and "trade union" not in page
    assert '<html lang="th"' in page


def test_coordinators_and_administrators_are_told_once_until_it_is_fixed(app, world, create_user):
    choose(app, {"country": "KH"})
    choose(app, {"site": str(world.site_id)})
    sent = alerts(app)
    assert sorted(n.user_id for n in sent) == sorted([world.coordinator.id, world.admin.id])
    assert world.monitor.id not in {n.user_id for n in sent}
    with app.test_request_context("/"):
        mail = render.render_mail(db.session.get(Notification, sent[0].id))
    assert f"Worker reports about Cambodia go to {world.organisation_name}" in mail.text
    assert "/admin/coverage-health" in mail.text
    with app.app_context():
        run_clock_jobs()  # the sweep finds the same route: nobody is told twice
    assert len(alerts(app)) == 2

    # Fixed: a member makes the key; the sweep forgets the alert and the form is shown.
    give_key_access(app, world.monitor)
    with app.app_context():
        run_clock_jobs()
        assert db.session.scalar(select(func.count(KeylessCoverageAlert.id))) == 0
    page = choose(app, {"country": "KH"}).get_data(as_text=True)
    assert CANNOT not in page and 'name="testimony"' in page

    # Broken again (every version retired): told again.
    with app.app_context():
        for key in db.session.scalars(
            select(OrganisationKey).where(OrganisationKey.organisation_id == world.organisation_id)
        ):
            key.retired_dt = utcnow()
        db.session.commit()
    with app.app_context():
        run_clock_jobs()
    assert len(alerts(app)) == 4
    assert CANNOT in choose(app, {"country": "KH"}).get_data(as_text=True)


def test_the_fallback_route_is_checked_too(app, world, create_user):
    other = create_user(UserRole.monitor)
    with app.app_context():
        organisation = db.session.get(User, other.id).organisation
        db.session.add(MonitorCoverage(organisation_id=organisation.id, country=None, is_fallback=True))
        db.session.commit()
    page = choose(app, {"country": "LA"}).get_data(as_text=True)
    assert "Reports from Laos cannot be received yet" in page
    with app.app_context():
        [alert] = db.session.scalars(select(KeylessCoverageAlert).where(KeylessCoverageAlert.scope == "*"))
        assert alert.organisation_id == organisation.id


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_the_health_page_lists_every_route_without_a_usable_key(
    app, world, role, client_for, api_client, monitor_with_keys
):
    with app.app_context():  # a route that works is not listed
        organisation = db.session.get(User, monitor_with_keys.id).organisation
        db.session.add(MonitorCoverage(organisation_id=organisation.id, country="TH"))
        db.session.commit()
    user = world.admin if role == "admin" else world.coordinator
    page = client_for(user).get("/admin/coverage-health")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.findall(r'data-country="(\w+|\*)"', html) == ["KH"]
    assert world.organisation_name in html and "No usable key." in html
    body = api_client(user).get("/api/v1/coverage-health")
    assert body.status_code == 200
    [route] = body.get_json()
    assert (route["country"], route["organisation"]["id"], route["is_fallback"]) == (
        "KH",
        world.organisation_id,
        False,
    )
    assert route["alerted_dt"] is None  # nobody met it yet
    choose(app, {"country": "KH"})
    assert api_client(user).get("/api/v1/coverage-health").get_json()[0]["alerted_dt"] is not None


@pytest.mark.parametrize("role", ["monitor", "affiliate", "supplier"])
def test_other_roles_get_404_on_the_health_page(app, world, role, create_user, client_for, api_client):
    user = world.monitor if role == "monitor" else create_user(role)
    assert client_for(user).get("/admin/coverage-health").status_code == 404
    assert api_client(user).get("/api/v1/coverage-health").status_code == 404
