"""The API's case list keeps each page's statement (``services_lists.case_brief_page``): every
user still gets exactly the rows, order and cursors of ``paginate`` over the same listing, whoever
asked before them, and rows written since are seen."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases import services_lists as lists
from monitoring.cases.models import Case
from monitoring.core.db import db
from monitoring.core.pagination import paginate
from monitoring.core.types import utcnow

API = "/api/v1"
ROLES = ("coordinator", "monitor", "other_monitor", "affiliate", "affiliate_b", "supplier", "supplier_y")


@pytest.fixture
def cases(case_world) -> tuple[Any, list[int]]:
    """Three cases at the site, and one at the other site worked by the other monitors."""
    w = case_world
    ids = [w.case() for _ in range(3)]
    other = w.case(
        findings=[w.finding(site_id=w.other_site, by="other_monitor")],
        site_id=w.other_site,
        monitor_organisation_id=w.orgs["other_monitors"],
    )
    return w, [*ids, other]


def _expected(app: Any, user_id: int, query: dict[str, Any]) -> list[tuple[list[int], str | None]]:
    """Every page of ``paginate`` over ``list_case_briefs``: (case ids, next cursor)."""
    pages = []
    with app.test_request_context("/"):
        user = db.session.get(User, user_id)
        today = utcnow().date()
        after = None
        while True:
            listing = lists.list_case_briefs(user, query, today)
            page = paginate(
                db.session, listing.query, key_columns=listing.order, after=after, limit=query["limit"]
            )
            pages.append(([row[0] for row in page.items], page.next_cursor))
            if page.next_cursor is None:
                return pages
            after = page.next_cursor


def _walked(client: Any, url: str) -> list[tuple[list[int], str | None]]:
    pages, after = [], None
    while True:
        response = client.get(url + (f"&after={after}" if after else ""))
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        pages.append(([item["id"] for item in body["items"]], body["next"]))
        if body["next"] is None:
            return pages
        after = body["next"]


@pytest.mark.parametrize("limit", [1, 2, 50])
def test_every_role_gets_the_pages_and_cursors_of_paginate_in_turn(cases, api_client, limit):
    w, _ids = cases
    clients = {role: api_client(w.users[role]) for role in ROLES}
    for _ in range(2):  # the second round runs the statements the first one kept
        for role in ROLES:
            expected = _expected(w.app, w.users[role].id, {"limit": limit})
            assert _walked(clients[role], f"{API}/cases?limit={limit}") == expected, role


def test_users_with_the_same_role_see_their_own_cases(cases, api_client):
    w, ids = cases
    mine, theirs = api_client(w.users["monitor"]), api_client(w.users["other_monitor"])
    for _ in range(2):
        assert {item["id"] for item in mine.get("/api/v1/cases").get_json()["items"]} == set(ids[:3])
        assert [item["id"] for item in theirs.get("/api/v1/cases").get_json()["items"]] == [ids[3]]


def test_filters_are_kept_apart(cases, api_client):
    w, ids = cases
    client = api_client(w.users["coordinator"])
    with w.session():
        site_ids = {
            case_id: db.session.scalar(select(Case.site_id).where(Case.id == case_id)) for case_id in ids
        }
    for _ in range(2):
        for site_id in (w.site, w.other_site):
            listed = {item["id"] for item in client.get(f"{API}/cases?site_id={site_id}").get_json()["items"]}
            assert listed == {case_id for case_id, site in site_ids.items() if site == site_id}
        assert client.get(f"{API}/cases?country=TH").get_json()["items"][0]["id"] == ids[3]
        assert len(client.get(f"{API}/cases?country=CN").get_json()["items"]) == 3


def test_a_case_opened_since_the_last_request_is_listed(cases, api_client):
    w, _ids = cases
    client = api_client(w.users["coordinator"])
    before = [item["id"] for item in client.get(f"{API}/cases?limit=2").get_json()["items"]]
    newest = w.case()
    after = [item["id"] for item in client.get(f"{API}/cases?limit=2").get_json()["items"]]
    assert after == [newest, before[0]]


def test_a_bad_cursor_is_422_on_after(cases, api_client):
    w, _ids = cases
    client = api_client(w.users["coordinator"])
    for cursor in ("not-a-cursor", "WzFd"):
        response = client.get(f"{API}/cases?after={cursor}")
        assert response.status_code == 422
        assert list(response.get_json()["error"]["errors"]) == ["after"]
