"""JSON API of the supply-chain registry, with the permissions of the pages (404 for what a
user may not see)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from monitoring.accounts.models import User
from monitoring.core.api import operation_error, paginate, route
from monitoring.core.auth import roles
from monitoring.core.operations import OperationError
from monitoring.core.pagination import Page
from monitoring.core.roles import UserRole
from monitoring.supplychain import leverage, operations, queries, services
from monitoring.supplychain.models import Contract, CountryRisk, CurrencyRate, Disclosure, Product, Site
from monitoring.supplychain.name_schemas import AddSiteNameArgs
from monitoring.supplychain.obligations import DisclosureObligation, disclosure_obligation
from monitoring.supplychain.permissions import (
    READER_ROLES,
    REGISTRY_ROLES,
    can_confirm_disclosure,
    can_create_contract,
    can_disclose,
    can_manage_contract,
    can_manage_products,
    can_manage_sites,
    can_see_concerned,
    can_set_currency_rates,
    can_view_leverage,
    listed_sites,
    visible_contracts,
    visible_disclosures,
    visible_products,
    visible_sites,
)
from monitoring.supplychain.risk import operations as risk_operations
from monitoring.supplychain.risk import services as risk
from monitoring.supplychain.risk.permissions import (
    COUNTRY_RISK_EDITORS,
    RISK_ROLES,
    can_set_country_risk,
    risk_sites,
)
from monitoring.supplychain.schemas import (
    AddContractProductArgs,
    ConcernedSchema,
    ContractSchema,
    CountryRiskSchema,
    CreateContractArgs,
    CreateDisclosureArgs,
    CreateProductArgs,
    CreateSiteArgs,
    CurrencyRateSchema,
    DisclosureObligationSchema,
    DisclosureSchema,
    ListContractsArgs,
    ListCountryRisksArgs,
    ListCurrencyRatesArgs,
    ListDisclosuresArgs,
    ListProductsArgs,
    ListSitesArgs,
    ProductSchema,
    RankedSiteSchema,
    RankingArgs,
    SetCountryRiskArgs,
    SetCurrencyRateArgs,
    SiteRiskSchema,
    SiteSchema,
    UpdateContractArgs,
    UpdateProductArgs,
    UpdateSiteArgs,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Operation fields that the API names differently.
RENAME = {
    "supplier": "supplier_id",
    "product": "product_id",
    "site": "site_id",
    **{f"site_{name}": f"site.{name}" for name in ("name", "address", "city", "country", "kind", "os_id")},
}

current, load = services.current, services.load


def _user(allowed: Callable[[User], bool]) -> User:
    user = current()
    services.require(allowed(user))
    return user


def _run(operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one operation; a refusal is a 422 naming the API's field."""
    try:
        return operation(*args, **kwargs)
    except OperationError as exc:
        raise operation_error(exc, rename=RENAME) from exc


def _page(query: Select[Any], order: Sequence[Any], args: dict[str, Any]) -> Page:
    return paginate(query, order, args.get("after"), args.get("limit"))


# --- sites --------------------------------------------------------------------------------------


@route("/sites", summary=_l("List sites"), args=ListSitesArgs, response=SiteSchema, paginated=True)
@roles(*REGISTRY_ROLES)
def list_sites(args: dict[str, Any]) -> Page:
    return _page(services.list_sites(current(), args), services.SITE_ORDER, args)


@route(
    "/sites",
    method="POST",
    summary=_l("Add a site"),
    args=CreateSiteArgs,
    response=SiteSchema,
    status=201,
)
@roles(UserRole.coordinator)
def create_site(args: dict[str, Any]) -> Site:
    return _run(operations.create_site, _user(can_manage_sites), operations.SiteData(**args))


@route("/sites/<int:site_id>", summary=_l("A site"), response=SiteSchema)
@roles(*REGISTRY_ROLES)
def get_site(site_id: int) -> Site:
    return load(visible_sites(current()), Site.id == site_id)


@route(
    "/sites/<int:site_id>",
    method="PATCH",
    summary=_l("Change a site"),
    description=_l("Fields left out keep their value. Merged sites cannot be changed."),
    args=UpdateSiteArgs,
    response=SiteSchema,
)
@roles(UserRole.coordinator)
def update_site(site_id: int, args: dict[str, Any]) -> Site:
    user = _user(can_manage_sites)
    site = load(listed_sites(user), Site.id == site_id)
    names = ("name", "address", "city", "country", "kind", "os_id", "workers_approx", "latitude", "longitude")
    data = operations.SiteData(**{**{n: getattr(site, n) for n in names}, **args})
    _run(operations.update_site, user, site, data)
    return site


