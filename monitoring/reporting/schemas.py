"""Input and output of the reporting API: period and breakdown, figures, ledger, dashboard.

A figure or a ledger row shown to a buyer or a supplier that rests on fewer than 5 workers or
fewer than 3 reports comes out with its numbers null and ``suppressed: true`` (pages show
"fewer than 5").
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from monitoring.cases.models import RemedyKind, Severity
from monitoring.cases.schemas import RemedyArgs
from monitoring.core.pagination import MAX_PAGE_SIZE
from monitoring.core.schemas import BaseSchema, DecimalString, Integer
from monitoring.reporting.figures import Breakdown
from monitoring.reporting.suppression import Suppressed

SUPPRESSED_NOTE = _l("Null when suppressed: fewer than 5 workers or 3 reports (see suppressed).")


class PeriodArgs(BaseSchema):
    from_date = fields.Date(data_key="from", metadata={"description": _l("First day (UTC), included.")})
    to_date = fields.Date(data_key="to", metadata={"description": _l("Last day (UTC), included.")})

    @validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        first, last = data.get("from_date"), data.get("to_date")
        if first and last and first > last:
            raise ValidationError(_l("The end of the period comes before its start."), "to")


class FiguresArgs(PeriodArgs):
    breakdown = fields.Enum(Breakdown, by_value=True, load_default=Breakdown.total)


class DashboardArgs(FiguresArgs):
    """The dashboard's period and breakdown (the figures' own arguments)."""


class LedgerArgs(PeriodArgs):
    """The remedy ledger's period."""


class PortfolioArgs(BaseSchema):
    """Which rows of an affiliate's whole portfolio: ``offset`` rows skipped, then ``limit`` rows."""

    offset = Integer(
        load_default=0,
        validate=validate.Range(min=0, error=_l("Must be %(min)d or more.", min=0)),
        metadata={"description": _l("Rows to skip (the previous page's offset plus its limit).")},
    )
    limit = Integer(
        load_default=100,
        validate=validate.Range(
            min=1,
            max=MAX_PAGE_SIZE,
            error=_l("Must be between %(min)d and %(max)d.", min=1, max=MAX_PAGE_SIZE),
        ),
        metadata={"description": _l("Page size, at most %(max)d.", max=MAX_PAGE_SIZE)},
    )


class RecordRemedyArgs(RemedyArgs):
    """An interim remedy, recorded on a case before it closes."""


class InterimRemedySchema(BaseSchema):
    """A remedy recorded on an open case."""

    id = Integer(dump_only=True)
    case_id = Integer(dump_only=True)
    kind = fields.Enum(RemedyKind, by_value=True, dump_only=True)
    amount = DecimalString(places=2, dump_only=True, allow_none=True)
    currency = fields.String(dump_only=True, allow_none=True)
    workers_covered = Integer(dump_only=True, allow_none=True)
    recorded_dt = fields.DateTime(dump_only=True)


class _Suppressible:
    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, Suppressed):
            return None
        return super()._serialize(value, attr, obj, **kwargs)  # type: ignore[misc]


class SuppressibleInteger(_Suppressible, Integer):
    """A count, null where the suppression rule hides it."""


class SuppressibleDecimal(_Suppressible, DecimalString):
    """An amount, null where the suppression rule hides it."""


class FigureRowSchema(BaseSchema):
    figure = fields.String(dump_only=True)
    group = fields.String(dump_only=True, allow_none=True)
    label = fields.String(dump_only=True)
    count = Integer(dump_only=True, allow_none=True, metadata={"description": SUPPRESSED_NOTE})
    median_days = fields.Float(dump_only=True, allow_none=True)
    p90_days = fields.Float(dump_only=True, allow_none=True)
    hits = Integer(dump_only=True, allow_none=True)
    rate = fields.Float(dump_only=True, allow_none=True)
    suppressed = fields.Boolean(dump_only=True)


class FiguresSchema(BaseSchema):
    breakdown = fields.Enum(Breakdown, by_value=True, dump_only=True)
    as_of = fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "When the figures were computed: the whole period's are a snapshot, "
            "refreshed every few minutes; a bounded period's are computed on request."
        },
    )
    durations = fields.List(fields.Nested(FigureRowSchema), dump_only=True)
    shares = fields.List(fields.Nested(FigureRowSchema), dump_only=True)


class LedgerRowSchema(BaseSchema):
    kind = fields.Enum(RemedyKind, by_value=True, dump_only=True)
    currency = fields.String(dump_only=True, allow_none=True)
    buyer_id = Integer(dump_only=True, allow_none=True)
    supplier_id = Integer(dump_only=True, allow_none=True)
    country = fields.String(dump_only=True)
    year = Integer(dump_only=True)
    remedies = Integer(dump_only=True)
    workers_covered = SuppressibleInteger(
        dump_only=True, allow_none=True, metadata={"description": SUPPRESSED_NOTE}
    )
    amount = SuppressibleDecimal(places=2, dump_only=True, allow_none=True)
    amount_eur = SuppressibleDecimal(
        places=2, dump_only=True, allow_none=True, metadata={"description": _l("Null without a stored rate.")}
    )
    suppressed = fields.Boolean(dump_only=True)


