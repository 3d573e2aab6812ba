"""Worker reports with receipts linked to a case, and the worker's follow-up page: for the tests
of what workers are told and asked (tests/cases/test_worker_*.py and
tests/testimony/test_follow_up_status.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask

from monitoring.accounts.models import Organisation
from monitoring.core.db import db
from monitoring.supplychain.models import Site
from monitoring.testimony import receipts, sealing
from monitoring.testimony.models import IssueCategory, ReportChannel
from tests.cases.helpers import CaseWorld
from tests.conftest import csrf_token


def receipt_report(
    world: CaseWorld, text: str = "They keep our passports.", language: str = "th"
) -> tuple[int, str]:
    """A web report of the case world's monitors about its site, with a receipt: (id, receipt)."""
    receipt = receipts.new_receipt()
    with world.app.app_context():
        derived = receipts.receipt_secrets(receipt)
        report = sealing.create_report(
            organisation=db.session.get(Organisation, world.orgs["monitors"]),
            site=db.session.get(Site, world.site),
            country="CN",
            channel=ReportChannel.web,
            collected_date=date(2026, 9, 1),
            language=language,
            consent_share_buyers=False,
            consent_share_supplier=False,
            consent_contact=False,
            retaliation_risk=None,
            identity=None,
            testimony=sealing.Testimony(text=text, categories=[IssueCategory.retained_documents]),
            receipt_lookup=derived.lookup,
            receipt_public_key=derived.public_key,
        )
        db.session.commit()
        return report.id, receipt


def priority_case(
    world: CaseWorld, report_ids: list[int], standard: str = "FL-2", **kw: Any
) -> tuple[int, int]:
    """A case with one priority finding supported by the reports: (case id, finding id)."""
    finding = world.finding(severity="priority", standard=standard, report_ids=report_ids, **kw)
    return world.case(findings=[finding]), finding


def follow_up_page(app: Flask, receipt: str, lang: str = "en", client: Any = None) -> tuple[Any, str]:
    """The worker's follow-up page for the receipt: (response, page text)."""
    client = client or app.test_client()
    token = csrf_token(client, f"/report/follow-up?lang={lang}")
    response = client.post(f"/report/follow-up?lang={lang}", data={"receipt": receipt, "csrf_token": token})
    return response, response.get_data(as_text=True)