@route(
    "/sites/<int:site_id>/alternative-names",
    method="POST",
    summary=_l("Add another name of a site"),
    description=_l(
        "For instance its name in Chinese or Thai. Searches find the site by any of its names, in "
        "any script, ignoring case and accents. Merged sites cannot be changed."
    ),
    args=AddSiteNameArgs,
    response=SiteSchema,
    status=201,
)
@roles(UserRole.coordinator)
def add_site_name(site_id: int, args: dict[str, Any]) -> Site:
    user = _user(can_manage_sites)
    site = load(listed_sites(user), Site.id == site_id)
    _run(operations.add_alternative_name, user, site, args["name"])
    return site


@route(
    "/sites/<int:site_id>/alternative-names/<int:name_id>",
    method="DELETE",
    summary=_l("Remove another name of a site"),
    response=SiteSchema,
)
@roles(UserRole.coordinator)
def remove_site_name(site_id: int, name_id: int) -> Site:
    user = _user(can_manage_sites)
    site = load(listed_sites(user), Site.id == site_id)
    _run(operations.remove_alternative_name, user, site, services.site_name(site, name_id))
    return site


@route(
    "/sites/<int:site_id>/concerned",
    summary=_l("The affiliates and suppliers a site concerns"),
    description=_l(
        "Derived from contracts in force, the products they cover and current disclosures. "
        "Coordinators and monitors see every affiliate and the site's leverage; an affiliate sees "
        "itself, the number of other affiliates and the suppliers linked to its own products."
    ),
    response=ConcernedSchema,
)
@roles(UserRole.coordinator, UserRole.monitor, UserRole.affiliate)
def site_concerned(site_id: int) -> services.Concerned:
    user, today = _user(can_see_concerned), date.today()
    concerned = services.concerned(user, load(visible_sites(user, today), Site.id == site_id), today)
    services.require(concerned is not None)
    return concerned  # type: ignore[return-value]


@route(
    "/sites/leverage",
    summary=_l("Sites ranked by collective leverage"),
    description=_l(
        "By the number of affiliates with a contract in force reaching the site, then by their "
        "annual spend in euros; each contract counts once per site. The ranking is stored and read "
        "as of when it was computed (each item's as_of): it is recomputed after a change to the "
        "contracts, disclosures, currency rates or site merges, each day, and at least every "
        "LEVERAGE_MAX_AGE_SECONDS (an hour by default)."
    ),
    args=RankingArgs,
    response=RankedSiteSchema,
    paginated=True,
)
@roles(*READER_ROLES)
def leverage_ranking(args: dict[str, Any]) -> Page:
    _user(can_view_leverage)
    stored = leverage.ranking(date.today())
    page = _page(stored.query, stored.keys, args)
    page.items = list(queries.ranked(page.items, stored.as_of))
    return page


# --- products -----------------------------------------------------------------------------------


@route(
    "/products", summary=_l("List products"), args=ListProductsArgs, response=ProductSchema, paginated=True
)
@roles(*REGISTRY_ROLES)
def list_products(args: dict[str, Any]) -> Page:
    return _page(services.list_products(current(), args), services.PRODUCT_ORDER, args)


@route(
    "/products",
    method="POST",
    summary=_l("Add a product"),
    args=CreateProductArgs,
    response=ProductSchema,
    status=201,
)
@roles(UserRole.coordinator)
def create_product(args: dict[str, Any]) -> Product:
    return _run(
        operations.create_product, _user(can_manage_products), args["brand"], args["model"], args["category"]
    )


@route("/products/<int:product_id>", summary=_l("A product"), response=ProductSchema)
@roles(*REGISTRY_ROLES)
def get_product(product_id: int) -> Product:
    return load(visible_products(current()), Product.id == product_id)


@route(
    "/products/<int:product_id>",
    method="PATCH",
    summary=_l("Change a product"),
    args=UpdateProductArgs,
    response=ProductSchema,
)
@roles(UserRole.coordinator)
def update_product(product_id: int, args: dict[str, Any]) -> Product:
    user = _user(can_manage_products)
    product = load(visible_products(user), Product.id == product_id)
    values = {"brand": product.brand, "model": product.model, "category": product.category, **args}
    _run(operations.update_product, user, product, values["brand"], values["model"], values["category"])
    return product


