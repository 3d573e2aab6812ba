"""Input schemas of findings, cases, corrective actions and the dialogue: one ``<Action>Args`` each.

The JSON API parses its input with them, and the pages hand their forms' data to the same ones
(:func:`monitoring.core.forms.form_args`), so a rule on an input is written once. The output
schemas are in :mod:`monitoring.cases.output_schemas`.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, post_load, validate, validates_schema
from werkzeug.datastructures import FileStorage

from monitoring.cases.files import MAX_FILES
from monitoring.cases.models import (
    MONETARY_REMEDIES,
    ActionState,
    CaseOutcome,
    CaseState,
    EvidenceType,
    RemedyKind,
    Severity,
    Visibility,
)
from monitoring.cases.operations import MAX_REMEDY_TEXT, MAX_SUMMARY, MAX_TEXT
from monitoring.cases.standards import STANDARDS, groups
from monitoring.core.schemas import BaseSchema, DecimalString, Integer, PageArgs

MAX_REASON_LENGTH = 2000
MAX_IDS = 100

# --- input --------------------------------------------------------------------------------------


def _text(*, required: bool = True, max_length: int = MAX_TEXT, **kwargs: Any) -> fields.String:
    return fields.String(required=required, validate=validate.Length(min=1, max=max_length), **kwargs)


def _ids(**kwargs: Any) -> fields.List:
    return fields.List(
        Integer(strict=True, validate=validate.Range(min=1)),
        validate=validate.Length(min=1, max=MAX_IDS),
        **kwargs,
    )


_GROUPS = [g.code for g in groups()]
_CODES = [s.code for s in STANDARDS]


class ListFindingsArgs(PageArgs):
    site_id = Integer()
    category = fields.String(
        validate=validate.OneOf(_GROUPS), metadata={"description": _l("A top-level standard, e.g. FL.")}
    )
    severity = fields.Enum(Severity, by_value=True)
    in_case = fields.Boolean(metadata={"description": _l("true: only findings in a case; false: none.")})


class FindingArgs(BaseSchema):
    standard = fields.String(
        required=True,
        validate=validate.OneOf(_CODES),
        metadata={"description": _l("A code from /standards.")},
    )
    severity = fields.Enum(Severity, by_value=True, required=True)
    workers_affected = Integer(allow_none=True, strict=True, validate=validate.Range(min=0))
    evidence_type = fields.Enum(EvidenceType, by_value=True, required=True)
    found_date = fields.Date(allow_none=True, metadata={"description": _l("Today when left out.")})
    summary = _text(
        max_length=MAX_SUMMARY,
        metadata={"description": _l("Shareable with buyers and coordinators; no worker identity.")},
    )
    report_ids = fields.List(
        Integer(strict=True, validate=validate.Range(min=1)),
        validate=validate.Length(max=MAX_IDS),
        load_default=list,
        metadata={"description": _l("Worker reports of your organisation that support it.")},
    )


class FileFindingArgs(FindingArgs):
    site_id = Integer(required=True, strict=True)


class UpdateFindingArgs(FindingArgs):
    """Fields left out keep their value."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)

    report_ids = fields.List(
        Integer(strict=True, validate=validate.Range(min=1)),
        validate=validate.Length(max=MAX_IDS),
        metadata={"description": _l("Replaces the supporting worker reports.")},
    )


class ListCasesArgs(PageArgs):
    state = fields.Enum(CaseState, by_value=True)
    severity = fields.Enum(Severity, by_value=True)
    overdue = fields.Boolean(
        metadata={"description": _l("true: only cases with an open action past its deadline; false: none.")}
    )
    country = fields.String(
        validate=validate.Regexp(r"^[A-Za-z]{2}$"), metadata={"description": _l("ISO 3166-1 alpha-2 code.")}
    )
    category = fields.String(
        validate=validate.OneOf(_GROUPS),
        metadata={"description": _l("Cases with a finding under this top-level standard, e.g. FL.")},
    )
    site_id = Integer()
    q = fields.String(
        validate=validate.Length(max=100),
        metadata={"description": _l("Text in the case's reference, its site's name or a supplier's name.")},
    )


