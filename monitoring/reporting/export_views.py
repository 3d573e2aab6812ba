"""The export pages: each list as CSV or XLSX with the list page's filters, the PDF reports.

A list page links here with its current filters; the filters go through the list's own ``Args``
schema leniently, as the page does (a filter that does not parse is left out), so the export
holds exactly the rows the page lists. Each route admits the roles of its list page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user
from marshmallow import Schema, ValidationError

from monitoring.accounts.models import User
from monitoring.cases import services as case_services
from monitoring.cases.permissions import CASE_ROLES
from monitoring.cases.schemas import ListActionsArgs, ListCasesArgs, ListFindingsArgs
from monitoring.core.auth import roles
from monitoring.core.roles import UserRole
from monitoring.reporting import exports, exports_pdf
from monitoring.reporting.export_schemas import PortfolioReportArgs
from monitoring.reporting.schemas import LedgerArgs
from monitoring.supplychain.schemas import ListContractsArgs, ListSitesArgs
from monitoring.testimony.schemas import ListWorkerReportsArgs

bp = Blueprint("exports", __name__, url_prefix="/exports")

# The list's Args schema and the names the list page gives its filters (page name: Args name).
ARGS: dict[str, type[Schema]] = {
    "cases": ListCasesArgs,
    "findings": ListFindingsArgs,
    "actions": ListActionsArgs,
    "sites": ListSitesArgs,
    "contracts": ListContractsArgs,
    "reports": ListWorkerReportsArgs,
    "ledger": LedgerArgs,
}
PAGE_NAMES: dict[str, dict[str, str]] = {"findings": {"site_id": "site"}}


def me() -> User:
    user: User = current_user._get_current_object()
    return user


def page_filters(kind: str) -> dict[str, Any]:
    """The list page's filters from the query string, as its Args (unparsable ones left out)."""
    return case_services.filter_args(ARGS[kind], request.args, None, PAGE_NAMES.get(kind))


def _list_view(kind: str) -> Callable[[str], Any]:
    def view(fmt: str) -> Any:
        return exports.respond(me(), kind, fmt, page_filters(kind), case_services.today())

    view.__name__ = f"export_{kind}"
    return roles(*exports.ROLES[kind])(view)


for _kind in exports.TABLES:
    bp.add_url_rule(f"/{_kind}.<any(csv, xlsx):fmt>", endpoint=_kind, view_func=_list_view(_kind))


@bp.route("/cases/<int:case_id>/report.pdf")
@roles(*CASE_ROLES)
def case_report(case_id: int) -> Any:
    return exports_pdf.case_report(me(), case_id, case_services.today())


@bp.route("/portfolio")
@roles(UserRole.affiliate)
def portfolio() -> Any:
    """The portfolio report for the period asked (the form shows again with its errors)."""
    if not request.args:
        return render_template("reporting/export_portfolio.html", errors={}, values={})
    try:
        args = PortfolioReportArgs().load(request.args.to_dict())
    except ValidationError as exc:
        messages = exc.normalized_messages()
        errors = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in messages.items()}
        return render_template("reporting/export_portfolio.html", errors=errors, values=request.args), 422
    return exports_pdf.portfolio_report(me(), args["start"], args["end"], case_services.today())
