"""Input and output of the clause-compliance API (the pages validate with the same ``Args``)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates

from monitoring.cases.compliance.operations import REASON_MAX
from monitoring.cases.models import ClauseStatus
from monitoring.core.schemas import BaseSchema, Integer

YEAR_RANGE = validate.Range(min=2000, max=2100, error=_l("Give a year between %(min)d and %(max)d."))


class ComplianceYearArgs(BaseSchema):
    year = Integer(
        validate=YEAR_RANGE, metadata={"description": _l("The reporting year; the current year if left out.")}
    )


class AssessClauseArgs(BaseSchema):
    year = Integer(required=True, validate=YEAR_RANGE, metadata={"description": _l("The reporting year.")})
    status = fields.Enum(ClauseStatus, by_value=True, required=True)
    reason = fields.String(
        required=True,
        validate=validate.Length(max=REASON_MAX),
        metadata={"description": _l("Why the clause has this status (required).")},
    )

    @validates("reason")
    def _reason_given(self, value: str, **kwargs: Any) -> None:
        if not value.strip():
            raise ValidationError(_l("Say why the clause has this status."))


class ChooseFindingClausesArgs(BaseSchema):
    clause_ids = fields.List(
        Integer(strict=True),
        required=True,
        validate=validate.Length(max=200),
        metadata={"description": _l("Every clause the finding breaches (an empty list: none).")},
    )


# --- output ----------------------------------------------------------------------------------


class ClauseAssessmentSchema(BaseSchema):
    id = Integer()
    clause_id = Integer()
    year = Integer()
    status = fields.Enum(ClauseStatus, by_value=True)
    reason = fields.String()
    set_by = fields.String(attribute="set_by.name")
    set_dt = fields.DateTime()


class ComplianceCaseSchema(BaseSchema):
    id = Integer()
    reference = fields.String()
    state = fields.String(attribute="state.value")


class ClauseComplianceSchema(BaseSchema):
    clause_id = Integer(attribute="clause.id")
    position = Integer(attribute="clause.position")
    kind = fields.String(attribute="clause.kind.value")
    reference = fields.String(attribute="clause.reference")
    status = fields.Enum(ClauseStatus, by_value=True)
    derived_status = fields.Enum(ClauseStatus, by_value=True, attribute="derived")
    manual = fields.Nested(ClauseAssessmentSchema, allow_none=True)
    finding_ids = fields.Function(lambda row: [f.id for f in row.findings])
    cases = fields.List(fields.Nested(ComplianceCaseSchema))


class ContractComplianceSchema(BaseSchema):
    contract_id = Integer()
    year = Integer()
    clauses = fields.List(fields.Nested(ClauseComplianceSchema))


class SupplierComplianceSchema(BaseSchema):
    supplier_id = Integer(attribute="supplier.id")
    supplier = fields.String(attribute="supplier.name")
    contracts = Integer()
    counts = fields.Function(lambda s: {status.value: n for status, n in s.counts.items()})


class ComplianceSummarySchema(BaseSchema):
    year = Integer()
    suppliers = fields.List(fields.Nested(SupplierComplianceSchema))


class FindingClauseSchema(BaseSchema):
    id = Integer()
    contract_id = Integer()
    contract_reference = fields.String(attribute="contract.reference")
    kind = fields.String(attribute="kind.value")
    reference = fields.String()


class FindingClausesSchema(BaseSchema):
    finding_id = Integer()
    chosen = fields.Boolean(metadata={"description": "False: the defaults apply."})
    clauses = fields.List(fields.Nested(FindingClauseSchema))
