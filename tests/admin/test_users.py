"""Users: list and filters, create, detail, deactivate, reactivate and password reset."""

import pytest
from sqlalchemy import select

from monitoring.accounts.models import OrganisationKind, User, UserRole
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.admin.helpers import count, next_link, shown_secret
from tests.conftest import PASSWORD, login, post_form

NEW = "/admin/users/new"


def _new_user(org, **overrides):
    return {
        "email": "New.Person@Example.org",
        "name": "New Person",
        "role": "monitor",
        "organisation": str(org.id),
        "locale": "th",
        **overrides,
    }


# --- list -----------------------------------------------------------------------------------


def test_list_filters_by_role_organisation_and_status(
    app, client_for, admin, create_organisation, create_user
):
    org = create_organisation(OrganisationKind.supplier)
    supplier = create_user("supplier", organisation=org)
    other_supplier = create_user("supplier")
    monitor = create_user("monitor")
    client = client_for(admin)

    page = client.get("/admin/users").get_data(as_text=True)
    assert all(u.email in page for u in (admin, supplier, other_supplier, monitor))

    page = client.get("/admin/users?role=supplier").get_data(as_text=True)
    assert supplier.email in page and other_supplier.email in page
    assert monitor.email not in page and admin.email not in page
    assert '<option selected value="supplier">' in page or 'value="supplier" selected' in page

    page = client.get(f"/admin/users?organisation={org.id}").get_data(as_text=True)
    assert supplier.email in page and other_supplier.email not in page

    post_form(client, f"/admin/users/{monitor.id}/deactivate", form_page=f"/admin/users/{monitor.id}")
    page = client.get("/admin/users?active=inactive").get_data(as_text=True)
    assert monitor.email in page and supplier.email not in page
    page = client.get("/admin/users?active=active").get_data(as_text=True)
    assert monitor.email not in page and supplier.email in page


def test_list_shows_bad_filters_and_ignores_them(client_for, admin, monitor):
    response = client_for(admin).get("/admin/users?role=pope&organisation=abc")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="role-error"' in page and 'id="organisation-error"' in page
    assert monitor.email in page


def test_list_pages_through_users(app, client_for, admin, create_user, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    for _ in range(4):
        create_user("monitor")
    client = client_for(admin)
    seen, url = [], "/admin/users?role=monitor"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += [line for line in page.split("\n") if "@example.org</td>" in line]
        url = next_link(page)
        if url:
            assert "role=monitor" in url
    assert len(seen) == len(set(seen)) == 4


# --- create ---------------------------------------------------------------------------------


def test_create_user_shows_a_temporary_password_once(app, client_for, admin, create_organisation):
    org = create_organisation(OrganisationKind.monitor)
    client = client_for(admin)
    form = client.get(NEW).get_data(as_text=True)
    assert f'<optgroup label="{OrganisationKind.monitor.title}">' in form
    assert "ไทย" in form  # languages in their own names

    response = post_form(client, NEW, _new_user(org), form_page=NEW)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
        assert (user.role, user.organisation_id, user.locale) == (UserRole.monitor, org.id, "th")
        assert user.must_change_password is True
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "user.create", AuditEntry.object_id == str(user.id))
        )
        assert entry.actor_id == admin.id
        assert "password" not in entry.data
    assert response.headers["Location"] == f"/admin/users/{user.id}"

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    password = shown_secret(page)
    assert password and len(password) >= 12
    assert shown_secret(client.get(response.headers["Location"]).get_data(as_text=True)) is None

    # The new person logs in with it and must choose their own password first.
    new_client = app.test_client()
    response = login(new_client, "new.person@example.org", password)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/password"
    assert new_client.get("/").headers["Location"] == "/account/password"


def test_create_form_preselects_the_organisation(client_for, admin, create_organisation):
    org = create_organisation(OrganisationKind.supplier)
    page = client_for(admin).get(f"{NEW}?organisation={org.id}").get_data(as_text=True)
    assert f'<option selected value="{org.id}">' in page or f'value="{org.id}" selected' in page
    assert '<option selected value="supplier">' in page or 'value="supplier" selected' in page


def test_duplicate_email_is_shown_and_nothing_written(app, client_for, admin, monitor):
    client = client_for(admin)
    before = count(app, User)
    data = _new_user(monitor.organisation, email=monitor.email.upper())
    response = post_form(client, NEW, data, form_page=NEW)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "already exists" in page and 'id="email-error"' in page
    assert count(app, User) == before
    assert count(app, AuditEntry, AuditEntry.action == "user.create", AuditEntry.actor_id == admin.id) == 0