# --- contracts ----------------------------------------------------------------------------------


@route(
    "/contracts",
    summary=_l("List contracts"),
    args=ListContractsArgs,
    response=ContractSchema,
    paginated=True,
)
@roles(*REGISTRY_ROLES)
def list_contracts(args: dict[str, Any]) -> Page:
    query = services.list_contracts(current(), args)
    query = query.options(selectinload(Contract.clauses), selectinload(Contract.products))
    return _page(query, services.CONTRACT_ORDER, args)


@route(
    "/contracts",
    method="POST",
    summary=_l("Register a contract"),
    description=_l("A contract of your organisation (an affiliate) with a supplier, with its clauses."),
    args=CreateContractArgs,
    response=ContractSchema,
    status=201,
)
@roles(UserRole.affiliate)
def create_contract(args: dict[str, Any]) -> Contract:
    return _run(operations.create_contract, _user(can_create_contract), services.contract_data(args))


def _managed_contract(contract_id: int) -> tuple[User, Contract]:
    user = current()
    contract = load(visible_contracts(user), Contract.id == contract_id)
    services.require(can_manage_contract(user, contract))
    return user, contract


@route("/contracts/<int:contract_id>", summary=_l("A contract"), response=ContractSchema)
@roles(*REGISTRY_ROLES)
def get_contract(contract_id: int) -> Contract:
    return load(visible_contracts(current()), Contract.id == contract_id)


@route(
    "/contracts/<int:contract_id>",
    method="PATCH",
    summary=_l("Change a contract"),
    description=_l("Fields left out keep their value; `clauses`, when given, replace every clause."),
    args=UpdateContractArgs,
    response=ContractSchema,
)
@roles(UserRole.affiliate)
def update_contract(contract_id: int, args: dict[str, Any]) -> Contract:
    user, contract = _managed_contract(contract_id)
    _run(
        operations.update_contract,
        user,
        contract,
        services.contract_data(args, contract),
        replace_clauses="clauses" in args,
    )
    return contract


@route(
    "/contracts/<int:contract_id>/products",
    method="POST",
    summary=_l("Add a product to a contract"),
    description=_l(
        "By `product_id`, or by `brand` and `model`: a product not yet in the registry is added "
        "with the given `category`."
    ),
    args=AddContractProductArgs,
    response=ContractSchema,
    status=201,
)
@roles(UserRole.affiliate)
def add_contract_product(contract_id: int, args: dict[str, Any]) -> Contract:
    user, contract = _managed_contract(contract_id)
    _run(services.add_contract_product, user, contract, args)
    return contract


@route(
    "/contracts/<int:contract_id>/products/<int:product_id>",
    method="DELETE",
    summary=_l("Remove a product from a contract"),
    response=ContractSchema,
)
@roles(UserRole.affiliate)
def remove_contract_product(contract_id: int, product_id: int) -> Contract:
    user, contract = _managed_contract(contract_id)
    product = load(visible_products(user), Product.id == product_id)
    _run(operations.remove_contract_product, user, contract, product)
    return contract


@route(
    "/contracts/<int:contract_id>/disclosure-confirmation",
    summary=_l("The supplier's disclosure confirmation for a contract"),
    description=_l(
        "When the supplier is next to confirm its disclosure, when it last did, and whether it is overdue."
    ),
    response=DisclosureObligationSchema,
)
@roles(*REGISTRY_ROLES)
def get_disclosure_obligation(contract_id: int) -> DisclosureObligation:
    contract = load(visible_contracts(current()), Contract.id == contract_id)
    return disclosure_obligation(contract, date.today())


@route(
    "/contracts/<int:contract_id>/disclosure-confirmation",
    method="POST",
    summary=_l("Confirm that the disclosure for a contract is still true"),
    description=_l("Only the contract's supplier; the next confirmation is then due a year later."),
    response=DisclosureObligationSchema,
)
@roles(UserRole.supplier)
def confirm_disclosure(contract_id: int) -> DisclosureObligation:
    user = current()
    contract = load(visible_contracts(user), Contract.id == contract_id)
    services.require(can_confirm_disclosure(user, contract))
    _run(operations.confirm_disclosure, user, contract)
    return disclosure_obligation(contract, date.today())


# --- disclosures --------------------------------------------------------------------------------


