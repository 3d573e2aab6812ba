"""What the public status page shows of a published case, and nothing else.

The public view of a case is built here only, from columns that carry no text anyone wrote:
the site's name and country, the standards of its findings, its state, the dates of the
public milestones and a remedy summary (kinds and workers covered, counts under 5
suppressed). Pages, the feed and the open-data files all read :func:`public_cases`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import abort
from sqlalchemy import Select, func, select

from monitoring.accounts.models import User
from monitoring.cases import services as case_services
from monitoring.cases.models import (
    Case,
    CaseClosure,
    CaseState,
    CorrectiveAction,
    Finding,
    Remedy,
    RemedyKind,
    SupplierResponse,
)
from monitoring.cases.permissions import SMALL_CELL
from monitoring.cases.standards import Standard, get_standard
from monitoring.core.db import db
from monitoring.publication import permissions
from monitoring.publication.models import CasePublication
from monitoring.publication.operations import publication_of


@dataclass
class PublicRemedy:
    kind: RemedyKind
    workers: int | None  # None: not recorded, or suppressed (see ``suppressed``)
    suppressed: bool


@dataclass
class PublicCase:
    id: int
    site_id: int
    site_name: str
    country: str
    state: CaseState
    published_dt: datetime
    opened_dt: datetime
    plan_accepted_dt: datetime | None = None
    verified_dt: datetime | None = None
    closed_dt: datetime | None = None
    standards: list[str] = field(default_factory=list)
    remedies: list[PublicRemedy] = field(default_factory=list)

    def standard(self, code: str) -> Standard | None:
        return get_standard(code)

    def milestones(self) -> list[tuple[str, datetime]]:
        """(key, when) of each milestone reached, in order."""
        steps = (
            ("opened", self.opened_dt),
            ("plan_accepted", self.plan_accepted_dt),
            ("verified", self.verified_dt),
            ("closed", self.closed_dt),
        )
        return [(key, when) for key, when in steps if when is not None]

    @property
    def updated_dt(self) -> datetime:
        return max([self.published_dt, *(when for _, when in self.milestones())])


@dataclass(frozen=True)
class PublicSite:
    id: int
    name: str
    country: str
    cases: int


def suppress(count: int | None) -> tuple[int | None, bool]:
    """A worker count as the public sees it: (count, suppressed)."""
    if count is None:
        return None, False
    if count < SMALL_CELL:
        return None, True
    return count, False


def _by_case(query: Select[int, datetime | None]) -> dict[int, datetime | None]:
    return {int(case_id): value for case_id, value in db.session.execute(query).all()}


def public_cases(case_id: int | None = None) -> list[PublicCase]:
    """The published cases (or the one with ``case_id`` if it is published), newest first."""
    query = (
        select(Case, CasePublication.approved_dt)
        .join(CasePublication, CasePublication.case_id == Case.id)
        .where(Case.id.in_(permissions.published_case_ids()))
        .order_by(CasePublication.approved_dt.desc(), Case.id.desc())
    )
    if case_id is not None:
        query = query.where(Case.id == case_id)
    rows = db.session.execute(query).all()
    ids = [c.id for c, _ in rows]
    if not ids:
        return []
    accepted = _by_case(
        select(CorrectiveAction.case_id, func.min(SupplierResponse.decided_dt))
        .join(SupplierResponse, SupplierResponse.action_id == CorrectiveAction.id)
        .where(CorrectiveAction.case_id.in_(ids), SupplierResponse.accepted.is_(True))
        .group_by(CorrectiveAction.case_id)
    )
    verified = _by_case(
        select(CorrectiveAction.case_id, func.max(CorrectiveAction.verified_dt))
        .where(CorrectiveAction.case_id.in_(ids))
        .group_by(CorrectiveAction.case_id)
    )
    standards: dict[int, list[str]] = defaultdict(list)
    codes = select(Finding.case_id, Finding.standard).where(Finding.case_id.in_(ids)).distinct()
    for cid, code in db.session.execute(codes.order_by(Finding.standard)).all():
        if cid is not None:
            standards[cid].append(code)
    remedies = _remedies(ids)
    return [
        PublicCase(
            id=case.id,
            site_id=case.site_id,
            site_name=case.site.name,
            country=case.site.country,
            state=case.state,
            published_dt=approved or case.opened_dt,
            opened_dt=case.opened_dt,
            plan_accepted_dt=accepted.get(case.id),
            verified_dt=verified.get(case.id),
            closed_dt=case.closed_dt if case.state is CaseState.closed else None,
            standards=standards[case.id],
            remedies=remedies.get(case.id, []),
        )
        for case, approved in rows
    ]


def _remedies(ids: list[int]) -> dict[int, list[PublicRemedy]]:
    """Per case and remedy kind, the workers covered by remedies of closures still in force."""
    query = (
        select(CaseClosure.case_id, Remedy.kind, func.sum(Remedy.workers_covered))
        .join(Remedy, Remedy.closure_id == CaseClosure.id)
        .where(CaseClosure.case_id.in_(ids), CaseClosure.reopened_dt.is_(None))
        .group_by(CaseClosure.case_id, Remedy.kind)
        .order_by(CaseClosure.case_id, Remedy.kind)
    )
    result: dict[int, list[PublicRemedy]] = defaultdict(list)
    for cid, kind, workers in db.session.execute(query):
        shown, suppressed = suppress(None if workers is None else int(workers))
        result[cid].append(PublicRemedy(kind, shown, suppressed))
    return result


def public_case(case_id: int) -> PublicCase:
    """A published case, or 404 — the same answer for an unpublished, withdrawn or missing case."""
    found = public_cases(case_id)
    if not found:
        abort(404)
    return found[0]


def public_sites(cases: list[PublicCase]) -> list[PublicSite]:
    counts: dict[int, int] = defaultdict(int)
    first: dict[int, PublicCase] = {}
    for c in cases:
        counts[c.site_id] += 1
        first.setdefault(c.site_id, c)
    sites = [PublicSite(sid, first[sid].site_name, first[sid].country, n) for sid, n in counts.items()]
    return sorted(sites, key=lambda s: (s.name.lower(), s.id))


# --- staff side -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicationPanel:
    """What the case page shows of the publication, and which buttons the user gets."""

    case_id: int
    row: CasePublication | None
    may_propose: bool
    may_approve: bool
    may_withdraw: bool

    @property
    def status(self) -> str:
        if self.row is None or self.row.withdrawn_dt is not None:
            return "withdrawn" if self.row is not None else "none"
        return "published" if self.row.published else "proposed"


def panel(user: User, case: Case) -> PublicationPanel | None:
    """The publication panel of the case page, for those who may act on it (None for the others)."""
    if not permissions.acts_on_publication(user, case):
        return None
    row = publication_of(case)
    open_row = row is not None and row.withdrawn_dt is None
    return PublicationPanel(
        case.id,
        row,
        may_propose=permissions.can_propose(user, case) and not open_row,
        may_approve=permissions.can_approve(user, case) and row is not None and row.awaiting_approval,
        may_withdraw=permissions.can_withdraw(user, case) and open_row,
    )


def load_case(user: User, case_id: int) -> Case:
    return case_services.load_case(user, case_id)


def publication_state(case: Case) -> dict[str, Any]:
    """The publication as the API shows it to those who may act on it."""
    row = publication_of(case)
    status = "none"
    if row is not None:
        status = "withdrawn" if row.withdrawn_dt else ("published" if row.published else "proposed")
    return {
        "case_id": case.id,
        "status": status,
        "proposed_dt": row.proposed_dt if row else None,
        "approved_dt": row.approved_dt if row else None,
        "withdrawn_dt": row.withdrawn_dt if row else None,
    }
