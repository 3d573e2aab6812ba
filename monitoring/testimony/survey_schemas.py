"""API schemas of survey imports that can be corrected: undo, and a report's corrected site."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields

from monitoring.core.schemas import BaseSchema, Integer
from monitoring.testimony.schemas import SurveyImportSchema


class CorrectableSurveyImportSchema(SurveyImportSchema):
    """A survey import with whether, when and by whom it was undone."""

    undone_dt = fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("When the import was undone (its reports erased); null if not.")},
    )
    undone_by_id = Integer(dump_only=True, allow_none=True)


class CorrectReportSiteArgs(BaseSchema):
    """The workplace a report names, corrected by a monitor."""

    site_id = Integer(
        required=True,
        allow_none=True,
        metadata={"description": _l("The site the worker works at; null to leave the report unlinked.")},
    )


class CorrectedReportSiteSchema(BaseSchema):
    """A report's workplace after a correction."""

    id = Integer(dump_only=True)
    site_id = Integer(dump_only=True, allow_none=True)
    proposed_site_id = Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("The site fuzzy matching proposes, until a monitor decides.")},
    )
    country = fields.String(dump_only=True, allow_none=True)
