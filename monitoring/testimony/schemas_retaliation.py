"""Input and output schemas of the retaliation watch (metadata only: never a worker's comment)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields

from monitoring.accounts.schemas import UserRefSchema
from monitoring.core.schemas import BaseSchema, Integer, PageArgs
from monitoring.testimony.models import RetaliationRisk
from monitoring.testimony.models_retaliation import AlertSource, AlertState, CheckInAnswer, CheckInSeries


class RetaliationCheckInSchema(BaseSchema):
    """A check-in of a report: when it is shown to the worker and what they answered."""

    id = Integer(dump_only=True)
    series = fields.Enum(CheckInSeries, by_value=True, dump_only=True)
    case_id = Integer(dump_only=True, allow_none=True)
    days = Integer(dump_only=True)
    due_dt = fields.AwareDateTime(dump_only=True)
    answer = fields.Enum(CheckInAnswer, by_value=True, dump_only=True, allow_none=True)
    answered_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    comment = fields.Function(
        lambda c: c.message_id is not None,
        dump_only=True,
        metadata={
            "type": "boolean",
            "description": _l("The worker added a comment (sealed, in the report's conversation)."),
        },
    )


class RetaliationAlertSchema(BaseSchema):
    """An alert raised by a worker's "yes" at a check-in or by their flag."""

    id = Integer(dump_only=True)
    report_id = Integer(dump_only=True)
    country = fields.Function(lambda a: a.report.country, dump_only=True, metadata={"type": "string"})
    source = fields.Enum(AlertSource, by_value=True, dump_only=True)
    check_in_id = Integer(dump_only=True, allow_none=True)
    comment = fields.Function(
        lambda a: a.message_id is not None,
        dump_only=True,
        metadata={
            "type": "boolean",
            "description": _l("The worker added a comment (sealed, in the report's conversation)."),
        },
    )
    raised_dt = fields.AwareDateTime(dump_only=True)
    state = fields.Enum(AlertState, by_value=True, dump_only=True)
    handled_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    handled_by = fields.Nested(UserRefSchema, dump_only=True, allow_none=True)
    finding_id = Integer(dump_only=True, allow_none=True)
    case_id = Integer(dump_only=True, allow_none=True)
    escalated_dt = fields.AwareDateTime(dump_only=True, allow_none=True)


class ListRetaliationAlertsArgs(PageArgs):
    state = fields.Enum(AlertState, by_value=True)
    report_id = Integer()


class SetRetaliationRiskArgs(BaseSchema):
    retaliation_risk = fields.Enum(
        RetaliationRisk,
        by_value=True,
        required=True,
        allow_none=True,
        metadata={"description": _l("The risk of retaliation for the worker; null when unknown.")},
    )
