"""A contract's supplier confirms its disclosure on a clock: overdue, the supplier is told once,
later the buyer once; a confirmation starts the clock anew. Only the supplier confirms."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.notifications.disclosure_jobs import run_disclosure_jobs
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.notifications.render import line, render_mail, target_path
from monitoring.supplychain.models import Contract
from tests.conftest import post_form

START = date(2026, 1, 1)  # due 60 days later: 2 March 2026; escalated after 16 March
OVERDUE = NotificationKind.disclosure_confirmation_overdue
ESCALATED = NotificationKind.disclosure_confirmation_escalated


@contextmanager
def on(day: str) -> Iterator[None]:
    with time_machine.travel(datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def quiet_world(app, world):
    """The world, its own contracts confirmed so that they stay quiet until March 2027."""
    with app.app_context():
        for key in ("A1", "B1"):
            contract = db.session.get(Contract, world.contracts[key])
            contract.disclosure_confirmed_dt = datetime(2026, 3, 1, tzinfo=UTC)
        db.session.commit()
    return world


@pytest.fixture
def contract_id(registry, quiet_world) -> int:
    world = quiet_world
    return registry.contract(world.orgs["A"], world.orgs["X"], [world.products["P1"]], start=START)


def _run_jobs(app) -> str:
    with app.app_context():
        summary = run_disclosure_jobs()
        db.session.commit()
        return summary


def _sent(app, kind: NotificationKind, user, contract_id: int) -> int:
    """Notices of ``kind`` to ``user`` about the contract (the world's own contracts run too)."""
    with app.app_context():
        rows = db.session.scalars(
            select(Notification).where(Notification.kind == kind, Notification.user_id == user.id)
        )
        return sum(1 for row in rows if row.params.get("contract_id") == contract_id)


def test_overdue_confirmation_tells_the_supplier_once_then_the_buyer_once(app, world, contract_id):
    x, a = world.users["X"], world.users["A"]
    with on("2026-03-02"):  # the due date itself is not overdue
        _run_jobs(app)
        assert _sent(app, OVERDUE, x, contract_id) == 0
    with on("2026-03-03"):
        assert "1 overdue notices, 0 escalations" in _run_jobs(app)
        _run_jobs(app)
        assert _sent(app, OVERDUE, x, contract_id) == 1
        assert _sent(app, ESCALATED, a, contract_id) == 0
    with on("2026-03-16"):  # 14 days after the due date: not escalated yet
        _run_jobs(app)
        assert _sent(app, ESCALATED, a, contract_id) == 0
    with on("2026-03-17"):
        assert "0 overdue notices, 1 escalations" in _run_jobs(app)
        _run_jobs(app)
        assert _sent(app, OVERDUE, x, contract_id) == 1
        assert _sent(app, ESCALATED, a, contract_id) == 1
    # Nobody else hears of it: not the buyer early, not the other buyer or supplier.
    assert _sent(app, OVERDUE, a, contract_id) == 0
    for other in (world.users["B"], world.users["Y"], world.users["coordinator"]):
        assert _sent(app, OVERDUE, other, contract_id) == _sent(app, ESCALATED, other, contract_id) == 0
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert contract.disclosure_overdue_notified_for == date(2026, 3, 2)
        assert contract.disclosure_escalated_for == date(2026, 3, 2)


def test_the_notices_carry_metadata_and_link_to_the_contract(app, world, contract_id):
    with on("2026-03-20"):
        _run_jobs(app)
    with app.test_request_context("/"):
        for kind, user in ((OVERDUE, world.users["X"]), (ESCALATED, world.users["A"])):
            notice = db.session.scalars(
                select(Notification).where(Notification.kind == kind, Notification.user_id == user.id)
            ).one()
            contract = db.session.get(Contract, contract_id)
            assert notice.params == {
                "contract_id": contract_id,
                "reference": contract.reference,
                "supplier": contract.supplier.name,
                "due_date": "2026-03-02",
            }
            assert target_path(notice) == f"/contracts/{contract_id}"
            text = line(notice)
            assert contract.reference in text and "2026" in text
            mail = render_mail(notice)
            assert contract.reference in mail.subject
            assert f"/contracts/{contract_id}" in mail.text
        assert contract.supplier.name in line(notice)  # the buyer is told who has not confirmed


def test_confirming_starts_the_clock_anew(app, world, contract_id, api_client):
    x = world.users["X"]
    with on("2026-03-10"):
        _run_jobs(app)
        assert _sent(app, OVERDUE, x, contract_id) == 1
        response = api_client(x).post(f"/api/v1/contracts/{contract_id}/disclosure-confirmation")
        assert response.status_code == 200, response.get_json()
        state = response.get_json()
        assert state["due_date"] == "2027-03-10"
        assert state["overdue"] is False
        assert state["confirmed_dt"].startswith("2026-03-10T09:00")
    with on("2026-03-20"):  # would have been escalated without the confirmation
        assert _run_jobs(app) == ""
        assert _sent(app, ESCALATED, world.users["A"], contract_id) == 0
    with on("2027-03-11"):  # a year on, the next confirmation is overdue: told again
        _run_jobs(app)
        assert _sent(app, OVERDUE, x, contract_id) == 2
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "contract.disclosure_confirm")
        ).one()
        assert entry.actor_id == x.id
        assert entry.object_id == str(contract_id) or entry.object_id == contract_id


