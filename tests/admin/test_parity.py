"""The administration pages and the API list the same users and organisations for each filter."""

from __future__ import annotations

import re

import pytest

from monitoring.accounts.models import OrganisationKind

_ROW_ID = re.compile(r'<tr data-id="(\d+)">')

# (page query, API query) for each filter of the user list; "{org}" is the supplier organisation.
USER_FILTERS = [
    ("", ""),
    ("role=supplier", "role=supplier"),
    ("role=monitor", "role=monitor"),
    ("organisation={org}", "organisation_id={org}"),
    ("active=active", "is_active=true"),
    ("active=inactive", "is_active=false"),
    ("role=supplier&active=active&organisation={org}", "role=supplier&is_active=true&organisation_id={org}"),
]
ORGANISATION_FILTERS = [
    ("", ""),
    ("kind=supplier", "kind=supplier"),
    ("kind=monitor", "kind=monitor"),
    ("active=active", "is_active=true"),
    ("active=inactive", "is_active=false"),
    ("kind=supplier&active=inactive", "kind=supplier&is_active=false"),
]


def _page_ids(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return [int(i) for i in _ROW_ID.findall(response.get_data(as_text=True))]


def _api_ids(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return [item["id"] for item in response.get_json()["items"]]


@pytest.fixture
def population(app, admin, create_organisation, create_user, api_client):
    supplier_org = create_organisation(OrganisationKind.supplier)
    create_user("supplier", organisation=supplier_org)
    gone = create_user("supplier", organisation=supplier_org)
    create_user("supplier")
    create_user("monitor")
    create_user("affiliate")
    closed = create_organisation(OrganisationKind.supplier)
    api = api_client(admin)
    assert api.post(f"/api/v1/users/{gone.id}/deactivate").status_code == 200
    assert api.post(f"/api/v1/organisations/{closed.id}/deactivate").status_code == 200
    return supplier_org


@pytest.mark.parametrize(("page_query", "api_query"), USER_FILTERS)
def test_user_list_filters_agree(app, admin, client_for, api_client, population, page_query, api_query):
    org = population.id
    page = _page_ids(client_for(admin), "/admin/users?" + page_query.format(org=org))
    api = _api_ids(api_client(admin), "/api/v1/users?limit=200&" + api_query.format(org=org))
    assert page == api and page


@pytest.mark.parametrize(("page_query", "api_query"), ORGANISATION_FILTERS)
def test_organisation_list_filters_agree(
    app, admin, client_for, api_client, population, page_query, api_query
):
    page = _page_ids(client_for(admin), "/admin/organisations?" + page_query)
    api = _api_ids(api_client(admin), "/api/v1/organisations?limit=200&" + api_query)
    assert page == api and page
