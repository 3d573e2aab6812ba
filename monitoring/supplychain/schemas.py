"""Input and output schemas of the supply-chain registry API (pages validate with the same ``Args``)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema
from werkzeug.datastructures import FileStorage

from monitoring.accounts.schemas import OrganisationRefSchema, UserRefSchema
from monitoring.core.schemas import BaseSchema, DecimalString, Integer, PageArgs
from monitoring.supplychain import duplicates
from monitoring.supplychain.models import (
    ClauseKind,
    DisclosurePart,
    DuplicateState,
    ProductCategory,
    SiteKind,
)
from monitoring.supplychain.name_schemas import SiteNameSchema

MULTIPART = "multipart/form-data"


def _money(**kwargs: Any) -> DecimalString:
    return DecimalString(places=2, **kwargs)


# --- output -------------------------------------------------------------------------------------


class SiteRefSchema(BaseSchema):
    id = Integer(dump_only=True)
    name = fields.String(dump_only=True)
    city = fields.String(dump_only=True)
    country = fields.String(dump_only=True, metadata={"description": _l("ISO 3166-1 alpha-2 code.")})
    kind = fields.Enum(SiteKind, by_value=True, dump_only=True)


class SiteSchema(SiteRefSchema):
    address = fields.String(dump_only=True)
    alternative_names = fields.List(
        fields.Nested(SiteNameSchema),
        dump_only=True,
        metadata={
            "description": _l(
                "Other names of the site (in another script or language, trading or former names); "
                "searches find the site by them."
            )
        },
    )
    os_id = fields.String(
        dump_only=True, allow_none=True, metadata={"description": _l("Open Supply Hub id.")}
    )
    workers_approx = Integer(dump_only=True, allow_none=True)
    latitude = fields.Float(dump_only=True, allow_none=True)
    longitude = fields.Float(dump_only=True, allow_none=True)
    merged_into_id = Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("The site this one was merged into; merged sites are not listed.")},
    )
    created_dt = fields.AwareDateTime(dump_only=True)
    updated_dt = fields.AwareDateTime(dump_only=True)


class ProductSchema(BaseSchema):
    id = Integer(dump_only=True)
    brand = fields.String(dump_only=True)
    model = fields.String(dump_only=True)
    category = fields.Enum(ProductCategory, by_value=True, dump_only=True)


class ClauseSchema(BaseSchema):
    position = Integer(dump_only=True)
    kind = fields.Enum(ClauseKind, by_value=True, dump_only=True)
    reference = fields.String(dump_only=True)
    text = fields.String(dump_only=True)


class ContractProductSchema(BaseSchema):
    product = fields.Nested(ProductSchema, dump_only=True)
    quantity = Integer(dump_only=True, allow_none=True)
    added_dt = fields.AwareDateTime(dump_only=True)


class ContractSchema(BaseSchema):
    id = Integer(dump_only=True)
    affiliate = fields.Nested(OrganisationRefSchema, dump_only=True)
    supplier = fields.Nested(OrganisationRefSchema, dump_only=True)
    reference = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    start_date = fields.Date(dump_only=True)
    end_date = fields.Date(dump_only=True, allow_none=True)
    annual_spend = _money(dump_only=True, allow_none=True)
    currency = fields.String(dump_only=True, metadata={"description": _l("ISO 4217 code.")})
    labour_conditions = fields.Boolean(
        dump_only=True,
        metadata={"description": _l("Whether the contract carries labour-standards conditions.")},
    )
    clauses = fields.List(fields.Nested(ClauseSchema), dump_only=True)
    products = fields.List(fields.Nested(ContractProductSchema), dump_only=True)
    created_dt = fields.AwareDateTime(dump_only=True)
    updated_dt = fields.AwareDateTime(dump_only=True)


class DisclosureObligationSchema(BaseSchema):
    contract_id = Integer(dump_only=True)
    in_force = fields.Boolean(
        dump_only=True, metadata={"description": _l("Only contracts in force have the obligation.")}
    )
    due_date = fields.Date(
        dump_only=True,
        metadata={
            "description": _l(
                "The later of the contract's start plus DISCLOSURE_DUE_DAYS and a year after the last "
                "confirmation."
            )
        },
    )
    confirmed_dt = fields.AwareDateTime(
        dump_only=True, allow_none=True, metadata={"description": _l("The supplier's last confirmation.")}
    )
    overdue = fields.Boolean(dump_only=True)
    escalation_date = fields.Date(
        dump_only=True,
        metadata={"description": _l("After this day an overdue confirmation is told to the buyer.")},
    )


class DisclosureSchema(BaseSchema):
    id = Integer(dump_only=True)
    supplier = fields.Nested(OrganisationRefSchema, dump_only=True)
    product = fields.Nested(ProductSchema, dump_only=True)
    site = fields.Nested(SiteRefSchema, dump_only=True)
    part = fields.Enum(DisclosurePart, by_value=True, dump_only=True)
    valid_from = fields.Date(dump_only=True)
    valid_to = fields.Date(dump_only=True, allow_none=True)
    source = fields.String(dump_only=True)
    supplies_site = fields.Nested(
        SiteRefSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("The site the part goes to (the next tier), if named.")},
    )
    value_share = DecimalString(
        places=2,
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("The part's share of the product's value in percent, where known.")},
    )
    units_per_product = Integer(dump_only=True, allow_none=True)
    disclosed_dt = fields.AwareDateTime(dump_only=True)
    withdrawn_dt = fields.AwareDateTime(dump_only=True, allow_none=True)


class LeverageSchema(BaseSchema):
    affiliates = Integer(
        dump_only=True, metadata={"description": _l("Affiliates with a contract in force reaching the site.")}
    )
    contracts = Integer(dump_only=True)
    spend_eur = _money(
        dump_only=True, metadata={"description": _l("Their total annual spend, converted to euros.")}
    )
    unconverted_contracts = Integer(
        dump_only=True,
        metadata={"description": _l("Contracts left out of spend_eur: their currency has no rate.")},
    )


class RankedSiteSchema(BaseSchema):
    rank = Integer(dump_only=True, metadata={"description": _l("Equal for sites with equal leverage.")})
    site = fields.Nested(SiteRefSchema, dump_only=True)
    leverage = fields.Nested(LeverageSchema, dump_only=True)
    as_of = fields.DateTime(
        dump_only=True,
        metadata={"description": _l("When the stored ranking this item comes from was computed (UTC).")},
    )


class ConcernedAffiliateSchema(BaseSchema):
    organisation = fields.Nested(OrganisationRefSchema, dump_only=True)
    leverage = fields.Nested(LeverageSchema, dump_only=True)


class ConcernedSupplierSchema(BaseSchema):
    organisation = fields.Nested(OrganisationRefSchema, dump_only=True)
    disclosed = fields.Boolean(
        dump_only=True, metadata={"description": _l("It discloses a product made at the site.")}
    )
    contracted = fields.Boolean(
        dump_only=True, metadata={"description": _l("It supplies a contract in force that reaches the site.")}
    )


class UnconvertedSpendSchema(BaseSchema):
    currency = fields.String(dump_only=True)
    annual_spend = _money(dump_only=True)
    contracts = Integer(dump_only=True)


class ConcernedSchema(BaseSchema):
    """Whom a site concerns, as far as the user may know."""

    affiliates = fields.List(
        fields.Nested(ConcernedAffiliateSchema),
        dump_only=True,
        metadata={
            "description": _l("Every affiliate for coordinators and monitors; an affiliate sees itself.")
        },
    )
    other_affiliates = Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("For an affiliate: how many other affiliates the site concerns.")},
    )
    suppliers = fields.List(fields.Nested(ConcernedSupplierSchema), dump_only=True)
    leverage = fields.Nested(LeverageSchema, dump_only=True, allow_none=True)
    unconverted = fields.List(fields.Nested(UnconvertedSpendSchema), dump_only=True, allow_none=True)


class CurrencyRateSchema(BaseSchema):
    currency = fields.String(dump_only=True)
    eur_per_unit = DecimalString(places=8, dump_only=True)
    updated_dt = fields.AwareDateTime(dump_only=True)


# --- input --------------------------------------------------------------------------------------


class _Partial:
    """Mixin of update schemas: every field may be left out."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)  # type: ignore[call-arg]


