"""The case board reads plain columns (``list_case_board``) and the country filter's choices by a
loose scan of the sites' countries: the same rows, in the same order, and the same countries as
the plain reference queries, for every role, filter and day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases import permissions
from monitoring.cases import services_lists as lists
from monitoring.cases.models import ActionState, Case, CaseState, Severity
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.supplychain.models import Site
from tests.cases.helpers import CaseWorld

ROLES = ("coordinator", "monitor", "other_monitor", "affiliate", "affiliate_b", "supplier")
FILTERS: list[dict[str, Any]] = [
    {},
    {"overdue": True},
    {"overdue": False},
    {"severity": Severity.priority},
    {"state": CaseState.remediation},
    {"country": "th"},
    {"q": "plant"},
]


@pytest.fixture
def board_world(case_world: CaseWorld) -> CaseWorld:
    """Cases at two sites in two countries, with and without a lead, with actions in several
    states (some of them overdue on the later days the tests look from)."""
    w = case_world
    w.case()
    with_lead = w.case(lead="coordinator2", severity="priority")
    w.action(with_lead)
    one, two = w.finding(site_id=w.other_site), w.finding(site_id=w.other_site, severity="priority")
    in_remediation = w.case(site_id=w.other_site, findings=[one, two])
    first = w.action(in_remediation, supplier="supplier_y", finding_id=one)
    w.advance_case(in_remediation, CaseState.remediation)
    w.step_action(first, ActionState.plan_submitted, "supplier_y")
    w.step_action(first, ActionState.plan_accepted, "coordinator")
    w.action(in_remediation, supplier="supplier_y", finding_id=two)
    done = w.case(severity="minor")
    w.advance_case(done, CaseState.closed)
    w.case(by="monitor")
    return w


def _reference_rows(user: User, args: dict[str, Any], today: Any) -> list[tuple[Any, ...]]:
    listing = lists.list_cases(user, args, today)
    rows = db.session.execute(listing.query.order_by(*listing.order)).all()
    return [
        (
            case.id,
            case.reference,
            case.state,
            case.severity,
            case.site.name,
            case.site.city,
            case.site.country,
            case.lead_coordinator.name if case.lead_coordinator else None,
            int(findings or 0),
            int(open_actions or 0),
            due,
            bool(late),
        )
        for case, findings, open_actions, due, late in rows
    ]


def _board_rows(user: User, args: dict[str, Any], today: Any) -> list[tuple[Any, ...]]:
    listing = lists.list_case_board(user, args, today)
    rows = db.session.execute(listing.query.order_by(*listing.order)).all()
    return [
        (
            r.id,
            r.reference,
            r.state,
            r.severity,
            r.site.name,
            r.site.city,
            r.site.country,
            r.lead,
            r.findings,
            r.open_actions,
            r.next_due,
            r.overdue,
        )
        for r in lists.board_rows(rows, today)
    ]


def _reference_countries(user: User, today: Any) -> list[str]:
    site_ids = permissions.visible_cases(user, today).with_only_columns(Case.site_id)
    query = select(Site.country).where(Site.id.in_(site_ids)).distinct().order_by(Site.country)
    return list(db.session.scalars(query))


@pytest.mark.parametrize("days", [0, 40, 400])
def test_the_board_lists_what_the_reference_query_lists(app, board_world: CaseWorld, days: int) -> None:
    today = utcnow().date() + timedelta(days=days)
    seen_overdue = False
    with app.app_context():
        for role in ROLES:
            user = board_world.user(role)
            for args in FILTERS:
                reference = _reference_rows(user, args, today)
                assert _board_rows(user, args, today) == reference, (role, args)
                seen_overdue |= any(row[-1] for row in reference)
            assert lists.case_countries(user, today) == _reference_countries(user, today), role
        coordinator = board_world.user("coordinator")
        assert lists.case_countries(coordinator, today) == ["CN", "TH"]
    # The comparison covers overdue cases once their deadlines have passed.
    assert seen_overdue is (days > 0)


def test_the_board_page_shows_the_rows_in_order(board_world: CaseWorld, client_for) -> None:
    page = client_for(board_world.coordinator).get("/cases/").get_data(as_text=True)
    with board_world.app.app_context():
        coordinator = board_world.user("coordinator")
        expected = [row[1] for row in _reference_rows(coordinator, {}, utcnow().date())]
    positions = [page.index(f">{reference}</a></th>") for reference in expected]
    assert len(expected) == 5 and positions == sorted(positions)
    assert "no lead" in page and board_world.coordinator2.name in page