class OpenCaseArgs(BaseSchema):
    site_id = Integer(required=True, strict=True)
    finding_ids = _ids(required=True, metadata={"description": _l("Findings at the site in no case yet.")})
    monitor_organisation_id = Integer(
        allow_none=True,
        strict=True,
        metadata={"description": _l("The monitoring organisation to work the case (coordinators).")},
    )
    lead_coordinator_id = Integer(allow_none=True, strict=True)


# Case transitions made through /transitions; closing and reopening have their own routes.
CASE_TRANSITION_NAMES = ("start_dialogue", "start_remediation", "start_verification", "resume_remediation")


class TransitionCaseArgs(BaseSchema):
    name = fields.String(required=True, validate=validate.OneOf(CASE_TRANSITION_NAMES))
    reason = _text(
        required=False,
        max_length=MAX_REASON_LENGTH,
        metadata={"description": _l("Needed to resume remediation.")},
    )


class RemedyArgs(BaseSchema):
    kind = fields.Enum(RemedyKind, by_value=True, required=True)
    amount = DecimalString(
        places=2,
        allow_none=True,
        metadata={"description": _l("Needed for money: fees repaid, back pay. Not negative.")},
    )
    currency = fields.String(
        allow_none=True,
        validate=validate.Regexp(r"^[A-Za-z]{3}$", error=_l("Give a three-letter ISO 4217 code, e.g. USD.")),
        metadata={"description": _l("ISO 4217 code; with an amount.")},
    )
    workers_covered = Integer(allow_none=True, strict=True, validate=validate.Range(min=0))
    description = _text(required=False, allow_none=True, max_length=MAX_REMEDY_TEXT)

    @validates_schema
    def _money(self, data: dict[str, Any], **kwargs: Any) -> None:
        amount, currency = data.get("amount"), data.get("currency")
        if amount is not None and amount < 0:
            raise ValidationError(_l("The amount cannot be negative."), "amount")
        if data.get("kind") in MONETARY_REMEDIES and amount is None:
            raise ValidationError(_l("Give the amount paid to workers."), "amount")
        if amount is not None and not currency:
            raise ValidationError(_l("Give the currency of the amount."), "currency")
        if currency and amount is None:
            raise ValidationError(_l("Give the amount in this currency."), "amount")

    @post_load
    def _upper(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("currency"):
            data["currency"] = data["currency"].upper()
        return data


class CloseCaseArgs(BaseSchema):
    outcome = fields.Enum(CaseOutcome, by_value=True, required=True)
    note = _text(required=False, allow_none=True)
    remedies = fields.List(fields.Nested(RemedyArgs), load_default=list, validate=validate.Length(max=20))
    workers_consulted = fields.Boolean(
        load_default=False,
        metadata={
            "description": _l(
                "You confirm that the affected workers were consulted; needed for priority findings."
            )
        },
    )
    no_validation_reason = _text(
        required=False,
        allow_none=True,
        max_length=MAX_REASON_LENGTH,
        metadata={
            "description": _l(
                "Why the workers could not be asked to confirm the remedy: needed to close a "
                "priority case as resolved when no worker has answered a validation question."
            )
        },
    )


class ReasonArgs(BaseSchema):
    reason = _text(max_length=MAX_REASON_LENGTH)


class ReopenCaseArgs(ReasonArgs):
    """Why the case is reopened."""


class SetLeadArgs(BaseSchema):
    coordinator_id = Integer(
        required=True, allow_none=True, strict=True, metadata={"description": _l("Null: no lead.")}
    )


class AddFindingsArgs(BaseSchema):
    finding_ids = _ids(required=True)


class ListMessagesArgs(PageArgs):
    """Newest first."""


class PostMessageArgs(BaseSchema):
    visibility = fields.Enum(
        Visibility,
        by_value=True,
        required=True,
        metadata={
            "description": _l(
                "internal: monitors and coordinators; buyers: + affiliates; parties: + a supplier."
            )
        },
    )
    body = _text()
    supplier_id = Integer(
        allow_none=True,
        metadata={"description": _l("The supplier a `parties` message is for (suppliers: their own).")},
    )


MULTIPART = "multipart/form-data"


class FilePart(fields.Field):
    """A file of a ``multipart/form-data`` body (a string of bytes in OpenAPI)."""

    default_error_messages = {"invalid": _l("Send a file in this field.")}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            metadata={"type": "string", "format": "binary", **kwargs.pop("metadata", {})}, **kwargs
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage) or not value.filename:
            raise self.make_error("invalid")
        return value


