"""What the meeting pages and API read: a contract's meetings, for those who may see them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from monitoring.accounts.models import User
from monitoring.cases.meetings.operations import AgreedAction, MeetingData
from monitoring.cases.meetings.permissions import can_read_meetings, can_record_meeting
from monitoring.cases.models import ContractMeeting
from monitoring.core.db import db
from monitoring.supplychain.models import Contract
from monitoring.supplychain.permissions import visible_contracts
from monitoring.supplychain.services import load, require


def load_contract(user: User, contract_id: int, *, to_record: bool = False) -> Contract:
    """The contract, for whoever may read (or record) its meetings; 404 otherwise."""
    contract = load(visible_contracts(user), Contract.id == contract_id)
    require(can_record_meeting(user, contract) if to_record else can_read_meetings(user, contract))
    return contract


def contract_meetings(contract: Contract) -> list[ContractMeeting]:
    """The contract's meetings, the latest first, with their actions."""
    query = (
        select(ContractMeeting)
        .where(ContractMeeting.contract_id == contract.id)
        .options(selectinload(ContractMeeting.actions))
        .order_by(ContractMeeting.meeting_date.desc(), ContractMeeting.id.desc())
    )
    return list(db.session.scalars(query))


def meeting_data(args: dict[str, Any]) -> MeetingData:
    """The operation's input from ``RecordMeetingArgs``."""
    return MeetingData(
        meeting_date=args["meeting_date"],
        participants=args["participants"],
        notes=args.get("notes"),
        actions=[AgreedAction(a["text"], a["due_date"]) for a in args.get("actions") or []],
    )
