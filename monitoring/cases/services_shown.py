"""What each role is shown of a finding, a case and a corrective action: once, for pages and API.

Each ``show_*`` function wraps an object in a :class:`Shown` for the user asking: what the user
may not read is missing (marshmallow skips the field, a template tests ``is defined``), and what
is shown differently is replaced (workers affected below 5 for buyers and suppliers). The JSON
API dumps these objects with :mod:`monitoring.cases.schemas`; the pages render the same ones.
marshmallow 4 has no schema context, so the user is passed here, never to a schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from monitoring.accounts.models import Organisation, User
from monitoring.cases import deadlines, permissions, workflow
from monitoring.cases.models import (
    Case,
    CaseClosure,
    CaseFile,
    CorrectiveAction,
    Finding,
    FindingReport,
    SupplierResponse,
)
from monitoring.cases.standards import Standard
from monitoring.cases.timeline import TimelineItem
from monitoring.core.db import db
from monitoring.supplychain import queries
from monitoring.supplychain.models import Contract, Disclosure, Product
from monitoring.supplychain.permissions import disclosure_is_current
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.permissions import visible_reports


class Shown:
    """An object as one user may see it.

    Attributes read through to the object, except ``hidden`` ones (missing, so the field is left
    out of the answer) and ``extra`` ones (added or replaced, e.g. a suppressed count).
    """

    __slots__ = ("_extra", "_hidden", "_obj")

    def __init__(self, obj: Any, hidden: Iterable[str] = (), **extra: Any) -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_hidden", frozenset(hidden))
        object.__setattr__(self, "_extra", extra)

    def __getattr__(self, name: str) -> Any:
        if name in self._hidden:
            raise AttributeError(name)
        if name in self._extra:
            return self._extra[name]
        return getattr(self._obj, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a shown object is read-only")


def _workers(user: User, count: int | None) -> tuple[int | None, bool]:
    """(the count shown, whether it is suppressed)."""
    shown = permissions.shown_workers(user, count)
    return shown, count is not None and shown is None


def show_finding(user: User, finding: Finding) -> Shown:
    """A finding for ``user``: report links only for monitors of its organisation, no summary for
    suppliers, and workers affected below 5 suppressed for buyers and suppliers."""
    hidden = set()
    extra: dict[str, Any] = {}
    if permissions.can_see_report_links(user, finding):
        extra["report_ids"] = sorted(link.report_id for link in finding.report_links)
    else:
        hidden.add("report_ids")
    if not permissions.can_see_finding_summary(user, finding):
        hidden.add("summary")
    if not permissions.sees_people(user):
        hidden |= {"organisation", "evidence_type", "found_date", "created_dt", "created_by"}
    extra["workers_affected"], extra["workers_affected_suppressed"] = _workers(user, finding.workers_affected)
    return Shown(finding, hidden, **extra)


def show_case(
    user: User, case: Case, next_due_date: date | None, today: date, hidden: Iterable[str] = (), **extra: Any
) -> Shown:
    """A case for ``user``: suppliers see its site, reference and state only."""
    hidden = set(hidden)
    if not permissions.sees_people(user):
        hidden |= {
            "monitor_organisation",
            "lead_coordinator",
            "severity",
            "outcome",
            "next_due_date",
            "overdue",
        }
    overdue = next_due_date is not None and next_due_date < today
    return Shown(case, hidden, next_due_date=next_due_date, overdue=overdue, **extra)


def show_action(user: User, action: CorrectiveAction, today: date, **extra: Any) -> Shown:
    """A corrective action for ``user``: its deadline now, the finding as the user may see it."""
    hidden: set[str] = set()
    if not permissions.reads_whole_case(user, action.case):
        hidden |= {"escalated_dt"}
    if not permissions.sees_people(user):
        hidden |= {"requested_by"}
    return Shown(
        action,
        hidden,
        case_reference=action.case.reference,
        finding=show_finding(user, action.finding),
        due_date=deadlines.due_date(action),
        phase=deadlines.due_phase(action),
        overdue=deadlines.is_overdue(action, today),
        **extra,
    )


def show_closure(user: User, closure: CaseClosure) -> Shown:
    """A closing of a case with its remedies (workers covered and validation answers suppressed
    below 5 for buyers); its note, the reason why workers could not be asked and the reason it
    was reopened only for those who read closing notes."""
    remedies = []
    for remedy in closure.remedies:
        shown, suppressed = _workers(user, remedy.workers_covered)
        remedies.append(Shown(remedy, workers_covered=shown, workers_covered_suppressed=suppressed))
    hidden = (
        ()
        if permissions.can_read_closure_note(user, closure.case)
        else ("note", "reopen_reason", "no_validation_reason")
    )
    answers, answers_suppressed = _workers(user, closure.validation_answers)
    return Shown(
        closure,
        hidden,
        workers_consulted=closure.workers_consulted_dt is not None,
        remedies=remedies,
        validation_answers=answers,
        validation_answers_suppressed=answers_suppressed,
    )


def show_standard(standard: Standard) -> Shown:
    """A standard with the titles of its RBA sections, in the user's language."""
    sections = [
        {"code": code, "title": title} for code, title in zip(standard.rba, standard.rba_titles, strict=True)
    ]
    return Shown(standard, title=str(standard.title), ilo=list(standard.ilo), rba=sections)


