"""Operations on sites and products, and the checks of values every registry operation shares.

They take the actor explicitly, validate, flush and audit; they never commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.supplychain.matching import OS_ID_PATTERN, country_codes, site_keys
from monitoring.supplychain.models import (
    Product,
    ProductCategory,
    Site,
    SiteKind,
    search_key,
)

logger = logging.getLogger(__name__)

MAX_SPEND = Decimal("99999999999999.99")  # Numeric(16, 2)
MAX_RATE = Decimal("9999999999")  # Numeric(18, 8)


def country_name(code: str, locale: Any = "en") -> str:
    """The country's name in the given locale (the code itself when unknown)."""
    return _country_name(code, str(locale))


@lru_cache(maxsize=4096)
def _country_name(code: str, locale: str) -> str:
    try:
        return Locale.parse(locale).territories.get(code, code)
    except (ValueError, TypeError):
        return code


def country_choices(locale: Any = "en") -> list[tuple[str, str]]:
    """Every country as (code, name in the locale), sorted by name."""
    names = Locale.parse(str(locale)).territories
    return sorted(((c, names.get(c, c)) for c in country_codes()), key=lambda item: item[1].casefold())


def clean_text(value: str | None) -> str:
    """Collapse whitespace."""
    return " ".join((value or "").split())


def required_text(value: str | None, max_length: int, field_name: str, message: Any) -> str:
    value = clean_text(value)
    if not value:
        raise OperationError(message, field=field_name)
    check_length(value, max_length, field_name)
    return value


def check_length(value: str, max_length: int, field_name: str) -> str:
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


def changes_of(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
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
    values: dict[str, Any] = {
        "name": required_text(data.name, 300, "name", _l("Please give the site's name.")),
        "address": check_length(clean_text(data.address), 500, "address"),
        "city": check_length(clean_text(data.city), 200, "city"),
        "country": _country(data.country),
        "kind": _site_kind(data.kind),
        "os_id": clean_text(data.os_id).upper() or None,
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
    values["search_key"] = search_key(values["name"])
    return values


# The keys a site is matched and searched by, left out of the audit (they follow from the name).
DERIVED_KEYS = ("match_key", "name_key", "search_key")


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
        data={k: v for k, v in values.items() if k not in DERIVED_KEYS},
    )
    return site


def update_site(actor: User | None, site: Site, data: SiteData) -> dict[str, list[Any]]:
    """Change a site; return the changes."""
    values = _clean_site(data)
    _check_site_unique(values, site)
    changed = changes_of(site, values)
    if not changed:
        return changed
    db.session.flush()
    audit.record(
        "site.update",
        f"Updated site {site.name!r}",
        actor=actor,
        obj=site,
        data={k: v for k, v in changed.items() if k not in DERIVED_KEYS},
    )
    return changed


def surviving_site(site: Site) -> Site:
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
    return surviving_site(site) if site is not None else create_site(actor, data)


# --- products -------------------------------------------------------------------------------


def _product_values(brand: str, model: str, category: ProductCategory) -> dict[str, Any]:
    brand = required_text(brand, 200, "brand", _l("Please give the brand."))
    model = required_text(model, 200, "model", _l("Please give the model."))
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
            Product.brand_key == clean_text(brand).casefold(),
            Product.model_key == clean_text(model).casefold(),
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
    changed = changes_of(product, values)
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
