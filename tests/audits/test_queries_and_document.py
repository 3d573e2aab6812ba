"""The audits routes are in the OpenAPI document, and the site view runs a bounded number of queries
(however many audits, findings and worker reports the site has)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.testimony.models import IssueCategory
from tests.audits.conftest import audit_csv, upload
from tests.cases.helpers import CaseWorld

Clients = Callable[[User], FlaskClient]


def test_the_routes_are_documented(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/crosswalk"])
    assert {"put", "delete"} <= set(paths["/api/v1/crosswalk/{entry_id}"])
    assert "get" in paths["/api/v1/sites/{site_id}/audits"]
    imports = paths["/api/v1/audits/imports"]["post"]
    assert list(imports["requestBody"]["content"]) == ["multipart/form-data"]
    assert "201" in imports["responses"]


@contextmanager
def counting(app: Flask) -> Iterator[list[int]]:
    count = [0]
    with app.app_context():
        engine = db.engine

    def before(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM web_session" not in statement:
            count[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_the_site_view_runs_a_bounded_number_of_queries(
    case_world: CaseWorld, api_client: Any, client_for: Clients
) -> None:
    w = case_world
    page_client, api = client_for(w.monitor), api_client(w.monitor)
    categories = [
        [IssueCategory.working_hours, IssueCategory.wages],
        [IssueCategory.recruitment_fees, IssueCategory.retained_documents],
        [IssueCategory.chemicals],
    ]

    def grow(days: range) -> None:
        rows = [
            f"{w.site},2026-03-{day:02d},Firm {day},{section},Finding {day}{section},major,open"
            for day in days
            for section in ("A1", "A3", "B4")
        ]
        assert upload(api_client, w.coordinator, audit_csv(*rows)).status_code == 201
        for day in days:
            w.finding(standard="WH-2", found_date=date(2026, 5, day))
            w.report(collected_date=date(2026, 5, day), categories=categories[day % len(categories)])

    def measure() -> tuple[int, int]:
        with counting(w.app) as page:
            assert page_client.get(f"/sites/{w.site}/audits?year=2026").status_code == 200
        with counting(w.app) as answer:
            assert api.get(f"/api/v1/sites/{w.site}/audits?year=2026").status_code == 200
        return page[0], answer[0]

    grow(range(1, 3))
    small = measure()
    grow(range(3, 12))
    assert measure() == small
