"""The effectiveness figures, computed in SQL from the timestamps the system already keeps.

One module computes them; the dashboards, the API and the exports read them. Each clock gives
the median and the 90th percentile with the count it rests on; each share its numerator and
denominator. Percentiles use the nearest-rank method (the ``ceil(p * n)``-th smallest value), picked
per group with window functions, so no row is loaded into Python.

The period selects what was *started* in it: reports received, actions requested, cases opened
(``start`` inclusive, ``end`` exclusive). A breakdown splits the figures by monitor organisation,
supplier, buyer (affiliate), country, standard or severity; an item in several groups (a case
with two standards) counts once in each.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    true,
)

from monitoring.accounts.models import User
from monitoring.cases.models import (
    Case,
    CaseClosure,
    CaseOutcome,
    CorrectiveAction,
    Finding,
    FindingReport,
    SupplierResponse,
)
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.reporting.permissions import action_scope, case_scope, report_scope, sees_report_figures
from monitoring.reporting.sql import seconds_between, utc_day
from monitoring.supplychain.models import Site
from monitoring.supplychain.queries import links
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.sealing_base import DIRECT_CHANNELS

DAY = 86400.0


class Breakdown(enum.StrEnum):
    """What the figures are split by (``total``: not split)."""

    total = "total"
    organisation = "organisation"
    supplier = "supplier"
    buyer = "buyer"
    country = "country"
    standard = "standard"
    severity = "severity"


class Subject(enum.Enum):
    report = "report"
    action = "action"
    case = "case"


@dataclass(frozen=True)
class Period:
    """From ``start`` (inclusive) to ``end`` (exclusive); either may be open."""

    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def of_days(cls, first: date | None, last: date | None) -> Period:
        """The period of whole UTC days from ``first`` to ``last`` (both included)."""
        start = datetime.combine(first, time(), UTC) if first else None
        end = datetime.combine(last + timedelta(days=1), time(), UTC) if last else None
        return cls(start, end)

    def clause(self, column: Any) -> ColumnElement[bool]:
        parts = []
        if self.start is not None:
            parts.append(column >= self.start)
        if self.end is not None:
            parts.append(column < self.end)
        return and_(true(), *parts)


@dataclass(frozen=True)
class DurationFigure:
    """A clock: median and 90th percentile in seconds over ``count`` items of one group."""

    figure: str
    group: str | None
    count: int
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def median_days(self) -> float | None:
        return None if self.median_seconds is None else round(self.median_seconds / DAY, 1)

    @property
    def p90_days(self) -> float | None:
        return None if self.p90_seconds is None else round(self.p90_seconds / DAY, 1)


@dataclass(frozen=True)
class ShareFigure:
    """``hits`` out of ``count`` items of one group (for ``plans_rejected``: rejections per action)."""

    figure: str
    group: str | None
    count: int
    hits: int

    @property
    def rate(self) -> float | None:
        return None if self.count == 0 else self.hits / self.count


@dataclass(frozen=True)
class Figures:
    breakdown: Breakdown
    period: Period
    durations: list[DurationFigure]
    shares: list[ShareFigure]

    def duration(self, figure: str, group: str | None = None) -> DurationFigure | None:
        return next((d for d in self.durations if d.figure == figure and d.group == group), None)

    def share(self, figure: str, group: str | None = None) -> ShareFigure | None:
        return next((s for s in self.shares if s.figure == figure and s.group == group), None)


DURATION_FIGURES = (
    "report_acknowledge",
    "report_feedback",
    "action_plan",
    "action_accepted_plan",
    "action_verification",
    "case_closure",
)
SHARE_FIGURES = (
    "direct_acknowledged_in_time",
    "direct_answered_in_time",
    "actions_on_time",
    "plans_rejected",
    "cases_reopened",
    *(f"outcome_{outcome.value}" for outcome in CaseOutcome),
)


# --- the items and their groups --------------------------------------------------------------


def _base(user: User, subject: Subject, period: Period) -> Select[Any]:
    if subject is Subject.report:
        return select(WorkerReport.id.label("sid")).where(
            report_scope(user), period.clause(WorkerReport.created_dt)
        )
    if subject is Subject.action:
        return (
            select(CorrectiveAction.id.label("sid"))
            .join(Case, Case.id == CorrectiveAction.case_id)
            .where(action_scope(user), period.clause(CorrectiveAction.requested_dt))
        )
    return select(Case.id.label("sid")).where(case_scope(user), period.clause(Case.opened_dt))


def _site_column(subject: Subject) -> Any:
    return WorkerReport.site_id if subject is Subject.report else Case.site_id


def _finding_join(subject: Subject) -> ColumnElement[bool]:
    if subject is Subject.action:
        return Finding.id == CorrectiveAction.finding_id
    return Finding.case_id == Case.id


def _grouped(query: Select[Any], subject: Subject, breakdown: Breakdown) -> Select[Any]:
    """The item query with the group key as ``grp`` (outer joins: an item without one is ``None``)."""
    if breakdown is Breakdown.total:
        return query.add_columns(null().label("grp"))
    by_links = breakdown is Breakdown.buyer or (breakdown is Breakdown.supplier and subject is Subject.report)
    if by_links:
        linked = links(utcnow().date())
        key = linked.c.affiliate_id if breakdown is Breakdown.buyer else linked.c.supplier_id
        query = query.outerjoin(linked, linked.c.site_id == _site_column(subject))
        return query.add_columns(key.label("grp"))
    if breakdown is Breakdown.supplier:
        if subject is Subject.case:
            query = query.outerjoin(CorrectiveAction, CorrectiveAction.case_id == Case.id)
        return query.add_columns(CorrectiveAction.supplier_id.label("grp"))
    if breakdown in (Breakdown.standard, Breakdown.severity) and subject is Subject.report:
        query = query.outerjoin(FindingReport, FindingReport.report_id == WorkerReport.id).outerjoin(
            Finding, Finding.id == FindingReport.finding_id
        )
        found: Any = Finding.standard if breakdown is Breakdown.standard else Finding.severity
        return query.add_columns(found.label("grp"))
    return _grouped_simple(query, subject, breakdown)


def _grouped_simple(query: Select[Any], subject: Subject, breakdown: Breakdown) -> Select[Any]:
    if breakdown is Breakdown.standard:
        query = query.outerjoin(Finding, _finding_join(subject))
        return query.add_columns(Finding.standard.label("grp"))
    if breakdown is Breakdown.country:
        if subject is Subject.report:
            return query.add_columns(WorkerReport.country.label("grp"))
        query = query.outerjoin(Site, Site.id == Case.site_id)
        return query.add_columns(Site.country.label("grp"))
    if breakdown is Breakdown.severity:
        severity: Any = CorrectiveAction.severity if subject is Subject.action else Case.severity
        return query.add_columns(severity.label("grp"))
    key: Any = WorkerReport.organisation_id if subject is Subject.report else Case.monitor_organisation_id
    return query.add_columns(key.label("grp"))


# --- the two shapes of figure ----------------------------------------------------------------


def _durations(name: str, items: Subquery) -> list[DurationFigure]:
    """Median and p90 (nearest rank) of ``items.value`` per ``items.grp``."""
    ranked = select(
        items.c.grp,
        items.c.value,
        func.row_number().over(partition_by=items.c.grp, order_by=items.c.value).label("rn"),
        func.count().over(partition_by=items.c.grp).label("n"),
    ).subquery("ranked")
    n = ranked.c.n
    median_rank = (n + 1) // 2  # ceil(n / 2)
    p90_rank = (n * 9 + 9) // 10  # ceil(9n / 10)
    query = select(
        ranked.c.grp,
        func.max(n),
        func.max(case((ranked.c.rn == median_rank, ranked.c.value))),
        func.max(case((ranked.c.rn == p90_rank, ranked.c.value))),
    ).group_by(ranked.c.grp)
    return [
        DurationFigure(name, _key(grp), int(count), _seconds(median), _seconds(p90))
        for grp, count, median, p90 in db.session.execute(query)
    ]


def _shares(name: str, items: Subquery) -> list[ShareFigure]:
    query = select(items.c.grp, func.count(), func.coalesce(func.sum(items.c.value), 0)).group_by(items.c.grp)
    return [
        ShareFigure(name, _key(grp), int(count), int(hits)) for grp, count, hits in db.session.execute(query)
    ]


def _key(grp: Any) -> str | None:
    if grp is None:
        return None
    return str(grp.value if isinstance(grp, enum.Enum) else grp)


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def _items(
    user: User,
    subject: Subject,
    period: Period,
    breakdown: Breakdown,
    value: ColumnElement[Any],
    where: ColumnElement[bool],
) -> Subquery:
    """One row per (item, group) with the item's measured value; NULL values are left out."""
    query = _grouped(_base(user, subject, period), subject, breakdown)
    query = query.add_columns(value.label("value")).where(where, value.is_not(None))
    return query.distinct().subquery("items")


