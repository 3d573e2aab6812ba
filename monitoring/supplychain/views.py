"""HTML pages of the supply-chain registry."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import selectinload
from wtforms import FieldList

from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.pagination import Page, paginate
from monitoring.supplychain import operations, queries
from monitoring.supplychain.forms import (
    NEW_SITE,
    ContractForm,
    ContractProductForm,
    CurrencyRateForm,
    DisclosureForm,
    ProductFilterForm,
    ProductForm,
    SiteFilterForm,
    SiteForm,
)
from monitoring.supplychain.models import (
    ClauseKind,
    Contract,
    ContractProduct,
    CurrencyRate,
    Disclosure,
    DisclosurePart,
    Product,
    ProductCategory,
    Site,
    SiteKind,
)
from monitoring.supplychain.permissions import (
    READER_ROLES,
    REGISTRY_ROLES,
    can_create_contract,
    can_disclose,
    can_disclose_product,
    can_manage_contract,
    can_manage_products,
    can_manage_sites,
    can_set_currency_rates,
    can_view_leverage,
    can_withdraw_disclosure,
    disclosable_products,
    disclosure_is_current,
    is_affiliate,
    is_current,
    is_in_force,
    listed_sites,
    reads_everything,
    visible_contracts,
    visible_disclosures,
    visible_products,
    visible_sites,
)

logger = logging.getLogger(__name__)

bp = Blueprint("supplychain", __name__)


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _require(allowed: bool) -> None:
    """Refuse like a missing page, so a refusal tells nothing."""
    if not allowed:
        abort(404)


def _load(query: Select[Any], condition: ColumnElement[bool]) -> Any:
    obj = db.session.scalar(query.where(condition))
    if obj is None:
        abort(404)
    return obj


def _apply(form: FlaskForm, error: OperationError) -> None:
    """Show an operation's refusal next to its field, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None or isinstance(field, FieldList):
        form.form_errors.append(str(error.message))
    else:
        field.errors = [*field.errors, str(error.message)]


def _page(query: Select[Any], keys: list[Any]) -> Page:
    return paginate(db.session, query, key_columns=keys, after=request.args.get("after"))


def _filters() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "after" and v}


def _valid(field: Any) -> Any:
    """A filter's value, or None when it is empty or did not parse."""
    return field.data if field.data and not field.errors else None


@bp.app_template_filter("country")
def country_filter(code: str) -> str:
    return operations.country_name(code, get_locale() or "en")


@bp.app_template_global("is_in_force")
def in_force_today(contract: Contract) -> bool:
    return is_in_force(contract, date.today())


@bp.app_template_global("is_current")
def current_today(disclosure: Disclosure) -> bool:
    return is_current(disclosure, date.today())


# --- sites ----------------------------------------------------------------------------------


def _site_search(text: str) -> ColumnElement[bool]:
    text = " ".join(text.split())
    return or_(
        Site.name.icontains(text, autoescape=True),
        Site.address.icontains(text, autoescape=True),
        Site.city.icontains(text, autoescape=True),
        Site.os_id == text.upper(),
    )


@bp.route("/sites")
@roles(*REGISTRY_ROLES)
def sites() -> Any:
    user = _user()
    form = SiteFilterForm(formdata=request.args)
    form.validate()
    query = listed_sites(user)
    if q := _valid(form.q):
        query = query.where(_site_search(q))
    if country := _valid(form.country):
        query = query.where(Site.country == country)
    if kind := _valid(form.kind):
        query = query.where(Site.kind == SiteKind(kind))
    page = _page(query, [Site.name, Site.id])
    return render_template(
        "supplychain/sites.html",
        form=form,
        page=page,
        filters=_filters(),
        first_page=not request.args.get("after"),
        can_create=can_manage_sites(user),
    )


def _site_form_data(site: Site) -> dict[str, Any]:
    names = ("name", "address", "city", "country", "os_id", "workers_approx", "latitude", "longitude")
    return {**{n: getattr(site, n) for n in names}, "kind": site.kind.value}


