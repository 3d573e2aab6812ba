"""The reporting JSON API: effectiveness figures, the remedy ledger, the dashboard, interim remedies."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from monitoring.accounts.models import User
from monitoring.core.api import route
from monitoring.core.auth import roles
from monitoring.core.roles import UserRole
from monitoring.reporting import operations, services
from monitoring.reporting.permissions import REPORTING_ROLES
from monitoring.reporting.schemas import (
    DashboardArgs,
    DashboardSchema,
    FiguresArgs,
    FiguresSchema,
    InterimRemedySchema,
    LedgerArgs,
    LedgerSchema,
    PortfolioArgs,
    PortfolioPageSchema,
    RecordRemedyArgs,
)


def me() -> User:
    user: User = current_user._get_current_object()
    return user


@route(
    "/figures", summary=_l("Effectiveness figures"), args=FiguresArgs, response=FiguresSchema, tag="reporting"
)
@roles(*REPORTING_ROLES)
def figures(args: dict[str, Any]) -> Any:
    return services.figures_view(me(), services.period_of(args), args["breakdown"])


@route("/remedy-ledger", summary=_l("Remedy ledger"), args=LedgerArgs, response=LedgerSchema, tag="reporting")
@roles(*REPORTING_ROLES)
def remedy_ledger(args: dict[str, Any]) -> Any:
    return services.ledger_view(me(), services.period_of(args))


@route("/dashboard", summary=_l("Dashboard"), args=DashboardArgs, response=DashboardSchema, tag="reporting")
@roles(*REPORTING_ROLES)
def dashboard(args: dict[str, Any]) -> Any:
    return services.dashboard(me(), services.period_of(args), args["breakdown"])


@route(
    "/portfolio",
    summary=_l("My whole portfolio (the dashboard shows its first rows)"),
    args=PortfolioArgs,
    response=PortfolioPageSchema,
    tag="reporting",
)
@roles(UserRole.affiliate)
def portfolio(args: dict[str, Any]) -> Any:
    return services.portfolio_page(me(), args["offset"], args["limit"])


@route(
    "/cases/<int:case_id>/remedies",
    method="POST",
    summary=_l("Record an interim remedy"),
    args=RecordRemedyArgs,
    response=InterimRemedySchema,
    status=201,
    tag="reporting",
)
@roles(*operations.REMEDY_ROLES)
def record_remedy(case_id: int, args: dict[str, Any]) -> Any:
    case = services.load_case_for_remedy(me(), case_id)
    return operations.record_interim_remedy(me(), case, args)
