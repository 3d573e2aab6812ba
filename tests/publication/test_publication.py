"""Publication needs both approvals; withdrawing takes the case off every public page."""

from __future__ import annotations

import csv
import io
import re

import pytest

from monitoring.cases import operations as case_ops
from monitoring.cases.models import CaseState, RemedyKind
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.publication.models import CasePublication
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form
from tests.publication.helpers import PUBLIC_URLS, public_bodies, publish


@pytest.fixture
def case_id(case_world: CaseWorld) -> int:
    return case_world.case(lead="coordinator")


def _listed(app, case_id: int) -> dict[str, bool]:
    bodies = public_bodies(app, [case_id])
    marker = f"/public/cases/{case_id}".encode()
    return {url: marker in body for url, body in bodies.items() if url != "/public/data"}


def test_proposal_alone_publishes_nothing(app, case_world, api_client, case_id):
    w = case_world
    response = api_client(w.users["coordinator"]).post(f"/api/v1/cases/{case_id}/publication", json={})
    assert response.status_code == 200
    assert response.get_json()["status"] == "proposed"
    assert app.test_client().get(f"/public/cases/{case_id}").status_code == 404
    assert not any(_listed(app, case_id).values())


def test_both_approvals_publish(app, case_world, api_client, case_id):
    publish(case_world, api_client, case_id)
    assert app.test_client().get(f"/public/cases/{case_id}").status_code == 200
    listed = _listed(app, case_id)
    assert all(listed.values()), listed
    with app.app_context():
        actions = [
            e.action
            for e in db.session.query(AuditEntry)
            .filter(AuditEntry.action.like("publication.%"))
            .order_by(AuditEntry.id)
        ]
    assert actions[-2:] == ["publication.propose", "publication.approve"]


@pytest.mark.parametrize("who", ["other_monitor", "affiliate", "supplier", "coordinator", "admin"])
def test_only_a_monitor_of_the_case_approves(app, case_world, api_client, case_id, who):
    w = case_world
    api_client(w.users["coordinator"]).post(f"/api/v1/cases/{case_id}/publication", json={})
    response = api_client(w.users[who]).post(f"/api/v1/cases/{case_id}/publication/approve", json={})
    assert response.status_code in (403, 404)
    assert app.test_client().get(f"/public/cases/{case_id}").status_code == 404


@pytest.mark.parametrize("who", ["coordinator2", "monitor", "affiliate", "other_monitor"])
def test_only_the_lead_coordinator_proposes(case_world, api_client, case_id, who):
    response = api_client(case_world.users[who]).post(f"/api/v1/cases/{case_id}/publication", json={})
    assert response.status_code in (403, 404)


def test_approving_twice_or_without_proposal_is_refused(case_world, api_client, case_id):
    w = case_world
    monitor = api_client(w.users["monitor"])
    response = monitor.post(f"/api/v1/cases/{case_id}/publication/approve", json={})
    assert response.status_code == 422
    publish(w, api_client, case_id)
    assert monitor.post(f"/api/v1/cases/{case_id}/publication/approve", json={}).status_code == 422


@pytest.mark.parametrize("who", ["coordinator", "monitor"])
def test_withdrawing_removes_the_case_everywhere(app, case_world, api_client, case_id, who):
    w = case_world
    publish(w, api_client, case_id)
    response = api_client(w.users[who]).post(f"/api/v1/cases/{case_id}/publication/withdraw", json={})
    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"
    missing = app.test_client().get("/public/cases/999999")
    gone = app.test_client().get(f"/public/cases/{case_id}")
    assert gone.status_code == missing.status_code == 404

    # The same page, but for the language switch's return address and its CSRF token.
    def same(body: bytes) -> bytes:
        return re.sub(rb'value="[^"]*"', b"", body.replace(f"/{case_id}".encode(), b"/999999"))

    assert same(gone.get_data()) == same(missing.get_data())
    assert not any(_listed(app, case_id).values())
    # Proposed again, it needs a new approval.
    api_client(w.users["coordinator"]).post(f"/api/v1/cases/{case_id}/publication", json={})
    assert app.test_client().get(f"/public/cases/{case_id}").status_code == 404


