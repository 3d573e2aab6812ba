"""Operations on findings, cases, corrective actions and the dialogue.

Each takes the actor explicitly, checks the permission and the transition table
(:mod:`monitoring.cases.workflow`), validates its input (raising :class:`OperationError` with a
translated message and the field), and only then changes state, flushes, writes the timeline
event and the audit entry, and queues the notifications. A refused operation changes nothing.
They never commit: the caller does, once per request.

Protected texts (summaries, requests, plans, reasons, messages) go into their ``*_ct`` columns
after the row was flushed, since the ciphertext is bound to the row id. Audit entries and
notification parameters hold metadata only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import list_currencies
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from monitoring.accounts.models import User, UserRole
from monitoring.cases import deadlines
from monitoring.cases.audience import case_audience, coordinators_of
from monitoring.cases.files import (
    PreparedFile,
    Upload,
    placeholder_ct,
    prepare_uploads,
    store_files,
)
from monitoring.cases.models import (
    MONETARY_REMEDIES,
    ActionState,
    Case,
    CaseClosure,
    CaseEvent,
    CaseMessage,
    CaseOutcome,
    CaseState,
    CorrectiveAction,
    EventKind,
    EvidenceType,
    Finding,
    FindingReport,
    Remedy,
    RemedyKind,
    Severity,
    SupplierResponse,
    Visibility,
)
from monitoring.cases.permissions import (
    can_add_findings,
    can_change_deadlines,
    can_edit_finding,
    can_file_finding,
    can_open_case,
    can_request_action,
    can_set_lead,
    is_coordinator,
    is_monitor,
    is_supplier,
    message_suppliers,
    message_visibilities,
    visible_findings,
)
from monitoring.cases.standards import get_standard
from monitoring.cases.workflow import (
    ACTION_TRANSITIONS,
    CASE_TRANSITIONS,
    REQUEST_STATES,
    Transition,
    allowed,
)
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.notifications.models import NotificationKind
from monitoring.notifications.outbox import notify
from monitoring.supplychain.models import Site
from monitoring.supplychain.queries import concerned_suppliers
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.permissions import visible_reports

__all__ = [
    "ClosureData",
    "FindingData",
    "PlanData",
    "RemedyData",
    "RequestData",
    "Upload",
    "accept_plan",
    "add_findings",
    "change_deadlines",
    "close_action",
    "close_case",
    "escalate_overdue",
    "file_finding",
    "open_case",
    "post_message",
    "reject_plan",
    "reopen_case",
    "report_implemented",
    "request_action",
    "set_lead",
    "submit_plan",
    "transition_case",
    "update_finding",
    "verify_action",
]

logger = logging.getLogger(__name__)

MAX_TEXT = 20_000  # requests, plans, messages, reasons
MAX_SUMMARY = 10_000
MAX_REMEDY_TEXT = 2_000
MAX_WORKERS = 10_000_000
MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_REMEDIES = 20
# Highest first: a case's severity is the highest of its findings'.
SEVERITY_ORDER = (Severity.priority, Severity.major, Severity.minor)


# --- small helpers ----------------------------------------------------------------------------


def _today() -> date:
    return utcnow().date()


def _text(value: str | None, field_name: str, message: Any, max_length: int = MAX_TEXT) -> str:
    """Required text, stripped at both ends (inner line breaks kept)."""
    value = (value or "").strip()
    if not value:
        raise OperationError(message, field=field_name)
    return _max_length(value, max_length, field_name)


def _optional_text(value: str | None, field_name: str, max_length: int = MAX_TEXT) -> str | None:
    value = (value or "").strip()
    return _max_length(value, max_length, field_name) if value else None


def _max_length(value: str, max_length: int, field_name: str) -> str:
    if len(value) > max_length:
        raise OperationError(_l("At most %(num)s characters.", num=max_length), field=field_name)
    return value


def _enum(enum_cls: Any, value: Any, field_name: str, message: Any) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        raise OperationError(message, field=field_name) from None


def _refuse(message: Any, field_name: str | None = None) -> OperationError:
    return OperationError(message, field=field_name)


def _check(actor: User, obj: Case | CorrectiveAction, name: str) -> Transition:
    """The transition, when the actor may take it now; else the translated refusal."""
    refusal = allowed(actor, obj, name)
    if refusal is not None:
        raise _refuse(refusal)
    table = CASE_TRANSITIONS if isinstance(obj, Case) else ACTION_TRANSITIONS
    return table[name]


def highest_severity(severities: Iterable[Severity]) -> Severity:
    found = set(severities)
    return next(s for s in SEVERITY_ORDER if s in found)


def _event(
    case: Case,
    kind: EventKind,
    actor: User | None,
    *,
    visibility: Visibility,
    supplier_id: int | None = None,
    action: CorrectiveAction | None = None,
    finding: Finding | None = None,
    from_state: Any = None,
    to_state: Any = None,
    note: str | None = None,
    due_date: date | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.id,
        action_id=action.id if action is not None else None,
        finding_id=finding.id if finding is not None else None,
        kind=kind,
        from_state=getattr(from_state, "value", from_state),
        to_state=getattr(to_state, "value", to_state),
        visibility=visibility,
        supplier_id=supplier_id if visibility is Visibility.parties else None,
        actor_id=actor.id if actor is not None else None,
        due_date=due_date,
        created_dt=utcnow(),
    )
    db.session.add(event)
    if note:
        db.session.flush()
        event.note = note
    return event


def _params(case: Case, action: CorrectiveAction | None = None, **extra: Any) -> dict[str, Any]:
    """Metadata for a notification's text: never protected text."""
    params: dict[str, Any] = {"case_id": case.id, "reference": case.reference, "site": case.site.name}
    if action is not None:
        params.update(
            action_id=action.id,
            supplier=action.supplier.name,
            standard=action.finding.standard,
            action_state=action.state.value,
        )
    params.update(extra)
    return params