class ListSitesArgs(PageArgs):
    country = fields.String(validate=validate.Length(equal=2))
    kind = fields.Enum(SiteKind, by_value=True)
    q = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": _l(
                "Words in the name or an alternative name (in any script, case and accents ignored), "
                "the address or the city; or an Open Supply Hub id."
            )
        },
    )


class SiteArgs(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    address = fields.String(validate=validate.Length(max=500))
    city = fields.String(validate=validate.Length(max=200))
    country = fields.String(required=True, metadata={"description": _l("ISO 3166-1 alpha-2 code.")})
    kind = fields.Enum(SiteKind, by_value=True, required=True)
    os_id = fields.String(allow_none=True, metadata={"description": _l("Open Supply Hub id.")})
    workers_approx = Integer(allow_none=True, strict=True, validate=validate.Range(min=0))
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))


class CreateSiteArgs(SiteArgs):
    """A new site: the required fields must be given."""


class UpdateSiteArgs(_Partial, SiteArgs):
    """A change to a site: only the fields given are changed."""


class RankingArgs(PageArgs):
    """Paging through the ranking; no filters."""


class ListProductsArgs(PageArgs):
    category = fields.Enum(ProductCategory, by_value=True)
    q = fields.String(validate=validate.Length(min=1, max=200))


