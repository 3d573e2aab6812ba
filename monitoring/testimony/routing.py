"""Changes of who receives worker reports, with the consent of those who receive them today.

Routing decides whose key a worker's report is sealed to, so changing it silently would hand
future testimony to whoever an administrator or coordinator chooses. A change of who receives
a country's reports (or those of every other country, the fallback) therefore does not take
effect when it is asked for. It waits as a :class:`CoverageChange` until a member of the
organisation that receives those reports today confirms it, or until
``COVERAGE_CHANGE_WAIT_DAYS`` have passed; meanwhile every monitor of both organisations is
told (notification outbox) and any of them can object, which stops it. ``flask jobs run``
applies the changes whose wait is over, checking first that the organisation asked is still
the one receiving. A change that takes reports from nobody (nobody receives them today), or
leaves the same organisation receiving them, takes effect at once; everyone concerned is
still told.

Monitors see the changes that touch their organisation, the countries it receives, the short
fingerprint of its key that workers see on the report page, and the audit trail of its
reports: who opened what, and routing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from monitoring.accounts import keys
from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.core import audit
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.notifications.models import NotificationKind
from monitoring.notifications.outbox import notify
from monitoring.supplychain.matching import is_country_code
from monitoring.testimony import operations
from monitoring.testimony.models import (
    FALLBACK_SCOPE,
    CoverageChange,
    CoverageChangeState,
    MonitorCoverage,
)
from monitoring.testimony.permissions import (
    can_confirm_coverage_change,
    can_manage_coverage,
    can_object_coverage_change,
    visible_audit_trail,
    visible_changes,
)

logger = logging.getLogger(__name__)

# The groups of the key fingerprint shown to workers (4 groups of 4 hex digits: 64 bits).
WORKER_FINGERPRINT_GROUPS = 4


# --- fingerprints -------------------------------------------------------------------------------


def short_fingerprint(public_key: bytes | None) -> str:
    """The first groups of a key's fingerprint: short enough for a poster, a card or a phone call."""
    full = keys.fingerprint(public_key)
    return " ".join(full.split(" ")[:WORKER_FINGERPRINT_GROUPS]) if full else ""


def receiving_fingerprint(organisation: Organisation | None) -> str:
    """The short fingerprint of the organisation's current key ('' when it has none)."""
    if organisation is None:
        return ""
    key = keys.current_organisation_key(organisation)
    return short_fingerprint(key.public_key) if key is not None else ""


# --- who receives what today --------------------------------------------------------------------


def scope_of(country: str | None) -> str:
    return (country or "").strip().upper() or FALLBACK_SCOPE


def route_of(scope: str) -> MonitorCoverage | None:
    """The routing row of the scope itself (a country's own, or the fallback)."""
    condition = (
        MonitorCoverage.is_fallback.is_(True) if scope == FALLBACK_SCOPE else MonitorCoverage.country == scope
    )
    return db.session.scalar(select(MonitorCoverage).where(condition))


def receiver_of(scope: str) -> Organisation | None:
    """Who receives the scope's reports today: its own route, else the fallback (even if inactive)."""
    row = route_of(scope)
    if row is None and scope != FALLBACK_SCOPE:
        row = route_of(FALLBACK_SCOPE)
    return row.organisation if row is not None else None


def _receiver_after(scope: str, organisation: Organisation | None) -> Organisation | None:
    """Who would receive the scope's reports once the change (None: remove its route) applies."""
    if organisation is not None:
        return organisation
    if scope == FALLBACK_SCOPE:
        return None
    fallback = route_of(FALLBACK_SCOPE)
    return fallback.organisation if fallback is not None else None


@dataclass(frozen=True)
class OurRouting:
    """What a monitor organisation receives, and what workers are shown of it."""

    organisation: Organisation
    fingerprint: str
    countries: list[str]
    fallback: bool
    changes: list[CoverageChange] = field(default_factory=list)


def our_routing(user: User) -> OurRouting:
    """The countries the user's organisation receives, its worker fingerprint and its changes."""
    organisation = user.organisation
    rows = db.session.scalars(
        select(MonitorCoverage)
        .where(MonitorCoverage.organisation_id == organisation.id)
        .order_by(MonitorCoverage.is_fallback, MonitorCoverage.country)
    ).all()
    changes = list(
        db.session.scalars(
            visible_changes(user)
            .order_by((CoverageChange.state == CoverageChangeState.pending).desc())
            .order_by(CoverageChange.id.desc())
            .limit(50)
        )
    )
    return OurRouting(
        organisation=organisation,
        fingerprint=receiving_fingerprint(organisation),
        countries=[row.country for row in rows if row.country],
        fallback=any(row.is_fallback for row in rows),
        changes=changes,
    )