def _tell(
    kind: NotificationKind,
    actor: User | None,
    case: Case,
    scope: Visibility,
    *,
    action: CorrectiveAction | None = None,
    supplier_id: int | None = None,
    **extra: Any,
) -> None:
    """Queue a notification to everyone who reads ``scope`` on the case, but the actor."""
    users = case_audience(case, scope, supplier_id=supplier_id, exclude=actor)
    notify(users, kind, case=case, action=action, params=_params(case, action, **extra))


# --- findings ---------------------------------------------------------------------------------


@dataclass
class FindingData:
    site_id: int | None
    standard: str
    severity: Severity | str
    workers_affected: int | None
    evidence_type: EvidenceType | str
    found_date: date | None
    summary: str
    report_ids: list[int] = field(default_factory=list)


def _site(site_id: int | None, field_name: str = "site_id") -> Site:
    site = db.session.get(Site, site_id) if site_id is not None else None
    if site is None:
        raise OperationError(_l("Choose the site."), field=field_name)
    if site.merged_into_id is not None:
        raise OperationError(
            _l("This site was merged into another one; choose that one instead."), field=field_name
        )
    return site


def _clean_finding(actor: User, data: FindingData) -> dict[str, Any]:
    site = _site(data.site_id)
    standard = (data.standard or "").strip().upper()
    if get_standard(standard) is None:
        raise OperationError(_l("Choose a standard from the code."), field="standard")
    workers = data.workers_affected
    if workers is not None and not (0 <= workers <= MAX_WORKERS):
        raise OperationError(
            _l("The number of workers affected must be between 0 and %(num)s.", num=MAX_WORKERS),
            field="workers_affected",
        )
    found = data.found_date or _today()
    if found > _today():
        raise OperationError(_l("The date found cannot be in the future."), field="found_date")
    report_ids = list(dict.fromkeys(int(i) for i in data.report_ids or ()))
    if report_ids:
        known = set(
            db.session.scalars(
                visible_reports(actor)
                .with_only_columns(WorkerReport.id)
                .where(WorkerReport.id.in_(report_ids))
            )
        )
        if len(known) != len(report_ids):
            raise OperationError(_l("Link only worker reports of your organisation."), field="report_ids")
    return {
        "site": site,
        "standard": standard,
        "severity": _enum(Severity, data.severity, "severity", _l("Choose a severity.")),
        "workers_affected": workers,
        "evidence_type": _enum(
            EvidenceType, data.evidence_type, "evidence_type", _l("Choose how this was established.")
        ),
        "found_date": found,
        "summary": _text(data.summary, "summary", _l("Write a shareable summary."), MAX_SUMMARY),
        "report_ids": report_ids,
    }


def file_finding(actor: User, data: FindingData) -> Finding:
    """A monitor files a finding for their organisation."""
    if not can_file_finding(actor):
        raise _refuse(_l("Only monitors file findings."))
    values = _clean_finding(actor, data)
    finding = Finding(
        site_id=values["site"].id,
        organisation_id=actor.organisation_id,
        standard=values["standard"],
        severity=values["severity"],
        workers_affected=values["workers_affected"],
        evidence_type=values["evidence_type"],
        found_date=values["found_date"],
        summary_ct=placeholder_ct(),
        created_by_id=actor.id,
        created_dt=utcnow(),
        report_links=[FindingReport(report_id=i) for i in values["report_ids"]],
    )
    db.session.add(finding)
    db.session.flush()
    finding.summary = values["summary"]
    db.session.flush()
    audit.record(
        "finding.create",
        f"Filed finding {finding.id} ({finding.standard}, {finding.severity.value}) "
        f"at site {finding.site_id}",
        actor=actor,
        obj=finding,
        data={
            "site_id": finding.site_id,
            "standard": finding.standard,
            "severity": finding.severity.value,
            "workers_affected": finding.workers_affected,
            "evidence_type": finding.evidence_type.value,
            "found_date": finding.found_date,
            "report_ids": values["report_ids"],
        },
    )
    return finding