def test_others_may_not_withdraw(case_world, api_client, case_id):
    w = case_world
    publish(w, api_client, case_id)
    for who in ("coordinator2", "other_monitor", "affiliate", "supplier"):
        response = api_client(w.users[who]).post(f"/api/v1/cases/{case_id}/publication/withdraw", json={})
        assert response.status_code in (403, 404), who


def test_case_page_buttons(app, case_world, client_for, case_id):
    w = case_world
    lead = client_for(w.users["coordinator"])
    page = lead.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f"/cases/{case_id}/publication" in page
    assert post_form(lead, f"/cases/{case_id}/publication", form_page=f"/cases/{case_id}").status_code == 302
    monitor = client_for(w.users["monitor"])
    page = monitor.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f"/cases/{case_id}/publication/approve" in page
    assert (
        post_form(monitor, f"/cases/{case_id}/publication/approve", form_page=f"/cases/{case_id}").status_code
        == 302
    )
    assert app.test_client().get(f"/public/cases/{case_id}").status_code == 200
    # A refused step answers 422 with the reason.
    refused = post_form(monitor, f"/cases/{case_id}/publication/approve", form_page=f"/cases/{case_id}")
    assert refused.status_code == 422
    # Affiliates get no publication section at all.
    page = client_for(w.users["affiliate"]).get(f"/cases/{case_id}").get_data(as_text=True)
    assert "/publication" not in page
    with app.app_context():
        assert db.session.query(CasePublication).filter_by(case_id=case_id).one().approved_dt is not None


def _close_with(w: CaseWorld, case_id: int, workers: list[tuple[RemedyKind, int]]) -> None:
    from decimal import Decimal

    remedies = [
        case_ops.RemedyData(
            kind=kind,
            amount=Decimal("100.00") if kind is RemedyKind.fees_repaid else None,
            currency="USD" if kind is RemedyKind.fees_repaid else None,
            workers_covered=n,
            description="Paid to Somchai Canary-Name 8812",
        )
        for kind, n in workers
    ]
    w.advance_case(case_id, CaseState.verification)
    for action_id in w.actions_of(case_id):
        from monitoring.cases.models import ActionState

        w.advance_action(action_id, ActionState.closed)
    w.close(case_id, remedies=remedies)


def test_counts_under_five_are_suppressed(app, case_world, api_client, case_id):
    w = case_world
    _close_with(w, case_id, [(RemedyKind.fees_repaid, 3), (RemedyKind.reinstatement, 7)])
    publish(w, api_client, case_id)
    client = app.test_client()
    page = client.get(f"/public/cases/{case_id}").get_data(as_text=True)
    assert "fewer than 5" in page and ">7<" in page
    rows = list(csv.DictReader(io.StringIO(client.get("/public/data.csv").get_data(as_text=True))))
    row = next(r for r in rows if r["case_id"] == str(case_id))
    assert row["remedies"] == "fees_repaid: fewer than 5; reinstatement: 7"
    assert row["state"] == "closed" and row["closed"] and row["plan_accepted"] and row["verified"]
    data = client.get("/public/data.json").get_json()
    assert data["licence"]["name"] == "CC BY 4.0"
    entry = next(c for c in data["cases"] if c["case_id"] == case_id)
    assert {"kind": "fees_repaid", "workers_covered": None, "suppressed": True} in entry["remedies"]
    assert {"kind": "reinstatement", "workers_covered": 7, "suppressed": False} in entry["remedies"]
    assert b"100.00" not in client.get("/public/data.csv").get_data()
    feed = client.get("/public/feed.atom")
    assert feed.mimetype == "application/atom+xml"
    assert f"/public/cases/{case_id}#closed".encode() in feed.get_data()


def test_public_pages_need_no_login_in_every_language(app, case_world, api_client, case_id):
    publish(case_world, api_client, case_id)
    for locale in app.config["LOCALES"]:
        client = app.test_client()
        with client.session_transaction() as session:
            session["locale"] = locale
        for url in (*PUBLIC_URLS, f"/public/cases/{case_id}"):
            response = client.get(url)
            assert response.status_code == 200, (locale, url)
        page = client.get("/public/").get_data(as_text=True)
        assert 'name="locale"' in page
    assert "creativecommons.org/licenses/by/4.0" in app.test_client().get("/public/data").get_data(
        as_text=True
    )
