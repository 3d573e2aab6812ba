"""The publication actions' input and output, and the search box's query."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from monitoring.core.schemas import BaseSchema, Integer

MAX_QUERY = 100


class ProposePublicationArgs(BaseSchema):
    """Nothing to fill in: the lead coordinator proposes the case as it stands."""


class ApprovePublicationArgs(BaseSchema):
    """Nothing to fill in: a monitor of the case's organisation approves the proposal."""


class WithdrawPublicationArgs(BaseSchema):
    """Nothing to fill in: the lead coordinator or a monitor of the case's organisation withdraws."""


class PublicationSchema(Schema):
    case_id = Integer(dump_only=True)
    status = fields.String(
        dump_only=True,
        metadata={"description": _l("none, proposed, published or withdrawn.")},
    )
    proposed_dt = fields.DateTime(dump_only=True, allow_none=True)
    approved_dt = fields.DateTime(dump_only=True, allow_none=True)
    withdrawn_dt = fields.DateTime(dump_only=True, allow_none=True)


class SearchArgs(BaseSchema):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=MAX_QUERY),
        metadata={
            "description": _l("Text in a case reference, a site's name, a supplier's name or a finding.")
        },
    )
