"""Schemas of the alternative names of sites (the site schemas nest :class:`SiteNameSchema`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from monitoring.core.schemas import BaseSchema, Integer


class SiteNameSchema(BaseSchema):
    id = Integer(dump_only=True)
    name = fields.String(dump_only=True)
    created_dt = fields.AwareDateTime(dump_only=True)


class AddSiteNameArgs(BaseSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=300),
        metadata={"description": _l("Another name of the site, in any script, e.g. its Chinese name.")},
    )