def test_role_that_does_not_fit_the_organisation_is_refused(app, client_for, admin, create_organisation):
    org = create_organisation(OrganisationKind.monitor)
    client = client_for(admin)
    before = count(app, User)
    response = post_form(client, NEW, _new_user(org, role="supplier"), form_page=NEW)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "must belong to an organisation of the kind" in page
    assert 'id="organisation-error"' in page
    assert count(app, User) == before
    # What was typed is kept.
    assert 'value="New.Person@Example.org"' in page


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": ""}, "email"),
        ({"name": ""}, "name"),
        ({"role": "emperor"}, "role"),
        ({"organisation": ""}, "organisation"),
        ({"organisation": "999999"}, "organisation"),
        ({"locale": "xx"}, "locale"),
    ],
)
def test_invalid_input_is_refused(app, client_for, admin, create_organisation, overrides, field):
    org = create_organisation(OrganisationKind.monitor)
    before = count(app, User)
    response = post_form(client_for(admin), NEW, _new_user(org, **overrides), form_page=NEW)
    assert response.status_code == 200
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert count(app, User) == before


def test_detail_page(client_for, admin, create_user):
    user = create_user("affiliate", locale="sv")
    page = client_for(admin).get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert user.email in page
    assert user.organisation.name in page
    assert "Svenska" in page
    assert f"object_id={user.id}" in page  # links to its audit entries


# --- deactivate, reactivate, reset ----------------------------------------------------------


def test_deactivate_ends_the_users_sessions(app, client_for, admin, monitor):
    target = client_for(monitor)
    assert target.get("/").status_code == 200
    client = client_for(admin)
    detail = f"/admin/users/{monitor.id}"
    response = post_form(client, f"{detail}/deactivate", form_page=detail)
    assert response.status_code == 302
    assert response.headers["Location"] == detail
    assert "logged out everywhere" in client.get(detail).get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, monitor.id)
        assert user.is_active is False and user.deactivated_dt is not None
    assert target.get("/").status_code == 302
    assert login(app.test_client(), monitor).status_code == 200  # cannot log in again

    response = post_form(client, f"{detail}/activate", form_page=detail)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, monitor.id).is_active is True
    assert login(app.test_client(), monitor).status_code == 302


def test_admin_cannot_deactivate_themselves(app, client_for, admin):
    client = client_for(admin)
    detail = f"/admin/users/{admin.id}"
    assert "Deactivate account" not in client.get(detail).get_data(as_text=True)
    response = post_form(client, f"{detail}/deactivate", form_page=detail)
    assert response.status_code == 302
    assert "cannot deactivate your own account" in client.get(detail).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, admin.id).is_active is True


def test_reset_password_forces_a_change_at_next_login(app, client_for, admin, supplier):
    target = client_for(supplier)
    client = client_for(admin)
    detail = f"/admin/users/{supplier.id}"
    response = post_form(client, f"{detail}/reset-password", form_page=detail)
    assert response.status_code == 302
    page = client.get(detail).get_data(as_text=True)
    password = shown_secret(page)
    assert password
    assert "temporary: must be changed" in page
    assert shown_secret(client.get(detail).get_data(as_text=True)) is None
    assert target.get("/").status_code == 302  # logged out

    assert login(app.test_client(), supplier, PASSWORD).status_code == 200  # old password gone
    fresh = app.test_client()
    response = login(fresh, supplier, password)
    assert response.headers["Location"] == "/account/password"
    assert fresh.get("/admin/users").status_code == 404
    assert fresh.get("/").headers["Location"] == "/account/password"
    with app.app_context():
        assert db.session.get(User, supplier.id).must_change_password is True
        entry = db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "user.password_reset", AuditEntry.object_id == str(supplier.id)
            )
        )
        assert entry.actor_id == admin.id and password not in entry.data


def test_password_shown_only_for_its_user(client_for, admin, monitor, supplier):
    client = client_for(admin)
    post_form(client, f"/admin/users/{monitor.id}/reset-password", form_page=f"/admin/users/{monitor.id}")
    # Another account's page does not show it, and it is gone afterwards.
    assert shown_secret(client.get(f"/admin/users/{supplier.id}").get_data(as_text=True)) is None
    assert shown_secret(client.get(f"/admin/users/{monitor.id}").get_data(as_text=True)) is None