def _site_data(form: SiteForm) -> operations.SiteData:
    def number(value: Any) -> float | None:
        return None if value is None else float(value)

    return operations.SiteData(
        name=form.name.data or "",
        address=form.address.data or "",
        city=form.city.data or "",
        country=form.country.data or "",
        kind=form.kind.data or "",  # type: ignore[arg-type]
        os_id=form.os_id.data or None,
        workers_approx=form.workers_approx.data,
        latitude=number(form.latitude.data),
        longitude=number(form.longitude.data),
    )


@bp.route("/sites/new", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def site_create() -> Any:
    user = _user()
    _require(can_manage_sites(user))
    form = SiteForm()
    if form.validate_on_submit():
        try:
            site = operations.create_site(user, _site_data(form))
        except OperationError as exc:
            _apply(form, exc)
        else:
            db.session.commit()
            flash(_("The site %(name)s was added.", name=site.name), "success")
            return redirect(url_for(".site", site_id=site.id))
    return render_template("supplychain/site_form.html", form=form, site=None)


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def site_edit(site_id: int) -> Any:
    user = _user()
    site = _load(visible_sites(user), Site.id == site_id)
    _require(can_manage_sites(user) and site.merged_into_id is None)
    form = SiteForm(data=_site_form_data(site) if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            changed = operations.update_site(user, site, _site_data(form))
        except OperationError as exc:
            _apply(form, exc)
        else:
            db.session.commit()
            if changed:
                flash(_("The site %(name)s was updated.", name=site.name), "success")
            return redirect(url_for(".site", site_id=site.id))
    return render_template("supplychain/site_form.html", form=form, site=site)


@bp.route("/sites/<int:site_id>")
@roles(*REGISTRY_ROLES)
def site(site_id: int) -> Any:
    user = _user()
    today = date.today()
    site = _load(visible_sites(user, today), Site.id == site_id)
    disclosures = db.session.scalars(
        visible_disclosures(user, today)
        .where(Disclosure.site_id == site.id, disclosure_is_current(today))
        .order_by(Disclosure.valid_from.desc(), Disclosure.id)
    ).all()
    context: dict[str, Any] = {"site": site, "disclosures": disclosures}
    if reads_everything(user):
        context.update(
            leverage=queries.site_leverage(site.id, today),
            affiliates=queries.concerned_affiliates(site.id, today),
            suppliers=queries.concerned_suppliers(site.id, today),
            unconverted=queries.unconverted_spend(site.id, today),
        )
    elif is_affiliate(user):
        context.update(
            own_links=queries.contracts_reaching_site(site.id, today, user.organisation_id),
            other_affiliates=queries.other_affiliates(site.id, today, user.organisation_id),
            suppliers=queries.concerned_suppliers(site.id, today, user.organisation_id),
        )
    return render_template(
        "supplychain/site.html", **context, can_edit=can_manage_sites(user) and site.merged_into_id is None
    )


@bp.route("/sites/leverage")
@roles(*READER_ROLES)
def leverage() -> Any:
    user = _user()
    _require(can_view_leverage(user))
    query, keys = queries.leverage_ranking(date.today())
    page = _page(query, keys)
    return render_template(
        "supplychain/leverage.html",
        page=page,
        rows=queries.ranked(page.items),
        first_page=not request.args.get("after"),
        can_set_rates=can_set_currency_rates(user),
    )


# --- products -------------------------------------------------------------------------------


@bp.route("/products")
@roles(*REGISTRY_ROLES)
def products() -> Any:
    user = _user()
    form = ProductFilterForm(formdata=request.args)
    form.validate()
    query = visible_products(user)
    if q := _valid(form.q):
        q = " ".join(q.split())
        query = query.where(
            or_(Product.brand.icontains(q, autoescape=True), Product.model.icontains(q, autoescape=True))
        )
    if category := _valid(form.category):
        query = query.where(Product.category == ProductCategory(category))
    page = _page(query, [Product.brand_key, Product.model_key, Product.id])
    return render_template(
        "supplychain/products.html",
        form=form,
        page=page,
        filters=_filters(),
        first_page=not request.args.get("after"),
        can_create=can_manage_products(user),
    )


@bp.route("/products/<int:product_id>")
@roles(*REGISTRY_ROLES)
def product(product_id: int) -> Any:
    user = _user()
    today = date.today()
    product = _load(visible_products(user), Product.id == product_id)
    contracts = db.session.scalars(
        visible_contracts(user)
        .join(ContractProduct)
        .where(ContractProduct.product_id == product.id)
        .order_by(Contract.start_date.desc(), Contract.id)
    ).all()
    disclosures = db.session.scalars(
        visible_disclosures(user, today)
        .join(Site, Site.id == Disclosure.site_id)
        .where(Disclosure.product_id == product.id, disclosure_is_current(today))
        .order_by(Site.name, Disclosure.id)
    ).all()
    return render_template(
        "supplychain/product.html",
        product=product,
        contracts=contracts,
        disclosures=disclosures,
        can_edit=can_manage_products(user),
        can_disclose=can_disclose_product(user, product),
    )


def _product_form_page(product: Product | None) -> Any:
    user = _user()
    _require(can_manage_products(user))
    data = None
    if product is not None and request.method == "GET":
        data = {"brand": product.brand, "model": product.model, "category": product.category.value}
    form = ProductForm(data=data)
    if form.validate_on_submit():
        category = ProductCategory(form.category.data)
        try:
            if product is None:
                product = operations.create_product(
                    user, form.brand.data or "", form.model.data or "", category
                )
                message = _("The product %(name)s was added.", name=f"{product.brand} {product.model}")
            else:
                operations.update_product(
                    user, product, form.brand.data or "", form.model.data or "", category
                )
                message = _("The product %(name)s was updated.", name=f"{product.brand} {product.model}")
        except OperationError as exc:
            _apply(form, exc)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for(".product", product_id=product.id))
    return render_template("supplychain/product_form.html", form=form, product=product)


@bp.route("/products/new", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def product_create() -> Any:
    return _product_form_page(None)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def product_edit(product_id: int) -> Any:
    return _product_form_page(_load(visible_products(_user()), Product.id == product_id))


# --- contracts ------------------------------------------------------------------------------


@bp.route("/contracts")
@roles(*REGISTRY_ROLES)
def contracts() -> Any:
    user = _user()
    page = _page(visible_contracts(user), [Contract.start_date.desc(), Contract.id.desc()])
    return render_template(
        "supplychain/contracts.html",
        page=page,
        filters={},
        first_page=not request.args.get("after"),
        can_create=can_create_contract(user),
    )


def _load_contract(contract_id: int) -> Contract:
    return _load(visible_contracts(_user()), Contract.id == contract_id)  # type: ignore[no-any-return]


@bp.route("/contracts/<int:contract_id>")
@roles(*REGISTRY_ROLES)
def contract(contract_id: int) -> Any:
    return _contract_page(_load_contract(contract_id))


def _contract_page(contract: Contract, product_form: ContractProductForm | None = None) -> Any:
    manage = can_manage_contract(_user(), contract)
    return render_template(
        "supplychain/contract.html",
        contract=contract,
        can_edit=manage,
        product_form=product_form or (ContractProductForm() if manage else None),
    )


def _suppliers(contract: Contract | None) -> list[Organisation]:
    """Active suppliers, and the contract's own even if it was deactivated since."""
    current = Organisation.id == contract.supplier_id if contract is not None else false()
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrganisationKind.supplier, Organisation.is_active.is_(True) | current)
            .order_by(func.lower(Organisation.name), Organisation.id)
        )
    )