class ProductArgs(BaseSchema):
    brand = fields.String(required=True, validate=validate.Length(min=1, max=200))
    model = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = fields.Enum(ProductCategory, by_value=True, required=True)


class CreateProductArgs(ProductArgs):
    """A new product: the required fields must be given."""


class UpdateProductArgs(_Partial, ProductArgs):
    """A change to a product: only the fields given are changed."""


class ClauseArgs(BaseSchema):
    kind = fields.Enum(ClauseKind, by_value=True, required=True)
    reference = fields.String(validate=validate.Length(max=100))
    text = fields.String(required=True, validate=validate.Length(min=1, max=20000))


class ListContractsArgs(PageArgs):
    affiliate_id = Integer()
    supplier_id = Integer()
    in_force = fields.Boolean(metadata={"description": _l("Only contracts in force today (or only not).")})


class ContractArgs(BaseSchema):
    supplier_id = Integer(required=True, strict=True)
    reference = fields.String(required=True, validate=validate.Length(min=1, max=100))
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    start_date = fields.Date(required=True)
    end_date = fields.Date(allow_none=True)
    annual_spend = DecimalString(places=2, allow_none=True, metadata={"description": _l("At least 0.")})
    currency = fields.String(load_default="EUR", metadata={"description": _l("ISO 4217 code.")})
    labour_conditions = fields.Boolean(load_default=True)
    clauses = fields.List(
        fields.Nested(ClauseArgs),
        validate=validate.Length(max=100),
        metadata={
            "description": _l("The contract's clauses, in order; on update they replace the old ones.")
        },
    )


class CreateContractArgs(ContractArgs):
    """A new contract: the required fields must be given."""


class UpdateContractArgs(_Partial, ContractArgs):
    """A change to a contract: only the fields given are changed."""


class AddContractProductArgs(BaseSchema):
    """A product by id, or by brand and model (a new product also needs its category)."""

    product_id = Integer(strict=True)
    brand = fields.String(validate=validate.Length(min=1, max=200))
    model = fields.String(validate=validate.Length(min=1, max=200))
    category = fields.Enum(ProductCategory, by_value=True)
    quantity = Integer(allow_none=True, strict=True, validate=validate.Range(min=1))

    @validates_schema
    def _one_product(self, data: dict[str, Any], **kwargs: Any) -> None:
        by_name = "brand" in data or "model" in data
        if ("product_id" in data) == by_name:
            raise ValidationError(_l("Give either product_id, or brand and model."), "product_id")
        if by_name and not ("brand" in data and "model" in data):
            raise ValidationError(_l("Give both brand and model."), "model" if "brand" in data else "brand")


