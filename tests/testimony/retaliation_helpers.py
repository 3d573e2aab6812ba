"""Helpers for the retaliation-watch tests: web reports with a real receipt, the follow-up page."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.supplychain.models import Site
from monitoring.testimony import operations_public
from monitoring.testimony.models_retaliation import RetaliationAlert, RetaliationCheckIn

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
_CHECK_IN = re.compile(r'name="check_in" type="hidden" value="(\d+)"|name="check_in" value="(\d+)"')

ASKED = "A question about your safety"


def file_web_report(app: Flask, monitor: User, site_id: int | None = None) -> tuple[int, str]:
    """A report filed as /report files it (check-ins planned); returns (id, receipt)."""
    with app.test_request_context("/report/new", method="POST"):
        organisation = db.session.get(User, monitor.id).organisation
        site = db.session.get(Site, site_id) if site_id else None
        filed = operations_public.file_anonymous_report(
            operations_public.AnonymousReport(
                testimony="They keep our passports.",
                language="en",
                site=site,
                country=None if site else "TH",
                workplace="" if site else "The blue factory by the river",
            ),
            organisation,
        )
        db.session.commit()
        return filed.report.id, filed.receipt


def csrf(page: str) -> str:
    match = _CSRF.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def follow_up(client: FlaskClient, receipt: str) -> str:
    token = csrf(client.get("/report/follow-up?lang=en").get_data(as_text=True))
    response = client.post("/report/follow-up?lang=en", data={"receipt": receipt, "csrf_token": token})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def shown_check_in(page: str) -> int | None:
    match = _CHECK_IN.search(page)
    return int(match.group(1) or match.group(2)) if match else None


def answer(client: FlaskClient, receipt: str, value: str, comment: str = "") -> Any:
    page = follow_up(client, receipt)
    check_in = shown_check_in(page)
    assert check_in is not None, "no check-in on the follow-up page"
    data = {
        "receipt": receipt,
        "check_in": str(check_in),
        "answer": value,
        "comment": comment,
        "csrf_token": csrf(page),
    }
    return client.post("/report/follow-up/check-in?lang=en", data=data)


def flag(client: FlaskClient, receipt: str, comment: str = "") -> Any:
    page = follow_up(client, receipt)
    data = {"receipt": receipt, "comment": comment, "csrf_token": csrf(page)}
    return client.post("/report/follow-up/retaliation?lang=en", data=data)


def alerts_of(app: Flask, report_id: int) -> list[RetaliationAlert]:
    with app.app_context():
        rows = db.session.scalars(
            select(RetaliationAlert)
            .where(RetaliationAlert.report_id == report_id)
            .order_by(RetaliationAlert.id)
        )
        return list(rows)


def check_ins_of(app: Flask, report_id: int) -> list[RetaliationCheckIn]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(RetaliationCheckIn)
                .where(RetaliationCheckIn.report_id == report_id)
                .order_by(RetaliationCheckIn.due_dt)
            )
        )
