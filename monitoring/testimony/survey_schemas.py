"""API schemas of survey imports that can be corrected: undo, and a report's corrected site."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

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


class SurveyQuestionColumnSchema(BaseSchema):
    """A question the import reads, and the file's column proposed or chosen for it."""

    key = fields.String(dump_only=True)
    label = fields.String(dump_only=True)
    required = fields.Boolean(dump_only=True)
    column = fields.String(dump_only=True, allow_none=True)


class SurveyColumnsSchema(BaseSchema):
    """A held survey upload's columns against the questions, with the mapping proposed."""

    job_id = Integer(dump_only=True)
    state = fields.String(dump_only=True)
    targets = fields.List(fields.Nested(SurveyQuestionColumnSchema), dump_only=True)
    columns = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": _l("The file's header row; no answer is read for this.")},
    )
    mapping = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), dump_only=True)
    unmapped_columns = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": _l("Columns no question takes: they would not be imported.")},
    )
    problems = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        dump_only=True,
        metadata={"description": _l("Question -> why the mapping cannot be used as it is.")},
    )
    saved_mapping = fields.String(
        dump_only=True, metadata={"description": _l("The saved mapping the proposal comes from, if any.")}
    )


class ConfirmSurveyColumnsArgs(BaseSchema):
    """The columns a monitor confirms for a held survey upload."""

    mapping = fields.Dict(
        keys=fields.String(validate=validate.Length(max=60)),
        values=fields.String(allow_none=True, validate=validate.Length(max=2000)),
        required=True,
        metadata={"description": _l("Question -> the file's column that holds it (null: not in the file).")},
    )
    save_as = fields.String(
        load_default="",
        validate=validate.Length(max=120),
        metadata={
            "description": _l("Save the mapping under this name for the next export of the same form.")
        },
    )