# --- what each figure measures -----------------------------------------------------------------


def _first_plan() -> Any:
    return (
        select(func.min(SupplierResponse.submitted_dt))
        .where(SupplierResponse.action_id == CorrectiveAction.id)
        .scalar_subquery()
    )


def _accepted_plan() -> Any:
    return (
        select(func.min(SupplierResponse.decided_dt))
        .where(SupplierResponse.action_id == CorrectiveAction.id, SupplierResponse.accepted.is_(True))
        .scalar_subquery()
    )


def _rejected_plans() -> Any:
    return (
        select(func.count(SupplierResponse.id))
        .where(SupplierResponse.action_id == CorrectiveAction.id, SupplierResponse.accepted.is_(False))
        .scalar_subquery()
    )


def _hit(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return case((condition, literal(1, Integer)), else_=literal(0, Integer))


def _direct_in_time(due: Any, done: Any, now: datetime) -> tuple[ColumnElement[Any], ColumnElement[bool]]:
    """Direct reports whose deadline passed or that were answered; a hit when answered by the deadline."""
    counted = and_(
        WorkerReport.channel.in_(sorted(DIRECT_CHANNELS, key=str)),
        due.is_not(None),
        or_(done.is_not(None), due < now),
    )
    return _hit(and_(done.is_not(None), done <= due)), counted


Clock = tuple[str, Subject, Callable[[], ColumnElement[Any]]]
Share = tuple[str, Subject, Callable[[datetime], tuple[ColumnElement[Any], ColumnElement[bool]]]]

CLOCKS: tuple[Clock, ...] = (
    (
        "report_acknowledge",
        Subject.report,
        lambda: seconds_between(WorkerReport.created_dt, WorkerReport.acknowledged_dt),
    ),
    (
        "report_feedback",
        Subject.report,
        lambda: seconds_between(WorkerReport.created_dt, WorkerReport.feedback_dt),
    ),
    ("action_plan", Subject.action, lambda: seconds_between(CorrectiveAction.requested_dt, _first_plan())),
    (
        "action_accepted_plan",
        Subject.action,
        lambda: seconds_between(CorrectiveAction.requested_dt, _accepted_plan()),
    ),
    (
        "action_verification",
        Subject.action,
        lambda: seconds_between(CorrectiveAction.requested_dt, CorrectiveAction.verified_dt),
    ),
    ("case_closure", Subject.case, lambda: seconds_between(Case.opened_dt, Case.closed_dt)),
)


def _on_time(now: datetime) -> tuple[ColumnElement[Any], ColumnElement[bool]]:
    done = CorrectiveAction.implemented_dt
    counted = or_(done.is_not(None), CorrectiveAction.closure_due_date < now.date())
    return _hit(and_(done.is_not(None), utc_day(done) <= CorrectiveAction.closure_due_date)), counted


def _reopened(now: datetime) -> tuple[ColumnElement[Any], ColumnElement[bool]]:
    closures = select(CaseClosure.id).where(CaseClosure.case_id == Case.id)
    reopened = closures.where(CaseClosure.reopened_dt.is_not(None))
    return _hit(exists(reopened)), exists(closures)


def _outcome(outcome: CaseOutcome) -> Callable[[datetime], tuple[ColumnElement[Any], ColumnElement[bool]]]:
    def measure(now: datetime) -> tuple[ColumnElement[Any], ColumnElement[bool]]:
        closed = and_(Case.closed_dt.is_not(None), Case.outcome.is_not(None))
        return _hit(Case.outcome == outcome), closed

    return measure


SHARES: tuple[Share, ...] = (
    (
        "direct_acknowledged_in_time",
        Subject.report,
        lambda now: _direct_in_time(WorkerReport.acknowledge_due_dt, WorkerReport.acknowledged_dt, now),
    ),
    (
        "direct_answered_in_time",
        Subject.report,
        lambda now: _direct_in_time(WorkerReport.feedback_due_dt, WorkerReport.feedback_dt, now),
    ),
    ("actions_on_time", Subject.action, _on_time),
    ("plans_rejected", Subject.action, lambda now: (_rejected_plans(), true())),
    ("cases_reopened", Subject.case, _reopened),
    *((f"outcome_{o.value}", Subject.case, _outcome(o)) for o in CaseOutcome),
)


def _subjects(user: User) -> set[Subject]:
    """Worker-report clocks are for monitors and coordinators only."""
    subjects = {Subject.action, Subject.case}
    return subjects | {Subject.report} if sees_report_figures(user) else subjects


def compute_figures(
    user: User, period: Period | None = None, breakdown: Breakdown = Breakdown.total
) -> Figures:
    """Every effectiveness figure over what ``user`` may see (one query per figure)."""
    period = period or Period()
    now = utcnow()
    subjects = _subjects(user)
    durations: list[DurationFigure] = []
    for name, subject, measure in CLOCKS:
        if subject in subjects:
            durations += _durations(name, _items(user, subject, period, breakdown, measure(), true()))
    shares: list[ShareFigure] = []
    for name, subject, rule in SHARES:
        if subject in subjects:
            hit, counted = rule(now)
            shares += _shares(name, _items(user, subject, period, breakdown, hit, counted))
    return Figures(breakdown, period, durations, shares)


def no_figures(breakdown: Breakdown = Breakdown.total) -> Figures:
    """The empty result (for a user who may see no figures at all)."""
    return Figures(breakdown, Period(), [], [])


__all__ = [
    "CLOCKS",
    "DURATION_FIGURES",
    "SHARES",
    "SHARE_FIGURES",
    "Breakdown",
    "DurationFigure",
    "Figures",
    "Period",
    "ShareFigure",
    "compute_figures",
    "no_figures",
]
