"""Helpers every case operation uses: text and enum checks, timeline events, notices."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from monitoring.accounts.models import User
from monitoring.cases.audience import case_audience
from monitoring.cases.files import (
    PreparedFile,
    store_files,
)
from monitoring.cases.models import (
    Case,
    CaseEvent,
    CorrectiveAction,
    EventKind,
    Finding,
    Severity,
    Visibility,
)
from monitoring.cases.workflow import (
    ACTION_TRANSITIONS,
    CASE_TRANSITIONS,
    Transition,
    allowed,
)
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.notifications.models import NotificationKind
from monitoring.notifications.outbox import notify
from monitoring.supplychain.models import Site

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


def _store(actor: User, case: Case, prepared: list[PreparedFile], **parent: Any) -> list[Any]:
    return store_files(actor, case, prepared, **parent) if prepared else []


def _site(site_id: int | None, field_name: str = "site_id") -> Site:
    site = db.session.get(Site, site_id) if site_id is not None else None
    if site is None:
        raise OperationError(_l("Choose the site."), field=field_name)
    if site.merged_into_id is not None:
        raise OperationError(
            _l("This site was merged into another one; choose that one instead."), field=field_name
        )
    return site
