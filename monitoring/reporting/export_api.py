"""The exports in the JSON API: each list as CSV or XLSX, the PDF reports.

``GET /api/v1/exports/<list>.csv`` and ``.xlsx`` take the list's own query parameters (its
``List...Args``; a bad one is a 422 naming it) and answer the rows the same list would give the
token's user. The OpenAPI document gives each route's media type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from monitoring.accounts.models import User
from monitoring.cases import services as case_services
from monitoring.cases.permissions import CASE_ROLES
from monitoring.core.api import route
from monitoring.core.auth import roles
from monitoring.core.roles import UserRole
from monitoring.reporting import exports, exports_pdf
from monitoring.reporting.export_schemas import PortfolioReportArgs
from monitoring.reporting.export_views import ARGS

SUMMARIES = {
    "cases": _l("Export the case board"),
    "findings": _l("Export the findings"),
    "actions": _l("Export the corrective actions"),
    "sites": _l("Export the sites"),
    "contracts": _l("Export the contracts"),
    "reports": _l("Export the worker reports (metadata only)"),
    "ledger": _l("Export the remedy ledger"),
}


def me() -> User:
    user: User = current_user._get_current_object()
    return user


def _export_view(kind: str, fmt: str) -> Callable[..., Any]:
    def view(args: dict[str, Any]) -> Any:
        return exports.respond(me(), kind, fmt, args, case_services.today())

    view.__name__ = f"export_{kind}_{fmt}"
    view.__module__ = __name__
    declared = roles(*exports.ROLES[kind])(view)
    return route(
        f"/exports/{kind}.{fmt}",
        summary=SUMMARIES[kind],
        args=ARGS[kind],
        produces=(exports.MEDIA_TYPES[fmt],),
        tag="reporting",
    )(declared)


for _kind in exports.TABLES:
    for _fmt in exports.FORMATS:
        _export_view(_kind, _fmt)


@route(
    "/cases/<int:case_id>/report.pdf",
    summary=_l("Case report as PDF"),
    produces=(exports_pdf.MEDIA_TYPE,),
    tag="reporting",
)
@roles(*CASE_ROLES)
def case_report_pdf(case_id: int) -> Any:
    return exports_pdf.case_report(me(), case_id, case_services.today())


@route(
    "/exports/portfolio.pdf",
    summary=_l("Portfolio report for a period as PDF"),
    args=PortfolioReportArgs,
    produces=(exports_pdf.MEDIA_TYPE,),
    tag="reporting",
)
@roles(UserRole.affiliate)
def portfolio_report_pdf(args: dict[str, Any]) -> Any:
    return exports_pdf.portfolio_report(me(), args["start"], args["end"], case_services.today())
