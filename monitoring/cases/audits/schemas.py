"""Input and output of the audits API (the pages validate with the same ``Args``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from monitoring.cases.audits.importing import MAX_ROWS
from monitoring.cases.audits.models import AuditFindingStatus
from monitoring.cases.audits.operations import NOTE_MAX
from monitoring.cases.models import Severity
from monitoring.core.schemas import BaseSchema, Integer
from monitoring.supplychain.schemas import FileUpload, UploadArgs
from monitoring.testimony.models import IssueCategory

YEAR_RANGE = validate.Range(min=2000, max=2100, error=_l("Give a year between %(min)d and %(max)d."))


class CrosswalkEntryArgs(BaseSchema):
    standard = fields.String(
        required=True,
        validate=validate.Length(max=16),
        metadata={"description": _l("A code of our standards, e.g. WH or FL-2.")},
    )
    rba_section = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=8),
        metadata={"description": _l("A section of the RBA Code of Conduct 8.0, e.g. A3.")},
    )
    issue_category = fields.Enum(
        IssueCategory,
        by_value=True,
        load_default=None,
        allow_none=True,
        metadata={
            "description": _l("A category of the worker issue checklist; a section, a category or both.")
        },
    )
    note = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=NOTE_MAX),
        metadata={"description": _l("Why the link holds.")},
    )


class CrosswalkEntrySchema(BaseSchema):
    id = Integer()
    rba_section = fields.String(allow_none=True)
    rba_section_title = fields.Method("_section_title", allow_none=True)
    standard = fields.String()
    issue_category = fields.Enum(IssueCategory, by_value=True, allow_none=True)
    note = fields.String(allow_none=True)
    updated_dt = fields.DateTime(allow_none=True)

    def _section_title(self, entry: object) -> str | None:
        from monitoring.cases.standards import section_title

        section = getattr(entry, "rba_section", None)
        return section_title(section) if section else None


class CrosswalkSchema(BaseSchema):
    entries = fields.List(fields.Nested(CrosswalkEntrySchema))


class ImportAuditsArgs(UploadArgs):
    file = FileUpload(
        required=True,
        metadata={
            "description": _l(
                "A CSV file (UTF-8) with the columns site, audit_date, audit_firm, code_section, finding, "
                "severity and status (docs/audits.md); at most %(num)d rows.",
                num=MAX_ROWS,
            )
        },
    )


class AuditFindingSchema(BaseSchema):
    id = Integer()
    rba_section = fields.String()
    severity = fields.Enum(Severity, by_value=True)
    status = fields.Enum(AuditFindingStatus, by_value=True)
    text = fields.String()


class SocialAuditSchema(BaseSchema):
    id = Integer()
    site_id = Integer()
    audit_date = fields.Date()
    firm = fields.String()
    findings = fields.List(fields.Nested(AuditFindingSchema))


class AuditImportResultSchema(BaseSchema):
    audits = fields.List(fields.Nested(SocialAuditSchema))
    findings = Integer()


class SiteAuditsArgs(BaseSchema):
    year = Integer(
        validate=YEAR_RANGE, metadata={"description": _l("The year looked at; the current year if left out.")}
    )


class SuppressedCountSchema(BaseSchema):
    count = Integer(allow_none=True)
    suppressed = fields.Boolean(metadata={"description": _l("True when the count is under 5 (affiliates).")})


class MonitorFindingRefSchema(BaseSchema):
    id = Integer()
    standard = fields.String()
    severity = fields.Enum(Severity, by_value=True)
    found_date = fields.Date()


class SectionRefSchema(BaseSchema):
    code = fields.String()
    title = fields.String()


class IssueCategoryRefSchema(BaseSchema):
    value = fields.String()
    title = fields.String()


class AuditStandardRowSchema(BaseSchema):
    code = fields.String()
    title = fields.String()
    rba_sections = fields.List(fields.Nested(SectionRefSchema))
    audit_findings_count = Integer()
    open_audit_findings_count = Integer()
    findings = fields.Nested(SuppressedCountSchema)
    worker_reports = fields.Nested(
        SuppressedCountSchema,
        metadata={"description": _l("Worker reports linked to the monitors' findings under the standard.")},
    )
    issue_categories = fields.List(
        fields.Nested(IssueCategoryRefSchema),
        metadata={"description": _l("The worker issue categories the crosswalk maps to the standard.")},
    )
    category_reports = fields.Nested(
        SuppressedCountSchema,
        metadata={
            "description": _l(
                "Worker reports about the site collected in the year (every monitor organisation's, erased "
                "ones left out) that name one of those categories; each report counted once."
            )
        },
    )
    passed_by_audit = fields.Boolean()
    contradiction = fields.Boolean(
        metadata={
            "description": _l(
                "An audit passed the standard while monitors' findings or worker reports of the year name it."
            )
        }
    )
    audit_findings = fields.List(fields.Nested(AuditFindingSchema))
    monitor_findings = fields.List(fields.Nested(MonitorFindingRefSchema))
    passed_by = fields.List(Integer())


class SiteAuditsSchema(BaseSchema):
    site_id = Integer()
    year = Integer()
    audits_count = Integer()
    audits = fields.List(fields.Nested(SocialAuditSchema))
    standards = fields.List(fields.Nested(AuditStandardRowSchema))