def _contract_form_data(contract: Contract) -> dict[str, Any]:
    names = ("reference", "title", "start_date", "end_date", "annual_spend", "currency", "labour_conditions")
    return {
        **{n: getattr(contract, n) for n in names},
        "supplier": contract.supplier_id,
        "clauses": [
            {"kind": c.kind.value, "reference": c.reference, "text": c.text} for c in contract.clauses
        ],
    }


def _contract_data(form: ContractForm) -> operations.ContractData:
    supplier = db.session.get(Organisation, form.supplier.data) if form.supplier.data else None
    return operations.ContractData(
        supplier=supplier,
        reference=form.reference.data or "",
        title=form.title.data or "",
        start_date=form.start_date.data,
        end_date=form.end_date.data,
        annual_spend=form.annual_spend.data,
        currency=form.currency.data or "",
        labour_conditions=bool(form.labour_conditions.data),
        clauses=[
            operations.ClauseData(
                kind=ClauseKind(entry.form.kind.data),
                reference=entry.form.reference.data or "",
                text=entry.form.text.data or "",
            )
            for entry in form.clauses
            if (entry.form.text.data or "").strip()
        ],
    )


def _contract_form_page(contract: Contract | None) -> Any:
    user = _user()
    form = ContractForm(
        _suppliers(contract),
        data=_contract_form_data(contract) if contract and request.method == "GET" else None,
    )
    if contract is not None and request.method == "GET":
        form.add_spare_clauses()
    if form.validate_on_submit():
        try:
            if contract is None:
                contract = operations.create_contract(user, _contract_data(form))
                message = _("The contract %(reference)s was created.", reference=contract.reference)
            else:
                operations.update_contract(user, contract, _contract_data(form))
                message = _("The contract %(reference)s was updated.", reference=contract.reference)
        except OperationError as exc:
            _apply(form, exc)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for(".contract", contract_id=contract.id))
    return render_template("supplychain/contract_form.html", form=form, contract=contract)


