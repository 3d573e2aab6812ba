"""JSON API of the supply-chain registry, with the permissions of the pages (404 for what a
user may not see)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import selectinload

from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.core.api import operation_error, paginate, route
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.pagination import Page
from monitoring.supplychain import operations, queries
from monitoring.supplychain.models import Contract, CurrencyRate, Disclosure, Product, Site
from monitoring.supplychain.permissions import (
    READER_ROLES,
    REGISTRY_ROLES,
    can_create_contract,
    can_disclose,
    can_manage_contract,
    can_manage_products,
    can_manage_sites,
    can_set_currency_rates,
    can_view_leverage,
    contract_in_force,
    disclosure_is_current,
    is_affiliate,
    listed_sites,
    reads_everything,
    visible_contracts,
    visible_disclosures,
    visible_products,
    visible_sites,
)
from monitoring.supplychain.schemas import (
    AddContractProductArgs,
    ConcernedSchema,
    ContractSchema,
    CreateContractArgs,
    CreateDisclosureArgs,
    CreateProductArgs,
    CreateSiteArgs,
    CurrencyRateSchema,
    DisclosureSchema,
    ListContractsArgs,
    ListCurrencyRatesArgs,
    ListDisclosuresArgs,
    ListProductsArgs,
    ListSitesArgs,
    ProductSchema,
    RankedSiteSchema,
    RankingArgs,
    SetCurrencyRateArgs,
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


def _user(allowed: Callable[[User], bool] | None = None) -> User:
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    if allowed is not None and not allowed(user):
        abort(404)
    return user


def _load(query: Select[Any], condition: ColumnElement[bool]) -> Any:
    obj = db.session.scalar(query.where(condition))
    if obj is None:
        abort(404)
    return obj


def _run(operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one operation and commit; a refusal is a 422 naming the API's field."""
    try:
        result = operation(*args, **kwargs)
    except OperationError as exc:
        raise operation_error(exc, rename=RENAME) from exc
    db.session.commit()
    return result


# --- sites --------------------------------------------------------------------------------------


@route("/sites", summary=_l("List sites"), args=ListSitesArgs, response=SiteSchema, paginated=True)
@roles(*REGISTRY_ROLES)
def list_sites(args: dict[str, Any]) -> Page:
    query = listed_sites(_user())
    if "country" in args:
        query = query.where(Site.country == args["country"].upper())
    if "kind" in args:
        query = query.where(Site.kind == args["kind"])
    if "q" in args:
        text = " ".join(args["q"].split())
        query = query.where(
            or_(
                Site.name.icontains(text, autoescape=True),
                Site.address.icontains(text, autoescape=True),
                Site.city.icontains(text, autoescape=True),
                Site.os_id == text.upper(),
            )
        )
    return paginate(query, [Site.name, Site.id], args.get("after"), args.get("limit"))


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
    return _load(visible_sites(_user()), Site.id == site_id)  # type: ignore[no-any-return]


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
    site = _load(listed_sites(user), Site.id == site_id)
    names = ("name", "address", "city", "country", "kind", "os_id", "workers_approx", "latitude", "longitude")
    data = operations.SiteData(**{**{n: getattr(site, n) for n in names}, **args})
    _run(operations.update_site, user, site, data)
    return site  # type: ignore[no-any-return]


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
def site_concerned(site_id: int) -> dict[str, Any]:
    user = _user()
    today = date.today()
    site = _load(visible_sites(user, today), Site.id == site_id)
    if reads_everything(user):
        return {
            "affiliates": queries.concerned_affiliates(site.id, today),
            "other_affiliates": None,
            "suppliers": queries.concerned_suppliers(site.id, today),
            "leverage": queries.site_leverage(site.id, today),
            "unconverted": queries.unconverted_spend(site.id, today),
        }
    if not is_affiliate(user):
        abort(404)
    org = user.organisation_id
    return {
        "affiliates": queries.concerned_affiliates(site.id, today, org),
        "other_affiliates": queries.other_affiliates(site.id, today, org),
        "suppliers": queries.concerned_suppliers(site.id, today, org),
        "leverage": None,
        "unconverted": None,
    }


@route(
    "/sites/leverage",
    summary=_l("Sites ranked by collective leverage"),
    description=_l(
        "By the number of affiliates with a contract in force reaching the site, then by their "
        "annual spend in euros; each contract counts once per site."
    ),
    args=RankingArgs,
    response=RankedSiteSchema,
    paginated=True,
)
@roles(*READER_ROLES)
def leverage_ranking(args: dict[str, Any]) -> Page:
    _user(can_view_leverage)
    query, keys = queries.leverage_ranking(date.today())
    page = paginate(query, keys, args.get("after"), args.get("limit"))
    page.items = list(queries.ranked(page.items))
    return page


# --- products -----------------------------------------------------------------------------------


