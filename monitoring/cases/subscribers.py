"""What the cases feature does when a lower feature announces an event (see :mod:`monitoring.core.hooks`)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from monitoring.cases.models import (
    Case,
    CaseOutcome,
    CaseState,
    CorrectiveAction,
    Finding,
    FindingReport,
    Visibility,
)
from monitoring.cases.outcomes import released_to_report
from monitoring.core import hooks
from monitoring.core.db import db
from monitoring.notifications import subjects
from monitoring.supplychain.models import Site
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