class ListDisclosuresArgs(PageArgs):
    product_id = Integer()
    site_id = Integer()
    current = fields.Boolean(metadata={"description": _l("Only disclosures valid today (or only not).")})
    state = fields.String(
        validate=validate.OneOf(["current", "ended", "withdrawn"]),
        metadata={"description": _l("current, ended (not current, not withdrawn) or withdrawn.")},
    )


def _percent(value: Any) -> None:
    """A share in percent: above 0 and at most 100 (checked here, not by ``validate.Range``, whose
    bounds OpenAPI would show as strings for a decimal sent as a string)."""
    if value is not None and not 0 < value <= 100:
        raise ValidationError(_l("Give the share as a percentage above 0 and at most 100."))


class CreateDisclosureArgs(BaseSchema):
    product_id = Integer(required=True, strict=True)
    site_id = Integer(strict=True, metadata={"description": _l("One of your sites; or describe `site`.")})
    site = fields.Nested(
        SiteArgs,
        metadata={
            "description": _l("A site to match or add: reused when its OS id or name and address match.")
        },
    )
    part = fields.Enum(DisclosurePart, by_value=True, required=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True)
    source = fields.String(validate=validate.Length(max=500))
    supplies_site_id = Integer(
        strict=True,
        allow_none=True,
        metadata={"description": _l("The site the part goes to (the next tier): one you see.")},
    )
    supplies_os_id = fields.String(
        validate=validate.Length(min=1, max=32),
        allow_none=True,
        metadata={"description": _l("Or the Open Supply Hub id of the site the part goes to.")},
    )
    value_share = DecimalString(
        places=2,
        allow_none=True,
        validate=_percent,
        metadata={
            "description": _l("The part's share of the product's value, in percent: above 0, at most 100.")
        },
    )
    units_per_product = Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=100000))

    @validates_schema
    def _one_site(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("site_id" in data) == ("site" in data):
            raise ValidationError(_l("Give either site_id or site."), "site_id")
        if data.get("supplies_site_id") is not None and data.get("supplies_os_id"):
            raise ValidationError(_l("Give either supplies_site_id or supplies_os_id."), "supplies_site_id")


class ListCurrencyRatesArgs(PageArgs):
    """Paging through the rates by currency code; no filters."""


class SetCurrencyRateArgs(BaseSchema):
    eur_per_unit = DecimalString(
        required=True, places=8, metadata={"description": _l("How many euros one unit is worth (above 0).")}
    )


# --- imports and likely duplicates --------------------------------------------------------------


class FileUpload(fields.String):
    """A file sent in a ``multipart/form-data`` body (a string of bytes in OpenAPI)."""

    default_error_messages = {"invalid": _l("Send a file in this field.")}

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"format": "binary", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:  # type: ignore[override]
        if not isinstance(value, FileStorage) or not value.filename:
            raise self.make_error("invalid")
        return value


class UploadArgs(BaseSchema):
    """Input sent as ``multipart/form-data``; the OpenAPI document says so."""

    content_type = MULTIPART


class ImportFacilitiesArgs(UploadArgs):
    file = FileUpload(
        required=True,
        metadata={
            "description": _l(
                "A CSV file (UTF-8) in Open Supply Hub's download layout: at least the columns "
                "name, address and country_code, in any order."
            )
        },
    )


class ImportDisclosuresArgs(UploadArgs):
    file = FileUpload(
        required=True,
        metadata={
            "description": _l(
                "A CSV file (UTF-8) with the columns brand, model, part, valid_from and either os_id "
                "or name, address and country_code; optional: city, kind, valid_to, source."
            )
        },
    )
    supplier_id = Integer(
        metadata={
            "description": _l(
                "The supplier organisation the disclosures are made for. Coordinators must give it; "
                "suppliers disclose for their own organisation."
            )
        }
    )


class FacilityImportResultSchema(BaseSchema):
    rows = Integer(dump_only=True, metadata={"description": _l("Rows read from the file.")})
    created = Integer(dump_only=True, metadata={"description": _l("New sites.")})
    updated = Integer(dump_only=True, metadata={"description": _l("Existing sites that changed.")})
    unchanged = Integer(dump_only=True, metadata={"description": _l("Existing sites already up to date.")})
    skipped_closed = Integer(
        dump_only=True, metadata={"description": _l("Closed facilities not in the registry, not added.")}
    )
    duplicates_proposed = Integer(
        dump_only=True, metadata={"description": _l("Likely duplicate sites proposed to coordinators.")}
    )
    names_added = Integer(dump_only=True, metadata={"description": _l("Alternative names added to sites.")})
    repeats_merged = Integer(
        dump_only=True,
        metadata={
            "description": _l(
                "Rows that repeated an earlier row (same name, address and country), merged into it."
            )
        },
    )
    warnings = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": _l("What to check although the file was imported, in the user's language.")},
    )


