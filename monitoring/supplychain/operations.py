"""Operations on the supply-chain registry. They take the actor explicitly, validate, flush and
audit; they never commit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import list_currencies
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from monitoring.accounts.models import Organisation, OrganisationKind, User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.supplychain.matching import OS_ID_PATTERN, country_codes, site_keys
from monitoring.supplychain.models import (
    ClauseKind,
    Contract,
    ContractClause,
    ContractProduct,
    CurrencyRate,
    Disclosure,
    DisclosurePart,
    Product,
    ProductCategory,
    Site,
    SiteKind,
)
from monitoring.supplychain.permissions import can_disclose_product, visible_sites

logger = logging.getLogger(__name__)

MAX_SPEND = Decimal("99999999999999.99")  # Numeric(16, 2)
MAX_RATE = Decimal("9999999999")  # Numeric(18, 8)


def country_name(code: str, locale: Any = "en") -> str:
    """The country's name in the given locale (the code itself when unknown)."""
    try:
        return Locale.parse(str(locale)).territories.get(code, code)
    except (ValueError, TypeError):
        return code


def country_choices(locale: Any = "en") -> list[tuple[str, str]]:
    """Every country as (code, name in the locale), sorted by name."""
    names = Locale.parse(str(locale)).territories
    return sorted(((c, names.get(c, c)) for c in country_codes()), key=lambda item: item[1].casefold())


def _text(value: str | None) -> str:
    """Collapse whitespace."""
    return " ".join((value or "").split())


def _required(value: str | None, max_length: int, field_name: str, message: Any) -> str:
    value = _text(value)
    if not value:
        raise OperationError(message, field=field_name)
    _max_length(value, max_length, field_name)
    return value


def _max_length(value: str, max_length: int, field_name: str) -> str:
    if len(value) > max_length:
        raise OperationError(_l("At most %(num)s characters.", num=max_length), field=field_name)
    return value


def _country(value: str | None) -> str:
    code = (value or "").strip().upper()
    if code not in country_codes():
        raise OperationError(
            _l("Choose a country (a two-letter ISO 3166 code such as CN, TH or CZ)."), field="country"
        )
    return code


