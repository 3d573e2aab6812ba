"""Cases: open, add findings, lead, move through the states, close and reopen."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import list_currencies
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from monitoring.accounts.models import User
from monitoring.cases.models import (
    MONETARY_REMEDIES,
    Case,
    CaseClosure,
    CaseOutcome,
    CaseState,
    EventKind,
    Finding,
    Remedy,
    RemedyKind,
    Severity,
    Visibility,
)
from monitoring.cases.operations.common import (
    MAX_AMOUNT,
    MAX_REMEDIES,
    MAX_REMEDY_TEXT,
    MAX_WORKERS,
    _check,
    _enum,
    _event,
    _optional_text,
    _refuse,
    _site,
    _tell,
    _text,
    highest_severity,
)
from monitoring.cases.outcomes import total_answers
from monitoring.cases.permissions import (
    can_add_findings,
    can_lead_cases,
    can_open_case,
    can_set_lead,
    leads_cases_opened,
    opens_for_own_organisation,
    visible_findings,
)
from monitoring.cases.workflow import (
    CASE_TRANSITIONS,
    Transition,
)
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt
from monitoring.core.types import utcnow
from monitoring.notifications.models import NotificationKind
from monitoring.testimony import operations_retaliation

logger = logging.getLogger(__name__)

MAX_NO_VALIDATION_REASON = 2000


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
    if lead is None or not can_lead_cases(lead):
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


def _add_and_flush(case: Case) -> None:
    db.session.add(case)
    db.session.flush()


def _insert_with_reference(case: Case, year: int, attempts: int = 5) -> None:
    """Insert the case under the next free reference; a concurrent opening that took the same
    reference first makes this one take the next."""
    for number in range(attempts):
        case.reference = next_reference(year)
        try:
            attempt(_add_and_flush, case)
            return
        except IntegrityError:
            if number == attempts - 1:
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
    if opens_for_own_organisation(actor) and organisation_id != actor.organisation_id:
        raise OperationError(_l("Choose findings of your own organisation."), field="finding_ids")
    if monitor_organisation_id is not None and monitor_organisation_id != organisation_id:
        raise OperationError(
            _l("The case is worked by the organisation that filed its findings."),
            field="monitor_organisation_id",
        )
    lead = _lead(lead_coordinator_id)
    if lead is None and leads_cases_opened(actor):
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
    # A priority case closed as resolved without any worker's validation answer: why the
    # workers could not be asked.
    no_validation_reason: str | None = None


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


def _validation(case: Case, outcome: CaseOutcome, reason: str | None) -> tuple[int | None, str | None]:
    """For a priority case: the validation answers it counts, and the reason given when none.

    Closing a priority case as resolved needs the workers' own confirmation (at least one
    validation answer) or a written reason why they could not be asked.
    """
    reason = _optional_text(reason, "no_validation_reason", MAX_NO_VALIDATION_REASON)
    if case.severity is not Severity.priority:
        return None, reason
    answers = total_answers(case)
    if outcome is CaseOutcome.resolved and answers == 0 and reason is None:
        raise OperationError(
            _l(
                "No worker has confirmed the remedy yet. To close this priority case as resolved, "
                "ask the workers first (validation questions), or explain why they could not be asked."
            ),
            field="no_validation_reason",
        )
    return answers, reason


def close_case(actor: User, case: Case, data: ClosureData) -> CaseClosure:
    """A monitor closes a case after verification: the outcome and the remedy workers got.

    For a case with a priority finding the monitor confirms the affected workers were consulted,
    and closing it as resolved needs the workers' validation answers or a reason why there are none.
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
    answers, no_validation_reason = _validation(case, outcome, data.no_validation_reason)
    now = utcnow()
    closure = CaseClosure(
        case=case,
        outcome=outcome,
        closed_by_id=actor.id,
        closed_dt=now,
        workers_consulted_by_id=actor.id if data.workers_consulted else None,
        workers_consulted_dt=now if data.workers_consulted else None,
        validation_answers=answers,
        remedies=[Remedy(**{k: v for k, v in r.items() if k != "description"}) for r in cleaned],
    )
    db.session.add(closure)
    old = _move_case(actor, case, transition, None)
    case.outcome = outcome
    case.closed_dt = now
    db.session.flush()
    closure.note = note
    closure.no_validation_reason = no_validation_reason
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
            "validation_answers": answers,
            "no_validation_reason": no_validation_reason is not None,
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
    # Retaliation watch: the workers of the linked reports are asked again after the closure.
    report_ids = [link.report_id for finding in case.findings for link in finding.report_links]
    operations_retaliation.schedule_after_closure(report_ids, case.id, now)
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
