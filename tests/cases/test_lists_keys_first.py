"""A list ordered by expressions sorts its keys first and loads the page's rows after
(``paginate_keys_first``): the same pages, in the same order, with the same cursors."""

from __future__ import annotations

from datetime import date

import pytest

from monitoring.accounts.models import User
from monitoring.cases import services_lists as lists
from monitoring.cases.models import ActionState
from monitoring.core.db import db
from monitoring.core.pagination import paginate, paginate_keys_first
from tests.cases.test_supplier_requests import requests_world  # noqa: F401 (a fixture)

VIEWED = date(2027, 3, 11)


def _walk(pages, listing, limit):
    """Every page of ``listing``: (ids, next cursor) each."""
    walked, after = [], None
    while True:
        page = pages(db.session(), listing.query, key_columns=listing.order, after=after, limit=limit)
        walked.append(([a.id for a in page.items], page.next_cursor))
        if not page.next_cursor:
            return walked
        after = page.next_cursor


@pytest.mark.parametrize("args", [{}, {"state": ActionState.requested}, {"overdue": True}])
def test_keys_first_gives_the_same_pages_as_one_query(app, case_world, requests_world, args):  # noqa: F811
    with app.app_context():
        supplier = db.session.get(User, case_world.supplier.id)
        listing = lists.list_requests(supplier, args, VIEWED)
        assert listing.keys_first
        for limit in (1, 2, 4, 50):
            one_query = _walk(paginate, listing, limit)
            keys_first = _walk(paginate_keys_first, listing, limit)
            assert keys_first == one_query
        listed = [i for ids, _ in _walk(paginate_keys_first, listing, 2) for i in ids]
        assert listed and len(listed) == len(set(listed))
        assert requests_world["other"] not in listed
