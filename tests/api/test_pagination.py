"""Keyset pagination: one query per page, stable order, opaque cursors."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import event, select

from monitoring.accounts import operations
from monitoring.accounts.models import Organisation, OrganisationKind
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.pagination import (
    MAX_PAGE_SIZE,
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    page_size,
    paginate,
)


@pytest.fixture
def orgs(app):
    with app.app_context():
        created = [
            operations.create_organisation(None, f"Pagination {i % 3} {i}", OrganisationKind.monitor)
            for i in range(7)
        ]
        db.session.commit()
        return [o.id for o in created]


def _walk(key_columns, limit, query=None):
    query = query if query is not None else select(Organisation).where(Organisation.name.like("Pagination %"))
    pages, after = [], None
    while True:
        page = paginate(db.session, query, key_columns=key_columns, after=after, limit=limit)
        pages.append(page.items)
        after = page.next_cursor
        if after is None:
            return pages


def _count_queries():
    statements = []

    def before(conn, cursor, statement, *args):
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):  # the test's transaction
            statements.append(statement)

    return statements, before


@pytest.mark.parametrize(
    ("key_columns", "sort_key", "reverse"),
    [
        ((Organisation.id,), lambda o: o.id, False),
        ((Organisation.id.desc(),), lambda o: o.id, True),
        ((Organisation.name, Organisation.id), lambda o: (o.name, o.id), False),
        ((Organisation.name.desc(), Organisation.id.desc()), lambda o: (o.name, o.id), True),
    ],
)
def test_pages_cover_every_row_once_in_order(app, orgs, key_columns, sort_key, reverse):
    with app.app_context():
        pages = _walk(key_columns, limit=3)
        assert [len(p) for p in pages] == [3, 3, 1]
        flat = [o for page in pages for o in page]
        assert sorted(o.id for o in flat) == sorted(orgs)
        assert flat == sorted(flat, key=sort_key, reverse=reverse)


def test_mixed_directions(app, orgs):
    with app.app_context():
        # "Pagination <group> <n>": group descending, then id ascending.
        key = (Organisation.is_active, Organisation.name.desc(), Organisation.id)
        flat = [o for page in _walk(key, limit=2) for o in page]
        assert sorted(o.id for o in flat) == sorted(orgs)
        assert [o.name for o in flat] == sorted((o.name for o in flat), reverse=True)


def test_one_query_per_page(app, orgs):
    with app.app_context():
        statements, listener = _count_queries()
        engine = db.session.get_bind().engine
        event.listen(engine, "before_cursor_execute", listener)
        try:
            after, pages = None, 0
            while True:
                before = len(statements)
                page = paginate(
                    db.session,
                    select(Organisation).where(Organisation.name.like("Pagination %")),
                    key_columns=[Organisation.name, Organisation.id],
                    after=after,
                    limit=3,
                )
                assert len(statements) - before == 1
                pages += 1
                after = page.next_cursor
                if after is None:
                    break
            assert pages == 3
        finally:
            event.remove(engine, "before_cursor_execute", listener)


def test_exact_multiple_has_no_empty_last_page(app, orgs):
    with app.app_context():
        pages = _walk([Organisation.id], limit=7)
        assert [len(p) for p in pages] == [7]


def test_rows_of_several_columns(app, orgs):
    with app.app_context():
        query = select(Organisation.id, Organisation.name).where(Organisation.name.like("Pagination %"))
        pages = _walk([Organisation.id], limit=4, query=query)
        assert [row[0] for page in pages for row in page] == sorted(orgs)
        assert all(len(row) == 2 for page in pages for row in page)


def test_datetime_keys_round_trip(app, orgs):
    with app.app_context():
        keys = [AuditEntry.created_dt.desc(), AuditEntry.id.desc()]
        query = select(AuditEntry).where(AuditEntry.object_id.in_([str(i) for i in orgs]))
        flat = [e.id for page in _walk(keys, limit=2, query=query) for e in page]
        assert flat == sorted(flat, reverse=True)
        assert len(flat) == len(orgs)


def test_cursor_is_opaque_urlsafe_json():
    cursor = encode_cursor(["a/b+c", 7])
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert decode_cursor(cursor, [Organisation.name, Organisation.id]) == ["a/b+c", 7]


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !",
        base64.urlsafe_b64encode(b"not json").decode(),
        encode_cursor([1]),  # too few keys
        encode_cursor(["x", "y"]),  # the id is not an integer
        encode_cursor(["x", None]),
        base64.urlsafe_b64encode(b'{"a": 1}').decode(),
    ],
)
def test_bad_cursor_is_refused(app, cursor):
    with app.test_request_context():
        with pytest.raises(InvalidCursor) as info:
            paginate(
                db.session,
                select(Organisation),
                key_columns=[Organisation.name, Organisation.id],
                after=cursor,
            )
        assert info.value.code == 400
        assert str(info.value.description)


def test_page_size_is_clamped(app):
    with app.app_context():
        assert page_size(None) == app.config["PAGE_SIZE"]
        assert page_size(0) == 1
        assert page_size(10_000) == MAX_PAGE_SIZE


@pytest.mark.parametrize("raw", ['"1e999999999"', '"NaN"', '"twelve"', "true", "[1]"])
def test_bad_decimal_cursor_is_refused(app, raw):
    from monitoring.supplychain.models import Contract

    cursor = base64.urlsafe_b64encode(f"[{raw},1]".encode()).decode().rstrip("=")
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, [Contract.annual_spend, Contract.id])


def test_decimal_cursor_round_trips(app):
    from decimal import Decimal

    from monitoring.supplychain.models import Contract

    cursor = encode_cursor([Decimal("1234.50"), 7])
    assert decode_cursor(cursor, [Contract.annual_spend, Contract.id]) == [Decimal("1234.50"), 7]