def update_finding(actor: User, finding: Finding, data: FindingData) -> dict[str, list[Any]]:
    """Change a finding; returns the changes as {field: [old, new]} (the summary without text)."""
    if not can_edit_finding(actor, finding):
        raise _refuse(_l("You may not change this finding."))
    case = finding.case
    if case is not None and case.state is CaseState.closed:
        raise _refuse(_l("The finding's case is closed: reopen the case to change the finding."))
    values = _clean_finding(actor, data)
    if case is not None and values["site"].id != finding.site_id:
        raise OperationError(_l("The finding is part of a case: its site cannot change."), field="site_id")
    changes: dict[str, list[Any]] = {}
    for name in ("standard", "severity", "workers_affected", "evidence_type", "found_date"):
        old, new = getattr(finding, name), values[name]
        if old != new:
            setattr(finding, name, new)
            changes[name] = [getattr(old, "value", old), getattr(new, "value", new)]
    if values["site"].id != finding.site_id:
        changes["site_id"] = [finding.site_id, values["site"].id]
        finding.site_id = values["site"].id
    if values["summary"] != finding.summary:
        finding.summary = values["summary"]
        changes["summary"] = ["(protected)", "(protected)"]
    old_reports = sorted(link.report_id for link in finding.report_links)
    if sorted(values["report_ids"]) != old_reports:
        keep = set(values["report_ids"])
        finding.report_links = [link for link in finding.report_links if link.report_id in keep] + [
            FindingReport(report_id=i) for i in values["report_ids"] if i not in old_reports
        ]
        changes["report_ids"] = [old_reports, sorted(values["report_ids"])]
    if not changes:
        return changes
    db.session.flush()
    if case is not None and "severity" in changes:
        case.severity = highest_severity(f.severity for f in case.findings)
    audit.record(
        "finding.update",
        f"Changed finding {finding.id}: {', '.join(sorted(changes))}",
        actor=actor,
        obj=finding,
        data={"changes": changes},
    )
    return changes


# --- cases ------------------------------------------------------------------------------------


def _findings_for(actor: User, finding_ids: Sequence[int], site_id: int) -> list[Finding]:
    ids = list(dict.fromkeys(int(i) for i in finding_ids or ()))
    if not ids:
        raise OperationError(_l("Choose at least one finding."), field="finding_ids")
    findings = list(
        db.session.scalars(visible_findings(actor).where(Finding.id.in_(ids)).order_by(Finding.id))
    )
    if len(findings) != len(ids):
        raise OperationError(_l("Choose findings you can see."), field="finding_ids")
    for finding in findings:
        if finding.site_id != site_id:
            raise OperationError(
                _l("Every finding of a case must be about the case's site."), field="finding_ids"
            )
        if finding.case_id is not None:
            raise OperationError(
                _l("Finding %(id)s is already part of a case.", id=finding.id), field="finding_ids"
            )
    return findings


def _lead(coordinator_id: int | None) -> User | None:
    if coordinator_id is None:
        return None
    lead = db.session.get(User, coordinator_id)
    if lead is None or lead.role is not UserRole.coordinator or not lead.is_active:
        raise OperationError(_l("Choose an active coordinator as the lead."), field="lead_coordinator_id")
    return lead


def next_reference(year: int) -> str:
    """The next free case reference of the year, "C-<year>-<4-digit sequence>"."""
    prefix = f"C-{year}-"
    last = db.session.scalar(
        select(Case.reference)
        .where(Case.reference.like(f"{prefix}%"))
        .order_by(func.length(Case.reference).desc(), Case.reference.desc())
        .limit(1)
    )
    number = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:04d}"


def _insert_with_reference(case: Case, year: int, attempts: int = 5) -> None:
    """Insert the case under the next free reference; a concurrent opening that took the same
    reference first makes this one take the next."""
    for attempt in range(attempts):
        case.reference = next_reference(year)
        try:
            with db.session.begin_nested():
                db.session.add(case)
                db.session.flush()
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise
            logger.info("case reference %s was taken meanwhile; trying the next", case.reference)