@route(
    "/disclosures",
    summary=_l("List disclosures"),
    description=_l(
        "Suppliers see their own; affiliates the current disclosures of the products their "
        "contracts cover; coordinators and monitors all."
    ),
    args=ListDisclosuresArgs,
    response=DisclosureSchema,
    paginated=True,
)
@roles(*REGISTRY_ROLES)
def list_disclosures(args: dict[str, Any]) -> Page:
    return _page(services.list_disclosures(current(), args), services.DISCLOSURE_ORDER, args)


@route(
    "/disclosures",
    method="POST",
    summary=_l("Disclose where a product is made"),
    description=_l(
        "Only for products one of your contracts covers. Give `site_id` (one of your sites) or "
        "`site`, which is matched by Open Supply Hub id, then by name, address and country, and "
        "added when new."
    ),
    args=CreateDisclosureArgs,
    response=DisclosureSchema,
    status=201,
)
@roles(UserRole.supplier)
def create_disclosure(args: dict[str, Any]) -> Disclosure:
    return _run(services.disclose, _user(can_disclose), args)


@route("/disclosures/<int:disclosure_id>", summary=_l("A disclosure"), response=DisclosureSchema)
@roles(*REGISTRY_ROLES)
def get_disclosure(disclosure_id: int) -> Disclosure:
    return load(visible_disclosures(current()), Disclosure.id == disclosure_id)


@route(
    "/disclosures/<int:disclosure_id>/withdraw",
    method="POST",
    summary=_l("Withdraw a disclosure"),
    description=_l("It stays on record, marked as withdrawn, and no longer links the site."),
    response=DisclosureSchema,
)
@roles(UserRole.supplier)
def withdraw_disclosure(disclosure_id: int) -> Disclosure:
    user = _user(can_disclose)
    disclosure = load(visible_disclosures(user), Disclosure.id == disclosure_id)  # its own only
    _run(operations.withdraw_disclosure, user, disclosure)
    return disclosure


# --- currency rates -----------------------------------------------------------------------------


@route(
    "/currency-rates",
    summary=_l("List currency rates"),
    description=_l("Euros per unit of each currency, used to add up spend in the leverage ranking."),
    args=ListCurrencyRatesArgs,
    response=CurrencyRateSchema,
    paginated=True,
)
@roles(*READER_ROLES)
def list_currency_rates(args: dict[str, Any]) -> Page:
    return _page(services.list_currency_rates(), services.RATE_ORDER, args)


@route(
    "/currency-rates/<currency>",
    method="PUT",
    summary=_l("Set a currency rate"),
    args=SetCurrencyRateArgs,
    response=CurrencyRateSchema,
)
@roles(UserRole.coordinator)
def set_currency_rate(currency: str, args: dict[str, Any]) -> CurrencyRate:
    return _run(operations.set_currency_rate, _user(can_set_currency_rates), currency, args["eur_per_unit"])


# --- site risk and country risk -------------------------------------------------------------


@route(
    "/sites/<int:site_id>/risk",
    summary=_l("A site's risk view"),
    description=_l(
        "Findings by severity, cases, worker reports (a count only, not for suppliers; buyers see "
        "small counts as fewer than 5), the country's risk level and the site's tier in each chain. "
        "Buyers see it for the sites their contracts reach at any tier, suppliers for the sites they "
        "disclosed."
    ),
    response=SiteRiskSchema,
)
@roles(*RISK_ROLES)
def get_site_risk(site_id: int) -> risk.SiteRisk:
    user, today = services.current(), date.today()
    site = services.load(risk_sites(user, today), Site.id == site_id)
    return risk.site_risk(user, site, today)


@route(
    "/country-risks",
    summary=_l("List the country risk levels"),
    args=ListCountryRisksArgs,
    response=CountryRiskSchema,
    paginated=True,
)
@roles(*RISK_ROLES)
def list_country_risks(args: dict[str, Any]) -> Page:
    return _page(select(CountryRisk), [CountryRisk.country], args)


@route(
    "/country-risks/<country>",
    method="PUT",
    summary=_l("Set a country's risk level"),
    args=SetCountryRiskArgs,
    response=CountryRiskSchema,
)
@roles(*COUNTRY_RISK_EDITORS)
def set_country_risk(country: str, args: dict[str, Any]) -> CountryRisk:
    return _run(
        risk_operations.set_country_risk, _user(can_set_country_risk), country, args["level"], args["source"]
    )