def test_a_contract_not_in_force_has_no_clock(app, registry, quiet_world, api_client):
    world = quiet_world
    ended = registry.contract(world.orgs["A"], world.orgs["X"], start=START, end=date(2026, 2, 28))
    with on("2026-06-01"):
        assert _run_jobs(app) == ""
        assert _sent(app, OVERDUE, world.users["X"], ended) == 0
        state = api_client(world.users["A"]).get(f"/api/v1/contracts/{ended}/disclosure-confirmation")
        assert state.get_json()["in_force"] is False
        assert state.get_json()["overdue"] is False


def test_only_the_contracts_supplier_confirms(app, world, contract_id, api_client):
    url = f"/api/v1/contracts/{contract_id}/disclosure-confirmation"
    with on("2026-03-05"):
        for key in ("Y", "B"):  # the other supplier and the other buyer do not see it
            assert api_client(world.users[key]).get(url).status_code == 404
            assert api_client(world.users[key]).post(url).status_code == 404
        for key in ("A", "coordinator", "monitor"):  # they see the clock, but cannot confirm
            response = api_client(world.users[key]).get(url)
            assert response.status_code == 200
            assert response.get_json()["overdue"] is True
            assert api_client(world.users[key]).post(url).status_code == 404
        assert api_client(world.users["admin"]).get(url).status_code == 404
    with app.app_context():
        assert db.session.get(Contract, contract_id).disclosure_confirmed_dt is None
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "contract.disclosure_confirm")
            )
            == 0
        )


def test_the_contract_page_shows_the_clock_and_the_supplier_confirms_there(
    app, world, contract_id, client_for
):
    page = f"/contracts/{contract_id}"
    action = f"{page}/disclosure-confirmation"
    with on("2026-03-05"):
        buyer = client_for(world.users["A"])
        html = buyer.get(page).get_data(as_text=True)
        assert "Disclosure confirmation" in html
        assert 'datetime="2026-03-02"' in html and "overdue" in html
        assert action not in html  # no button for the buyer
        assert post_form(buyer, action, form_page=page).status_code == 404
        other = client_for(world.users["Y"])
        assert post_form(other, action).status_code == 404

        supplier = client_for(world.users["X"])
        html = supplier.get(page).get_data(as_text=True)
        assert action in html
        response = post_form(supplier, action, form_page=page)
        assert response.status_code == 302
        html = supplier.get(page).get_data(as_text=True)
        assert "still true" in html
        assert 'datetime="2027-03-05"' in html
        assert 'datetime="2026-03-05T09:00:00+00:00"' in html
        assert "badge-overdue" not in html
