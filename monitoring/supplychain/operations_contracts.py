"""Operations on contracts, disclosures and currency rates.

They take the actor explicitly, validate, flush and audit; they never commit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import list_currencies
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from monitoring.accounts.models import Organisation, OrganisationKind, User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
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
)
from monitoring.supplychain.operations_sites import (
    MAX_RATE,
    MAX_SPEND,
    SiteData,
    changes_of,
    check_length,
    clean_text,
    find_or_create_product,
    find_or_create_site,
    required_text,
    surviving_site,
)
from monitoring.supplychain.permissions import can_confirm_disclosure, can_disclose_product, visible_sites

logger = logging.getLogger(__name__)


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
    reference = required_text(data.reference, 100, "reference", _l("Please give the contract's reference."))
    title = required_text(data.title, 300, "title", _l("Please give the contract a title."))
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
        reference = check_length(clean_text(clause.reference), 100, "clauses")
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
    changed = changes_of(contract, values)
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


def confirm_disclosure(actor: User, contract: Contract) -> Contract:
    """The contract's supplier confirms that its disclosure is still true; the clock starts anew."""
    if not can_confirm_disclosure(actor, contract):
        raise OperationError(_l("Only the contract's supplier can confirm its disclosure."))
    previous = contract.disclosure_confirmed_dt
    contract.disclosure_confirmed_dt = utcnow()
    db.session.flush()
    audit.record(
        "contract.disclosure_confirm",
        f"Supplier confirmed the disclosure for contract {contract.reference!r} is still true",
        actor=actor,
        obj=contract,
        data={"previous": previous.isoformat() if previous else None},
    )
    logger.info("Disclosure for contract %s confirmed by user %s", contract.id, actor.id)
    return contract


# --- disclosures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainData:
    """Where a disclosed part goes (the next tier's site) and what it weighs in the product."""

    supplies_site: Site | None = None
    value_share: Decimal | None = None  # percent of the product's value, above 0 and up to 100
    units_per_product: int | None = None


def _check_share(chain: ChainData) -> None:
    share = chain.value_share
    if share is not None and not (share.is_finite() and 0 < share <= 100):
        raise OperationError(
            _l("Give the share as a percentage above 0 and at most 100."), field="value_share"
        )
    if share is not None and share != share.quantize(Decimal("0.01")):
        raise OperationError(_l("Give the share with at most two decimals."), field="value_share")
    if chain.units_per_product is not None and chain.units_per_product < 1:
        raise OperationError(_l("Give at least one unit per product."), field="units_per_product")


def supplied_site(actor: User, site_id: int | None = None, os_id: str | None = None) -> Site | None:
    """The site a disclosed part goes to: one the actor sees (by id), or any site by its public
    Open Supply Hub id; None when neither is given."""
    if site_id is None and not os_id:
        return None
    if site_id is not None:
        site = db.session.scalar(visible_sites(actor).where(Site.id == site_id))
    else:
        site = db.session.scalar(select(Site).where(Site.os_id == (os_id or "").strip().upper()))
    if site is None:
        raise OperationError(
            _l("No site you can name has this id: give the Open Supply Hub id of the site the part goes to."),
            field="supplies_site_id" if site_id is not None else "supplies_os_id",
        )
    return site


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
    chain: ChainData | None = None,
) -> Disclosure:
    """The actor's organisation (a supplier) states that a part of a product is made at a site
    (and, with ``chain``, which site the part goes to and its share of the product)."""
    chain = chain or ChainData()
    if not can_disclose_product(actor, product):
        raise OperationError(
            _l("You can only disclose sites for products that one of your contracts covers."),
            field="product",
        )
    if valid_from is None:
        raise OperationError(_l("Please give the date from which this is true."), field="valid_from")
    if valid_to is not None and valid_to < valid_from:
        raise OperationError(_l("The end date must not be before the start date."), field="valid_to")
    site = surviving_site(site)
    supplies = surviving_site(chain.supplies_site) if chain.supplies_site is not None else None
    if supplies is not None and supplies.id == site.id:
        raise OperationError(
            _l("A site cannot supply itself: name the site the part goes to."), field="supplies_site_id"
        )
    _check_share(chain)
    disclosure = Disclosure(
        supplier_id=actor.organisation_id,
        product=product,
        site=site,
        part=DisclosurePart(part),
        valid_from=valid_from,
        valid_to=valid_to,
        source=check_length(clean_text(source), 500, "source"),
        disclosed_by_id=actor.id,
        supplies_site=supplies,
        value_share=chain.value_share,
        units_per_product=chain.units_per_product,
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
            "supplies_site_id": supplies.id if supplies is not None else None,
            "value_share": str(chain.value_share) if chain.value_share is not None else None,
            "units_per_product": chain.units_per_product,
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
    chain: ChainData | None = None,
) -> Disclosure:
    """Disclose a product at one of the actor's sites (by id) or at a described site, which is
    matched against the registry first. Errors about the described site name ``site_<field>``."""
    product = disclosable_product(actor, product_id)
    if isinstance(site, SiteData):
        try:
            place = find_or_create_site(actor, site)
        except OperationError as exc:
            raise OperationError(exc.message, field=f"site_{exc.field}" if exc.field else "site") from exc
    else:
        place = choosable_site(actor, site)
    return create_disclosure(actor, product, place, part, valid_from, valid_to, source, chain)


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