def _changes(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the given attributes and return the changed ones as {name: [old, new]}."""
    changed = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            setattr(obj, name, new)
            changed[name] = [old, new]
    return changed


# --- sites ----------------------------------------------------------------------------------


@dataclass
class SiteData:
    name: str
    country: str
    kind: SiteKind
    address: str = ""
    city: str = ""
    os_id: str | None = None
    workers_approx: int | None = None
    latitude: float | None = None
    longitude: float | None = None


def _site_kind(value: Any) -> SiteKind:
    try:
        return SiteKind(value)
    except ValueError:
        raise OperationError(_l("Choose the kind of site."), field="kind") from None


def _clean_site(data: SiteData) -> dict[str, Any]:
    values = {
        "name": _required(data.name, 300, "name", _l("Please give the site's name.")),
        "address": _max_length(_text(data.address), 500, "address"),
        "city": _max_length(_text(data.city), 200, "city"),
        "country": _country(data.country),
        "kind": _site_kind(data.kind),
        "os_id": _text(data.os_id).upper() or None,
        "workers_approx": data.workers_approx,
        "latitude": data.latitude,
        "longitude": data.longitude,
    }
    if values["os_id"] is not None and not OS_ID_PATTERN.match(values["os_id"]):
        raise OperationError(
            _l("An Open Supply Hub id is a country code and 13 letters or digits, e.g. CN2019303BQ3FZP."),
            field="os_id",
        )
    if values["workers_approx"] is not None and values["workers_approx"] < 0:
        raise OperationError(_l("The number of workers cannot be negative."), field="workers_approx")
    latitude, longitude = values["latitude"], values["longitude"]
    if (latitude is None) != (longitude is None):
        raise OperationError(_l("Give both latitude and longitude, or neither."), field="latitude")
    if latitude is not None and not -90 <= latitude <= 90:
        raise OperationError(_l("The latitude must be between -90 and 90."), field="latitude")
    if longitude is not None and not -180 <= longitude <= 180:
        raise OperationError(_l("The longitude must be between -180 and 180."), field="longitude")
    values.update(site_keys(values["name"], values["address"], values["country"])._asdict())
    return values


def _check_site_unique(values: dict[str, Any], site: Site | None = None) -> None:
    others = select(Site.id) if site is None else select(Site.id).where(Site.id != site.id)
    if values["os_id"] and db.session.scalar(others.where(Site.os_id == values["os_id"])):
        raise OperationError(_l("Another site already has this Open Supply Hub id."), field="os_id")
    same_place = others.where(Site.match_key == values["match_key"], Site.merged_into_id.is_(None))
    if db.session.scalar(same_place):
        raise OperationError(
            _l("A site with this name and address already exists in this country."), field="name"
        )


def create_site(actor: User | None, data: SiteData) -> Site:
    values = _clean_site(data)
    _check_site_unique(values)
    site = Site(**values)
    db.session.add(site)
    db.session.flush()
    audit.record(
        "site.create",
        f"Created {site.kind.value} site {site.name!r} in {site.country}",
        actor=actor,
        obj=site,
        data={k: v for k, v in values.items() if k not in ("match_key", "name_key")},
    )
    return site


def update_site(actor: User | None, site: Site, data: SiteData) -> dict[str, list[Any]]:
    """Change a site; return the changes."""
    values = _clean_site(data)
    _check_site_unique(values, site)
    changed = _changes(site, values)
    if not changed:
        return changed
    db.session.flush()
    audit.record(
        "site.update",
        f"Updated site {site.name!r}",
        actor=actor,
        obj=site,
        data={k: v for k, v in changed.items() if k not in ("match_key", "name_key")},
    )
    return changed


def _surviving(site: Site) -> Site:
    """Follow merges to the site that stayed."""
    seen = set()
    while site.merged_into is not None and site.id not in seen:
        seen.add(site.id)
        site = site.merged_into
    return site


def find_or_create_site(actor: User | None, data: SiteData) -> Site:
    """The existing site with this Open Supply Hub id or the same name, address and country;
    else a new site."""
    values = _clean_site(data)
    site = None
    if values["os_id"]:
        site = db.session.scalar(select(Site).where(Site.os_id == values["os_id"]))
    if site is None:
        site = db.session.scalar(
            select(Site)
            .where(Site.match_key == values["match_key"])
            .order_by(Site.merged_into_id.is_not(None), Site.id)
            .limit(1)
        )
    return _surviving(site) if site is not None else create_site(actor, data)


# --- products -------------------------------------------------------------------------------


def _product_values(brand: str, model: str, category: ProductCategory) -> dict[str, Any]:
    brand = _required(brand, 200, "brand", _l("Please give the brand."))
    model = _required(model, 200, "model", _l("Please give the model."))
    return {
        "brand": brand,
        "model": model,
        "brand_key": brand.casefold(),
        "model_key": model.casefold(),
        "category": ProductCategory(category),
    }


def find_product(brand: str, model: str) -> Product | None:
    return db.session.scalar(
        select(Product).where(
            Product.brand_key == _text(brand).casefold(), Product.model_key == _text(model).casefold()
        )
    )


def _check_product_unique(values: dict[str, Any], product: Product | None = None) -> None:
    query = select(Product.id).where(
        Product.brand_key == values["brand_key"], Product.model_key == values["model_key"]
    )
    if product is not None:
        query = query.where(Product.id != product.id)
    if db.session.scalar(query):
        raise OperationError(_l("This brand already has a product with this model name."), field="model")


def create_product(actor: User | None, brand: str, model: str, category: ProductCategory) -> Product:
    values = _product_values(brand, model, category)
    _check_product_unique(values)
    product = Product(**values, created_by_id=getattr(actor, "id", None))
    db.session.add(product)
    db.session.flush()
    audit.record(
        "product.create",
        f"Created product {product.brand} {product.model}",
        actor=actor,
        obj=product,
        data={"brand": product.brand, "model": product.model, "category": product.category.value},
    )
    return product


def update_product(
    actor: User | None, product: Product, brand: str, model: str, category: ProductCategory
) -> dict[str, list[Any]]:
    values = _product_values(brand, model, category)
    _check_product_unique(values, product)
    changed = _changes(product, values)
    if changed:
        db.session.flush()
        audit.record(
            "product.update",
            f"Updated product {product.brand} {product.model}",
            actor=actor,
            obj=product,
            data={k: v for k, v in changed.items() if not k.endswith("_key")},
        )
    return changed


def find_or_create_product(
    actor: User | None, brand: str, model: str, category: ProductCategory | None
) -> Product:
    """The product with this brand and model (case and spacing ignored), else a new one."""
    product = find_product(brand, model)
    if product is not None:
        return product
    if category is None:
        _product_values(brand, model, ProductCategory.other)  # report a missing brand or model first
        raise OperationError(
            _l("This product is not in the registry yet: choose its category to add it."), field="category"
        )
    return create_product(actor, brand, model, category)


# --- contracts ------------------------------------------------------------------------------


@dataclass
class ClauseData:
    kind: ClauseKind
    text: str
    reference: str = ""


@dataclass
class ContractData:
    supplier: Organisation | None
    reference: str
    title: str
    start_date: date | None
    end_date: date | None = None
    annual_spend: Decimal | None = None
    currency: str = "EUR"
    labour_conditions: bool = True
    clauses: Sequence[ClauseData] = field(default_factory=list)


def _currency(value: str | None, field_name: str = "currency") -> str:
    code = (value or "").strip().upper()
    if code not in list_currencies():
        raise OperationError(
            _l("Give the currency as a three-letter ISO 4217 code, e.g. EUR, SEK or GBP."), field=field_name
        )
    return code


def _contract_values(affiliate_id: int, data: ContractData, contract: Contract | None) -> dict[str, Any]:
    supplier = data.supplier
    # A contract keeps a supplier deactivated since; a new one or a change needs an active one.
    unchanged = contract is not None and contract.supplier_id == getattr(supplier, "id", None)
    if (
        supplier is None
        or supplier.kind is not OrganisationKind.supplier
        or not (supplier.is_active or unchanged)
    ):
        raise OperationError(_l("Choose an active supplier organisation."), field="supplier")
    reference = _required(data.reference, 100, "reference", _l("Please give the contract's reference."))
    title = _required(data.title, 300, "title", _l("Please give the contract a title."))
    if data.start_date is None:
        raise OperationError(_l("Please give the start date."), field="start_date")
    if data.end_date is not None and data.end_date < data.start_date:
        raise OperationError(_l("The end date must not be before the start date."), field="end_date")
    spend = data.annual_spend
    if spend is not None:
        if not spend.is_finite() or spend < 0 or spend > MAX_SPEND:
            raise OperationError(
                _l("Give the annual spend as an amount of at least 0."), field="annual_spend"
            )
        spend = spend.quantize(Decimal("0.01"))
    taken = select(Contract.id).where(
        Contract.affiliate_id == affiliate_id, func.lower(Contract.reference) == reference.lower()
    )
    if contract is not None:
        taken = taken.where(Contract.id != contract.id)
    if db.session.scalar(taken):
        raise OperationError(_l("You already have a contract with this reference."), field="reference")
    return {
        "supplier_id": supplier.id,
        "reference": reference,
        "title": title,
        "start_date": data.start_date,
        "end_date": data.end_date,
        "annual_spend": spend,
        "currency": _currency(data.currency),
        "labour_conditions": bool(data.labour_conditions),
    }


def _clauses(clauses: Sequence[ClauseData]) -> list[dict[str, Any]]:
    cleaned = []
    for clause in clauses:
        text = (clause.text or "").strip()
        if not text:
            raise OperationError(_l("Every clause needs its text."), field="clauses")
        if len(text) > 20000:
            raise OperationError(_l("A clause may have at most 20,000 characters."), field="clauses")
        reference = _max_length(_text(clause.reference), 100, "clauses")
        cleaned.append({"kind": ClauseKind(clause.kind), "reference": reference, "text": text})
    return cleaned


def _set_clauses(contract: Contract, clauses: list[dict[str, Any]]) -> None:
    contract.clauses.clear()
    db.session.flush()  # delete the old rows before positions are reused
    contract.clauses.extend(ContractClause(position=n, **values) for n, values in enumerate(clauses, start=1))


def _clause_summary(contract: Contract) -> list[dict[str, Any]]:
    return [{"kind": c.kind.value, "reference": c.reference, "text": c.text} for c in contract.clauses]


def create_contract(
    actor: User | None, data: ContractData, affiliate: Organisation | None = None
) -> Contract:
    """A contract of the actor's organisation (an affiliate), or of the affiliate given when there
    is no actor (the command line), with a supplier."""
    affiliate_id = affiliate.id if affiliate is not None else actor.organisation_id  # type: ignore[union-attr]
    values = _contract_values(affiliate_id, data, None)
    clauses = _clauses(data.clauses)
    contract = Contract(affiliate_id=affiliate_id, **values)
    db.session.add(contract)
    db.session.flush()
    _set_clauses(contract, clauses)
    db.session.flush()
    audit.record(
        "contract.create",
        f"Created contract {contract.reference!r} with {data.supplier.name!r}",  # type: ignore[union-attr]
        actor=actor,
        obj=contract,
        data={**values, "clauses": len(clauses)},
    )
    return contract


def update_contract(
    actor: User, contract: Contract, data: ContractData, *, replace_clauses: bool = True
) -> dict[str, list[Any]]:
    """Change a contract; its clauses are replaced by ``data.clauses`` unless told otherwise."""
    values = _contract_values(contract.affiliate_id, data, contract)
    changed = _changes(contract, values)
    if replace_clauses:
        clauses = _clauses(data.clauses)
        before = _clause_summary(contract)
        if before != [{**c, "kind": c["kind"].value} for c in clauses]:
            _set_clauses(contract, clauses)
            changed["clauses"] = [len(before), len(clauses)]
    if changed:
        contract.updated_dt = utcnow()
        db.session.flush()
        audit.record(
            "contract.update",
            f"Updated contract {contract.reference!r}",
            actor=actor,
            obj=contract,
            data=changed,
        )
    return changed


def add_contract_product(
    actor: User | None, contract: Contract, product: Product, quantity: int | None = None
) -> ContractProduct:
    if quantity is not None and quantity <= 0:
        raise OperationError(_l("The quantity must be at least 1."), field="quantity")
    if any(item.product_id == product.id for item in contract.products):
        raise OperationError(_l("This contract already covers this product."), field="product")
    item = ContractProduct(product=product, quantity=quantity)
    contract.products.append(item)
    db.session.flush()
    audit.record(
        "contract.product_add",
        f"Contract {contract.reference!r} now covers {product.brand} {product.model}",
        actor=actor,
        obj=contract,
        data={"product_id": product.id, "quantity": quantity},
    )
    return item


def add_product_by_name(
    actor: User,
    contract: Contract,
    brand: str,
    model: str,
    category: ProductCategory | None,
    quantity: int | None = None,
) -> ContractProduct:
    """Cover a product named by brand and model, adding it to the registry if it is new."""
    return add_contract_product(
        actor, contract, find_or_create_product(actor, brand, model, category), quantity
    )


def remove_contract_product(actor: User, contract: Contract, product: Product) -> None:
    item = next((item for item in contract.products if item.product_id == product.id), None)
    if item is None:
        raise OperationError(_l("This contract does not cover this product."), field="product")
    contract.products.remove(item)
    db.session.flush()
    audit.record(
        "contract.product_remove",
        f"Contract {contract.reference!r} no longer covers {product.brand} {product.model}",
        actor=actor,
        obj=contract,
        data={"product_id": product.id},
    )


# --- disclosures ----------------------------------------------------------------------------


def disclosable_product(actor: User, product_id: int | None) -> Product:
    """The product a supplier names for a disclosure, if one of its contracts covers it.

    A product that does not exist gets the same answer, so nothing is revealed.
    """
    product = db.session.get(Product, product_id) if product_id is not None else None
    if product is None or not can_disclose_product(actor, product):
        raise OperationError(
            _l("You can only disclose sites for products that one of your contracts covers."),
            field="product",
        )
    return product


def choosable_site(actor: User, site_id: int | None) -> Site:
    """A site the actor already sees, to disclose another product or part at."""
    site = (
        db.session.scalar(visible_sites(actor).where(Site.id == site_id, Site.merged_into_id.is_(None)))
        if site_id is not None
        else None
    )
    if site is None:
        raise OperationError(_l("Choose one of your sites or describe a new one."), field="site")
    return site


def create_disclosure(
    actor: User,
    product: Product,
    site: Site,
    part: DisclosurePart,
    valid_from: date | None,
    valid_to: date | None = None,
    source: str = "",
) -> Disclosure:
    """The actor's organisation (a supplier) states that a part of a product is made at a site."""
    if not can_disclose_product(actor, product):
        raise OperationError(
            _l("You can only disclose sites for products that one of your contracts covers."),
            field="product",
        )
    if valid_from is None:
        raise OperationError(_l("Please give the date from which this is true."), field="valid_from")
    if valid_to is not None and valid_to < valid_from:
        raise OperationError(_l("The end date must not be before the start date."), field="valid_to")
    site = _surviving(site)
    disclosure = Disclosure(
        supplier_id=actor.organisation_id,
        product=product,
        site=site,
        part=DisclosurePart(part),
        valid_from=valid_from,
        valid_to=valid_to,
        source=_max_length(_text(source), 500, "source"),
        disclosed_by_id=actor.id,
    )
    db.session.add(disclosure)
    db.session.flush()
    audit.record(
        "disclosure.create",
        f"{actor.organisation.name!r} disclosed {product.brand} {product.model} "
        f"({disclosure.part.value}) at site {site.id}",
        actor=actor,
        obj=disclosure,
        data={
            "product_id": product.id,
            "site_id": site.id,
            "part": disclosure.part.value,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "source": disclosure.source,
        },
    )
    return disclosure


def disclose(
    actor: User,
    product_id: int | None,
    site: int | SiteData | None,
    part: DisclosurePart,
    valid_from: date | None,
    valid_to: date | None = None,
    source: str = "",
) -> Disclosure:
    """Disclose a product at one of the actor's sites (by id) or at a described site, which is
    matched against the registry first. Errors about the described site name ``site_<field>``."""
    product = disclosable_product(actor, product_id)
    if isinstance(site, SiteData):
        try:
            site = find_or_create_site(actor, site)
        except OperationError as exc:
            raise OperationError(exc.message, field=f"site_{exc.field}" if exc.field else "site") from exc
    else:
        site = choosable_site(actor, site)
    return create_disclosure(actor, product, site, part, valid_from, valid_to, source)


def withdraw_disclosure(actor: User, disclosure: Disclosure) -> None:
    if disclosure.withdrawn_dt is not None:
        raise OperationError(_l("This disclosure was already withdrawn."))
    disclosure.withdrawn_dt = utcnow()
    disclosure.withdrawn_by_id = actor.id
    db.session.flush()
    audit.record(
        "disclosure.withdraw",
        f"Withdrew disclosure {disclosure.id}",
        actor=actor,
        obj=disclosure,
        data={"product_id": disclosure.product_id, "site_id": disclosure.site_id},
    )


# --- currency rates -------------------------------------------------------------------------


def set_currency_rate(actor: User | None, currency: str, eur_per_unit: Decimal | None) -> CurrencyRate:
    code = _currency(currency)
    if code == "EUR":
        raise OperationError(_l("The euro is the base currency; it needs no rate."), field="currency")
    valid = eur_per_unit is not None and eur_per_unit.is_finite() and 0 < eur_per_unit < MAX_RATE
    rate_value = eur_per_unit.quantize(Decimal("0.00000001")) if valid else Decimal(0)  # type: ignore[union-attr]
    if rate_value <= 0:
        raise OperationError(
            _l("Give the rate as a positive number of euros (at least 0.00000001)."), field="eur_per_unit"
        )
    rate = db.session.get(CurrencyRate, code)
    old = rate.eur_per_unit if rate is not None else None
    if rate is None:
        rate = CurrencyRate(currency=code, eur_per_unit=rate_value)
        db.session.add(rate)
    elif old == rate_value:
        return rate
    rate.eur_per_unit = rate_value
    rate.updated_dt = utcnow()
    db.session.flush()
    audit.record(
        "currency_rate.set",
        f"Set 1 {code} = {rate_value} EUR",
        actor=actor,
        object_type="currency_rate",
        object_id=code,
        data={"eur_per_unit": [old, rate_value]},
    )
    return rate