@bp.route("/contracts/new", methods=["GET", "POST"])
@roles(UserRole.affiliate)
def contract_create() -> Any:
    _require(can_create_contract(_user()))
    return _contract_form_page(None)


@bp.route("/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@roles(UserRole.affiliate)
def contract_edit(contract_id: int) -> Any:
    contract = _load_contract(contract_id)
    _require(can_manage_contract(_user(), contract))
    return _contract_form_page(contract)


@bp.route("/contracts/<int:contract_id>/products", methods=["POST"])
@roles(UserRole.affiliate)
def contract_product_add(contract_id: int) -> Any:
    user = _user()
    contract = _load_contract(contract_id)
    _require(can_manage_contract(user, contract))
    form = ContractProductForm()
    if form.validate_on_submit():
        category = ProductCategory(form.category.data) if form.category.data else None
        try:
            item = operations.add_product_by_name(
                user, contract, form.brand.data or "", form.model.data or "", category, form.quantity.data
            )
        except OperationError as exc:
            _apply(form, exc)
        else:
            db.session.commit()
            name = f"{item.product.brand} {item.product.model}"
            flash(_("The contract now covers %(product)s.", product=name), "success")
            return redirect(url_for(".contract", contract_id=contract.id))
    db.session.rollback()
    return _contract_page(_load_contract(contract_id), form)


@bp.route("/contracts/<int:contract_id>/products/<int:product_id>/remove", methods=["POST"])
@roles(UserRole.affiliate)
def contract_product_remove(contract_id: int, product_id: int) -> Any:
    user = _user()
    contract = _load_contract(contract_id)
    _require(can_manage_contract(user, contract))
    product = _load(visible_products(user), Product.id == product_id)
    try:
        operations.remove_contract_product(user, contract, product)
    except OperationError as exc:
        flash(str(exc.message), "error")
    else:
        db.session.commit()
        flash(
            _("The contract no longer covers %(product)s.", product=f"{product.brand} {product.model}"),
            "success",
        )
    return redirect(url_for(".contract", contract_id=contract.id))


@bp.route("/my-supply-chain")
@roles(UserRole.affiliate)
def my_supply_chain() -> Any:
    """An affiliate's contracts, the products they cover and the sites that make them."""
    user = _user()
    today = date.today()
    query = visible_contracts(user).options(selectinload(Contract.products))
    page = _page(query, [Contract.start_date.desc(), Contract.id.desc()])
    product_ids = {item.product_id for contract in page.items for item in contract.products}
    sites_of: dict[int, list[Disclosure]] = defaultdict(list)
    for disclosure in db.session.scalars(
        visible_disclosures(user, today)
        .join(Site, Site.id == Disclosure.site_id)
        .where(Disclosure.product_id.in_(product_ids))
        .order_by(Site.name, Disclosure.id)
    ):
        sites_of[disclosure.product_id].append(disclosure)
    return render_template(
        "supplychain/my_supply_chain.html",
        page=page,
        sites_of=sites_of,
        first_page=not request.args.get("after"),
    )


# --- disclosures ----------------------------------------------------------------------------


@bp.route("/disclosures")
@roles(*REGISTRY_ROLES)
def disclosures() -> Any:
    user = _user()
    today = date.today()
    query = visible_disclosures(user, today)
    state = request.args.get("state", "")
    if state == "current":
        query = query.where(disclosure_is_current(today))
    elif state == "ended":
        query = query.where(Disclosure.withdrawn_dt.is_(None), ~disclosure_is_current(today))
    elif state == "withdrawn":
        query = query.where(Disclosure.withdrawn_dt.is_not(None))
    else:
        state = ""
    page = _page(query, [Disclosure.disclosed_dt.desc(), Disclosure.id.desc()])
    return render_template(
        "supplychain/disclosures.html",
        page=page,
        state=state,
        filters={"state": state} if state else {},
        first_page=not request.args.get("after"),
        can_create=can_disclose(user),
        withdrawable={d.id for d in page.items if can_withdraw_disclosure(user, d)},
    )


def _new_site(form: DisclosureForm) -> operations.SiteData:
    return operations.SiteData(
        name=form.site_name.data or "",
        address=form.site_address.data or "",
        city=form.site_city.data or "",
        country=form.site_country.data or "",
        kind=form.site_kind.data or "",  # type: ignore[arg-type]
        os_id=form.site_os_id.data or None,
    )


@bp.route("/disclosures/new", methods=["GET", "POST"])
@roles(UserRole.supplier)
def disclosure_create() -> Any:
    user = _user()
    _require(can_disclose(user))
    products = db.session.scalars(disclosable_products(user).order_by(Product.brand_key, Product.model_key))
    sites = db.session.scalars(listed_sites(user).order_by(Site.name, Site.id))
    form = DisclosureForm(list(products), list(sites))
    if request.method == "GET":
        form.product.data = request.args.get("product", type=int)
        form.site.data = request.args.get("site", NEW_SITE)
    if form.validate_on_submit():
        site: int | operations.SiteData | None
        if form.site.data in (None, "", NEW_SITE):
            site = _new_site(form)
        else:
            site = int(form.site.data) if str(form.site.data).isdigit() else None
        try:
            disclosure = operations.disclose(
                user,
                form.product.data,
                site,
                DisclosurePart(form.part.data),
                form.valid_from.data,
                form.valid_to.data,
                form.source.data or "",
            )
        except OperationError as exc:
            _apply(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "Disclosed: %(product)s at %(site)s.",
                    product=f"{disclosure.product.brand} {disclosure.product.model}",
                    site=disclosure.site.name,
                ),
                "success",
            )
            return redirect(url_for(".disclosures"))
    return render_template("supplychain/disclosure_form.html", form=form)


