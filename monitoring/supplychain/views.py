"""HTML pages of the supply-chain registry: thin skins over :mod:`monitoring.supplychain.services`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import Schema
from sqlalchemy import Select, func
from sqlalchemy.orm import selectinload

from monitoring.accounts.models import Organisation, User
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.forms import apply_error
from monitoring.core.operations import OperationError
from monitoring.core.pagination import Page, paginate
from monitoring.core.roles import UserRole
from monitoring.core.transactions import attempt
from monitoring.supplychain import case_status, operations, page_links, pickers, queries, services
from monitoring.supplychain import leverage as stored_leverage
from monitoring.supplychain.forms import (
    NEW_SITE,
    ContractForm,
    ContractProductForm,
    CountryRiskForm,
    CurrencyRateForm,
    DisclosureForm,
    ProductFilterForm,
    ProductForm,
    SiteFilterForm,
    SiteForm,
    SiteNameForm,
    disclosure_site_label,
    product_label,
)
from monitoring.supplychain.models import Contract, Disclosure, Product, Site
from monitoring.supplychain.name_schemas import AddSiteNameArgs
from monitoring.supplychain.obligations import disclosure_obligation
from monitoring.supplychain.permissions import (
    READER_ROLES,
    REGISTRY_ROLES,
    can_confirm_disclosure,
    can_create_contract,
    can_disclose,
    can_disclose_product,
    can_manage_contract,
    can_manage_products,
    can_manage_sites,
    can_review_duplicates,
    can_set_currency_rates,
    can_view_leverage,
    can_withdraw_disclosure,
    disclosable_products,
    listed_sites,
    visible_contracts,
    visible_disclosures,
    visible_products,
    visible_sites,
)
from monitoring.supplychain.risk import operations as risk_operations
from monitoring.supplychain.risk import services as risk
from monitoring.supplychain.risk.permissions import RISK_ROLES, can_set_country_risk, risk_sites
from monitoring.supplychain.schemas import (
    AddContractProductArgs,
    CreateContractArgs,
    CreateProductArgs,
    CreateSiteArgs,
    ListContractsArgs,
    ListDisclosuresArgs,
    ListProductsArgs,
    ListSitesArgs,
)

logger = logging.getLogger(__name__)

bp = Blueprint("supplychain", __name__)

current, load, require = services.current, services.load, services.require


def _list(
    template: str,
    schema: type[Schema],
    query: Callable[[User, dict[str, Any]], Select[Any]],
    order: Any,
    shown: Callable[[Page], dict[str, Any]] | None = None,
    **context: Any,
) -> Any:
    """One page of a list, filtered by the same ``List...Args`` as the API (bad filters left out)."""
    args = services.lenient_args(schema, request.args.to_dict())
    after = args.pop("after", None)
    page = paginate(db.session(), query(current(), args), key_columns=list(order), after=after)
    filters = {k: v for k, v in request.args.items() if k != "after" and v}
    context.update(shown(page) if shown else {})
    return render_template(template, page=page, filters=filters, first_page=not after, **context)


_submit = services.submit_form
bp.add_app_template_filter(services.country_name, "country")
bp.add_app_template_global(services.in_force_today, "is_in_force")
bp.add_app_template_global(services.current_today, "is_current")


def _done(message: str, endpoint: str, **values: Any) -> Any:
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


# --- sites ----------------------------------------------------------------------------------


@bp.route("/sites")
@roles(*REGISTRY_ROLES)
def sites() -> Any:
    user = current()
    form = SiteFilterForm(formdata=request.args)
    form.validate()
    return _list(
        "supplychain/sites.html",
        ListSitesArgs,
        services.list_sites,
        services.SITE_ORDER,
        form=form,
        can_create=can_manage_sites(user),
    )


def _site_form_page(site: Site | None) -> Any:
    user = current()
    form = SiteForm(data=SiteForm.data_of(site) if site and request.method == "GET" else None)
    if site is None:
        created = _submit(
            form, CreateSiteArgs, lambda args: operations.create_site(user, operations.SiteData(**args))
        )
        if created:
            return _done(_("The site %(name)s was added.", name=created.name), ".site", site_id=created.id)
    else:
        changed = _submit(
            form, CreateSiteArgs, lambda args: operations.update_site(user, site, operations.SiteData(**args))
        )
        if changed:
            if changed is not True:
                flash(_("The site %(name)s was updated.", name=site.name), "success")
            return redirect(url_for(".site", site_id=site.id))
    return render_template("supplychain/site_form.html", form=form, site=site)


@bp.route("/sites/new", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def site_create() -> Any:
    require(can_manage_sites(current()))
    return _site_form_page(None)


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def site_edit(site_id: int) -> Any:
    site = load(visible_sites(current()), Site.id == site_id)
    require(can_manage_sites(current()) and site.merged_into_id is None)
    return _site_form_page(site)


@bp.route("/sites/<int:site_id>")
@roles(*REGISTRY_ROLES)
def site(site_id: int) -> Any:
    return _site_page(load(visible_sites(current(), date.today()), Site.id == site_id))


def _site_page(site: Site, name_form: SiteNameForm | None = None) -> Any:
    user, today = current(), date.today()
    view = services.site_view(user, site, today)
    can_edit = can_manage_sites(user) and site.merged_into_id is None
    name_form = name_form or (SiteNameForm(formdata=None) if can_edit else None)
    return render_template(
        "supplychain/site.html",
        **view.context(),
        can_edit=can_edit,
        name_form=name_form,
        site_cases=case_status.cases_at(user, {site.id}, today).get(site.id),
        can_propose_duplicate=can_review_duplicates(user) and site.merged_into_id is None,
        page_links=page_links.links("site", user, site),
        tier_leverage=queries.tier_leverage(site.id, today) if can_view_leverage(user) else None,
    )


def _managed_site(site_id: int) -> Site:
    """A live site the coordinator may change (else 404)."""
    site = load(listed_sites(current()), Site.id == site_id)
    require(can_manage_sites(current()))
    return site


@bp.route("/sites/<int:site_id>/names", methods=["POST"])
@roles(UserRole.coordinator)
def site_name_add(site_id: int) -> Any:
    site = _managed_site(site_id)
    form = SiteNameForm()
    added = _submit(
        form, AddSiteNameArgs, lambda args: operations.add_alternative_name(current(), site, args["name"])
    )
    if added:
        return _done(_("The site is also known as %(name)s now.", name=added.name), ".site", site_id=site.id)
    return _site_page(site, form), 422


@bp.route("/sites/<int:site_id>/names/<int:name_id>/remove", methods=["POST"])
@roles(UserRole.coordinator)
def site_name_remove(site_id: int, name_id: int) -> Any:
    site = _managed_site(site_id)
    alternative = services.site_name(site, name_id)
    try:
        attempt(operations.remove_alternative_name, current(), site, alternative)
    except OperationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The name %(name)s was removed.", name=alternative.name), "success")
    return redirect(url_for(".site", site_id=site.id))


@bp.route("/sites/leverage")
@roles(*READER_ROLES)
def leverage() -> Any:
    user = current()
    require(can_view_leverage(user))
    stored = stored_leverage.ranking(date.today())
    after = request.args.get("after")
    page: Page = paginate(db.session(), stored.query, key_columns=stored.keys, after=after)
    rows = queries.ranked(page.items, stored.as_of)
    first_page = not after
    return render_template(
        "supplychain/leverage.html",
        page=page,
        rows=rows,
        as_of=stored.as_of,
        first_page=first_page,
        can_set_rates=can_set_currency_rates(user),
    )


# --- products -------------------------------------------------------------------------------


@bp.route("/products")
@roles(*REGISTRY_ROLES)
def products() -> Any:
    user = current()
    form = ProductFilterForm(formdata=request.args)
    form.validate()
    return _list(
        "supplychain/products.html",
        ListProductsArgs,
        services.list_products,
        services.PRODUCT_ORDER,
        form=form,
        can_create=can_manage_products(user),
    )


@bp.route("/products/<int:product_id>")
@roles(*REGISTRY_ROLES)
def product(product_id: int) -> Any:
    user = current()
    product = load(visible_products(user), Product.id == product_id)
    today = date.today()
    contracts, disclosures, site_ids = services.product_links(user, product, today)
    after = request.args.get("after")
    order = services.PRODUCT_DISCLOSURE_ORDER
    page: Page = paginate(db.session(), disclosures, key_columns=order, after=after)
    # The cases of all the product's sites, for the exact total; the page's rows show their own.
    site_cases = case_status.cases_at(user, site_ids, today)
    return render_template(
        "supplychain/product.html",
        product=product,
        contracts=contracts,
        page=page,
        disclosures=page.items,
        first_page=not after,
        site_count=len(site_ids),
        site_cases=site_cases,
        product_cases=case_status.total(list(site_cases.values())),
        can_edit=can_manage_products(user),
        can_disclose=can_disclose_product(user, product),
    )


def _product_form_page(product: Product | None) -> Any:
    user = current()
    require(can_manage_products(user))
    data = (
        {"brand": product.brand, "model": product.model, "category": product.category.value}
        if product and request.method == "GET"
        else None
    )
    form = ProductForm(data=data)
    if product is None:
        saved = _submit(form, CreateProductArgs, lambda args: operations.create_product(user, **args))
        message = saved and _("The product %(name)s was added.", name=f"{saved.brand} {saved.model}")
    else:
        saved = _submit(
            form, CreateProductArgs, lambda args: operations.update_product(user, product, **args)
        )
        saved = saved and product
        message = saved and _("The product %(name)s was updated.", name=f"{product.brand} {product.model}")
    if saved:
        return _done(message, ".product", product_id=saved.id)
    return render_template("supplychain/product_form.html", form=form, product=product)


@bp.route("/products/new", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def product_create() -> Any:
    return _product_form_page(None)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def product_edit(product_id: int) -> Any:
    return _product_form_page(load(visible_products(current()), Product.id == product_id))


# --- contracts ------------------------------------------------------------------------------


@bp.route("/contracts")
@roles(*REGISTRY_ROLES)
def contracts() -> Any:
    user = current()
    return _list(
        "supplychain/contracts.html",
        ListContractsArgs,
        services.list_contracts,
        services.CONTRACT_ORDER,
        can_create=can_create_contract(user),
    )


def _load_contract(contract_id: int, manage: bool = False) -> Contract:
    contract = load(visible_contracts(current()), Contract.id == contract_id)
    require(not manage or can_manage_contract(current(), contract))
    return contract


@bp.route("/contracts/<int:contract_id>")
@roles(*REGISTRY_ROLES)
def contract(contract_id: int) -> Any:
    return _contract_page(_load_contract(contract_id))


def _contract_page(contract: Contract, product_form: ContractProductForm | None = None) -> Any:
    user, today = current(), date.today()
    manage = can_manage_contract(user, contract)
    product_form = product_form or (ContractProductForm() if manage else None)
    sites_of = services.sites_of_products(user, {item.product_id for item in contract.products}, today)
    site_cases = case_status.cases_at(user, {d.site.id for made in sites_of.values() for d in made}, today)
    product_cases = {
        product_id: case_status.total([site_cases[i] for i in {d.site.id for d in made} if i in site_cases])
        for product_id, made in sites_of.items()
    }
    return render_template(
        "supplychain/contract.html",
        contract=contract,
        can_edit=manage,
        product_form=product_form,
        product_cases=product_cases,
        contract_cases=case_status.total(list(site_cases.values())),
        page_links=page_links.links("contract", user, contract),
        disclosure=disclosure_obligation(contract, today),
        can_confirm_disclosure=can_confirm_disclosure(user, contract),
    )


@bp.route("/contracts/<int:contract_id>/disclosure-confirmation", methods=["POST"])
@roles(UserRole.supplier)
def contract_disclosure_confirm(contract_id: int) -> Any:
    contract = _load_contract(contract_id)
    require(can_confirm_disclosure(current(), contract))
    try:
        attempt(operations.confirm_disclosure, current(), contract)
    except OperationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("You confirmed that the disclosure for this contract is still true."), "success")
    return redirect(url_for(".contract", contract_id=contract.id))


def _contract_form_page(contract: Contract | None) -> Any:
    user = current()
    values = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        chosen: list[Any] = request.form.getlist("supplier")
    else:
        chosen = [contract.supplier_id] if contract is not None else request.args.getlist("supplier")
    suppliers = pickers.pick(
        "supplier",
        services.supplier_choices(contract),
        Organisation.id,
        values,
        chosen,
        lambda org: org.name,
        pickers.organisation_search,
        order=(func.lower(Organisation.name),),
        browse=True,
    )
    form = ContractForm(
        suppliers,
        data=ContractForm.data_of(contract) if contract and request.method == "GET" else None,
    )
    if contract is not None and request.method == "GET":
        form.add_spare_clauses()
    if request.method == "POST" and pickers.searching(request.form, "supplier"):
        return render_template("supplychain/contract_form.html", form=form, contract=contract)
    how: dict[str, Any] = {"rename": {"supplier_id": "supplier"}, "extra": {"clauses": form.filled_clauses()}}
    if contract is None:
        create = lambda args: operations.create_contract(user, services.contract_data(args))  # noqa: E731
        saved = _submit(form, CreateContractArgs, create, **how)
        message = saved and _("The contract %(reference)s was created.", reference=saved.reference)
    else:
        update = lambda args: operations.update_contract(user, contract, services.contract_data(args))  # noqa: E731
        saved = _submit(form, CreateContractArgs, update, **how) and contract
        message = saved and _("The contract %(reference)s was updated.", reference=contract.reference)
    if saved:
        return _done(message, ".contract", contract_id=saved.id)
    return render_template("supplychain/contract_form.html", form=form, contract=contract)


@bp.route("/contracts/new", methods=["GET", "POST"])
@roles(UserRole.affiliate)
def contract_create() -> Any:
    require(can_create_contract(current()))
    return _contract_form_page(None)


@bp.route("/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@roles(UserRole.affiliate)
def contract_edit(contract_id: int) -> Any:
    return _contract_form_page(_load_contract(contract_id, manage=True))


@bp.route("/contracts/<int:contract_id>/products", methods=["POST"])
@roles(UserRole.affiliate)
def contract_product_add(contract_id: int) -> Any:
    contract = _load_contract(contract_id, manage=True)
    form = ContractProductForm()
    item = _submit(
        form, AddContractProductArgs, lambda args: services.add_contract_product(current(), contract, args)
    )
    if item:
        name = f"{item.product.brand} {item.product.model}"
        return _done(
            _("The contract now covers %(product)s.", product=name), ".contract", contract_id=contract.id
        )
    return _contract_page(contract, form)


@bp.route("/contracts/<int:contract_id>/products/<int:product_id>/remove", methods=["POST"])
@roles(UserRole.affiliate)
def contract_product_remove(contract_id: int, product_id: int) -> Any:
    contract = _load_contract(contract_id, manage=True)
    product = load(visible_products(current()), Product.id == product_id)
    try:
        attempt(operations.remove_contract_product, current(), contract, product)
    except OperationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(
            _("The contract no longer covers %(product)s.", product=f"{product.brand} {product.model}"),
            "success",
        )
    return redirect(url_for(".contract", contract_id=contract.id))


@bp.route("/my-supply-chain")
@roles(UserRole.affiliate)
def my_supply_chain() -> Any:
    """An affiliate's contracts, the products they cover and the sites that make them."""
    user = current()
    query = visible_contracts(user).options(selectinload(Contract.products))
    page = paginate(
        db.session(), query, key_columns=list(services.CONTRACT_ORDER), after=request.args.get("after")
    )
    product_ids = {item.product_id for contract in page.items for item in contract.products}
    today = date.today()
    sites_of = services.first_sites_of_products(user, product_ids, today)
    shown = {d.site.id for made in sites_of.values() for d in made.shown}
    return render_template(
        "supplychain/my_supply_chain.html",
        page=page,
        sites_of=sites_of,
        site_cases=case_status.cases_at(user, shown, today),
        first_page=not request.args.get("after"),
    )


