"""Input and output of filing a retaliation finding from a worker's retaliation alert."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from monitoring.cases.operations import MAX_SUMMARY, MAX_WORKERS
from monitoring.core.schemas import BaseSchema, Integer
from monitoring.testimony.operations_retaliation import DEFAULT_FINDING_SUMMARY


def _default_summary() -> str:
    return str(DEFAULT_FINDING_SUMMARY)


class FileRetaliationFindingArgs(BaseSchema):
    summary = fields.String(
        load_default=_default_summary,
        validate=validate.Length(min=1, max=MAX_SUMMARY),
        metadata={
            "description": _l(
                "Shareable summary, shown to the buyers and the supplier: never say who the worker is. "
                "By default a sentence saying a worker was punished for speaking up."
            )
        },
    )
    workers_affected = Integer(
        load_default=1,
        allow_none=True,
        validate=validate.Range(min=0, max=MAX_WORKERS),
    )
    site_id = Integer(
        load_default=None,
        allow_none=True,
        metadata={"description": _l("Required when the report names no site of the registry.")},
    )


class RetaliationFindingSchema(BaseSchema):
    """What filing produced: the finding, its case and whether the case was opened for it."""

    alert_id = Integer(dump_only=True)
    finding_id = Integer(dump_only=True)
    case_id = Integer(dump_only=True)
    case_reference = fields.String(dump_only=True)
    case_opened = fields.Boolean(dump_only=True)
    severity = fields.String(dump_only=True)
    standard = fields.String(dump_only=True)