@bp.route("/disclosures/<int:disclosure_id>/withdraw", methods=["POST"])
@roles(UserRole.supplier)
def disclosure_withdraw(disclosure_id: int) -> Any:
    user = _user()
    disclosure = _load(visible_disclosures(user), Disclosure.id == disclosure_id)
    _require(can_disclose(user))
    try:
        operations.withdraw_disclosure(user, disclosure)
    except OperationError as exc:
        flash(str(exc.message), "error")
    else:
        db.session.commit()
        flash(_("The disclosure was withdrawn."), "success")
    return redirect(url_for(".disclosures"))


# --- currency rates -------------------------------------------------------------------------


@bp.route("/currency-rates", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def currency_rates() -> Any:
    user = _user()
    _require(can_set_currency_rates(user))
    form = CurrencyRateForm()
    if form.validate_on_submit():
        try:
            rate = operations.set_currency_rate(user, form.currency.data or "", form.eur_per_unit.data)
        except OperationError as exc:
            _apply(form, exc)
        else:
            db.session.commit()
            flash(_("The rate of %(currency)s was saved.", currency=rate.currency), "success")
            return redirect(url_for(".currency_rates"))
    missing = db.session.scalars(
        select(Contract.currency)
        .where(
            Contract.currency != queries.BASE_CURRENCY,
            Contract.currency.not_in(select(CurrencyRate.currency)),
        )
        .distinct()
        .order_by(Contract.currency)
    ).all()
    rates = db.session.scalars(select(CurrencyRate).order_by(CurrencyRate.currency)).all()
    return render_template("supplychain/currency_rates.html", form=form, rates=rates, missing=missing)
