"""Input and output of the meetings API (the pages validate with the same ``Args``)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates

from monitoring.cases.meetings.operations import ACTION_MAX, ACTIONS_MAX, TEXT_MAX
from monitoring.core.schemas import BaseSchema, Integer


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError(_l("Write something here."))


class AgreedActionArgs(BaseSchema):
    text = fields.String(required=True, validate=[validate.Length(max=ACTION_MAX), _not_blank])
    due_date = fields.Date(required=True, metadata={"description": _l("Not before the meeting.")})


class RecordMeetingArgs(BaseSchema):
    meeting_date = fields.Date(required=True, metadata={"description": _l("Not in the future.")})
    participants = fields.String(
        required=True,
        validate=validate.Length(max=TEXT_MAX),
        metadata={"description": _l("Who took part, for the buyer and the supplier (protected).")},
    )
    notes = fields.String(
        load_default=None, validate=validate.Length(max=TEXT_MAX), metadata={"description": _l("Protected.")}
    )
    actions = fields.List(
        fields.Nested(AgreedActionArgs),
        load_default=list,
        validate=validate.Length(max=ACTIONS_MAX),
        metadata={"description": _l("The actions agreed, each with its due date.")},
    )

    @validates("participants")
    def _participants_given(self, value: str, **kwargs: Any) -> None:
        if not value.strip():
            raise ValidationError(_l("Say who took part."))


class MeetingActionSchema(BaseSchema):
    position = Integer()
    text = fields.String()
    due_date = fields.Date()


class ContractMeetingSchema(BaseSchema):
    id = Integer()
    contract_id = Integer()
    meeting_date = fields.Date()
    participants = fields.String()
    notes = fields.String(allow_none=True)
    actions = fields.List(fields.Nested(MeetingActionSchema))
    created_by = fields.String(attribute="created_by.name", allow_none=True)
    created_dt = fields.DateTime()


class ContractMeetingListSchema(BaseSchema):
    contract_id = Integer()
    meetings = fields.List(fields.Nested(ContractMeetingSchema))