# --- who sees which changes ---------------------------------------------------------------------


def recent_changes(limit: int = 50) -> list[CoverageChange]:
    """The waiting changes, then the most recent decided ones (for the routing page)."""
    return list(
        db.session.scalars(
            select(CoverageChange)
            .order_by((CoverageChange.state == CoverageChangeState.pending).desc(), CoverageChange.id.desc())
            .limit(limit)
        )
    )


def pending_change(scope: str) -> CoverageChange | None:
    return db.session.scalar(
        select(CoverageChange).where(
            CoverageChange.scope == scope, CoverageChange.state == CoverageChangeState.pending
        )
    )


# --- notices ------------------------------------------------------------------------------------


def _monitors_of(organisations: Iterable[Organisation | None]) -> list[User]:
    ids = {org.id for org in organisations if org is not None}
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(User.organisation_id.in_(ids), User.role == UserRole.monitor, User.is_active.is_(True))
            .order_by(User.id)
        )
    )


def _tell(change: CoverageChange, event: str, *, also: Iterable[User | None] = ()) -> None:
    """Queue a notice of the change to every monitor of the organisations it touches."""
    touched = [change.from_organisation, change.to_organisation]
    if change.to_organisation is None:
        touched.append(_receiver_after(change.scope, None))
    recipients = [*_monitors_of(touched), *(user for user in also if user is not None)]
    notify(
        recipients,
        NotificationKind.coverage_change,
        params={
            "event": event,
            "coverage_change_id": change.id,
            "country": change.country or "",
            "from_organisation": change.from_organisation.name if change.from_organisation else "",
            "to_organisation": change.to_organisation.name if change.to_organisation else "",
            "effective_date": change.effective_dt.date().isoformat(),
        },
    )


def _describe(change: CoverageChange) -> str:
    scope = "countries without a route of their own" if change.country is None else change.country
    source = change.from_organisation.name if change.from_organisation else "nobody"
    target = change.to_organisation.name if change.to_organisation else "the fallback"
    return f"reports about {scope} from {source} to {target}"


def _audit(action: str, summary: str, actor: User | None, change: CoverageChange) -> None:
    audit.record(
        action,
        summary,
        actor=actor,
        obj=change,
        data={
            "scope": change.scope,
            "from_organisation_id": change.from_organisation_id,
            "to_organisation_id": change.to_organisation_id,
            "state": change.state.value,
            "effective_dt": change.effective_dt.isoformat(),
        },
    )


# --- operations ---------------------------------------------------------------------------------


def wait_days() -> int:
    return max(0, int(current_app.config["COVERAGE_CHANGE_WAIT_DAYS"]))


def request_change(
    actor: User, *, country: str | None, organisation: Organisation | None, now: datetime | None = None
) -> CoverageChange:
    """Ask that the scope's reports go to ``organisation`` (None: remove the country's own route).

    Takes effect at once only when nobody receives the scope's reports today or the same
    organisation keeps receiving them; otherwise it waits for consent (see the module).
    """
    if not can_manage_coverage(actor):
        raise PermissionError("only administrators and coordinators route reports")
    now = now or utcnow()
    scope = scope_of(country)
    if scope != FALLBACK_SCOPE and not is_country_code(scope):
        raise OperationError(_l("Choose a country from the list."), "country")
    if organisation is not None and (
        organisation.kind is not OrganisationKind.monitor or not organisation.is_active
    ):
        raise OperationError(_l("Choose an active monitoring organisation."), "organisation")
    route = route_of(scope)
    if organisation is None and route is None:
        raise OperationError(_l("This country has no route of its own to remove."), "country")
    if organisation is not None and route is not None and route.organisation_id == organisation.id:
        raise OperationError(
            _l("%(organisation)s receives these reports already.", organisation=organisation.name),
            "organisation",
        )
    waiting = pending_change(scope)
    if waiting is not None:
        raise OperationError(
            _l(
                "A change of these reports is waiting already (until %(date)s). Cancel it first, or "
                "wait until it is decided.",
                date=waiting.effective_dt.date().isoformat(),
            ),
            "country",
        )
    source = receiver_of(scope)
    target = _receiver_after(scope, organisation)
    at_once = source is None or (target is not None and target.id == source.id)
    change = CoverageChange(
        scope=scope,
        from_organisation=source,
        to_organisation=organisation,
        state=CoverageChangeState.pending,
        requested_by=actor,
        requested_dt=now,
        effective_dt=now if at_once else now + timedelta(days=wait_days()),
    )
    db.session.add(change)
    db.session.flush()
    _audit("coverage.change_request", f"Asked to move {_describe(change)}", actor, change)
    if at_once:
        _apply(change, actor, CoverageChangeState.applied, now)
        _tell(change, "applied_at_once", also=[actor])
    else:
        _tell(change, "requested")
    logger.info("coverage change %s for %s: %s", change.id, scope, change.state.value)
    return change


