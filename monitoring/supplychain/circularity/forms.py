"""Forms of the circularity pages; their values go through the API's ``Args`` schemas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import Optional

from monitoring.supplychain.models import Product

# How many site lines the form offers (the API and the CSV upload take more).
SITE_LINES = 3


def _number(label: Any, description: Any = None) -> IntegerField:
    return IntegerField(label, validators=[Optional()], description=description)


class CircularityReportForm(FlaskForm):
    product_id = SelectField(_l("Product"), coerce=int)
    year = _number(_l("Year reported"), _l("The calendar year the figures cover."))
    warranty_years = _number(_l("Warranty (years)"))
    spare_part_years = _number(_l("Spare parts available (years)"))
    os_update_years = _number(_l("Operating-system updates (years)"))
    repairability_info = TextAreaField(
        _l("Repairability information"),
        description=_l("Where manuals, spare parts and their prices are published."),
    )
    delivered = _number(_l("Devices delivered"))
    repaired = _number(_l("Devices repaired"))
    repair_median_days = _number(_l("Median repair turnaround (days)"))
    replaced = _number(_l("Devices replaced"))
    accessories_not_bought = _number(_l("Accessories not bought"))
    second_life_supplied = _number(_l("Second-life devices supplied"))
    taken_back = _number(_l("Devices taken back"))
    reused = _number(_l("of which reused"))
    refurbished = _number(_l("of which refurbished"))
    recycled = _number(_l("of which recycled"))
    disposed = _number(_l("of which disposed of"))
    unknown_fate = _number(_l("of which fate unknown"))

    def __init__(self, products: Sequence[Product], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.product_id.choices = [(p.id, f"{p.brand} {p.model}") for p in products]


class QueryReportForm(FlaskForm):
    reason = TextAreaField(_l("What should the supplier check or correct?"))


class ConfirmReportForm(FlaskForm):
    """Only the CSRF token."""


class ImportReportsForm(FlaskForm):
    file = FileField(_l("CSV file"), description=_l("UTF-8, one report a line; see the columns below."))