# --- disclosures ----------------------------------------------------------------------------


@bp.route("/disclosures")
@roles(*REGISTRY_ROLES)
def disclosures() -> Any:
    user = current()
    state = services.lenient_args(ListDisclosuresArgs, {"state": request.args.get("state")}).get("state", "")
    return _list(
        "supplychain/disclosures.html",
        ListDisclosuresArgs,
        services.list_disclosures,
        services.DISCLOSURE_ORDER,
        lambda page: {"withdrawable": {d.id for d in page.items if can_withdraw_disclosure(user, d)}},
        state=state,
        can_create=can_disclose(user),
    )


@bp.route("/disclosures/new", methods=["GET", "POST"])
@roles(UserRole.supplier)
def disclosure_create() -> Any:
    user = current()
    require(can_disclose(user))
    values = request.form if request.method == "POST" else request.args
    products = pickers.pick(
        "product",
        disclosable_products(user),
        Product.id,
        values,
        values.getlist("product"),
        product_label,
        pickers.product_search,
        order=(Product.brand_key, Product.model_key),
        browse=True,
    )
    sites = pickers.pick(
        "site",
        listed_sites(user),
        Site.id,
        values,
        values.getlist("site"),
        disclosure_site_label,
        pickers.site_search,
        order=(Site.name,),
    )
    form = DisclosureForm(products, sites)
    if request.method == "GET":
        form.product.data = request.args.get("product", type=int)
        form.site.data = request.args.get("site", NEW_SITE)
    searching = request.method == "POST" and pickers.searching(request.form, "product", "site")
    args = form.args() if not searching and form.validate_on_submit() else None
    if args is not None:
        try:
            disclosure = attempt(services.disclose, user, args)
        except OperationError as exc:
            apply_error(form, exc, form.RENAME)
        else:
            made = f"{disclosure.product.brand} {disclosure.product.model}"
            return _done(
                _("Disclosed: %(product)s at %(site)s.", product=made, site=disclosure.site.name),
                ".disclosures",
            )
    return render_template("supplychain/disclosure_form.html", form=form)


