"""Publishing a case through the API, and reading every public page."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.cases.helpers import CaseWorld

PUBLIC_URLS = ("/public/", "/public/feed.atom", "/public/data.csv", "/public/data.json", "/public/data")


def publish(w: CaseWorld, api_client: Any, case_id: int) -> None:
    """The lead coordinator proposes, the case's monitor approves."""
    assert (
        api_client(w.users["coordinator"]).post(f"/api/v1/cases/{case_id}/publication", json={}).status_code
        == 200
    )
    response = api_client(w.users["monitor"]).post(f"/api/v1/cases/{case_id}/publication/approve", json={})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "published"


def public_bodies(app: Flask, case_ids: list[int]) -> dict[str, bytes]:
    """Every public page, the feed and the data files, as an anonymous visitor sees them."""
    client = app.test_client()
    urls = [*PUBLIC_URLS, *(f"/public/cases/{cid}" for cid in case_ids)]
    bodies = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        bodies[url] = response.get_data() if response.status_code == 200 else b""
    return bodies
