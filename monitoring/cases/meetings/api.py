"""JSON API of contract follow-up meetings: the same services as the pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from monitoring.cases.meetings import operations, services
from monitoring.cases.meetings.permissions import READER_ROLES, RECORDER_ROLES
from monitoring.cases.meetings.schemas import (
    ContractMeetingListSchema,
    ContractMeetingSchema,
    RecordMeetingArgs,
)
from monitoring.core.api import route
from monitoring.core.auth import roles
from monitoring.supplychain.services import current


@route(
    "/contracts/<int:contract_id>/meetings",
    summary=_l("A contract's follow-up meetings"),
    description=_l("For the contract's buyer, its supplier and coordinators; the latest first."),
    response=ContractMeetingListSchema,
)
@roles(*READER_ROLES)
def contract_meetings(contract_id: int) -> Any:
    contract = services.load_contract(current(), contract_id)
    return {"contract_id": contract.id, "meetings": services.contract_meetings(contract)}


@route(
    "/contracts/<int:contract_id>/meetings",
    method="POST",
    summary=_l("Record a follow-up meeting with the actions agreed"),
    description=_l("For the contract's buyer and coordinators."),
    args=RecordMeetingArgs,
    response=ContractMeetingSchema,
    status=201,
)
@roles(*RECORDER_ROLES)
def record_meeting(contract_id: int, args: dict[str, Any]) -> Any:
    user = current()
    contract = services.load_contract(user, contract_id, to_record=True)
    return operations.record_meeting(user, contract, services.meeting_data(args)), 201
