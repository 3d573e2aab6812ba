"""The notification list is one service with two skins: the page and the API show the same rows."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from monitoring.accounts.models import User
from tests.cases.helpers import CaseWorld
from tests.notifications.helpers import queue

_ROW = re.compile(
    r'<li id="notification-(\d+)".*?<span class="notification-text"[^>]*>(.*?)</span>\s*<time', re.S
)
_TAGS = re.compile(r"<[^>]+>")

# Each filter of the list: (page query, API query).
FILTERS = {"all": ("", ""), "unread": ("?unread=1", "?unread=true")}


def page_rows(client: FlaskClient, query: str) -> list[tuple[int, str]]:
    page = client.get(f"/notifications/{query}").get_data(as_text=True)
    rows = []
    for number, text in _ROW.findall(page):
        words = html.unescape(_TAGS.sub("", text)).replace("Unread:", "")
        rows.append((int(number), " ".join(words.split())))
    return rows


def api_rows(client: Any, query: str) -> list[tuple[int, str]]:
    items = client.get(f"/api/v1/notifications{query}").get_json()["items"]
    return [(item["id"], " ".join(f"{item['title']} — {item['text']}".split())) for item in items]


@pytest.mark.parametrize("name", FILTERS)
def test_page_and_api_list_the_same_notifications(
    app: Flask,
    case_world: CaseWorld,
    client_for: Callable[[User], FlaskClient],
    api_client: Any,
    name: str,
) -> None:
    """Real cases and actions (texts from their rows) and parameter-only ones, some read."""
    supplier = case_world.supplier
    case_world.action(case_world.case())
    case_world.action(case_world.case(severity="major"))
    queued = queue(app, [supplier], "case_closed", params={"reference": "C-2026-0042", "site": "Plant"})
    api = api_client(supplier)
    api.post(f"/api/v1/notifications/{queued[0]}/read")
    page_query, api_query = FILTERS[name]

    from_page = page_rows(client_for(supplier), page_query)
    from_api = api_rows(api, api_query)

    assert from_page == from_api
    assert len(from_api) == (3 if name == "all" else 2)
