"""Input of the PDF portfolio report: its period."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validates_schema

from monitoring.core.schemas import BaseSchema

# A portfolio report covers at most this many days (ten years).
MAX_PERIOD_DAYS = 3660


class PortfolioReportArgs(BaseSchema):
    start = fields.Date(required=True, metadata={"description": _l("First day of the period (YYYY-MM-DD).")})
    end = fields.Date(required=True, metadata={"description": _l("Last day of the period (YYYY-MM-DD).")})

    @validates_schema
    def _period(self, data: dict[str, Any], **kwargs: Any) -> None:
        start: date | None = data.get("start")
        end: date | None = data.get("end")
        if start is None or end is None:
            return
        if end < start:
            raise ValidationError(_l("The end date must not be before the start date."), "end")
        if (end - start).days > MAX_PERIOD_DAYS:
            raise ValidationError(_l("The period may be at most ten years long."), "end")
