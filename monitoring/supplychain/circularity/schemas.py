"""Input and output of the circularity API (the pages and the CSV rows validate with the same ``Args``)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from monitoring.core.schemas import BaseSchema, Integer
from monitoring.supplychain.circularity.models import SITE_FATES, CircularityState, TakeBackFate
from monitoring.supplychain.circularity.operations import (
    FATES_EXCEED_MESSAGE,
    INFO_MAX,
    REASON_MAX,
    SITES_MAX,
    fates_exceed,
)
from monitoring.supplychain.schemas import FileUpload, UploadArgs

YEAR_RANGE = validate.Range(min=2000, max=2100, error=_l("Give a year between %(min)d and %(max)d."))
LIFESPAN_RANGE = validate.Range(
    min=0, max=50, error=_l("Give a number of years between %(min)d and %(max)d.")
)
COUNT_RANGE = validate.Range(min=0, error=_l("Give a number of devices of at least %(min)d."))


def _count(description: Any, required: bool = False) -> Integer:
    if required:
        return Integer(required=True, validate=COUNT_RANGE, metadata={"description": description})
    return Integer(load_default=0, validate=COUNT_RANGE, metadata={"description": description})


class CircularitySiteArgs(BaseSchema):
    site_id = Integer(
        required=True, metadata={"description": _l("A repair or recycling site of the registry.")}
    )
    fate = fields.Enum(TakeBackFate, by_value=True, required=True)
    count = Integer(
        required=True,
        validate=validate.Range(min=1, error=_l("Give a number of devices of at least %(min)d.")),
    )

    @validates("fate")
    def _known(self, value: TakeBackFate, **kwargs: Any) -> None:
        if value not in SITE_FATES:
            raise ValidationError(_l("A site line needs a known fate."))


class FileCircularityArgs(BaseSchema):
    product_id = Integer(required=True, metadata={"description": _l("A product the contract covers.")})
    year = Integer(
        required=True, validate=YEAR_RANGE, metadata={"description": _l("The calendar year reported.")}
    )
    warranty_years = Integer(required=True, validate=LIFESPAN_RANGE)
    spare_part_years = Integer(
        required=True,
        validate=LIFESPAN_RANGE,
        metadata={"description": _l("Years spare parts stay available.")},
    )
    os_update_years = Integer(
        required=True,
        validate=LIFESPAN_RANGE,
        metadata={"description": _l("Years of operating-system and security updates.")},
    )
    repairability_info = fields.String(
        load_default="",
        validate=validate.Length(max=INFO_MAX),
        metadata={"description": _l("Where repair manuals, parts and prices are published.")},
    )
    delivered = _count(_l("Devices delivered under the contract in the year."), required=True)
    repaired = _count(_l("Devices repaired."))
    repair_median_days = Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(
            min=0, max=3650, error=_l("Give a number of days between %(min)d and %(max)d.")
        ),
        metadata={"description": _l("Median days from a device handed in to its return, repaired.")},
    )
    replaced = _count(_l("Devices replaced instead of repaired."))
    accessories_not_bought = _count(_l("Accessories (chargers, cables, headsets) the buyer opted out of."))
    second_life_supplied = _count(_l("Second-life (refurbished) devices supplied instead of new ones."))
    taken_back = _count(_l("Devices taken back at the end of their use."), required=True)
    reused = _count(_l("Taken back and reused as they were."))
    refurbished = _count(_l("Taken back and refurbished."))
    recycled = _count(_l("Taken back and recycled."))
    disposed = _count(_l("Taken back and disposed of."))
    unknown_fate = _count(_l("Taken back, fate unknown."))
    sites = fields.List(
        fields.Nested(CircularitySiteArgs),
        load_default=list,
        validate=validate.Length(max=SITES_MAX),
        metadata={"description": _l("Where the taken-back devices went: site, fate and count.")},
    )

    @validates_schema
    def _fates_within_taken_back(self, data: dict[str, Any], **kwargs: Any) -> None:
        if fates_exceed(data):
            raise ValidationError(FATES_EXCEED_MESSAGE, "taken_back")


class QueryCircularityArgs(BaseSchema):
    reason = fields.String(
        required=True,
        validate=validate.Length(max=REASON_MAX),
        metadata={"description": _l("What the supplier should check or correct (required).")},
    )

    @validates("reason")
    def _reason_given(self, value: str, **kwargs: Any) -> None:
        if not value.strip():
            raise ValidationError(_l("Say what the supplier should check or correct."))


class CircularityLoopArgs(BaseSchema):
    year = Integer(
        validate=YEAR_RANGE,
        metadata={"description": _l("Count the reports up to this year; the current year if left out.")},
    )


class ImportCircularityArgs(UploadArgs):
    file = FileUpload(
        required=True,
        metadata={
            "description": _l("A CSV file (UTF-8) in the layout of docs/circularity.md: one report a line.")
        },
    )


# --- output ----------------------------------------------------------------------------------


class CircularitySiteSchema(BaseSchema):
    site_id = Integer()
    site = fields.String(attribute="site.name")
    country = fields.String(attribute="site.country")
    fate = fields.Enum(TakeBackFate, by_value=True)
    count = Integer()


class CircularityReportSchema(BaseSchema):
    id = Integer()
    contract_id = Integer()
    product_id = Integer()
    product = fields.Function(lambda r: f"{r.product.brand} {r.product.model}")
    year = Integer()
    state = fields.Enum(CircularityState, by_value=True)
    warranty_years = Integer()
    spare_part_years = Integer()
    os_update_years = Integer()
    repairability_info = fields.String()
    delivered = Integer()
    repaired = Integer()
    repair_median_days = Integer(allow_none=True)
    replaced = Integer()
    accessories_not_bought = Integer()
    second_life_supplied = Integer()
    taken_back = Integer()
    reused = Integer()
    refurbished = Integer()
    recycled = Integer()
    disposed = Integer()
    unknown_fate = Integer()
    sites = fields.List(fields.Nested(CircularitySiteSchema))
    query_reason = fields.String(allow_none=True)
    submitted_by = fields.String(attribute="submitted_by.name", allow_none=True)
    submitted_dt = fields.DateTime()
    decided_by = fields.String(attribute="decided_by.name", allow_none=True)
    decided_dt = fields.DateTime(allow_none=True)


class CircularityReportListSchema(BaseSchema):
    contract_id = Integer()
    reports = fields.List(fields.Nested(CircularityReportSchema))


class CircularityImportResultSchema(BaseSchema):
    filed = Integer(metadata={"description": "New reports."})
    resubmitted = Integer(metadata={"description": "Reports corrected (they await the buyer again)."})


class LoopSiteSchema(BaseSchema):
    site_id = Integer()
    site = fields.String()
    country = fields.String()
    fate = fields.Enum(TakeBackFate, by_value=True)
    count = Integer()


class ProductLoopSchema(BaseSchema):
    product_id = Integer()
    product = fields.String()
    reports = Integer()
    confirmed = Integer()
    delivered = Integer()
    in_use = Integer()
    taken_back = Integer()
    second_life = Integer()
    recycled = Integer()
    disposed = Integer()
    unknown_fate = Integer()
    collected_share = fields.Float(
        allow_none=True, metadata={"description": "taken_back / delivered, 0 to 1."}
    )
    spare_part_years = Integer(allow_none=True)
    os_update_years = Integer(allow_none=True)
    sites = fields.List(fields.Nested(LoopSiteSchema))


class CircularityLoopSchema(BaseSchema):
    year = Integer()
    collection_ambition = fields.Float()
    spare_part_years_ambition = Integer()
    os_update_years_ambition = Integer()
    products = fields.List(fields.Nested(ProductLoopSchema))