class DisclosureImportResultSchema(BaseSchema):
    rows = Integer(dump_only=True, metadata={"description": _l("Rows read from the file.")})
    created = Integer(dump_only=True, metadata={"description": _l("New disclosures.")})
    unchanged = Integer(
        dump_only=True, metadata={"description": _l("Rows that repeat a disclosure already made.")}
    )
    sites_created = Integer(dump_only=True, metadata={"description": _l("New sites.")})
    duplicates_proposed = Integer(
        dump_only=True, metadata={"description": _l("Likely duplicate sites proposed to coordinators.")}
    )


class SiteDuplicateSchema(BaseSchema):
    id = Integer(dump_only=True)
    site = fields.Nested(SiteSchema, dump_only=True, metadata={"description": _l("The site that stays.")})
    candidate = fields.Nested(
        SiteSchema, dump_only=True, metadata={"description": _l("The site to merge into the other.")}
    )
    reason = fields.String(
        dump_only=True,
        metadata={"description": _l("Why the pair was proposed: a code, or a coordinator's words.")},
    )
    reason_text = fields.Function(
        lambda d: duplicates.reason_title(d.reason),
        dump_only=True,
        metadata={"description": _l("The reason in the user's language.")},
    )
    state = fields.Enum(DuplicateState, by_value=True, dump_only=True)
    similarity = fields.Function(
        lambda d: duplicates.similarity(d),
        dump_only=True,
        metadata={"description": _l("How alike the two sites' names and addresses are, from 0 to 100.")},
    )
    created_dt = fields.AwareDateTime(dump_only=True)
    decided_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    decided_by = fields.Nested(UserRefSchema, dump_only=True, allow_none=True)


class ListSiteDuplicatesArgs(PageArgs):
    state = fields.Enum(
        DuplicateState,
        by_value=True,
        load_default=DuplicateState.proposed,
        metadata={"description": _l("Which pairs: awaiting a decision (the default), merged or dismissed.")},
    )


class ProposeSiteDuplicateArgs(BaseSchema):
    site_id = Integer(required=True, strict=True, metadata={"description": _l("The site that stays.")})
    candidate_id = Integer(
        required=True, strict=True, metadata={"description": _l("The site to merge into it.")}
    )
    reason = fields.String(
        load_default="", validate=validate.Length(max=200, error=_l("At most %(max)d characters."))
    )


class MergeSiteDuplicateArgs(BaseSchema):
    keep = fields.String(
        load_default="site",
        validate=validate.OneOf(["site", "candidate"], error=_l("Choose site or candidate.")),
        metadata={"description": _l("Which site of the pair stays: site (the default) or candidate.")},
    )


_PERCENT = validate.Range(min=0, max=100, error=_l("Give a similarity from 0 to 100."))


class ReviewSiteDuplicatesArgs(BaseSchema):
    accept_from = Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=_PERCENT,
        metadata={"description": _l("Merge every open pair at least this similar (0 to 100).")},
    )
    dismiss_below = Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=_PERCENT,
        metadata={"description": _l("Dismiss every open pair less similar than this (0 to 100).")},
    )


class SiteDuplicateReviewSchema(BaseSchema):
    merged = fields.List(Integer(), dump_only=True, metadata={"description": _l("The pairs merged.")})
    dismissed = fields.List(Integer(), dump_only=True, metadata={"description": _l("The pairs dismissed.")})
    left = Integer(
        dump_only=True,
        metadata={"description": _l("Pairs past the limit of one review, left for the next one.")},
    )


class JobProblemSchema(BaseSchema):
    line = Integer(dump_only=True)
    column = fields.String(dump_only=True, allow_none=True)
    message = fields.String(dump_only=True)


