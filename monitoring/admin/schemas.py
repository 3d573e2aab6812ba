"""Schemas of the administration API: the audit log."""

from __future__ import annotations

from marshmallow import fields, validate

from monitoring.accounts.schemas import AuditEntrySchema as AuditEntrySchema  # moved: testimony uses it too
from monitoring.core.schemas import Integer, PageArgs, TimeRangeArgs


class ListAuditArgs(PageArgs, TimeRangeArgs):
    action = fields.String(validate=validate.Length(max=64))
    actor_id = Integer()
    object_type = fields.String(validate=validate.Length(max=64))
    object_id = fields.String(validate=validate.Length(max=64))