def open_case(
    actor: User,
    site_id: int,
    finding_ids: Sequence[int],
    *,
    monitor_organisation_id: int | None = None,
    lead_coordinator_id: int | None = None,
) -> Case:
    """Open a case for a site with findings that are in no case yet.

    A monitor opens it for their own organisation; a coordinator for the organisation that filed
    the findings. A coordinator who names no lead becomes the lead.
    """
    if not can_open_case(actor):
        raise _refuse(_l("Only coordinators and monitors open cases."))
    site = _site(site_id)
    findings = _findings_for(actor, finding_ids, site.id)
    organisations = {f.organisation_id for f in findings}
    if len(organisations) != 1:
        raise OperationError(
            _l("The findings of a case must come from one monitoring organisation."), field="finding_ids"
        )
    organisation_id = organisations.pop()
    if is_monitor(actor) and organisation_id != actor.organisation_id:
        raise OperationError(_l("Choose findings of your own organisation."), field="finding_ids")
    if monitor_organisation_id is not None and monitor_organisation_id != organisation_id:
        raise OperationError(
            _l("The case is worked by the organisation that filed its findings."),
            field="monitor_organisation_id",
        )
    lead = _lead(lead_coordinator_id)
    if lead is None and is_coordinator(actor):
        lead = actor
    now = utcnow()
    case = Case(
        site_id=site.id,
        monitor_organisation_id=organisation_id,
        lead_coordinator=lead,
        state=CaseState.open,
        severity=highest_severity(f.severity for f in findings),
        opened_by_id=actor.id,
        opened_dt=now,
        state_changed_dt=now,
    )
    _insert_with_reference(case, now.year)
    for finding in findings:
        finding.case = case
    _event(case, EventKind.case_opened, actor, visibility=Visibility.buyers, to_state=CaseState.open)
    for finding in findings:
        _event(case, EventKind.finding_added, actor, visibility=Visibility.buyers, finding=finding)
    db.session.flush()
    audit.record(
        "case.open",
        f"Opened case {case.reference} at site {site.id} with {len(findings)} finding(s)",
        actor=actor,
        obj=case,
        data={
            "reference": case.reference,
            "site_id": site.id,
            "finding_ids": [f.id for f in findings],
            "monitor_organisation_id": organisation_id,
            "lead_coordinator_id": lead.id if lead is not None else None,
            "severity": case.severity.value,
        },
    )
    _tell(NotificationKind.case_opened, actor, case, Visibility.buyers, severity=case.severity.value)
    return case


def add_findings(actor: User, case: Case, finding_ids: Sequence[int]) -> None:
    """Add findings of the case's site and organisation that are in no case yet."""
    if not can_add_findings(actor, case):
        raise _refuse(_l("You may not add findings to this case."))
    if case.state is CaseState.closed:
        raise _refuse(_l("The case is closed: reopen it to add findings."))
    findings = _findings_for(actor, finding_ids, case.site_id)
    if any(f.organisation_id != case.monitor_organisation_id for f in findings):
        raise OperationError(
            _l("Add only findings of the organisation that works the case."), field="finding_ids"
        )
    old_severity = case.severity
    for finding in findings:
        finding.case = case
        _event(case, EventKind.finding_added, actor, visibility=Visibility.buyers, finding=finding)
    case.severity = highest_severity(f.severity for f in case.findings)
    db.session.flush()
    audit.record(
        "case.add_findings",
        f"Added {len(findings)} finding(s) to case {case.reference}",
        actor=actor,
        obj=case,
        data={"finding_ids": [f.id for f in findings], "severity": [old_severity.value, case.severity.value]},
    )


def set_lead(actor: User, case: Case, coordinator_id: int | None) -> None:
    """Name the lead coordinator (None: no lead; every coordinator is then told)."""
    if not can_set_lead(actor, case):
        raise _refuse(_l("Only coordinators set the lead coordinator."))
    lead = _lead(coordinator_id)
    old = case.lead_coordinator_id
    if old == (lead.id if lead is not None else None):
        return
    case.lead_coordinator = lead
    _event(case, EventKind.lead_changed, actor, visibility=Visibility.internal)
    db.session.flush()
    audit.record(
        "case.set_lead",
        f"Set the lead coordinator of case {case.reference} to {lead.email if lead else 'nobody'}",
        actor=actor,
        obj=case,
        data={"lead_coordinator_id": [old, case.lead_coordinator_id]},
    )


def _move_case(actor: User, case: Case, transition: Transition, note: str | None) -> CaseState:
    old = case.state
    case.state = transition.target
    case.state_changed_dt = utcnow()
    return old


def transition_case(actor: User, case: Case, name: str, reason: str | None = None) -> None:
    """Move a case: start_dialogue, start_remediation, start_verification, resume_remediation."""
    if name not in CASE_TRANSITIONS or name in ("close", "reopen"):
        raise OperationError(_l("This step does not exist."), field="name")
    transition = _check(actor, case, name)
    if transition.needs_reason:
        reason = _text(reason, "reason", _l("Give a reason."))
    else:
        reason = _optional_text(reason, "reason")
    old = _move_case(actor, case, transition, reason)
    _event(
        case,
        EventKind.case_state_changed,
        actor,
        visibility=Visibility.buyers,
        from_state=old,
        to_state=case.state,
        note=reason,
    )
    db.session.flush()
    audit.record(
        f"case.{name}",
        f"Moved case {case.reference} from {old.value} to {case.state.value}",
        actor=actor,
        obj=case,
        data={"state": [old.value, case.state.value], "with_reason": reason is not None},
    )
    _tell(
        NotificationKind.case_state_changed,
        actor,
        case,
        Visibility.buyers,
        from_state=old.value,
        to_state=case.state.value,
    )


@dataclass
class RemedyData:
    kind: RemedyKind | str
    amount: Decimal | None = None
    currency: str | None = None
    workers_covered: int | None = None
    description: str | None = None


@dataclass
class ClosureData:
    outcome: CaseOutcome | str
    note: str | None = None
    remedies: list[RemedyData] = field(default_factory=list)
    workers_consulted: bool = False


