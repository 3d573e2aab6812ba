"""A user's own account shows the same fields on the account page and at /api/v1/me."""

from __future__ import annotations

import html
import re

import pytest

from monitoring.core.db import db

_FIELD = re.compile(r'<dd data-field="(\w+)"(?: data-value="([^"]*)")?>(.*?)</dd>', re.S)


def _page_fields(page: str) -> dict[str, str]:
    fields = {}
    for name, value, text in _FIELD.findall(page):
        fields[name] = html.unescape(value if value or name == "locale" else text)
    return fields


@pytest.mark.parametrize("locale", [None, "sv"])
def test_account_page_and_api_show_the_same_fields(app, any_role_user, client_for, api_client, locale):
    user = any_role_user
    with app.app_context():
        db.session.merge(user).locale = locale
        db.session.commit()
    page = client_for(user).get("/account").get_data(as_text=True)
    me = api_client(user).get("/api/v1/me").get_json()
    assert f'data-id="{me["id"]}"' in page
    shown = _page_fields(page)
    assert set(shown) == set(me) - {"id"}
    assert shown == {
        "name": me["name"],
        "email": me["email"],
        "role": me["role"],
        "organisation": str(me["organisation"]["id"]),
        "locale": me["locale"] or "",
        "time_zone": me["time_zone"],
        "must_change_password": "true" if me["must_change_password"] else "false",
    }
    assert me["organisation"]["name"] in page
