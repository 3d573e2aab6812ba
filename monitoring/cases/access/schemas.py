"""Input and output of the factory-access API (the pages validate with the same ``Args``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from monitoring.cases.access.operations import NOTE_MAX
from monitoring.cases.models import AccessOutcome
from monitoring.core.schemas import BaseSchema, Integer


class RecordAccessArgs(BaseSchema):
    requested_of_id = Integer(
        required=True, metadata={"description": _l("The supplier organisation asked for access.")}
    )
    access_date = fields.Date(
        required=True, metadata={"description": _l("The date of the request or visit; not in the future.")}
    )
    outcome = fields.Enum(
        AccessOutcome,
        by_value=True,
        required=True,
        metadata={"description": _l("refused files a major finding at the site, linked to the record.")},
    )
    note = fields.String(
        load_default=None,
        validate=validate.Length(max=NOTE_MAX),
        metadata={"description": _l("The monitor's note (protected).")},
    )


class SiteAccessSchema(BaseSchema):
    id = Integer()
    site_id = Integer()
    organisation = fields.String(attribute="organisation.name")
    requested_of_id = Integer()
    requested_of = fields.String(attribute="requested_of.name")
    access_date = fields.Date()
    outcome = fields.Enum(AccessOutcome, by_value=True)
    note = fields.String(allow_none=True)
    finding_id = Integer(allow_none=True)
    created_dt = fields.DateTime()


class SiteAccessListSchema(BaseSchema):
    site_id = Integer()
    records = fields.List(fields.Nested(SiteAccessSchema))