def _clean_remedy(number: int, data: RemedyData) -> dict[str, Any]:
    def fail(message: Any) -> OperationError:
        return OperationError(
            _l("Remedy %(num)s: %(problem)s", num=number, problem=message), field="remedies"
        )

    try:
        kind = RemedyKind(data.kind)
    except ValueError:
        raise fail(_l("choose the kind of remedy.")) from None
    amount = data.amount
    if amount is not None:
        try:
            amount = Decimal(str(amount))
            if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
                raise InvalidOperation
            if amount != amount.quantize(Decimal("0.01")):
                raise fail(_l("give the amount with at most two decimals."))
            amount = amount.quantize(Decimal("0.01"))
        except InvalidOperation:
            raise fail(_l("give the amount as a positive number.")) from None
    currency = (data.currency or "").strip().upper() or None
    if kind in MONETARY_REMEDIES and amount is None:
        raise fail(_l("give the amount repaid or paid, and its currency."))
    if (amount is None) != (currency is None):
        raise fail(_l("give both the amount and its currency."))
    if currency is not None and (len(currency) != 3 or currency not in list_currencies()):
        raise fail(_l("give the currency as a three-letter ISO 4217 code, e.g. USD, CNY or THB."))
    workers = data.workers_covered
    if workers is not None and not (0 <= workers <= MAX_WORKERS):
        raise fail(_l("the number of workers covered cannot be negative."))
    description = _optional_text(data.description, "remedies", MAX_REMEDY_TEXT)
    return {
        "kind": kind,
        "amount": amount,
        "currency": currency,
        "workers_covered": workers,
        "description": description,
    }


def close_case(actor: User, case: Case, data: ClosureData) -> CaseClosure:
    """A monitor closes a case after verification: the outcome and the remedy workers got.

    For a case with a priority finding the monitor confirms the affected workers were consulted.
    """
    transition = _check(actor, case, "close")
    outcome = _enum(CaseOutcome, data.outcome, "outcome", _l("Choose the outcome."))
    note = _optional_text(data.note, "note")
    remedies = list(data.remedies or ())
    if len(remedies) > MAX_REMEDIES:
        raise OperationError(_l("At most %(num)s remedies.", num=MAX_REMEDIES), field="remedies")
    cleaned = [_clean_remedy(n, r) for n, r in enumerate(remedies, start=1)]
    if case.severity is Severity.priority and not data.workers_consulted:
        raise OperationError(
            _l("For a priority case, confirm that the affected workers were consulted on the remedy."),
            field="workers_consulted",
        )
    now = utcnow()
    closure = CaseClosure(
        case=case,
        outcome=outcome,
        closed_by_id=actor.id,
        closed_dt=now,
        workers_consulted_by_id=actor.id if data.workers_consulted else None,
        workers_consulted_dt=now if data.workers_consulted else None,
        remedies=[Remedy(**{k: v for k, v in r.items() if k != "description"}) for r in cleaned],
    )
    db.session.add(closure)
    old = _move_case(actor, case, transition, None)
    case.outcome = outcome
    case.closed_dt = now
    db.session.flush()
    closure.note = note
    for remedy, values in zip(closure.remedies, cleaned, strict=True):
        remedy.description = values["description"]
    _event(
        case,
        EventKind.case_closed,
        actor,
        visibility=Visibility.buyers,
        from_state=old,
        to_state=case.state,
    )
    db.session.flush()
    audit.record(
        "case.close",
        f"Closed case {case.reference} as {outcome.value}",
        actor=actor,
        obj=case,
        data={
            "closure_id": closure.id,
            "outcome": outcome.value,
            "workers_consulted": bool(data.workers_consulted),
            "remedies": [
                {
                    "kind": r["kind"].value,
                    "amount": str(r["amount"]) if r["amount"] is not None else None,
                    "currency": r["currency"],
                    "workers_covered": r["workers_covered"],
                }
                for r in cleaned
            ],
        },
    )
    _tell(NotificationKind.case_closed, actor, case, Visibility.buyers, outcome=outcome.value)
    return closure


def reopen_case(actor: User, case: Case, reason: str) -> None:
    """Reopen a closed case (back into dialogue) with a reason; earlier closures are kept."""
    transition = _check(actor, case, "reopen")
    reason = _text(reason, "reason", _l("Give the reason for reopening the case."))
    now = utcnow()
    closure = case.closures[-1] if case.closures else None
    old = _move_case(actor, case, transition, reason)
    case.outcome = None
    case.closed_dt = None
    if closure is not None:
        closure.reopened_dt = now
        closure.reopen_reason = reason
    _event(
        case,
        EventKind.case_reopened,
        actor,
        visibility=Visibility.buyers,
        from_state=old,
        to_state=case.state,
        note=reason,
    )
    db.session.flush()
    audit.record(
        "case.reopen",
        f"Reopened case {case.reference}",
        actor=actor,
        obj=case,
        data={"closure_id": closure.id if closure is not None else None},
    )
    _tell(NotificationKind.case_reopened, actor, case, Visibility.buyers)


# --- corrective actions -----------------------------------------------------------------------


