"""Saved column mappings: listed, renamed and deleted by their organisation, on pages and the API."""

from __future__ import annotations

import html
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.core import column_mapping as cm
from monitoring.core.audit import AuditEntry
from monitoring.core.column_mapping import SavedMapping
from monitoring.core.db import db
from tests.conftest import post_form
from tests.supplychain.test_import_mapping import RENAMED_ROWS, confirm, renamed_csv, upload

LIST = "/imports/mappings"
API = "/api/v1/imports/mappings"


def save(app: Any, user: User | None, kind: str, name: str, mapping: dict) -> int:
    """Save a mapping as the import step does: under the user's organisation (none without a user)."""
    with app.app_context():
        organisation_id = user.organisation_id if user else None
        saved = cm.save_mapping(user.id if user else None, organisation_id, kind, name, mapping)
        db.session.commit()
        return saved.id


@pytest.fixture
def operator(create_organisation: Callable[..., Organisation]) -> Organisation:
    return create_organisation(OrganisationKind.operator)


@pytest.fixture
def people(app: Any, create_user: Callable[..., User], operator: Organisation) -> dict[str, User]:
    coordinator = create_user(UserRole.coordinator, organisation=operator)
    monitor = create_user(UserRole.monitor)
    with app.app_context():
        with_monitor = db.session.get(Organisation, monitor.organisation_id)
    return {
        "coordinator": coordinator,
        "colleague": create_user(UserRole.coordinator, organisation=operator),
        "monitor": monitor,
        "monitor_colleague": create_user(UserRole.monitor, organisation=with_monitor),
        "other_monitor": create_user(UserRole.monitor),
        "other_coordinator": create_user(UserRole.coordinator),
        "affiliate": create_user(UserRole.affiliate),
        "supplier": create_user(UserRole.supplier),
        "admin": create_user(UserRole.admin, organisation=operator),
    }


@pytest.fixture
def mappings(app: Any, people: dict[str, User]) -> dict[str, int]:
    coordinator, monitor = people["coordinator"], people["monitor"]
    facility = {"name": "Factory name", "address": "Location", "country_code": "Land"}
    return {
        "facility": save(app, coordinator, "facilities", "OS Hub export", facility),
        "facility2": save(app, coordinator, "facilities", "Brand list", facility),
        "survey": save(app, monitor, "survey", "Kobo 2026", {"testimony": "story", "language": "lang"}),
    }


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# --- the page --------------------------------------------------------------------------------


def test_a_coordinator_sees_the_operators_facility_mappings_with_fields_saver_and_date(
    app, people, mappings, client_for
):
    response = client_for(people["colleague"]).get(LIST)
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "OS Hub export" in page and "Brand list" in page
    assert page.index("Brand list") < page.index("OS Hub export")
    assert "Facility list" in page
    assert "Name → Factory name" in page and "Country → Land" in page
    assert people["coordinator"].name in page
    assert "Kobo 2026" not in page


def test_a_monitor_sees_only_the_survey_mappings_of_its_organisation(app, people, mappings, client_for):
    page = html.unescape(client_for(people["monitor_colleague"]).get(LIST).get_data(as_text=True))
    assert "Kobo 2026" in page and "Survey" in page and "testimony → story" in page
    assert "OS Hub export" not in page
    other = html.unescape(client_for(people["other_monitor"]).get(LIST).get_data(as_text=True))
    assert "Kobo 2026" not in other and "no saved mappings yet" in other


@pytest.mark.parametrize("who", ["other_coordinator", "other_monitor", "monitor"])
def test_another_organisations_mapping_is_not_found(app, people, mappings, client_for, who):
    client = client_for(people[who])
    url = f"{LIST}/{mappings['facility']}"
    assert client.get(url).status_code == 404
    assert post_form(client, url, {"name": "Mine"}, form_page=LIST).status_code == 404
    assert post_form(client, f"{url}/delete", form_page=LIST).status_code == 404
    with app.app_context():
        assert db.session.get(SavedMapping, mappings["facility"]).name == "OS Hub export"


@pytest.mark.parametrize("who", ["affiliate", "supplier", "admin"])
def test_roles_that_do_not_import_get_404(app, people, mappings, client_for, api_client, who):
    client = client_for(people[who])
    assert client.get(LIST).status_code == 404
    assert client.get(f"{LIST}/{mappings['facility']}").status_code == 404
    api = api_client(people[who])
    assert api.get(API).status_code == 404
    assert api.delete(f"{API}/{mappings['facility']}").status_code == 404