class JobSchema(BaseSchema):
    """An import's progress, as the job page shows it."""

    id = Integer(dump_only=True)
    kind = fields.String(dump_only=True)
    state = fields.String(
        dump_only=True,
        metadata={"description": _l("waiting (its columns to confirm), queued, running, done or failed.")},
    )
    filename = fields.String(dump_only=True)
    created_dt = fields.AwareDateTime(dump_only=True)
    started_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    finished_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    progress = fields.Float(dump_only=True, metadata={"description": _l("How far the job got, from 0 to 1.")})
    rows_total = Integer(dump_only=True, allow_none=True)
    rows_done = Integer(dump_only=True, metadata={"description": _l("Rows checked.")})
    problems = Integer(dump_only=True, metadata={"description": _l("Problems found.")})
    seconds_left = Integer(dump_only=True, allow_none=True)
    result = fields.Dict(
        dump_only=True, allow_none=True, metadata={"description": _l("What the import did.")}
    )
    error = fields.String(dump_only=True, allow_none=True)
    errors = fields.List(fields.Nested(JobProblemSchema), dump_only=True)
    errors_total = Integer(dump_only=True)


# --- site risk and country risk ----------------------------------------------------------------


class CountryRiskSchema(BaseSchema):
    country = fields.String(dump_only=True, metadata={"description": _l("ISO 3166-1 alpha-2 code.")})
    level = Integer(dump_only=True, metadata={"description": _l("1 (lowest risk) to 5 (highest).")})
    source = fields.String(dump_only=True, metadata={"description": _l("Where the level comes from.")})
    updated_dt = fields.AwareDateTime(dump_only=True)


class SetCountryRiskArgs(BaseSchema):
    level = Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    source = fields.String(required=True, validate=validate.Length(min=1, max=500))


class ListCountryRisksArgs(PageArgs):
    """Paging through the levels by country code; no filters."""


class SeverityCountSchema(BaseSchema):
    severity = fields.Function(lambda row: row.severity.value, dump_only=True)
    open = Integer(dump_only=True, metadata={"description": _l("Without a case, or with a case not closed.")})
    closed = Integer(dump_only=True)


class ReportCountSchema(BaseSchema):
    count = Integer(
        dump_only=True, allow_none=True, metadata={"description": _l("None when too small to show.")}
    )
    fewer_than = Integer(
        dump_only=True, allow_none=True, metadata={"description": _l("Set when the count is not shown.")}
    )


class ChainTierSchema(BaseSchema):
    product = fields.Nested(ProductSchema, dump_only=True)
    tier = Integer(dump_only=True, metadata={"description": _l("1: the site makes the product itself.")})


class TierLeverageSchema(BaseSchema):
    tier = Integer(dump_only=True)
    contracts = Integer(dump_only=True)
    spend_eur = _money(dump_only=True, metadata={"description": _l("Their annual spend in euros, in full.")})
    weighted_eur = _money(
        dump_only=True,
        metadata={"description": _l("Spend times the site's share, for the contracts of known share.")},
    )
    unknown_share = Integer(
        dump_only=True, metadata={"description": _l("Contracts of unknown share, left out of weighted_eur.")}
    )
    unconverted_contracts = Integer(dump_only=True)


class SiteRiskCasesSchema(BaseSchema):
    open = Integer(dump_only=True)
    overdue = Integer(dump_only=True)
    closed = Integer(dump_only=True)


class SiteRiskSchema(BaseSchema):
    site = fields.Nested(SiteRefSchema, dump_only=True)
    country_risk = fields.Nested(CountryRiskSchema, dump_only=True, allow_none=True)
    cases = fields.Nested(SiteRiskCasesSchema, dump_only=True)
    findings = fields.List(fields.Nested(SeverityCountSchema), dump_only=True)
    worker_reports = fields.Nested(
        ReportCountSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("Absent (null) for roles that see no count of worker reports.")},
    )
    tiers = fields.List(fields.Nested(ChainTierSchema), dump_only=True)
    tier_leverage = fields.List(
        fields.Nested(TierLeverageSchema),
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("Null for roles that see no spend; a buyer sees its own contracts.")},
    )
