"""What the cases feature does when a lower feature announces an event (see :mod:`monitoring.core.hooks`)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from typing import Any, cast

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import CursorResult, and_, case, func, select, update

from monitoring.accounts.models import User
from monitoring.cases import deadlines, permissions
from monitoring.cases import site_risk as _site_risk  # noqa: F401  (registers the findings source)
from monitoring.cases.access import permissions as access_permissions
from monitoring.cases.audits import permissions as audit_permissions
from monitoring.cases.meetings import permissions as meeting_permissions
from monitoring.cases.models import (
    Case,
    CaseOutcome,
    CaseState,
    CorrectiveAction,
    Finding,
    FindingReport,
    Severity,
    Visibility,
)
from monitoring.cases.outcomes import released_to_report
from monitoring.core import hooks
from monitoring.core.db import db
from monitoring.notifications import subjects
from monitoring.supplychain import case_status as site_case_status
from monitoring.supplychain import page_links
from monitoring.supplychain.case_status import SiteCases
from monitoring.supplychain.models import Contract, Site
from monitoring.testimony import outcomes as worker_outcomes
from monitoring.testimony import retention as worker_retention


@hooks.site_merged.connect
def move_cases_with_site(*, source: Site, target: Site, moved: dict[str, int], **_: Any) -> None:
    """Findings and cases at a merged site are at the site that stays, so whoever the site that
    stays concerns (the buyers whose contracts reach it) keeps sight of them."""
    for name, model in (("findings", Finding), ("cases", Case)):
        result = cast(
            "CursorResult[Any]",
            db.session.execute(
                update(model)
                .where(model.site_id == source.id)
                .values(site_id=target.id)
                .execution_options(synchronize_session="fetch")
            ),
        )
        moved[name] = result.rowcount


# --- how notifications tell of cases and corrective actions -----------------------------------


def _loader(model: type[Case] | type[CorrectiveAction]) -> Callable[[Collection[int]], dict[int, Any]]:
    def load(ids: Collection[int]) -> dict[int, Any]:
        if len(ids) == 1:  # one e-mail: the session may hold the row already
            (row_id,) = ids
            row: Any = db.session.get(model, row_id)
            return {row_id: row} if row is not None else {}
        rows: list[Any] = list(db.session.scalars(select(model).where(model.id.in_(ids))).unique())
        return {row.id: row for row in rows}

    return load


def _case_facts(case: Case) -> dict[str, Any]:
    return {"reference": case.reference, "site": case.site.name, "state": case.state.value}


def _action_facts(action: CorrectiveAction) -> dict[str, Any]:
    return {
        "supplier": action.supplier.name,
        "plan_due_date": action.plan_due_date,
        "closure_due_date": action.closure_due_date,
    }


subjects.register_subject(
    "case", subjects.Subject(load=_loader(Case), path=lambda i: f"/cases/{i}", facts=_case_facts)
)
subjects.register_subject(
    "action",
    subjects.Subject(load=_loader(CorrectiveAction), path=lambda i: f"/actions/{i}", facts=_action_facts),
)
subjects.register_titles(state=CaseState, outcome=CaseOutcome, visibility=Visibility)


# --- what a worker's follow-up page shows of the cases their report is in ----------------------

worker_outcomes.register_status_source(released_to_report)


# --- what retention of worker reports needs to know of their cases ------------------------------


@worker_retention.register_case_source
def report_case_links(report_ids: list[int]) -> dict[int, worker_retention.CaseLinks]:
    """For each report supporting a finding in a case: is a case open, when the last one closed."""
    rows = db.session.execute(
        select(FindingReport.report_id, Case.closed_dt)
        .join(Finding, Finding.id == FindingReport.finding_id)
        .join(Case, Case.id == Finding.case_id)
        .where(FindingReport.report_id.in_(report_ids))
    ).all()
    links: dict[int, worker_retention.CaseLinks] = {}
    for report_id, closed_dt in rows:
        known = links.get(report_id, worker_retention.CaseLinks(any_open=False, last_closed_dt=None))
        last = max((dt for dt in (known.last_closed_dt, closed_dt) if dt is not None), default=None)
        links[report_id] = worker_retention.CaseLinks(known.any_open or closed_dt is None, last)
    return links


# --- the case status the registry's pages show ------------------------------------------------

SEVERITY_RANK = {Severity.priority: 0, Severity.major: 1, Severity.minor: 2}


@site_case_status.register_source
def cases_by_site(user: User, site_ids: Collection[int], today: date) -> dict[int, SiteCases]:
    """Per site, the cases the user may see: open, overdue (an open action past its deadline in
    force) and closed, and the worst severity of the open ones. Two grouped queries; a case's
    overdue actions are looked up by the actions' case index, not grouped over every action."""
    is_open = Case.state != CaseState.closed
    rows = db.session.execute(
        permissions.visible_cases(user, today)
        .with_only_columns(
            Case.site_id,
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((and_(is_open, deadlines.case_overdue(today)), 1), else_=0)),
            func.sum(case((is_open, 0), else_=1)),
        )
        .where(Case.site_id.in_(site_ids))
        .group_by(Case.site_id)
    ).all()
    worst: dict[int, int] = {
        site_id: rank
        for site_id, rank in db.session.execute(
            permissions.visible_cases(user, today)
            .with_only_columns(Case.site_id, func.min(_severity_rank()))
            .where(Case.site_id.in_(site_ids), is_open)
            .group_by(Case.site_id)
        )
    }
    by_rank = {rank: severity for severity, rank in SEVERITY_RANK.items()}
    found = {}
    for site_id, open_, overdue, closed in rows:
        rank = worst.get(site_id)
        found[site_id] = SiteCases(
            open=int(open_ or 0),
            overdue=int(overdue or 0),
            closed=int(closed or 0),
            worst_severity=by_rank.get(rank) if rank is not None else None,
            worst_rank=int(rank) if rank is not None else None,
        )
    return found


def _severity_rank() -> Any:
    return case(*((Case.severity == severity, rank) for severity, rank in SEVERITY_RANK.items()), else_=3)


# --- links on the registry's pages to the cases feature's own ----------------------------------


@page_links.register_provider("site")
def site_page_links(user: User, site: Site) -> list[tuple[str, str]]:
    """Factory access, for those who may read a site's access records."""
    if not access_permissions.can_read_access(user):
        return []
    return [
        (_("Factory access: requests and visits by monitors"), url_for("access.site_access", site_id=site.id))
    ]


@page_links.register_provider("site")
def site_audit_links(user: User, site: Site) -> list[tuple[str, str]]:
    """Audits beside worker voice, for those who may open it (the site page is already visible)."""
    if not audit_permissions.can_view_site_audits(user):
        return []
    return [(_("Audits and worker voice"), url_for("audits.site_audits", site_id=site.id))]


@page_links.register_provider("contract")
def contract_page_links(user: User, contract: Contract) -> list[tuple[str, str]]:
    """The follow-up meetings, for the contract's buyer, its supplier and coordinators."""
    if not meeting_permissions.can_read_meetings(user, contract):
        return []
    return [
        (
            _("Follow-up meetings between the buyer and the supplier"),
            url_for("meetings.contract_meetings", contract_id=contract.id),
        )
    ]
