"""Schemas of the administration API: the audit log."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from monitoring.accounts.schemas import UserRefSchema
from monitoring.core.schemas import BaseSchema, PageArgs, TimeRangeArgs


class AuditEntrySchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    created_dt = fields.AwareDateTime(dump_only=True)
    actor_id = fields.Integer(dump_only=True, allow_none=True)
    actor = fields.Nested(UserRefSchema, dump_only=True, allow_none=True)
    action = fields.String(dump_only=True)
    object_type = fields.String(dump_only=True, allow_none=True)
    object_id = fields.String(dump_only=True, allow_none=True)
    summary = fields.String(dump_only=True, metadata={"description": _l("Plain English, never translated.")})
    data = fields.Dict(attribute="data_dict", dump_only=True)
    prev_hash = fields.String(dump_only=True)
    hash = fields.String(dump_only=True)


class ListAuditArgs(PageArgs, TimeRangeArgs):
    action = fields.String(validate=validate.Length(max=64))
    actor_id = fields.Integer()
    object_type = fields.String(validate=validate.Length(max=64))
    object_id = fields.String(validate=validate.Length(max=64))
