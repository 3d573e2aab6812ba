"""The whole path through the HTML pages, each role logged in in turn.

A worker's report → a monitor's finding linking it → a case → dialogue → a corrective action
requested of supplier X → a plan rejected with a reason → resubmitted → accepted → reported
implemented with an evidence file → verified → the action closed → the case to verification →
closed by the monitor with a structured remedy and the workers-consulted confirmation. Along the
way each role sees what it may (and affiliate B, supplier Y and the admin get 404), the case
timeline records each step, notifications are queued for the people concerned, and the jobs
runner finally mails them to a real SMTP server on 127.0.0.1, the supplier's in its language.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases.jobs import run_notification_jobs
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseFile,
    CaseOutcome,
    CaseState,
    CorrectiveAction,
    Finding,
    RemedyKind,
    SupplierResponse,
)
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.notifications.models import MailState, Notification, NotificationKind
from monitoring.supplychain.models import Site
from monitoring.testimony import operations as testimony_operations
from monitoring.testimony.models import IssueCategory
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form
from tests.notifications.conftest import SmtpServer, smtp_server  # noqa: F401  (the fixture)
from tests.testimony.monitor_helpers import PDF, intake_data

SUMMARY = "Workers paid recruitment fees of about USD 1,200 each to agents; the debt is deducted monthly."
REQUEST = "Repay every recruitment fee in full and adopt the employer-pays principle."
REJECTION = "The plan leaves out the agency workers; include them and say who repays what by when."
PLAN_1 = "Agents abroad charged fees without checks."
PLAN_2 = "Agents abroad charged fees, and agency workers were outside the hiring policy."
IMPLEMENTED = "All fees repaid to direct and agency workers; the signed schedule is attached."
VERIFIED = "Ten workers interviewed offsite confirmed the repayment."
INTERNAL = "Internal: the workers fear being identified; keep the shift out of every message."
BUYERS = "Buyers: we raised the finding at our contract review with the reseller."
PARTIES = "Parties: please confirm the deductions have stopped while you prepare the plan."
SUPPLIER_SAYS = "Supplier: the deductions stopped this month; the plan follows."
CLOSING = "Fees repaid and passports returned, confirmed by the workers."


def _ok(response, to: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """A form that worked redirects (to ``to`` when given); return where to."""
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    location = response.headers["Location"]
    if to is not None:
        assert location.endswith(to), location
    return location


def _id_in(location: str, prefix: str) -> int:
    match = re.search(rf"{prefix}/(\d+)", location)
    assert match, location
    return int(match.group(1))


def _shows(page: str, *texts: str) -> bool:
    return all(str(escape(t)) in page for t in texts)


def _hides(page: str, *texts: str) -> bool:
    return not any(str(escape(t)) in page for t in texts)


def _timeline(page: str) -> str:
    """The case timeline as plain text."""
    match = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S)
    assert match, "the case page has no timeline"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def _in_order(text: str, steps: list[str]) -> None:
    position = 0
    for step in steps:
        found = text.find(str(escape(step)), position)
        assert found >= 0, f"the timeline lacks, in order: {step!r}\n{text}"
        position = found + 1


def _kinds(app: Flask, user: User) -> set[NotificationKind]:
    with app.app_context():
        return set(db.session.scalars(select(Notification.kind).where(Notification.user_id == user.id)))


def _worker_report(app: Flask, w: CaseWorld) -> int:
    """What a worker told the monitor about the site, recorded (sealed) by the monitor."""
    with app.app_context():
        actor = db.session.get(User, w.monitor.id)
        data = intake_data(
            site=db.session.get(Site, w.site),
            country="CN",
            testimony="The agent took 40,000 baht and keeps my passport.",
            categories=[IssueCategory.recruitment_fees, IssueCategory.retained_documents],
        )
        report = testimony_operations.record_report(actor, data)
        db.session.commit()
        return report.id


def _message_scopes(app: Flask, user: User) -> set[str]:
    with app.app_context():
        rows = db.session.scalars(
            select(Notification).where(
                Notification.user_id == user.id, Notification.kind == NotificationKind.message_posted
            )
        )
        return {row.params.get("visibility") for row in rows}


def test_the_whole_path_through_the_pages(
    app: Flask,
    case_world: CaseWorld,
    client_for: Callable[[User], FlaskClient],
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    w = case_world
    today = utcnow().date()
    # The supplier's staff read Chinese: their e-mail comes in their language.
    with w.session():
        w.user("supplier").locale = "zh_Hans"
    report_id = _worker_report(app, w)

    monitor = client_for(w.monitor)
    coordinator = client_for(w.coordinator)
    affiliate = client_for(w.affiliate)
    supplier = client_for(w.supplier)
    outsiders = [client_for(w.affiliate_b), client_for(w.supplier_y), client_for(w.admin)]

    # --- the monitor files a finding, linking the worker's report --------------------------------
    new_finding = f"/findings/new?site={w.site}"
    assert f'value="{report_id}"' in monitor.get(new_finding).get_data(as_text=True)
    location = _ok(
        post_form(
            monitor,
            "/findings/new",
            {
                "site": w.site,
                "standard": "FL-1",
                "severity": "priority",
                "workers_affected": "12",
                "evidence_type": "offsite_interviews",
                "found_date": today.isoformat(),
                "summary": SUMMARY,
                "reports": [report_id],
            },
            form_page=new_finding,
        )
    )
    finding_id = _id_in(location, "/findings")
    with app.app_context():
        finding = db.session.get(Finding, finding_id)
        assert [link.report_id for link in finding.report_links] == [report_id]

    # --- the coordinator opens the case and starts the dialogue -------------------------------------
    location = _ok(
        post_form(
            coordinator,
            "/cases/new",
            {"site": w.site, "findings": [finding_id], "lead": w.coordinator.id},
            form_page=f"/cases/new?site={w.site}",
        )
    )
    case_id = _id_in(location, "/cases")
    case_url = f"/cases/{case_id}"
    _ok(post_form(coordinator, f"{case_url}/transition", {"transition": "start_dialogue"}), case_url)

    # --- a corrective action of supplier X --------------------------------------------------------
    request_page = f"{case_url}/actions/new"
    location = _ok(
        post_form(
            coordinator,
            request_page,
            {
                "finding_id": finding_id,
                "supplier_id": w.orgs["supplier_x"],
                "request": REQUEST,
                "plan_due_date": "",
                "closure_due_date": "",
            },
            form_page=request_page,
        )
    )
    action_id = _id_in(location, "/actions")
    action_url = f"/actions/{action_id}"
    with app.app_context():
        action = db.session.get(CorrectiveAction, action_id)
        # Priority: the plan within 7 days, the closure within 90 (the configured defaults).
        assert action.plan_due_date == today + timedelta(days=7)
        assert action.closure_due_date == today + timedelta(days=90)

    # --- the dialogue, one message of each visibility ---------------------------------------------
    messages = f"{case_url}/messages"
    _ok(post_form(monitor, messages, {"visibility": "internal", "body": INTERNAL}))
    _ok(post_form(affiliate, messages, {"visibility": "buyers", "body": BUYERS}))
    _ok(
        post_form(
            coordinator,
            messages,
            {"visibility": "parties", "supplier": w.orgs["supplier_x"], "body": PARTIES},
        )
    )
    _ok(post_form(supplier, messages, {"visibility": "parties", "body": SUPPLIER_SAYS}))

    # What each role sees now.
    page = monitor.get(case_url).get_data(as_text=True)
    assert _shows(page, SUMMARY, INTERNAL, BUYERS, PARTIES, SUPPLIER_SAYS)
    assert f"/testimony/reports/{report_id}" in page
    page = coordinator.get(case_url).get_data(as_text=True)
    assert _shows(page, SUMMARY, INTERNAL, BUYERS, PARTIES, SUPPLIER_SAYS)
    assert f"/testimony/reports/{report_id}" not in page
    page = affiliate.get(case_url).get_data(as_text=True)
    assert _shows(page, SUMMARY, BUYERS, PARTIES, SUPPLIER_SAYS) and _hides(page, INTERNAL)
    assert f"/testimony/reports/{report_id}" not in page
    assert affiliate.get(action_url).status_code == 200
    page = supplier.get(case_url).get_data(as_text=True)
    assert _shows(page, PARTIES, SUPPLIER_SAYS) and _hides(page, SUMMARY, INTERNAL, BUYERS)
    assert f"/testimony/reports/{report_id}" not in page
    page = supplier.get(action_url).get_data(as_text=True)
    assert _shows(page, REQUEST) and _hides(page, SUMMARY)
    assert _shows(supplier.get("/requests/").get_data(as_text=True), f"/actions/{action_id}")
    assert monitor.get(f"/findings/{finding_id}").status_code == 200
    # The supplier reads the finding's standard and severity, never its summary or report links.
    page = supplier.get(f"/findings/{finding_id}").get_data(as_text=True)
    assert "FL-1" in page and _hides(page, SUMMARY) and f"/testimony/reports/{report_id}" not in page
    for outsider in outsiders:
        for url in (case_url, action_url, f"/findings/{finding_id}"):
            assert outsider.get(url).status_code == 404, url

    # --- the plan: submitted, rejected with a reason, resubmitted, accepted -------------------------
    def plan(root_cause: str) -> dict[str, str]:
        return {
            "root_cause": root_cause,
            "corrective": "Repay all fees within 60 days.",
            "preventive": "Employer-pays clause in every agent contract.",
            "target_date": (today + timedelta(days=60)).isoformat(),
        }

    _ok(post_form(supplier, f"{action_url}/plan", plan(PLAN_1)), action_url)
    _ok(post_form(coordinator, f"{action_url}/decision", {"decision": "reject", "reason": REJECTION}))
    page = supplier.get(action_url).get_data(as_text=True)
    assert _shows(page, REJECTION, PLAN_1)
    _ok(post_form(supplier, f"{action_url}/plan", plan(PLAN_2)), action_url)
    _ok(post_form(coordinator, f"{action_url}/decision", {"decision": "accept", "reason": ""}))
    _ok(post_form(coordinator, f"{case_url}/transition", {"transition": "start_remediation"}), case_url)
    with app.app_context():
        responses = db.session.scalars(
            select(SupplierResponse)
            .where(SupplierResponse.action_id == action_id)
            .order_by(SupplierResponse.id)
        ).all()
        assert [(r.root_cause, r.accepted) for r in responses] == [(PLAN_1, False), (PLAN_2, True)]
        assert responses[0].rejection_reason == REJECTION

    # --- implemented with evidence, verified by the monitor, closed by the coordinator -------------
    token_page = supplier.get(action_url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', token_page)
    assert token
    response = supplier.post(
        f"{action_url}/implementation",
        data={
            "csrf_token": token.group(1),
            "description": IMPLEMENTED,
            "files": (io.BytesIO(PDF), "repayment-schedule.pdf"),
        },
        content_type="multipart/form-data",
    )
    _ok(response, action_url)
    with app.app_context():
        (evidence,) = db.session.scalars(select(CaseFile).where(CaseFile.action_id == action_id)).all()
        evidence_url = f"{action_url}/files/{evidence.id}"
    download = monitor.get(evidence_url)
    assert download.status_code == 200 and download.data == PDF
    assert all(outsider.get(evidence_url).status_code == 404 for outsider in outsiders)
    _ok(post_form(monitor, f"{action_url}/verification", {"result": "verified", "note": VERIFIED}))
    _ok(post_form(coordinator, f"{action_url}/close", {}), action_url)

    # --- the case to verification, closed by the monitor with the remedy --------------------------
    _ok(post_form(monitor, f"{case_url}/transition", {"transition": "start_verification"}), case_url)
    close_page = f"{case_url}/close"
    assert coordinator.get(close_page).status_code == 404  # only monitors close cases
    closing = {
        "outcome": "resolved",
        "note": CLOSING,
        "remedies-0-kind": "fees_repaid",
        "remedies-0-amount": "14400.00",
        "remedies-0-currency": "usd",
        "remedies-0-workers_covered": "12",
        "remedies-0-description": "USD 1,200 to each of the 12 workers.",
        "remedies-1-kind": "passports_returned",
        "remedies-1-workers_covered": "12",
        "remedies-2-kind": "",
    }
    # A priority case: without the workers-consulted confirmation the case stays open.
    refused = post_form(monitor, close_page, closing, form_page=close_page)
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.get(Case, case_id).state is CaseState.verification
    # ... and, with no worker's validation answer yet, without a reason why they could not be asked.
    closing |= {"workers_consulted": "y"}
    refused = post_form(monitor, close_page, closing, form_page=close_page)
    assert refused.status_code == 422 and "No worker has confirmed the remedy yet" in refused.get_data(True)
    closing["no_validation_reason"] = "The workers were interviewed offsite; none holds a receipt."
    _ok(post_form(monitor, close_page, closing, form_page=close_page), case_url)

    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case.state is CaseState.closed and case.outcome is CaseOutcome.resolved
        (closure,) = case.closures
        assert closure.workers_consulted_by_id == w.monitor.id and closure.note == CLOSING
        remedies = [(r.kind, r.amount, r.currency, r.workers_covered) for r in closure.remedies]
        assert remedies == [
            (RemedyKind.fees_repaid, Decimal("14400.00"), "USD", 12),
            (RemedyKind.passports_returned, None, None, 12),
        ]
        assert db.session.get(CorrectiveAction, action_id).state is ActionState.closed

    # --- the timeline shows every step, each role its share ---------------------------------------
    steps = [
        "Case opened",
        "from “Open” to “In dialogue”",
        "Corrective action requested",
        "from “Plan requested” to “Plan submitted”",
        "from “Plan submitted” to “Plan rejected”",
        REJECTION,
        "from “Plan rejected” to “Plan submitted”",
        "from “Plan submitted” to “Plan accepted”",
        "from “In dialogue” to “Remediation”",
        "from “Plan accepted” to “Implemented”",
        "from “Implemented” to “Verified”",
        "from “Verified” to “Closed”",
        "from “Remediation” to “Verification”",
        "Case closed",
    ]
    _in_order(_timeline(coordinator.get(case_url).get_data(as_text=True)), steps)
    page = affiliate.get(case_url).get_data(as_text=True)
    _in_order(_timeline(page), steps)
    assert _shows(page, "14,400.00") and _hides(page, CLOSING)  # the remedy, not the internal note
    supplier_timeline = _timeline(supplier.get(case_url).get_data(as_text=True))
    assert str(escape(REJECTION)) in supplier_timeline and str(escape(INTERNAL)) not in supplier_timeline
    for outsider in outsiders:
        assert outsider.get(case_url).status_code == 404

    # --- notifications were queued for the people concerned, and nobody else -----------------------
    assert {
        NotificationKind.action_requested,
        NotificationKind.plan_rejected,
        NotificationKind.plan_accepted,
        NotificationKind.action_verified,
        NotificationKind.action_closed,
        NotificationKind.message_posted,
    } <= _kinds(app, w.supplier)
    assert {NotificationKind.plan_submitted, NotificationKind.action_implemented} <= _kinds(
        app, w.coordinator
    )
    assert {NotificationKind.case_opened, NotificationKind.case_closed} <= _kinds(app, w.affiliate)
    assert _kinds(app, w.affiliate_b) == set() and _kinds(app, w.supplier_y) == set()
    # Told of messages only at their own level: the internal one reached neither.
    assert _message_scopes(app, w.supplier) == {"parties"}
    assert _message_scopes(app, w.affiliate) == {"parties"}  # its own buyers message told others
    assert _message_scopes(app, w.coordinator) == {"internal", "buyers", "parties"}

    # --- `flask jobs run`: the e-mails arrive at the local SMTP server ------------------------------
    with app.app_context():
        result = run_notification_jobs()
        assert result.delivery is not None and result.delivery.sent > 0
        pending = db.session.scalars(
            select(Notification).where(Notification.mail_state != MailState.sent)
        ).all()
        assert pending == []
        reference = db.session.get(Case, case_id).reference
    to_supplier = [m for m in smtp_server.messages if w.supplier.email in m["To"]]
    assert to_supplier, [m["To"] for m in smtp_server.messages]
    assert all(m["Content-Language"] == "zh-Hans" for m in to_supplier)
    assert any(action_url in m.get_body(("plain",)).get_content() for m in to_supplier)
    assert all(reference in m["Subject"] + m.get_body(("plain",)).get_content() for m in to_supplier)
    for message in to_supplier:  # protected text never leaves by e-mail
        text = message.get_body(("plain",)).get_content()
        assert SUMMARY not in text and REQUEST not in text and PARTIES not in text
    recipients = " ".join(m["To"] for m in smtp_server.messages)
    assert w.affiliate_b.email not in recipients and w.supplier_y.email not in recipients