@dataclass
class RequestData:
    finding_id: int
    supplier_id: int
    request: str
    plan_due_date: date | None = None
    closure_due_date: date | None = None


def request_action(actor: User, case: Case, data: RequestData) -> CorrectiveAction:
    """Ask a supplier organisation concerned by the site to correct a finding of the case."""
    if not can_request_action(actor, case):
        raise _refuse(_l("Only coordinators request corrective actions."))
    if case.state not in REQUEST_STATES:
        raise _refuse(
            _l("Corrective actions can be requested while the case is in dialogue or in remediation.")
        )
    finding = db.session.get(Finding, data.finding_id) if data.finding_id is not None else None
    if finding is None or finding.case_id != case.id:
        raise OperationError(_l("Choose a finding of this case."), field="finding_id")
    today = _today()
    suppliers = {s.organisation.id for s in concerned_suppliers(case.site_id, today)}
    if data.supplier_id not in suppliers:
        raise OperationError(
            _l("Choose a supplier that makes or supplies products of this site."), field="supplier_id"
        )
    pending = db.session.scalar(
        select(func.count())
        .select_from(CorrectiveAction)
        .where(
            CorrectiveAction.finding_id == finding.id,
            CorrectiveAction.supplier_id == data.supplier_id,
            CorrectiveAction.state != ActionState.closed,
        )
    )
    if pending:
        raise OperationError(
            _l("This supplier already has an open corrective action for this finding."), field="supplier_id"
        )
    request = _text(data.request, "request", _l("Say what the supplier is asked to do."))
    plan_due, closure_due = deadlines.default_deadlines(finding.severity, today)
    if data.plan_due_date is not None or data.closure_due_date is not None:
        plan_due = data.plan_due_date or plan_due
        closure_due = data.closure_due_date or closure_due
        deadlines.check_deadlines(finding.severity, today, plan_due, closure_due)
    now = utcnow()
    action = CorrectiveAction(
        case=case,
        finding=finding,
        supplier_id=data.supplier_id,
        state=ActionState.requested,
        severity=finding.severity,
        request_ct=placeholder_ct(),
        plan_due_date=plan_due,
        closure_due_date=closure_due,
        requested_by_id=actor.id,
        requested_dt=now,
        state_changed_dt=now,
    )
    db.session.add(action)
    db.session.flush()
    action.request = request
    _event(
        case,
        EventKind.action_requested,
        actor,
        visibility=Visibility.parties,
        supplier_id=action.supplier_id,
        action=action,
        finding=finding,
        to_state=action.state,
        due_date=plan_due,
    )
    db.session.flush()
    audit.record(
        "action.request",
        f"Requested corrective action {action.id} on case {case.reference} from organisation "
        f"{action.supplier_id}",
        actor=actor,
        obj=action,
        data={
            "case_id": case.id,
            "finding_id": finding.id,
            "supplier_id": action.supplier_id,
            "severity": action.severity.value,
            "plan_due_date": plan_due,
            "closure_due_date": closure_due,
        },
    )
    _tell(
        NotificationKind.action_requested,
        actor,
        case,
        Visibility.parties,
        action=action,
        supplier_id=action.supplier_id,
        plan_due_date=plan_due,
        closure_due_date=closure_due,
    )
    return action


def change_deadlines(
    actor: User,
    action: CorrectiveAction,
    plan_due_date: date | None,
    closure_due_date: date | None,
    reason: str,
) -> None:
    """A coordinator moves an action's deadlines, with a reason (None keeps a deadline)."""
    if not can_change_deadlines(actor, action):
        raise _refuse(_l("Only coordinators change deadlines."))
    if action.case.state is CaseState.closed or action.state is ActionState.closed:
        raise _refuse(_l("The deadlines of a closed corrective action cannot change."))
    plan_due = plan_due_date or action.plan_due_date
    closure_due = closure_due_date or action.closure_due_date
    if (plan_due, closure_due) == (action.plan_due_date, action.closure_due_date):
        raise OperationError(_l("Change at least one of the deadlines."), field="plan_due_date")
    reason = _text(reason, "reason", _l("Give the reason for the new deadline."))
    deadlines.check_deadline_change(action, _today(), plan_due, closure_due)
    old = (action.plan_due_date, action.closure_due_date)
    old_due = deadlines.due_date(action)
    action.plan_due_date, action.closure_due_date = plan_due, closure_due
    new_due = deadlines.due_date(action)
    if new_due != old_due:
        action.escalated_dt = None  # a new deadline in force may be missed (and escalated) again
    _event(
        action.case,
        EventKind.deadline_changed,
        actor,
        visibility=Visibility.parties,
        supplier_id=action.supplier_id,
        action=action,
        note=reason,
        due_date=new_due or closure_due,
    )
    db.session.flush()
    audit.record(
        "action.deadlines",
        f"Changed the deadlines of corrective action {action.id}",
        actor=actor,
        obj=action,
        data={"plan_due_date": [old[0], plan_due], "closure_due_date": [old[1], closure_due]},
    )
    _tell(
        NotificationKind.deadline_changed,
        actor,
        action.case,
        Visibility.parties,
        action=action,
        supplier_id=action.supplier_id,
        plan_due_date=plan_due,
        closure_due_date=closure_due,
    )


