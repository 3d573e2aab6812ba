"""PDF reports: a case as the requesting user may see it, and a buyer's portfolio for a period.

Both are rendered from HTML templates (``templates/reporting/pdf/``) by WeasyPrint, which lays
text out with Pango and HarfBuzz, so Thai, Burmese, Devanagari and Chinese are shaped correctly
with the fonts of the machine (the style sheet names Noto first, then the Debian fonts the CI
installs). The content is the per-role view the case page shows (``services_shown``): a field
the user may not read is not in the report. Every report is audited, without its content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Response, render_template
from sqlalchemy import or_

from monitoring.accounts.models import User
from monitoring.cases import permissions as case_permissions
from monitoring.cases import services as case_services
from monitoring.cases import services_lists as lists
from monitoring.cases import services_shown as shown
from monitoring.cases.models import Case
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.supplychain import services as chain
from monitoring.supplychain.models import Contract

MEDIA_TYPE = "application/pdf"


def render_pdf(html: str) -> bytes:
    """The PDF of an HTML page (WeasyPrint is imported here: it loads Pango on first use)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def _answer(pdf: bytes, name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(pdf, mimetype=MEDIA_TYPE, headers=headers)


def case_report(user: User, case_id: int, today: date) -> Response:
    """The case report of one case (404 for a case the user may not see)."""
    case = case_services.load_case(user, case_id)
    detail = shown.case_detail(user, case, today)
    html = render_template("reporting/pdf/case.html", case=detail, today=today)
    pdf = render_pdf(html)
    audit.record(
        "export.case_report",
        f"Exported the report of case {case.reference} as pdf",
        actor=user,
        obj=case,
        data={"format": "pdf", "rows": 1, "filters": {"case_id": case.id}},
    )
    return _answer(pdf, f"{case.reference}.pdf")


@dataclass(frozen=True)
class Portfolio:
    start: date
    end: date
    contracts: list[Contract]
    cases: list[Any]


def portfolio(user: User, start: date, end: date, today: date) -> Portfolio:
    """The contracts in force and the cases open at any time from ``start`` to ``end`` (inclusive),
    as the user's lists hold them."""
    contracts_query = chain.list_contracts(user, {}, today).where(
        Contract.start_date <= end, or_(Contract.end_date.is_(None), Contract.end_date >= start)
    )
    contracts = list(db.session.scalars(contracts_query.order_by(*chain.CONTRACT_ORDER)))
    first = datetime.combine(start, time.min, tzinfo=UTC)
    after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    listing = lists.list_cases(user, {}, today)
    query = listing.query.where(
        Case.opened_dt < after, or_(Case.closed_dt.is_(None), Case.closed_dt >= first)
    )
    cases = []
    for row in db.session.execute(query.order_by(*listing.order)):
        case, findings, open_actions, next_due, _late = row
        closures = (
            [shown.show_closure(user, c) for c in case.closures]
            if case_permissions.can_read_closures(user, case)
            else []
        )
        cases.append(
            shown.show_case(
                user,
                case,
                next_due,
                today,
                findings=findings or 0,
                open_actions=open_actions or 0,
                closures=closures,
            )
        )
    return Portfolio(start, end, contracts, cases)


def portfolio_report(user: User, start: date, end: date, today: date) -> Response:
    """The portfolio report of the user's organisation for a period."""
    report = portfolio(user, start, end, today)
    html = render_template(
        "reporting/pdf/portfolio.html", report=report, organisation=user.organisation, today=today
    )
    pdf = render_pdf(html)
    audit.record(
        "export.portfolio_report",
        f"Exported the portfolio report {start.isoformat()} to {end.isoformat()} as pdf",
        actor=user,
        obj=user,
        data={
            "format": "pdf",
            "rows": len(report.cases),
            "filters": {"start": start.isoformat(), "end": end.isoformat()},
        },
    )
    return _answer(pdf, f"portfolio-{start.isoformat()}-{end.isoformat()}.pdf")
