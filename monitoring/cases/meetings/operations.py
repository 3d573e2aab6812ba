"""Record a contract follow-up meeting with its agreed actions. Audited; never commits."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l

from monitoring.accounts.models import User
from monitoring.cases.files import placeholder_ct
from monitoring.cases.meetings.permissions import can_record_meeting
from monitoring.cases.models import ContractMeeting, MeetingAction
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.supplychain.models import Contract

logger = logging.getLogger(__name__)

TEXT_MAX = 5000
ACTION_MAX = 2000
ACTIONS_MAX = 50


@dataclass
class AgreedAction:
    text: str
    due_date: date


@dataclass
class MeetingData:
    meeting_date: date
    participants: str
    notes: str | None = None
    actions: list[AgreedAction] = field(default_factory=list)


def record_meeting(actor: User, contract: Contract, data: MeetingData) -> ContractMeeting:
    """Record a meeting of the contract's buyer and supplier, with the actions agreed."""
    if not can_record_meeting(actor, contract):
        raise OperationError(_l("Only the contract's buyer or a coordinator records its meetings."))
    if data.meeting_date > utcnow().date():
        raise OperationError(_l("The meeting date cannot be in the future."), "meeting_date")
    participants = data.participants.strip()
    if not participants:
        raise OperationError(_l("Say who took part."), "participants")
    notes = (data.notes or "").strip()
    actions = [a for a in data.actions if a.text.strip()]
    for i, action in enumerate(actions):
        if action.due_date < data.meeting_date:
            raise OperationError(_l("An action cannot be due before the meeting."), f"actions.{i}.due_date")
    meeting = ContractMeeting(
        contract_id=contract.id,
        meeting_date=data.meeting_date,
        participants_ct=placeholder_ct(),
        notes_ct=placeholder_ct() if notes else None,
        created_by_id=actor.id,
        created_dt=utcnow(),
    )
    db.session.add(meeting)
    db.session.flush()
    meeting.participants = participants
    if notes:
        meeting.notes = notes
    for position, action in enumerate(actions, start=1):
        row = MeetingAction(
            meeting_id=meeting.id, position=position, text_ct=placeholder_ct(), due_date=action.due_date
        )
        db.session.add(row)
        db.session.flush()
        row.text = action.text.strip()
    db.session.flush()
    audit.record(
        "meeting.record",
        f"Recorded meeting {meeting.id} of contract {contract.id} on {data.meeting_date}",
        actor=actor,
        obj=meeting,
        data={
            "contract_id": contract.id,
            "meeting_date": data.meeting_date,
            "actions": len(actions),
            "due_dates": [a.due_date for a in actions],
        },
    )
    logger.info("meeting %s of contract %s recorded", meeting.id, contract.id)
    return meeting