def _apply(change: CoverageChange, actor: User | None, state: CoverageChangeState, now: datetime) -> None:
    """Route the scope as the change says, and record the decision."""
    if change.to_organisation is not None:
        operations.set_coverage(actor, change.to_organisation, change.country)
    else:
        route = route_of(change.scope)
        if route is not None:
            operations.remove_coverage(actor, route)
    change.state = state
    change.decided_by = actor
    change.decided_dt = now
    change.applied_dt = now
    db.session.flush()
    _audit("coverage.change_apply", f"Moved {_describe(change)}", actor, change)


def _require_pending(change: CoverageChange) -> None:
    if change.state is not CoverageChangeState.pending:
        raise OperationError(_l("This change has been decided already: %(state)s.", state=change.state.title))


def confirm_change(actor: User, change: CoverageChange, now: datetime | None = None) -> None:
    """A member of the organisation receiving the reports today agrees: the change applies now."""
    _require_pending(change)
    if not can_confirm_coverage_change(actor, change):
        raise PermissionError("only a member of the organisation receiving the reports today confirms")
    _apply(change, actor, CoverageChangeState.confirmed, now or utcnow())
    _tell(change, "confirmed", also=[change.requested_by])


def object_to_change(actor: User, change: CoverageChange, now: datetime | None = None) -> None:
    """A monitor of either organisation objects: the change is stopped, nothing moves."""
    _require_pending(change)
    if not can_object_coverage_change(actor, change):
        raise PermissionError("only monitors of the organisations concerned object")
    _decide(change, actor, CoverageChangeState.objected, now or utcnow())
    _audit("coverage.change_object", f"Objected to moving {_describe(change)}", actor, change)
    _tell(change, "objected", also=[change.requested_by])


def cancel_change(actor: User, change: CoverageChange, now: datetime | None = None) -> None:
    """An administrator or coordinator withdraws a waiting change."""
    _require_pending(change)
    if not can_manage_coverage(actor):
        raise PermissionError("only administrators and coordinators withdraw a change")
    _decide(change, actor, CoverageChangeState.cancelled, now or utcnow())
    _audit("coverage.change_cancel", f"Withdrew the move of {_describe(change)}", actor, change)
    _tell(change, "cancelled", also=[change.requested_by])


def _decide(change: CoverageChange, actor: User | None, state: CoverageChangeState, now: datetime) -> None:
    change.state = state
    change.decided_by = actor
    change.decided_dt = now
    db.session.flush()


def _still_possible(change: CoverageChange) -> bool:
    """Whether the change can apply as asked: the same organisation receives, the target can receive."""
    source = receiver_of(change.scope)
    if (source.id if source else None) != change.from_organisation_id:
        return False
    target = change.to_organisation
    if target is not None and (target.kind is not OrganisationKind.monitor or not target.is_active):
        return False
    return not (target is None and route_of(change.scope) is None)


def apply_due_changes(now: datetime | None = None, *, limit: int = 200) -> int:
    """Apply (or, if no longer possible as asked, cancel) the changes whose wait is over.

    Returns how many were decided. Flushes; the caller commits.
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(CoverageChange)
        .where(CoverageChange.state == CoverageChangeState.pending, CoverageChange.effective_dt <= now)
        .order_by(CoverageChange.effective_dt, CoverageChange.id)
        .limit(limit)
    ).all()
    for change in due:
        if _still_possible(change):
            _apply(change, None, CoverageChangeState.applied, now)
            _tell(change, "applied", also=[change.requested_by])
        else:
            _decide(change, None, CoverageChangeState.cancelled, now)
            _audit(
                "coverage.change_cancel",
                f"Did not move {_describe(change)}: the routing changed while it waited",
                None,
                change,
            )
            _tell(change, "lapsed", also=[change.requested_by])
    return len(due)


def run_routing_jobs(now: datetime | None = None) -> str:
    """The routing step of ``flask jobs run`` (kept here for its callers; see :mod:`.jobs`)."""
    from monitoring.testimony import jobs

    return jobs.run_routing_jobs(now)


# --- the audit trail of an organisation's reports ------------------------------------------------


def organisation_audit_trail(user: User) -> Select[tuple[AuditEntry]]:
    """Audit entries about the user's organisation's reports and its routing changes (a scope)."""
    return visible_audit_trail(user)