@bp.route("/disclosures/<int:disclosure_id>/withdraw", methods=["POST"])
@roles(UserRole.supplier)
def disclosure_withdraw(disclosure_id: int) -> Any:
    user = current()
    disclosure = load(visible_disclosures(user), Disclosure.id == disclosure_id)
    require(can_disclose(user))
    try:
        attempt(operations.withdraw_disclosure, user, disclosure)
    except OperationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The disclosure was withdrawn."), "success")
    return redirect(url_for(".disclosures"))


# --- currency rates -------------------------------------------------------------------------


@bp.route("/currency-rates", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def currency_rates() -> Any:
    user = current()
    require(can_set_currency_rates(user))
    form = CurrencyRateForm()
    if form.validate_on_submit():
        try:
            rate = attempt(
                operations.set_currency_rate, user, form.currency.data or "", form.eur_per_unit.data
            )
        except OperationError as exc:
            apply_error(form, exc)
        else:
            return _done(_("The rate of %(currency)s was saved.", currency=rate.currency), ".currency_rates")
    rates = db.session.scalars(services.list_currency_rates().order_by(*services.RATE_ORDER)).all()
    return render_template(
        "supplychain/currency_rates.html", form=form, rates=rates, missing=services.currencies_without_rate()
    )


# --- site risk and country risk -----------------------------------------------------------------


@bp.route("/sites/<int:site_id>/risk")
@roles(*RISK_ROLES)
def site_risk(site_id: int) -> Any:
    user, today = current(), date.today()
    site = load(risk_sites(user, today), Site.id == site_id)
    return render_template("supplychain/site_risk.html", risk=risk.site_risk(user, site, today))


@bp.route("/country-risks", methods=["GET", "POST"])
@roles(*RISK_ROLES)
def country_risks() -> Any:
    user = current()
    form = CountryRiskForm() if can_set_country_risk(user) else None
    if request.method == "POST":
        require(form is not None)
    if form is not None and form.validate_on_submit():
        try:
            saved = attempt(
                risk_operations.set_country_risk,
                user,
                form.country.data or "",
                int(form.level.data or 0),
                form.source.data or "",
            )
        except OperationError as exc:
            apply_error(form, exc)
        else:
            return _done(
                _("The risk level of %(country)s was saved.", country=saved.country), ".country_risks"
            )
    return render_template("supplychain/country_risks.html", form=form, risks=risk.country_risks())
