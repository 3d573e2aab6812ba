"""Organisations: list, create, detail, deactivate and reactivate."""

import pytest
from sqlalchemy import select

from monitoring.accounts.models import Organisation, OrganisationKind
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.admin.helpers import count
from tests.conftest import post_form

NEW = "/admin/organisations/new"


def test_list_shows_kind_country_status_and_user_count(client_for, admin, create_organisation, create_user):
    org = create_organisation(OrganisationKind.supplier, name="Foxlink Assembly", country="cn")
    create_user("supplier", organisation=org)
    create_user("supplier", organisation=org)
    page = client_for(admin).get("/admin/organisations").get_data(as_text=True)
    row = page[page.index("Foxlink Assembly") :].split("</tr>")[0]
    assert "Supplier" in row
    assert "CN" in row
    assert "Active" in row
    assert '<td class="number">2</td>' in row
    assert "<caption>" in page and 'scope="col"' in page


def test_create_organisation(app, client_for, admin):
    client = client_for(admin)
    form = client.get(NEW).get_data(as_text=True)
    assert "Monitoring organisation" in form  # kinds are offered by their titles
    response = post_form(
        client, NEW, {"name": "  Good  Electronics Watch ", "kind": "monitor", "country": "th"}, form_page=NEW
    )
    assert response.status_code == 302
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == "Good Electronics Watch"))
        assert org is not None
        assert (org.kind, org.country, org.is_active) == (OrganisationKind.monitor, "TH", True)
        entry = db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "organisation.create", AuditEntry.object_id == str(org.id)
            )
        )
        assert entry.actor_id == admin.id
    assert response.headers["Location"] == f"/admin/organisations/{org.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "was created" in page
    assert "Good Electronics Watch" in page


def test_duplicate_name_is_shown_and_nothing_written(app, client_for, admin, create_organisation):
    create_organisation(OrganisationKind.affiliate, name="City of Stockholm")
    client = client_for(admin)
    before = count(app, Organisation)
    response = post_form(client, NEW, {"name": "city of stockholm", "kind": "affiliate"}, form_page=NEW)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "already exists" in page
    assert 'id="name-error"' in page and 'aria-invalid="true"' in page
    assert count(app, Organisation) == before


def test_bad_country_and_missing_kind_are_refused(app, client_for, admin):
    client = client_for(admin)
    before = count(app, Organisation)
    response = post_form(
        client, NEW, {"name": "Somewhere", "kind": "monitor", "country": "1x"}, form_page=NEW
    )
    assert response.status_code == 200
    assert "two-letter ISO code" in response.get_data(as_text=True)
    response = post_form(client, NEW, {"name": "Somewhere", "kind": ""}, form_page=NEW)
    assert response.status_code == 200
    assert 'id="kind-error"' in response.get_data(as_text=True)
    response = post_form(client, NEW, {"name": "Somewhere", "kind": "bank"}, form_page=NEW)
    assert response.status_code == 200
    assert count(app, Organisation) == before


def test_detail_lists_its_users(client_for, admin, create_organisation, create_user):
    org = create_organisation(OrganisationKind.monitor)
    member = create_user("monitor", organisation=org)
    other = create_user("monitor")
    page = client_for(admin).get(f"/admin/organisations/{org.id}").get_data(as_text=True)
    assert member.email in page
    assert other.email not in page
    assert f"/admin/users/new?organisation={org.id}" in page


def test_deactivate_logs_out_its_people_and_reactivate(
    app, client_for, admin, create_organisation, create_user
):
    org = create_organisation(OrganisationKind.monitor)
    member = create_user("monitor", organisation=org)
    member_client = client_for(member)
    assert member_client.get("/").status_code == 200
    client = client_for(admin)
    detail = f"/admin/organisations/{org.id}"
    response = post_form(client, f"{detail}/deactivate", form_page=detail)
    assert response.status_code == 302
    assert "was deactivated" in client.get(detail).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Organisation, org.id).is_active is False
    assert member_client.get("/").status_code == 302
    assert "Reactivate organisation" in client.get(detail).get_data(as_text=True)
    # Deactivated organisations are not offered for new users.
    assert org.name not in client.get("/admin/users/new").get_data(as_text=True)

    response = post_form(client, f"{detail}/activate", form_page=detail)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Organisation, org.id).is_active is True
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_type == "organisation").order_by(AuditEntry.id)
        ).all()
    assert actions[-2:] == ["organisation.deactivate", "organisation.activate"]
    assert client_for(member).get("/").status_code == 200


def test_admin_cannot_deactivate_own_organisation(app, admin):
    from monitoring.accounts import operations
    from monitoring.accounts.models import Organisation, User
    from monitoring.core.db import db
    from monitoring.core.operations import OperationError

    with app.app_context():
        actor = db.session.get(User, admin.id)
        with pytest.raises(OperationError):
            operations.set_organisation_active(
                actor, db.session.get(Organisation, admin.organisation_id), False
            )