@route(
    "/products", summary=_l("List products"), args=ListProductsArgs, response=ProductSchema, paginated=True
)
@roles(*REGISTRY_ROLES)
def list_products(args: dict[str, Any]) -> Page:
    query = visible_products(_user())
    if "category" in args:
        query = query.where(Product.category == args["category"])
    if "q" in args:
        text = " ".join(args["q"].split())
        query = query.where(
            or_(
                Product.brand.icontains(text, autoescape=True), Product.model.icontains(text, autoescape=True)
            )
        )
    return paginate(
        query, [Product.brand_key, Product.model_key, Product.id], args.get("after"), args.get("limit")
    )


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
    return _load(visible_products(_user()), Product.id == product_id)  # type: ignore[no-any-return]


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
    product = _load(visible_products(user), Product.id == product_id)
    values = {"brand": product.brand, "model": product.model, "category": product.category, **args}
    _run(operations.update_product, user, product, values["brand"], values["model"], values["category"])
    return product  # type: ignore[no-any-return]


# --- contracts ----------------------------------------------------------------------------------


def _with_details(query: Select[Any]) -> Select[Any]:
    return query.options(selectinload(Contract.clauses), selectinload(Contract.products))


@route(
    "/contracts",
    summary=_l("List contracts"),
    args=ListContractsArgs,
    response=ContractSchema,
    paginated=True,
)
@roles(*REGISTRY_ROLES)
def list_contracts(args: dict[str, Any]) -> Page:
    query = _with_details(visible_contracts(_user()))
    if "affiliate_id" in args:
        query = query.where(Contract.affiliate_id == args["affiliate_id"])
    if "supplier_id" in args:
        query = query.where(Contract.supplier_id == args["supplier_id"])
    if "in_force" in args:
        in_force = contract_in_force(date.today())
        query = query.where(in_force if args["in_force"] else ~in_force)
    return paginate(
        query, [Contract.start_date.desc(), Contract.id.desc()], args.get("after"), args.get("limit")
    )


def _contract_data(args: dict[str, Any], contract: Contract | None = None) -> operations.ContractData:
    names = ("reference", "title", "start_date", "end_date", "annual_spend", "currency", "labour_conditions")
    values = {n: getattr(contract, n) for n in names} if contract is not None else {}
    values.update({n: args[n] for n in names if n in args})
    supplier_id = args.get("supplier_id", contract.supplier_id if contract is not None else None)
    return operations.ContractData(
        supplier=db.session.get(Organisation, supplier_id) if supplier_id is not None else None,
        clauses=[operations.ClauseData(**clause) for clause in args.get("clauses", [])],
        **values,
    )


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
    return _run(operations.create_contract, _user(can_create_contract), _contract_data(args))


def _load_contract(user: User, contract_id: int) -> Contract:
    return _load(visible_contracts(user), Contract.id == contract_id)  # type: ignore[no-any-return]


def _managed_contract(contract_id: int) -> tuple[User, Contract]:
    user = _user()
    contract = _load_contract(user, contract_id)
    if not can_manage_contract(user, contract):
        abort(404)
    return user, contract


@route("/contracts/<int:contract_id>", summary=_l("A contract"), response=ContractSchema)
@roles(*REGISTRY_ROLES)
def get_contract(contract_id: int) -> Contract:
    return _load_contract(_user(), contract_id)


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
        _contract_data(args, contract),
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
    quantity = args.get("quantity")
    if "product_id" in args:
        product = db.session.get(Product, args["product_id"])
        if product is None:
            raise operation_error(OperationError(_l("There is no such product."), "product_id"))
        _run(operations.add_contract_product, user, contract, product, quantity)
    else:
        _run(
            operations.add_product_by_name,
            user,
            contract,
            args["brand"],
            args["model"],
            args.get("category"),
            quantity,
        )
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
    product = _load(visible_products(user), Product.id == product_id)
    _run(operations.remove_contract_product, user, contract, product)
    return contract


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
    today = date.today()
    query = visible_disclosures(_user(), today)
    if "product_id" in args:
        query = query.where(Disclosure.product_id == args["product_id"])
    if "site_id" in args:
        query = query.where(Disclosure.site_id == args["site_id"])
    if "current" in args:
        current = disclosure_is_current(today)
        query = query.where(current if args["current"] else ~current)
    return paginate(
        query, [Disclosure.disclosed_dt.desc(), Disclosure.id.desc()], args.get("after"), args.get("limit")
    )


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
    user = _user(can_disclose)
    site = operations.SiteData(**args["site"]) if "site" in args else args["site_id"]
    return _run(
        operations.disclose,
        user,
        args["product_id"],
        site,
        args["part"],
        args["valid_from"],
        args.get("valid_to"),
        args.get("source", ""),
    )


@route("/disclosures/<int:disclosure_id>", summary=_l("A disclosure"), response=DisclosureSchema)
@roles(*REGISTRY_ROLES)
def get_disclosure(disclosure_id: int) -> Disclosure:
    return _load(visible_disclosures(_user()), Disclosure.id == disclosure_id)  # type: ignore[no-any-return]


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
    disclosure = _load(visible_disclosures(user), Disclosure.id == disclosure_id)  # its own only
    _run(operations.withdraw_disclosure, user, disclosure)
    return disclosure  # type: ignore[no-any-return]


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
    return paginate(select(CurrencyRate), [CurrencyRate.currency], args.get("after"), args.get("limit"))


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
