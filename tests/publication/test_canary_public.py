"""The canary on the public status page: nothing a worker said, no name, no finding text.

A case is built with everything a leak could carry (sealed testimony and the worker's name and
e-mail, a finding's summary, messages of every visibility, a remedy's description, a closure
note), then published; every public page, the feed and both data files are read anonymously.
"""

from __future__ import annotations

from decimal import Decimal

from monitoring.cases import operations
from monitoring.cases.models import ActionState, Case, CaseState, RemedyKind, Visibility
from monitoring.core.db import db
from monitoring.supplychain.models import Site
from monitoring.testimony import operations as testimony
from monitoring.testimony.sealing import Identity
from tests.cases.helpers import CaseWorld
from tests.publication.helpers import public_bodies, publish
from tests.testimony.monitor_helpers import intake_data
from tests.testimony.test_canary import CANARY, leaks

WORKER = "Nguyen Thi Canarybird"
EMAIL = "reporter.canary.4471@example.org"
SUMMARY = "Finding summary canary 9931"
NOTES = {
    Visibility.internal: "Internal note canary 4417",
    Visibility.buyers: "Buyers note canary 5528",
    Visibility.parties: "Parties note canary 6639",
}
REMEDY_TEXT = "Remedy description canary 2207"
CLOSURE_NOTE = "Closure note canary 3318"


def _plant(w: CaseWorld) -> int:
    with w.session():
        report = testimony.record_report(
            w.user("monitor"),
            intake_data(
                site=db.session.get(Site, w.site),
                country="CN",
                identity=Identity(name=WORKER, contact=EMAIL, gender="woman"),
                testimony=f"The agent said: {CANARY}",
            ),
        )
        report_id = report.id
    finding_id = w.finding(report_ids=[report_id], summary=SUMMARY, workers_affected=3)
    case_id = w.case(findings=[finding_id], lead="coordinator")
    w.advance_case(case_id, CaseState.verification)
    with w.session():
        case = db.session.get(Case, case_id)
        for visibility, body in NOTES.items():
            supplier = w.orgs["supplier_x"] if visibility is Visibility.parties else None
            author = "monitor" if visibility is Visibility.internal else "coordinator"
            operations.post_message(w.user(author), case, visibility, body, supplier_id=supplier)
    for action_id in w.actions_of(case_id):
        w.advance_action(action_id, ActionState.closed)
    remedy = operations.RemedyData(
        kind=RemedyKind.back_pay,
        amount=Decimal("987.65"),
        currency="USD",
        workers_covered=4,
        description=REMEDY_TEXT,
    )
    w.close(case_id, remedies=[remedy], note=CLOSURE_NOTE)
    return case_id


def test_no_public_page_carries_testimony_names_or_narrower_text(app, case_world, api_client):
    w = case_world
    case_id = _plant(w)
    assert w.get(Case, case_id).state is CaseState.closed
    publish(w, api_client, case_id)
    with app.app_context():
        case = db.session.get(Case, case_id)
        people = [u.name for u in (case.lead_coordinator, case.opened_by) if u] + [
            w.users["monitor"].name,
            w.users["monitor"].email,
            w.users["coordinator"].email,
        ]
        reference = case.reference
    bodies = public_bodies(app, [case_id])
    assert bodies[f"/public/cases/{case_id}"], "the published case is shown"
    forbidden = [WORKER, EMAIL, SUMMARY, REMEDY_TEXT, CLOSURE_NOTE, "987.65", *NOTES.values(), *people]
    for url, body in bodies.items():
        assert not leaks(body), url
        for text in forbidden:
            assert text.encode() not in body, (url, text)
        assert reference.encode() not in body, url
    # Four workers covered: under 5, the count is not published.
    assert b"fewer than 5" in bodies[f"/public/cases/{case_id}"]