class UnconvertedSchema(BaseSchema):
    currency = fields.String(dump_only=True)
    amount = SuppressibleDecimal(places=2, dump_only=True, allow_none=True)
    remedies = Integer(dump_only=True)
    suppressed = fields.Boolean(dump_only=True)


class LedgerSchema(BaseSchema):
    rows = fields.List(fields.Nested(LedgerRowSchema), dump_only=True)
    remedies = Integer(dump_only=True)
    workers_covered = SuppressibleInteger(dump_only=True, allow_none=True)
    total_eur = SuppressibleDecimal(places=2, dump_only=True, allow_none=True)
    unconverted = fields.List(fields.Nested(UnconvertedSchema), dump_only=True)
    suppressed = fields.Boolean(dump_only=True)


class KindTotalSchema(BaseSchema):
    kind = fields.Enum(RemedyKind, by_value=True, dump_only=True)
    remedies = Integer(dump_only=True)
    workers_covered = SuppressibleInteger(
        dump_only=True, allow_none=True, metadata={"description": SUPPRESSED_NOTE}
    )
    amount_eur = SuppressibleDecimal(places=2, dump_only=True, allow_none=True)
    suppressed = fields.Boolean(dump_only=True)


class QueuesSchema(BaseSchema):
    plans_awaiting_decision = Integer(dump_only=True)
    verifications_due = Integer(dump_only=True)
    overdue_actions = Integer(dump_only=True)
    reports_overdue_for_acknowledgement = Integer(dump_only=True)
    counted_up_to = Integer(
        dump_only=True,
        metadata={"description": "Each count stops at this number: it means this many or more."},
    )


class LeverageCaseSchema(BaseSchema):
    case_id = Integer(dump_only=True)
    reference = fields.String(dump_only=True)
    site_name = fields.String(dump_only=True)
    country = fields.String(dump_only=True)
    affiliates = Integer(dump_only=True)


class PortfolioSiteSchema(BaseSchema):
    contract_id = Integer(dump_only=True)
    contract_reference = fields.String(dump_only=True)
    site_id = Integer(dump_only=True)
    site_name = fields.String(dump_only=True)
    country = fields.String(dump_only=True)
    open_cases = Integer(dump_only=True)
    overdue_cases = Integer(dump_only=True)
    closed_cases = Integer(dump_only=True)
    worst_severity = fields.Enum(Severity, by_value=True, dump_only=True, allow_none=True)


class DashboardSchema(BaseSchema):
    role = fields.String(dump_only=True)
    figures = fields.Nested(FiguresSchema, dump_only=True)
    ledger = fields.Nested(LedgerSchema, dump_only=True)
    by_kind = fields.List(fields.Nested(KindTotalSchema), dump_only=True)
    queues = fields.Nested(QueuesSchema, dump_only=True, allow_none=True)
    leverage = fields.List(fields.Nested(LeverageCaseSchema), dump_only=True)
    portfolio = fields.List(
        fields.Nested(PortfolioSiteSchema),
        dump_only=True,
        metadata={
            "description": "The first rows of the portfolio, the sites that need attention first (most "
            "overdue, then most open cases, then the worst severity); /portfolio gives every row."
        },
    )
    portfolio_total = Integer(dump_only=True, metadata={"description": "How many rows the portfolio has."})
    ledger_rows_total = Integer(
        dump_only=True,
        metadata={
            "description": "How many rows the ledger has: ledger.rows holds the first ones (its totals "
            "count every remedy); /remedy-ledger and the ledger's exports give every row."
        },
    )
    as_of = fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "When the ledger, its totals per kind, the leverage ranking and the portfolio "
            "were computed: the whole period's are a snapshot, refreshed every few minutes; a bounded "
            "period's are computed on request (the figures say their own time)."
        },
    )


class PortfolioPageSchema(BaseSchema):
    """Some rows of an affiliate's whole portfolio, in the dashboard's order."""

    rows = fields.List(fields.Nested(PortfolioSiteSchema), dump_only=True)
    total = Integer(dump_only=True, metadata={"description": "How many rows the portfolio has."})
    offset = Integer(dump_only=True)
    limit = Integer(dump_only=True)
    next_offset = Integer(
        dump_only=True, allow_none=True, metadata={"description": "The next page's offset; null on the last."}
    )
    as_of = fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "When the portfolio was computed (held with the dashboard's snapshot)."},
    )