def show_timeline_item(item: TimelineItem) -> Shown:
    """A timeline line; a deadline carries its action, phase, date and whether it passed."""
    deadline = None
    if item.kind == "deadline" and item.action is not None:
        deadline = {
            "action_id": item.action.id,
            "phase": item.phase,
            "due_date": item.due_date,
            "overdue": item.overdue,
        }
    return Shown(item, deadline=deadline)


# --- a whole case, a whole action ------------------------------------------------------------


@dataclass
class Concerned:
    """Who and what a case's site concerns today, as far as the user may know it (None: not shown)."""

    affiliates: list[Any] | None = None
    other_affiliates: int | None = None
    suppliers: list[Any] | None = None
    own_products: list[tuple[Contract, Product]] | None = None
    products: list[Product] | None = field(default=None)


def concerned(user: User, case: Case, today: date) -> Concerned:
    if permissions.reads_whole_case(user, case):
        products = db.session.scalars(
            select(Product)
            .where(
                Product.id.in_(
                    select(Disclosure.product_id).where(
                        Disclosure.site_id == case.site_id, disclosure_is_current(today)
                    )
                )
            )
            .order_by(Product.brand, Product.model, Product.id)
        )
        return Concerned(
            affiliates=queries.concerned_affiliates(case.site_id, today),
            suppliers=queries.concerned_suppliers(case.site_id, today),
            products=list(products),
        )
    if permissions.sees_own_contracts(user):
        org = user.organisation_id
        return Concerned(
            affiliates=queries.concerned_affiliates(case.site_id, today, org),
            other_affiliates=queries.other_affiliates(case.site_id, today, org),
            own_products=queries.contracts_reaching_site(case.site_id, today, org),
        )
    return Concerned()


def case_detail(user: User, case: Case, today: date, around: Concerned | None = None) -> Shown:
    """A case with its concerned organisations, findings, actions and closures, for the user."""
    around = around or concerned(user, case, today)
    nearest = deadlines.next_deadline_subquery(today)
    next_due = db.session.scalar(select(nearest.c.next_due).where(nearest.c.case_id == case.id))
    extra: dict[str, Any] = {}
    hidden: list[str] = []
    if around.affiliates is None:
        hidden.append("affiliates")
    else:
        others = around.other_affiliates
        extra["affiliates"] = {"organisations": [a.organisation for a in around.affiliates], "others": others}
    if around.suppliers is None:
        hidden.append("suppliers")
    else:
        extra["suppliers"] = [s.organisation for s in around.suppliers]
    findings = db.session.scalars(
        permissions.visible_findings(user)
        .where(Finding.case_id == case.id)
        .options(selectinload(Finding.report_links))
        .order_by(Finding.id)
    )
    extra["findings"] = [show_finding(user, f) for f in findings]
    actions = db.session.scalars(
        permissions.visible_actions(user)
        .where(CorrectiveAction.case_id == case.id)
        .order_by(CorrectiveAction.id)
    )
    extra["actions"] = [show_action(user, a, today) for a in actions]
    if permissions.can_read_closures(user, case):
        extra["closures"] = [show_closure(user, c) for c in case.closures]
    else:
        hidden.append("closures")
    extra["transitions"] = [t.name for t in workflow.available(user, case)]
    return show_case(user, case, next_due, today, hidden, **extra)


def action_detail(user: User, action: CorrectiveAction, today: date) -> Shown:
    """An action with its plans and the evidence the user may read."""
    evidence = db.session.scalars(
        select(CaseFile).where(CaseFile.action_id == action.id).order_by(CaseFile.id)
    )
    responses = db.session.scalars(
        select(SupplierResponse)
        .where(SupplierResponse.action_id == action.id)
        .options(selectinload(SupplierResponse.submitted_by), selectinload(SupplierResponse.decided_by))
        .order_by(SupplierResponse.id)
    )
    return show_action(
        user,
        action,
        today,
        responses=list(responses),
        files=[f for f in evidence if permissions.can_read_file(user, f)],
        transitions=[t.name for t in workflow.available(user, action)],
    )


def report_links(user: User, finding: Finding) -> list[WorkerReport] | None:
    """The worker reports behind a finding, for the monitors of its organisation (else None)."""
    if not permissions.can_see_report_links(user, finding):
        return None
    return list(
        db.session.scalars(
            visible_reports(user)
            .join(FindingReport, FindingReport.report_id == WorkerReport.id)
            .where(FindingReport.finding_id == finding.id)
            .order_by(WorkerReport.id)
        )
    )


def message_suppliers(user: User, case: Case) -> list[Organisation]:
    """The supplier organisations a ``parties`` message of the user may be addressed to."""
    ids = permissions.message_supplier_choices(user, case)
    if not ids:
        return []
    return list(
        db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name))
    )