def test_renaming_on_the_page_is_audited(app, people, mappings, client_for):
    client = client_for(people["colleague"])
    url = f"{LIST}/{mappings['facility']}"
    page = client.get(url)
    assert page.status_code == 200 and "Location" in page.get_data(as_text=True)
    response = post_form(client, url, {"name": "  OS Hub   download "}, form_page=url)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(SavedMapping, mappings["facility"]).name == "OS Hub download"
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import.mapping_renamed"))
        assert entry is not None and entry.actor_id == people["colleague"].id
        assert entry.object_type == "saved_mapping" and entry.object_id == str(mappings["facility"])
    listing = html.unescape(client.get(LIST).get_data(as_text=True))
    assert "The mapping is now called OS Hub download." in listing


def test_a_name_used_for_the_same_kind_is_refused_on_the_page(app, people, mappings, client_for):
    client = client_for(people["coordinator"])
    url = f"{LIST}/{mappings['facility']}"
    response = post_form(client, url, {"name": "Brand list"}, form_page=url)
    assert response.status_code == 422
    assert "already saved under this name" in html.unescape(response.get_data(as_text=True))
    empty = post_form(client, url, {"name": "   "}, form_page=url)
    assert empty.status_code == 422
    with app.app_context():
        assert db.session.get(SavedMapping, mappings["facility"]).name == "OS Hub export"
        assert "import.mapping_renamed" not in audit_actions()


