"""Helpers for the monitor-side testimony tests: reports, anonymous reports, audit lookups."""

from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from monitoring.accounts.models import User
from monitoring.core import crypto
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.testimony import operations, sealing
from monitoring.testimony.models import IssueCategory, ReportChannel, RetaliationRisk, WorkerReport

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')

# The smallest files of each allowed kind that the content sniffer recognises.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def page_csrf(page: str) -> str:
    match = _CSRF.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def intake_data(**overrides: Any) -> operations.IntakeData:
    values: dict[str, Any] = {
        "channel": ReportChannel.offsite_interview,
        "collected_date": date(2026, 1, 15),
        "language": "th",
        "identity": sealing.Identity(name="Somsri Test", contact="+66 80 000 0000", gender="woman"),
        "testimony": "We work every Sunday without overtime pay.",
        "categories": [IssueCategory.wages, IssueCategory.working_hours],
        "consent_share_buyers": True,
        "retaliation_risk": RetaliationRisk.medium,
        "country": "TH",
    }
    values.update(overrides)
    return operations.IntakeData(**values)


def make_report(app: Flask, monitor: User, **overrides: Any) -> int:
    """A report recorded by the monitor (sealing needs only the public key: no unlock)."""
    with app.app_context():
        actor = db.session.get(User, monitor.id)
        report = operations.record_report(actor, intake_data(**overrides))
        db.session.commit()
        return report.id


def make_anonymous_report(app: Flask, monitor: User, text: str = "Anonymous testimony") -> tuple[int, bytes]:
    """A web report with a receipt key pair, as /report files it; returns (id, receipt private key)."""
    private, public = crypto.generate_key_pair()
    with app.app_context():
        organisation = db.session.get(User, monitor.id).organisation
        report = sealing.create_report(
            organisation=organisation,
            site=None,
            country="TH",
            channel=ReportChannel.web,
            collected_date=date(2026, 1, 20),
            language="th",
            consent_share_buyers=False,
            consent_share_supplier=False,
            consent_contact=False,
            retaliation_risk=None,
            identity=None,
            testimony=sealing.Testimony(text=text, categories=[IssueCategory.harassment]),
            receipt_lookup=secrets.token_hex(32),
            receipt_public_key=public,
        )
        db.session.commit()
        return report.id, private


def get_report(app: Flask, report_id: int) -> WorkerReport:
    with app.app_context():
        report = db.session.get(WorkerReport, report_id)
        assert report is not None
        return report


def last_audit_id(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEntry.id))) or 0


def audit_since(app: Flask, since: int) -> list[AuditEntry]:
    with app.app_context():
        return list(
            db.session.scalars(select(AuditEntry).where(AuditEntry.id > since).order_by(AuditEntry.id))
        )


def open_form(reason: str = "investigation", reason_text: str = "") -> dict[str, str]:
    return {"reason": reason, "reason_text": reason_text}


def add_file(app: Flask, report_id: int, content: bytes = PDF, name: str = "payslip.pdf") -> int:
    import io

    with app.app_context():
        report = db.session.get(WorkerReport, report_id)
        evidence = sealing.add_evidence(report, stream=io.BytesIO(content), filename=name, uploaded_by=None)
        db.session.commit()
        return evidence.id


def share_with(app: Flask, monitor: User, report_id: int, coordinator: User) -> int:
    """Share a report with a coordinator as the monitor (whose keys are unlocked for it)."""
    from tests.conftest import unlocked_as

    with unlocked_as(app, monitor) as actor:
        report = db.session.get(WorkerReport, report_id)
        grantee = db.session.get(User, coordinator.id)
        grant = sealing.grant_report(actor, report, grantee)
        db.session.commit()
        return grant.id


def fill(rule: str, ids: dict[str, int]) -> str:
    """A URL of a Flask rule with the given ids for its variables."""
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule)


def sealed_rules(app: Flask) -> list[tuple[str, str]]:
    """(rule, method) of every sealed-testimony route: the monitor pages and their API."""
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        sealed_page = rule.endpoint.startswith("testimony.")
        sealed_api = rule.endpoint.startswith("api.") and view.__module__ == "monitoring.testimony.api"
        if (sealed_page or sealed_api) and "coverage" not in rule.rule:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((rule.rule, method))
    return sorted(found)


# Valid input for each API route, so that a refusal comes from access, not from the input.
API_BODIES = {
    "/open": {"reason": "investigation"},
    "/download": {"reason": "investigation"},
    "/status": {"status": "closed"},
    "/messages": {"body": "Hello"},
    "/grants": {"user_id": 1},
    "/worker-reports": {
        "channel": "offsite_interview",
        "collected_date": "2026-01-15",
        "language": "th",
        "testimony": "Valid testimony",
        "country": "TH",
    },
}


def request_as(client: Any, url: str, method: str, form_page: str = "/") -> Any:
    """Send a request the way a page or script would (with a CSRF token / valid JSON body)."""
    if url.startswith("/api/"):
        if method == "GET":
            return client.get(url)
        if url.endswith("/evidence"):
            return client.post(url + "?filename=a.pdf", data=PDF)
        body = next((b for suffix, b in API_BODIES.items() if url.endswith(suffix)), {})
        return getattr(client, method.lower())(url, json=body)
    if method == "GET":
        return client.get(url)
    token = page_csrf(client.get(form_page).get_data(as_text=True))
    return client.open(url, method=method, data={"csrf_token": token})


def make_site(app: Flask, name: str, city: str, country: str) -> int:
    from monitoring.supplychain.matching import site_keys
    from monitoring.supplychain.models import Site, SiteKind

    with app.app_context():
        found = site_keys(name, "", country)
        site = Site(
            name=name,
            city=city,
            country=country,
            kind=SiteKind.final_assembly,
            match_key=found.match_key,
            name_key=found.name_key,
        )
        db.session.add(site)
        db.session.commit()
        return site.id


def intake_form(**overrides: Any) -> dict[str, Any]:
    """A valid intake form submission (country only)."""
    data: dict[str, Any] = {
        "site": "none",
        "country": "TH",
        "channel": "offsite_interview",
        "collected_date": "2026-02-01",
        "language": "th",
        "name": "Nok",
        "testimony": "The agency keeps our passports.",
        "categories": ["retained_documents"],
        "consent_share_buyers": "y",
        "retaliation_risk": "high",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post_intake(client: Any, **overrides: Any) -> Any:
    token = page_csrf(client.get("/testimony/reports/new").get_data(as_text=True))
    return client.post("/testimony/reports/new", data={"csrf_token": token, **intake_form(**overrides)})


def open_as(app: Flask, user: User, report_id: int, reason: str = "investigation") -> sealing.OpenedReport:
    from tests.conftest import unlocked_as

    with unlocked_as(app, user) as actor:
        opened = sealing.open_report(actor, db.session.get(WorkerReport, report_id), reason=reason)
        db.session.commit()
        return opened
