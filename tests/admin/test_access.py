"""Every administration page answers admins and looks missing to everyone else."""

import pytest

from monitoring.accounts.models import UserRole
from tests.conftest import post_form

NON_ADMIN_ROLES = [role.value for role in UserRole if role is not UserRole.admin]


@pytest.fixture
def pages(monitor):
    """Every GET page of the administration, with a real user and organisation to look at."""
    return [
        "/admin/users",
        "/admin/users?role=monitor&active=active",
        "/admin/users/new",
        f"/admin/users/{monitor.id}",
        "/admin/organisations",
        "/admin/organisations/new",
        f"/admin/organisations/{monitor.organisation_id}",
        "/admin/audit",
        "/admin/audit?action=user.create",
    ]


@pytest.fixture
def actions(monitor):
    """Every POST action of the administration."""
    return [
        "/admin/users/new",
        f"/admin/users/{monitor.id}/deactivate",
        f"/admin/users/{monitor.id}/activate",
        f"/admin/users/{monitor.id}/reset-password",
        "/admin/organisations/new",
        f"/admin/organisations/{monitor.organisation_id}/deactivate",
        f"/admin/organisations/{monitor.organisation_id}/activate",
        "/admin/audit/verify",
    ]


def test_admin_sees_every_page(client_for, admin, pages):
    client = client_for(admin)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'name="csrf_token"' in response.get_data(as_text=True)


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_other_roles_get_404_on_every_page(client_for, create_user, role, pages):
    client = client_for(create_user(role))
    for url in pages:
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_other_roles_get_404_on_every_action(app, client_for, create_user, role, actions, monitor):
    client = client_for(create_user(role))
    for url in actions:
        assert post_form(client, url, {}).status_code == 404, url
    # Nothing happened to the account the actions named.
    assert client_for(monitor).get("/").status_code == 200


def test_missing_objects_are_404(client_for, admin):
    client = client_for(admin)
    assert client.get("/admin/users/999999").status_code == 404
    assert client.get("/admin/organisations/999999").status_code == 404
    assert post_form(client, "/admin/users/999999/deactivate").status_code == 404
    assert post_form(client, "/admin/organisations/999999/deactivate").status_code == 404


def test_actions_refuse_get(client_for, admin, monitor):
    client = client_for(admin)
    assert client.get(f"/admin/users/{monitor.id}/deactivate").status_code == 405
    assert client.get(f"/admin/users/{monitor.id}/reset-password").status_code == 405
    assert client.get("/admin/audit/verify").status_code == 405


def test_actions_need_a_csrf_token(client_for, admin, monitor):
    client = client_for(admin)
    assert client.post(f"/admin/users/{monitor.id}/deactivate").status_code == 400
    assert client_for(monitor).get("/").status_code == 200


def test_navigation_marks_the_current_page(client_for, admin):
    page = client_for(admin).get("/admin/organisations/new").get_data(as_text=True)
    assert 'href="/admin/organisations" aria-current="page"' in page
