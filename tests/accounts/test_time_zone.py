"""Each user reads times in a time zone of their own: by default their organisation's country's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from monitoring.accounts import operations
from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.config import LOCALES
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.conftest import post_form

# 07:05 UTC is 14:05 in Bangkok; 20:30 UTC is already the next day there.
MORNING = datetime(2026, 12, 7, 7, 5, tzinfo=UTC)
EVENING = datetime(2026, 12, 7, 20, 30, tzinfo=UTC)


def _reload(app: Flask, user: User) -> User:
    with app.app_context():
        loaded = db.session.get(User, user.id)
        assert loaded is not None
        db.session.expunge(loaded)
        return loaded


def _zone_of(app: Flask, user: User) -> tuple[str | None, str]:
    with app.app_context():
        loaded = db.session.get(User, user.id)
        assert loaded is not None
        return loaded.time_zone, loaded.time_zone_name


@pytest.fixture
def thai_monitor(create_organisation: Callable[..., Organisation], create_user: Callable[..., User]) -> User:
    org = create_organisation(OrganisationKind.monitor, country="TH")
    return create_user(UserRole.monitor, organisation=org)


# --- the default ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "zone"), [("TH", "Asia/Bangkok"), ("CN", "Asia/Shanghai"), (None, "UTC")]
)
def test_the_default_is_the_zone_of_the_organisations_country(
    app, create_organisation, create_user, api_client, client_for, country, zone
):
    org = create_organisation(OrganisationKind.supplier, country=country)
    user = create_user(UserRole.supplier, organisation=org)
    assert _zone_of(app, user) == (None, zone)
    assert api_client(user).get("/api/v1/me").get_json()["time_zone"] == zone
    page = client_for(user).get("/account").get_data(as_text=True)
    assert f'data-field="time_zone" data-value="{zone}"' in page
    assert "the time zone of your organisation" in page


def test_pages_show_times_in_the_readers_zone_labelled(app, thai_monitor, client_for):
    with time_machine.travel(MORNING, tick=False), app.app_context():
        operations.create_token(db.session.get(User, thai_monitor.id), "morning")
        db.session.commit()
    with time_machine.travel(EVENING, tick=False), app.app_context():
        operations.create_token(db.session.get(User, thai_monitor.id), "evening")
        db.session.commit()
    page = client_for(thai_monitor).get("/account").get_data(as_text=True)
    assert "Dec 7, 2026, 2:05\u202fPM (Asia/Bangkok)" in page
    # The day follows the zone too: 20:30 UTC on the 7th is 03:30 on the 8th in Bangkok.
    assert "Dec 8, 2026, 3:30\u202fAM (Asia/Bangkok)" in page
    assert "(UTC)" not in page


# --- changing it on the account page -------------------------------------------------------


def test_every_role_changes_its_zone_on_the_account_page(app, any_role_user, client_for):
    user = any_role_user
    client = client_for(user)
    response = post_form(client, "/account/time-zone", {"time_zone": "Europe/Prague"}, form_page="/account")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert _zone_of(app, user) == ("Europe/Prague", "Europe/Prague")
    page = client.get("/account").get_data(as_text=True)
    assert 'data-field="time_zone" data-value="Europe/Prague"' in page
    assert "Times are now shown in the time zone Europe/Prague." in page
    assert '<option selected value="Europe/Prague">' in page
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "user.time_zone", AuditEntry.object_id == str(user.id)
            )
        )
        assert entry is not None and entry.actor_id == user.id
        assert entry.data_dict["time_zone"] == [None, "Europe/Prague"]


def test_the_empty_choice_goes_back_to_the_organisations_zone(app, thai_monitor, client_for):
    with app.app_context():
        operations.set_time_zone(db.session.get(User, thai_monitor.id), "Europe/Stockholm")
        db.session.commit()
    client = client_for(thai_monitor)
    response = post_form(client, "/account/time-zone", {"time_zone": ""}, form_page="/account")
    assert response.status_code == 302
    assert _zone_of(app, thai_monitor) == (None, "Asia/Bangkok")


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "localtime", "Factory", "asia/bangkok", "x" * 300])
def test_a_zone_that_does_not_exist_is_refused_on_the_page(app, thai_monitor, client_for, zone):
    client = client_for(thai_monitor)
    response = post_form(client, "/account/time-zone", {"time_zone": zone}, form_page="/account")
    assert response.status_code == 422
    assert "Choose a time zone from the list, e.g. Asia/Bangkok." in response.get_data(as_text=True)
    assert _zone_of(app, thai_monitor) == (None, "Asia/Bangkok")


def test_the_page_form_needs_a_csrf_token(app, thai_monitor, client_for):
    response = client_for(thai_monitor).post("/account/time-zone", data={"time_zone": "UTC"})
    assert response.status_code == 400
    assert _zone_of(app, thai_monitor)[0] is None


def test_the_account_page_needs_a_login(app):
    client = app.test_client()
    response = post_form(client, "/account/time-zone", {"time_zone": "UTC"}, form_page="/login")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- changing it through the API -----------------------------------------------------------


def test_every_role_changes_its_zone_through_the_api(app, any_role_user, api_client):
    api = api_client(any_role_user)
    response = api.patch("/api/v1/me", json={"time_zone": "America/New_York"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["time_zone"] == "America/New_York"
    assert api.get("/api/v1/me").get_json()["time_zone"] == "America/New_York"
    # A field left out stays; null goes back to the organisation's country's zone.
    assert api.patch("/api/v1/me", json={"locale": "sv"}).get_json()["time_zone"] == "America/New_York"
    me = api.patch("/api/v1/me", json={"time_zone": None}).get_json()
    assert me["time_zone"] == "UTC" and me["locale"] == "sv"
    assert _zone_of(app, any_role_user)[0] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"time_zone": "Nowhere/City"}, "time_zone"),
        ({"time_zone": 7}, "time_zone"),
        ({"time_zone": "Factory"}, "time_zone"),
        ({"locale": "cs_XX"}, "locale"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_input_through_the_api_is_a_422_naming_the_field(app, thai_monitor, api_client, body, field):
    response = api_client(thai_monitor).patch("/api/v1/me", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["errors"]
    assert _zone_of(app, thai_monitor) == (None, "Asia/Bangkok")


def test_the_api_needs_a_token(app):
    assert app.test_client().patch("/api/v1/me", json={"time_zone": "UTC"}).status_code == 401


def test_the_openapi_document_describes_the_change(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert "patch" in spec["paths"]["/api/v1/me"]
    assert "time_zone" in str(spec["components"]["schemas"])


# --- set by an administrator or on the command line -----------------------------------------


def _new_user(org: Organisation, **overrides: Any) -> dict[str, Any]:
    return {
        "email": "zoned.person@example.org",
        "name": "Zoned Person",
        "role": "monitor",
        "organisation": str(org.id),
        **overrides,
    }


def test_an_administrator_may_set_the_zone_of_a_new_account(app, client_for, admin, create_organisation):
    org = create_organisation(OrganisationKind.monitor, country="TH")
    client = client_for(admin)
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert '<optgroup label="Asia">' in form and 'value="Asia/Jakarta"' in form
    response = post_form(
        client, "/admin/users/new", _new_user(org, time_zone="Asia/Jakarta"), "/admin/users/new"
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "zoned.person@example.org"))
        assert user.time_zone == "Asia/Jakarta"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<dd data-field="time_zone">Asia/Jakarta</dd>' in page


def test_without_a_choice_the_new_account_follows_its_organisation(
    app, client_for, admin, create_organisation
):
    org = create_organisation(OrganisationKind.monitor, country="CN")
    response = post_form(client_for(admin), "/admin/users/new", _new_user(org), "/admin/users/new")
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "zoned.person@example.org"))
        assert (user.time_zone, user.time_zone_name) == (None, "Asia/Shanghai")


def test_an_administrators_bad_zone_is_refused(app, client_for, admin, create_organisation):
    org = create_organisation(OrganisationKind.monitor)
    response = post_form(
        client_for(admin), "/admin/users/new", _new_user(org, time_zone="Mars/Base"), "/admin/users/new"
    )
    assert response.status_code in (200, 422)
    assert "Choose a time zone from the list" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "zoned.person@example.org")) is None


def test_the_admin_api_sets_and_shows_the_zone(app, api_client, admin, create_organisation):
    org = create_organisation(OrganisationKind.supplier, country="VN")
    api = api_client(admin)
    body = {
        "email": "api.zone@example.org",
        "name": "Api Zone",
        "role": "supplier",
        "organisation_id": org.id,
    }
    created = api.post("/api/v1/users", json={**body, "time_zone": "Asia/Tokyo"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["user"]["time_zone"] == "Asia/Tokyo"
    other = api.post("/api/v1/users", json={**body, "email": "api.zone2@example.org"})
    assert other.get_json()["user"]["time_zone"] == "Asia/Ho_Chi_Minh"
    bad = api.post("/api/v1/users", json={**body, "email": "api.zone3@example.org", "time_zone": "Asia"})
    assert bad.status_code == 422 and "time_zone" in bad.get_json()["error"]["errors"]


def test_an_operation_refuses_a_bad_zone(app, thai_monitor):
    from monitoring.core.operations import OperationError

    with app.app_context():
        user = db.session.get(User, thai_monitor.id)
        with pytest.raises(OperationError) as refused:
            operations.set_time_zone(user, "Atlantis/Capital")
        assert refused.value.field == "time_zone"


@pytest.fixture
def cli(app: Flask) -> Callable[..., Any]:
    runner = app.test_cli_runner()
    return lambda *args, **kwargs: runner.invoke(args=["users", *args], **kwargs)


def test_the_command_line_sets_the_zone(app, cli, create_organisation):
    create_organisation(OrganisationKind.operator, name="Zone Network")
    args = ["--name", "Zoe", "--role", "coordinator", "--org", "Zone Network"]
    result = cli("create", "zoe@example.org", *args, "--time-zone", "Europe/Helsinki")
    assert result.exit_code == 0, result.output
    refused = cli("create", "zed@example.org", *args, "--time-zone", "Europe/Gotham")
    assert refused.exit_code == 1 and "unknown time zone" in refused.output
    with app.app_context():
        zoe = db.session.scalar(select(User).where(User.email == "zoe@example.org"))
        assert zoe.time_zone == "Europe/Helsinki"
        assert db.session.scalar(select(User).where(User.email == "zed@example.org")) is None


@pytest.mark.parametrize("locale", LOCALES)
def test_the_command_line_takes_every_staff_language(app, cli, create_organisation, locale):
    org = create_organisation(OrganisationKind.affiliate)
    result = cli("create", f"buyer.{locale}@example.org", "--name", "Buyer", "--role", "affiliate",
                 "--org", org.name, "--locale", locale)  # fmt: skip
    assert result.exit_code == 0, result.output


def test_a_language_added_to_locales_is_taken_everywhere(app, cli, create_organisation, monkeypatch):
    """Adding a staff language is one line in config.LOCALES: the command line follows it."""
    org = create_organisation(OrganisationKind.supplier)
    args = ["--name", "Jana", "--role", "supplier", "--org", org.name, "--locale", "uk"]
    refused = cli("create", "jana@example.org", *args)
    assert refused.exit_code == 1 and "unknown locale 'uk'" in refused.output
    monkeypatch.setitem(app.config, "LOCALES", (*LOCALES, "uk"))
    result = cli("create", "jana@example.org", *args)
    assert result.exit_code == 0, result.output
    with app.app_context():
        jana = db.session.scalar(select(User).where(User.email == "jana@example.org"))
        assert jana.locale == "uk"


# --- worker pages ----------------------------------------------------------------------------


def test_worker_templates_show_dates_only():
    from monitoring.config import ROOT

    templates = sorted((ROOT / "monitoring" / "templates" / "report").rglob("*.html"))
    assert templates
    assert [t.name for t in templates if "time=True" in t.read_text(encoding="utf-8")] == []


def test_a_worker_page_shows_a_date_without_time_or_zone(app):
    from monitoring.core.i18n import format_when

    with app.test_request_context("/report/"):
        assert format_when(EVENING, time=True) == "Dec 7, 2026"
    with app.test_request_context("/login"):
        assert format_when(EVENING, time=True) == "Dec 7, 2026, 8:30\u202fPM (UTC)"