_ACTION_NOTICES = {
    "submit_plan": NotificationKind.plan_submitted,
    "accept_plan": NotificationKind.plan_accepted,
    "reject_plan": NotificationKind.plan_rejected,
    "report_implemented": NotificationKind.action_implemented,
    "verify": NotificationKind.action_verified,
    "reject_verification": NotificationKind.action_not_verified,
    "close_action": NotificationKind.action_closed,
}


def _move_action(
    actor: User,
    action: CorrectiveAction,
    transition: Transition,
    *,
    note: str | None = None,
    audit_data: dict[str, Any] | None = None,
) -> None:
    """Take a checked transition: state, timeline event, audit entry, notifications."""
    old = action.state
    old_due = (deadlines.due_phase(action), deadlines.due_date(action))
    now = utcnow()
    action.state = transition.target
    action.state_changed_dt = now
    if action.state is ActionState.closed:
        action.closed_dt = now
    due = deadlines.due_date(action)
    if (deadlines.due_phase(action), due) != old_due:
        action.escalated_dt = None
    case = action.case
    _event(
        case,
        EventKind.action_state_changed,
        actor,
        visibility=Visibility.parties,
        supplier_id=action.supplier_id,
        action=action,
        from_state=old,
        to_state=action.state,
        note=note,
        due_date=due,
    )
    db.session.flush()
    audit.record(
        f"action.{transition.name}",
        f"Moved corrective action {action.id} of case {case.reference} "
        f"from {old.value} to {action.state.value}",
        actor=actor,
        obj=action,
        data={"state": [old.value, action.state.value], **(audit_data or {})},
    )
    _tell(
        _ACTION_NOTICES[transition.name],
        actor,
        case,
        Visibility.parties,
        action=action,
        supplier_id=action.supplier_id,
        from_state=old.value,
        to_state=action.state.value,
        due_date=due,
    )


@dataclass
class PlanData:
    root_cause: str
    corrective: str
    preventive: str
    target_date: date | None


def submit_plan(actor: User, action: CorrectiveAction, data: PlanData) -> SupplierResponse:
    """The supplier answers with root cause, corrective and preventive action and a target date."""
    transition = _check(actor, action, "submit_plan")
    root_cause = _text(data.root_cause, "root_cause", _l("Describe the root cause."))
    corrective = _text(data.corrective, "corrective", _l("Describe the corrective action."))
    preventive = _text(data.preventive, "preventive", _l("Describe the preventive action."))
    if data.target_date is None:
        raise OperationError(_l("Give the date by which the plan will be carried out."), field="target_date")
    if data.target_date < _today():
        raise OperationError(_l("The target date cannot be in the past."), field="target_date")
    response = SupplierResponse(
        action=action,
        root_cause_ct=placeholder_ct(),
        corrective_ct=placeholder_ct(),
        preventive_ct=placeholder_ct(),
        target_date=data.target_date,
        submitted_by_id=actor.id,
        submitted_dt=utcnow(),
    )
    db.session.add(response)
    db.session.flush()
    response.root_cause = root_cause
    response.corrective = corrective
    response.preventive = preventive
    _move_action(
        actor,
        action,
        transition,
        audit_data={"response_id": response.id, "target_date": data.target_date},
    )
    return response


def _pending_response(action: CorrectiveAction) -> SupplierResponse:
    pending = [r for r in action.responses if r.accepted is None]
    if not pending:  # the table guarantees one in plan_submitted; a broken row must not pass
        raise _refuse(_l("There is no plan to decide on."))
    return pending[-1]


def accept_plan(actor: User, action: CorrectiveAction) -> None:
    transition = _check(actor, action, "accept_plan")
    response = _pending_response(action)
    response.accepted = True
    response.decided_by_id = actor.id
    response.decided_dt = utcnow()
    _move_action(actor, action, transition, audit_data={"response_id": response.id})


def reject_plan(actor: User, action: CorrectiveAction, reason: str) -> None:
    """Reject the plan with a reason; the supplier submits a new one."""
    transition = _check(actor, action, "reject_plan")
    reason = _text(reason, "reason", _l("Say why the plan is rejected."))
    response = _pending_response(action)
    response.accepted = False
    response.decided_by_id = actor.id
    response.decided_dt = utcnow()
    response.rejection_reason = reason
    _move_action(actor, action, transition, note=reason, audit_data={"response_id": response.id})


def report_implemented(
    actor: User, action: CorrectiveAction, description: str, files: Sequence[Upload] = ()
) -> None:
    """The supplier reports the action carried out, with evidence files if it has any."""
    transition = _check(actor, action, "report_implemented")
    description = _text(description, "description", _l("Describe what was done."))
    prepared = prepare_uploads(files)
    with db.session.begin_nested():  # a file refused while it is stored leaves nothing behind
        stored = _store(actor, action.case, prepared, action=action)
        action.implementation = description
        action.implemented_dt = utcnow()
        _move_action(
            actor,
            action,
            transition,
            note=description,
            audit_data={"files": [f.id for f in stored]},
        )