def test_the_same_name_of_another_kind_or_organisation_is_allowed(app, people, mappings, api_client):
    monitor = people["monitor"]
    response = api_client(monitor).patch(f"{API}/{mappings['survey']}", json={"name": "OS Hub export"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["name"] == "OS Hub export"


def test_deleting_on_the_page_is_audited(app, people, mappings, client_for):
    client = client_for(people["coordinator"])
    response = post_form(client, f"{LIST}/{mappings['facility']}/delete", form_page=LIST)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(SavedMapping, mappings["facility"]) is None
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import.mapping_deleted"))
        assert entry is not None and entry.actor_id == people["coordinator"].id
        data = json.loads(entry.data) if isinstance(entry.data, str) else entry.data
        assert data["name"] == "OS Hub export" and data["mapping"]["address"] == "Location"
    page = html.unescape(client.get(LIST).get_data(as_text=True))
    assert "The mapping OS Hub export was deleted." in page and "Brand list" in page


def test_the_import_pages_link_to_the_saved_mappings(app, people, client_for):
    page = client_for(people["coordinator"]).get("/imports/facilities").get_data(as_text=True)
    assert f'href="{LIST}"' in page


# --- the API ---------------------------------------------------------------------------------


def test_the_api_lists_the_same_mappings_as_the_page(app, people, mappings, api_client):
    response = api_client(people["colleague"]).get(API)
    assert response.status_code == 200
    body = response.get_json()
    assert [m["name"] for m in body["items"]] == ["Brand list", "OS Hub export"]
    first = body["items"][0]
    assert first["kind"] == "facilities" and first["kind_title"] == "Facility list"
    assert {"field": "address", "label": "Address", "column": "Location"} in first["mapping"]
    assert first["saved_by"] == {"id": people["coordinator"].id, "name": people["coordinator"].name}
    assert first["saved_dt"]
    survey = api_client(people["monitor"]).get(API).get_json()["items"]
    assert [(m["kind"], m["name"]) for m in survey] == [("survey", "Kobo 2026")]


def test_the_api_paginates(app, people, mappings, api_client):
    api = api_client(people["coordinator"])
    first = api.get(f"{API}?limit=1").get_json()
    assert [m["name"] for m in first["items"]] == ["Brand list"] and first["next"]
    second = api.get(f"{API}?limit=1&after={first['next']}").get_json()
    assert [m["name"] for m in second["items"]] == ["OS Hub export"] and second["next"] is None


def test_the_api_renames_refuses_a_used_name_and_deletes(app, people, mappings, api_client):
    api = api_client(people["coordinator"])
    url = f"{API}/{mappings['facility']}"
    refused = api.patch(url, json={"name": "Brand list"})
    assert refused.status_code == 422
    assert "already saved under this name" in str(refused.get_json())
    assert api.patch(url, json={"name": ""}).status_code == 422
    assert api.patch(url, json={"name": "x", "kind": "survey"}).status_code == 422
    renamed = api.patch(url, json={"name": "OS Hub download"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "OS Hub download"
    assert api.get(url).get_json()["name"] == "OS Hub download"
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    with app.app_context():
        actions = audit_actions()
        assert actions.count("import.mapping_renamed") == 1 and actions.count("import.mapping_deleted") == 1


@pytest.mark.parametrize("who", ["other_coordinator", "monitor"])
def test_the_api_answers_404_for_another_organisations_mapping(app, people, mappings, api_client, who):
    api = api_client(people[who])
    url = f"{API}/{mappings['facility']}"
    assert api.get(url).status_code == 404
    assert api.patch(url, json={"name": "Mine"}).status_code == 404
    assert api.delete(url).status_code == 404
    assert mappings["facility"] not in [m["id"] for m in api.get(API).get_json()["items"]]


def test_a_mapping_without_an_organisation_is_seen_by_nobody(app, people, api_client, client_for):
    orphan = save(app, None, "facilities", "Orphan", {"name": "Name"})
    assert api_client(people["coordinator"]).get(f"{API}/{orphan}").status_code == 404
    assert "Orphan" not in client_for(people["coordinator"]).get(LIST).get_data(as_text=True)


def test_the_routes_are_in_the_openapi_document(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    paths = {p.removeprefix("/api/v1"): ops for p, ops in document["paths"].items()}
    assert {"get"} <= set(paths["/imports/mappings"])
    assert {"get", "patch", "delete"} <= set(paths["/imports/mappings/{mapping_id}"])
    schemas = set(document["components"]["schemas"])
    assert {"SavedMapping", "RenameSavedMapping"} <= {
        n.removesuffix("Schema").removesuffix("Args") for n in schemas
    }


def test_a_mapping_saved_on_the_import_step_is_renamed_and_deleted_for_the_next_file(app, people, client_for):
    client = client_for(people["coordinator"])
    first = upload(client, renamed_csv(RENAMED_ROWS))
    assert first.status_code == 302
    saved = confirm(client, first.headers["Location"], {"address": "Location"}, save_as="Renamed export")
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with app.app_context():
        mapping_id = db.session.scalar(select(SavedMapping.id).where(SavedMapping.name == "Renamed export"))
    assert mapping_id is not None
    assert "Renamed export" in client_for(people["colleague"]).get(LIST).get_data(as_text=True)
    url = f"{LIST}/{mapping_id}"
    assert post_form(client, url, {"name": "Export with renamed columns"}, form_page=url).status_code == 302

    second = upload(client, renamed_csv(RENAMED_ROWS))
    page = html.unescape(client.get(second.headers["Location"]).get_data(as_text=True))
    assert f'href="{LIST}"' in page
    assert "matched as in the saved mapping “Export with renamed columns”" in page

    assert post_form(client, f"{url}/delete", form_page=LIST).status_code == 302
    third = upload(client, renamed_csv(RENAMED_ROWS))
    page = html.unescape(client.get(third.headers["Location"]).get_data(as_text=True))
    assert "matched as in the saved mapping" not in page


# --- two requests saving under the same name at once -------------------------------------------


def _lookup_misses_once(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make save_mapping's look-up of a same-named mapping miss once, as when another request
    saves one between the look-up and the insert; the calls that missed are listed."""
    real, missed = cm._saved_named, []

    def late(organisation_id: int | None, kind: str, name: str) -> SavedMapping | None:
        if not missed:
            missed.append(name)
            return None
        return real(organisation_id, kind, name)

    monkeypatch.setattr(cm, "_saved_named", late)
    return missed


def _named(kind: str, name: str) -> list[SavedMapping]:
    query = select(SavedMapping).where(SavedMapping.kind == kind, SavedMapping.name == name)
    return list(db.session.scalars(query))


def test_a_rename_racing_another_to_the_same_name_is_refused_on_the_page(
    app, people, mappings, client_for, monkeypatch
):
    from monitoring.supplychain import mapping_admin

    monkeypatch.setattr(mapping_admin, "name_taken", lambda saved, name: False)
    client = client_for(people["coordinator"])
    url = f"{LIST}/{mappings['facility']}"
    response = post_form(client, url, {"name": "Brand list"}, form_page=url)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "Another mapping of this kind is already saved under this name." in page
    assert 'value="Brand list"' in page
    with app.app_context():
        assert db.session.get(SavedMapping, mappings["facility"]).name == "OS Hub export"
        assert len(_named("facilities", "Brand list")) == 1
        assert "import.mapping_renamed" not in audit_actions()


def test_a_rename_racing_another_to_the_same_name_is_refused_on_the_api(
    app, people, mappings, api_client, monkeypatch
):
    from monitoring.supplychain import mapping_admin

    monkeypatch.setattr(mapping_admin, "name_taken", lambda saved, name: False)
    api = api_client(people["coordinator"])
    url = f"{API}/{mappings['facility']}"
    refused = api.patch(url, json={"name": "Brand list"})
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["errors"] == {
        "name": ["Another mapping of this kind is already saved under this name."]
    }
    assert api.get(url).get_json()["name"] == "OS Hub export"
    with app.app_context():
        assert "import.mapping_renamed" not in audit_actions()


def test_saving_a_mapping_whose_name_was_just_taken_replaces_that_one(app, people, monkeypatch):
    coordinator = people["coordinator"]
    first = save(app, coordinator, "facilities", "OS Hub export", {"name": "Factory name"})
    missed = _lookup_misses_once(monkeypatch)
    with app.app_context():
        again = cm.save_mapping(
            coordinator.id, coordinator.organisation_id, "facilities", "OS Hub export", {"name": "Title"}
        )
        assert missed == ["OS Hub export"]
        assert again.id == first
        assert [s.fields for s in _named("facilities", "OS Hub export")] == [{"name": "Title"}]


def test_a_mapping_saved_on_the_page_while_another_request_saves_the_same_name(
    app, people, client_for, monkeypatch
):
    coordinator = people["coordinator"]
    earlier = save(app, coordinator, "facilities", "Renamed export", {"name": "Old column"})
    client = client_for(coordinator)
    location = upload(client, renamed_csv(RENAMED_ROWS)).headers["Location"]
    missed = _lookup_misses_once(monkeypatch)
    confirmed = confirm(client, location, {"address": "Location"}, save_as="Renamed export")
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    assert missed == ["Renamed export"]
    with app.app_context():
        (saved,) = _named("facilities", "Renamed export")
        assert saved.id == earlier and saved.fields["address"] == "Location"


def test_a_mapping_saved_on_the_api_while_another_request_saves_the_same_name(
    app, people, api_client, monkeypatch
):
    coordinator = people["coordinator"]
    earlier = save(app, coordinator, "facilities", "API", {"name": "Old column"})
    client = api_client(coordinator)
    body = client.post(
        "/api/v1/imports/facilities/jobs",
        data={"file": (io.BytesIO(renamed_csv(RENAMED_ROWS)), "facilities.csv")},
        content_type="multipart/form-data",
    ).get_json()
    missed = _lookup_misses_once(monkeypatch)
    mapping = {**body["mapping"], "address": "Location"}
    confirmed = client.post(
        f"/api/v1/jobs/{body['job_id']}/columns", json={"mapping": mapping, "save_as": "API"}
    )
    assert confirmed.status_code == 202, confirmed.get_json()
    assert missed == ["API"]
    with app.app_context():
        (saved,) = _named("facilities", "API")
        assert saved.id == earlier and saved.fields["address"] == "Location"


# --- who sees which mappings (the permission scope itself) ----------------------------------


@pytest.mark.parametrize(
    ("who", "seen"),
    [
        ("coordinator", {"facility", "facility2"}),
        ("colleague", {"facility", "facility2"}),
        ("monitor_colleague", {"survey"}),
        ("other_monitor", set()),
        ("other_coordinator", set()),
        ("admin", set()),
        ("affiliate", set()),
        ("supplier", set()),
    ],
)
def test_the_scope_holds_the_mappings_of_the_staffs_own_organisation(app, people, mappings, who, seen):
    from monitoring.supplychain.permissions import visible_saved_mappings

    save(app, None, "facilities", "Orphan", {"name": "Name"})
    with app.app_context():
        user = db.session.get(User, people[who].id)
        ids = set(db.session.scalars(visible_saved_mappings(user).with_only_columns(SavedMapping.id)))
        assert ids == {mappings[key] for key in seen}
