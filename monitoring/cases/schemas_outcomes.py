"""Input and output schemas of what workers are told and asked (released statuses, validation).

Kept apart from :mod:`.schemas` and :mod:`.output_schemas` for size; the API and the pages use
them as they use the others.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields

from monitoring.core.schemas import BaseSchema, Integer
from monitoring.testimony.models_outcomes import ValidationQuestion, WorkerStatus

# --- input -----------------------------------------------------------------------------------


class ReleaseStatusArgs(BaseSchema):
    status = fields.Enum(
        WorkerStatus,
        by_value=True,
        required=True,
        metadata={"description": _l("One of the fixed statuses; workers read it in their language.")},
    )
    report_id = Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        metadata={"description": _l("One report linked to the case's findings; null: every linked report.")},
    )


class AskWorkersArgs(BaseSchema):
    finding_id = Integer(
        required=True, strict=True, metadata={"description": _l("A priority finding of the case.")}
    )
    question = fields.Enum(
        ValidationQuestion,
        by_value=True,
        required=True,
        metadata={"description": _l("One of the questions that fit the finding's standard.")},
    )


# --- output ----------------------------------------------------------------------------------


class WorkerStatusReleaseSchema(BaseSchema):
    """A status released to workers. ``report_id`` is only given to the case's monitors."""

    id = Integer(dump_only=True)
    status = fields.Enum(WorkerStatus, by_value=True, dump_only=True)
    title = fields.String(dump_only=True, metadata={"description": _l("The status in your language.")})
    to_every_report = fields.Boolean(dump_only=True)
    report_id = Integer(dump_only=True, allow_none=True)
    released_dt = fields.AwareDateTime(dump_only=True)
    released_by = fields.String(dump_only=True, allow_none=True)
    withdrawn_dt = fields.AwareDateTime(dump_only=True, allow_none=True)


class QuestionCountsSchema(BaseSchema):
    """Answers to one question; null counts are suppressed (below 5) for buyers and suppliers."""

    question = fields.Enum(ValidationQuestion, by_value=True, dump_only=True)
    title = fields.String(dump_only=True)
    yes = Integer(dump_only=True, allow_none=True)
    no = Integer(dump_only=True, allow_none=True)
    partly = Integer(dump_only=True, allow_none=True)
    waiting = Integer(
        dump_only=True, allow_none=True, metadata={"description": _l("Asked and not answered yet.")}
    )
    answered = Integer(dump_only=True, allow_none=True)
    suppressed = fields.Boolean(dump_only=True)


class AskableFindingSchema(BaseSchema):
    finding_id = Integer(dump_only=True)
    standard = fields.String(dump_only=True)
    questions = fields.List(fields.Enum(ValidationQuestion, by_value=True), dump_only=True)
    reports = Integer(dump_only=True, allow_none=True)


class ValidationSummarySchema(BaseSchema):
    """How the workers answered the case's validation questions."""

    counts = fields.List(fields.Nested(QuestionCountsSchema), dump_only=True)
    total = Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("Every answer together; null when suppressed.")},
    )
    findings = fields.List(
        fields.Nested(AskableFindingSchema),
        dump_only=True,
        metadata={"description": _l("For the case's monitors: the priority findings and their questions.")},
    )
    small_cell = Integer(dump_only=True)


class AskedWorkersSchema(BaseSchema):
    question = fields.Enum(ValidationQuestion, by_value=True, dump_only=True)
    asked = Integer(dump_only=True, metadata={"description": _l("Reports whose worker was asked.")})
    without_receipt = Integer(
        dump_only=True, metadata={"description": _l("Reports without a receipt: not asked.")}
    )