def _store(actor: User, case: Case, prepared: list[PreparedFile], **parent: Any) -> list[Any]:
    return store_files(actor, case, prepared, **parent) if prepared else []


def verify_action(actor: User, action: CorrectiveAction, verified: bool, note: str | None) -> None:
    """A monitor of the case's organisation verifies the implementation, or finds it wanting."""
    name = "verify" if verified else "reject_verification"
    transition = _check(actor, action, name)
    # A verification may come without a note; a refusal must say what was not verified.
    note = _optional_text(note, "note") if verified else _text(note, "note", _l("Say what was not verified."))
    action.verification = note
    action.verified_by_id = actor.id
    action.verified_dt = utcnow()
    _move_action(actor, action, transition, note=note)


def close_action(actor: User, action: CorrectiveAction) -> None:
    transition = _check(actor, action, "close_action")
    _move_action(actor, action, transition)


# --- dialogue ---------------------------------------------------------------------------------


def post_message(
    actor: User,
    case: Case,
    visibility: Visibility | str,
    body: str,
    *,
    supplier_id: int | None = None,
    files: Sequence[Upload] = (),
) -> CaseMessage:
    """Append a message to the case's dialogue (closed cases too), with attachments."""
    scopes = message_visibilities(actor, case)
    if not scopes:
        raise _refuse(_l("You may not write in this case's dialogue."))
    visibility = _enum(Visibility, visibility, "visibility", _l("Choose who reads the message."))
    if visibility not in scopes:
        raise OperationError(_l("You may not write to these readers."), field="visibility")
    if is_supplier(actor):
        if supplier_id not in (None, actor.organisation_id):
            raise OperationError(
                _l("You write to your own organisation's dialogue only."), field="supplier_id"
            )
        supplier_id = actor.organisation_id
    if visibility is Visibility.parties:
        if supplier_id not in message_suppliers(actor, case):
            raise OperationError(
                _l("Choose a supplier with a corrective action on this case."), field="supplier_id"
            )
    else:
        supplier_id = None
    body = _text(body, "body", _l("Write a message first."))
    prepared = prepare_uploads(files)
    with db.session.begin_nested():
        message = CaseMessage(
            case_id=case.id,
            author_id=actor.id,
            visibility=visibility,
            supplier_id=supplier_id,
            body_ct=placeholder_ct(),
            created_dt=utcnow(),
        )
        db.session.add(message)
        db.session.flush()
        message.body = body
        stored = _store(actor, case, prepared, message=message)
        db.session.flush()
        audit.record(
            "case.message",
            f"Posted {visibility.value} message {message.id} on case {case.reference}",
            actor=actor,
            obj=message,
            data={
                "case_id": case.id,
                "visibility": visibility.value,
                "supplier_id": supplier_id,
                "files": [f.id for f in stored],
            },
        )
        _tell(
            NotificationKind.message_posted,
            actor,
            case,
            visibility,
            supplier_id=supplier_id,
            message_id=message.id,
            visibility=visibility.value,
        )
    return message


# --- jobs -------------------------------------------------------------------------------------


def escalate_overdue(today: date, limit: int | None = None) -> int:
    """Escalate overdue actions not yet escalated for their deadline in force (at most ``limit``)
    to the case's coordinators (the lead, or all); returns how many. Running it again escalates
    nothing new, so a caller may commit and call again until it returns 0."""
    query = (
        select(CorrectiveAction)
        .join(Case, Case.id == CorrectiveAction.case_id)
        .where(
            deadlines.overdue_clause(today),
            CorrectiveAction.escalated_dt.is_(None),
            Case.state != CaseState.closed,
        )
        .options(selectinload(CorrectiveAction.case))
        .order_by(CorrectiveAction.id)
    )
    if limit is not None:
        query = query.limit(limit)
    actions = list(db.session.scalars(query))
    now = utcnow()
    for action in actions:
        case = action.case
        due = deadlines.due_date(action)
        phase = deadlines.due_phase(action)
        action.escalated_dt = now
        _event(
            case,
            EventKind.action_escalated,
            None,
            visibility=Visibility.internal,
            action=action,
            due_date=due,
        )
        db.session.flush()
        audit.record(
            "action.escalate",
            f"Escalated corrective action {action.id} of case {case.reference}: the {phase} deadline "
            f"{due} passed",
            obj=action,
            data={"phase": phase, "due_date": due, "state": action.state.value},
        )
        notify(
            coordinators_of(case),
            NotificationKind.action_escalated,
            case=case,
            action=action,
            params=_params(case, action, phase=phase, due_date=due),
            dedupe_key=f"action_escalated:{action.id}:{phase}:{due.isoformat() if due else ''}",
        )
    if actions:
        logger.info("escalated %s overdue corrective action(s)", len(actions))
    return len(actions)