def _files(description: Any) -> fields.List:
    return fields.List(
        FilePart(), validate=validate.Length(max=MAX_FILES), metadata={"description": description}
    )


class PostMessageWithFilesArgs(PostMessageArgs):
    """The fields of a message, and its files, as ``multipart/form-data``."""

    content_type = MULTIPART

    files = _files(_l("Files to attach (PDF, photos, audio, video), each in a part named `files`."))


class ListActionsArgs(PageArgs):
    state = fields.Enum(ActionState, by_value=True)
    overdue = fields.Boolean(
        metadata={"description": _l("true: only actions whose deadline in force has passed; false: none.")}
    )
    case_id = Integer()
    awaiting_decision = fields.Boolean(
        metadata={"description": _l("true: only the plans awaiting your decision, oldest first.")}
    )


class RequestActionArgs(BaseSchema):
    finding_id = Integer(required=True, strict=True)
    supplier_id = Integer(
        required=True, strict=True, metadata={"description": _l("A supplier organisation the site concerns.")}
    )
    request = _text(metadata={"description": _l("What the supplier is asked to do.")})
    plan_due_date = fields.Date(
        allow_none=True, metadata={"description": _l("From the severity when left out.")}
    )
    closure_due_date = fields.Date(
        allow_none=True, metadata={"description": _l("From the severity when left out.")}
    )


class SubmitPlanArgs(BaseSchema):
    root_cause = _text()
    corrective = _text(metadata={"description": _l("The corrective action.")})
    preventive = _text(metadata={"description": _l("The preventive action.")})
    target_date = fields.Date(required=True, metadata={"description": _l("When it will be done.")})


class DecideOnPlanArgs(BaseSchema):
    accept = fields.Boolean(required=True)
    reason = _text(
        required=False, max_length=MAX_REASON_LENGTH, metadata={"description": _l("Needed to reject.")}
    )

    @validates_schema
    def _reason(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("accept") is False and not data.get("reason"):
            raise ValidationError(_l("Say why the plan is rejected."), "reason")


class ReportImplementationArgs(BaseSchema):
    """What the supplier did."""

    description = _text()


class ReportImplementationWithFilesArgs(ReportImplementationArgs):
    """What the supplier did, and its evidence, as ``multipart/form-data``."""

    content_type = MULTIPART

    files = _files(_l("Evidence files (PDF, photos, audio, video), each in a part named `files`."))


class VerifyActionArgs(BaseSchema):
    verified = fields.Boolean(required=True)
    note = _text(
        required=False, max_length=MAX_TEXT, metadata={"description": _l("Needed when not verified.")}
    )

    @validates_schema
    def _note(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("verified") is False and not data.get("note"):
            raise ValidationError(_l("Say what was not verified."), "note")


class ChangeDeadlinesArgs(BaseSchema):
    plan_due_date = fields.Date(required=True)
    closure_due_date = fields.Date(required=True)
    reason = _text(max_length=MAX_REASON_LENGTH)
