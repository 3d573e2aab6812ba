"""The registry's service layer: what the pages and the API share.

Each list has one query function that takes the validated ``List...Args`` and returns the
scoped, filtered query, with its ordering next to it; each object has one way to be loaded
(missing or invisible: 404) and one per-role view. Pages and API handlers only parse, load,
check, call and render or dump.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from flask import abort
from flask_babel import format_timedelta, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from marshmallow import Schema, ValidationError
from sqlalchemy import ColumnElement, Select, false, func, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload, selectinload

from monitoring.accounts.models import Organisation, OrganisationKind, User
from monitoring.core.db import db
from monitoring.core.forms import apply_error, form_args
from monitoring.core.jobs import Job, JobState
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt
from monitoring.supplychain import operations, queries
from monitoring.supplychain.models import (
    Contract,
    ContractProduct,
    CurrencyRate,
    Disclosure,
    Product,
    Site,
    SiteDuplicate,
    SiteName,
)
from monitoring.supplychain.permissions import (
    affiliate_organisation,
    can_import_disclosures,
    can_view_leverage,
    chooses_supplier_to_import_for,
    contract_in_force,
    disclosure_is_current,
    is_current,
    is_in_force,
    listed_sites,
    visible_contracts,
    visible_disclosures,
    visible_duplicates,
    visible_products,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The order of each list (the keyset its pages are cut by).
SITE_ORDER = (Site.name, Site.id)
PRODUCT_ORDER = (Product.brand_key, Product.model_key, Product.id)
CONTRACT_ORDER = (Contract.start_date.desc(), Contract.id.desc())
DISCLOSURE_ORDER = (Disclosure.disclosed_dt.desc(), Disclosure.id.desc())
DUPLICATE_ORDER = (SiteDuplicate.id.desc(),)
RATE_ORDER = (CurrencyRate.currency,)


def current() -> User:
    """The user of the request."""
    user: User = current_user._get_current_object()
    return user


def require(allowed: bool) -> None:
    """Refuse like a missing page, so a refusal tells nothing."""
    if not allowed:
        abort(404)


def load(query: Select[T], *conditions: ColumnElement[bool]) -> T:
    """The one object of ``query`` that meets ``conditions``; 404 when there is none."""
    obj = db.session.scalar(query.where(*conditions))
    if obj is None:
        abort(404)
    return obj


def submit_form(
    form: FlaskForm, schema: type[Schema], run: Callable[[dict[str, Any]], Any], **how: Any
) -> Any:
    """Validate a posted form with the action's ``Args`` (``how``: see ``form_args``), then run
    the operation in a savepoint.

    Returns the operation's result (True for a result that is empty), or None when the input
    or the operation was refused: the reasons are then shown next to the fields.
    """
    args = form_args(schema, form, **how)
    if args is None:
        return None
    try:
        return attempt(run, args) or True
    except OperationError as exc:
        apply_error(form, exc, how.get("rename"))
        return None


def country_name(code: str) -> str:
    """A country's name in the user's language (a template filter)."""
    return operations.country_name(code, get_locale() or "en")


def in_force_today(contract: Contract) -> bool:
    return is_in_force(contract, date.today())


def current_today(disclosure: Disclosure) -> bool:
    return is_current(disclosure, date.today())


def lenient_args(schema: type[Schema], data: dict[str, Any]) -> dict[str, Any]:
    """A page's filters through the API's ``List...Args``: a filter that does not parse is left out."""
    values = {k: v for k, v in data.items() if v not in ("", None) and k in schema().fields}
    for _attempt in range(len(values) + 1):
        try:
            return dict(schema().load(values))
        except ValidationError as exc:
            bad = set(exc.normalized_messages()) if isinstance(exc.messages, dict) else set(values)
            values = {k: v for k, v in values.items() if k not in bad}
    return {}


# --- lists ----------------------------------------------------------------------------------


def _search(text: str, *columns: Any) -> ColumnElement[bool]:
    text = " ".join(text.split())
    return or_(*(column.icontains(text, autoescape=True) for column in columns))


def list_sites(user: User, args: dict[str, Any]) -> Select[Site]:
    query = listed_sites(user)
    if "country" in args:
        query = query.where(Site.country == args["country"].upper())
    if "kind" in args:
        query = query.where(Site.kind == args["kind"])
    if "q" in args:
        text = " ".join(args["q"].split())
        words = queries.site_search(text, Site.address, Site.city)
        by_id = Site.os_id == text.upper()
        query = query.where(by_id if words is None else words | by_id)
    return query.options(selectinload(Site.alternative_names))


def site_name(site: Site, name_id: int) -> SiteName:
    """One of the site's alternative names; 404 when it has no such name."""
    found = next((other for other in site.alternative_names if other.id == name_id), None)
    if found is None:
        abort(404)
    return found


def list_products(user: User, args: dict[str, Any]) -> Select[Product]:
    query = visible_products(user)
    if "category" in args:
        query = query.where(Product.category == args["category"])
    if "q" in args:
        query = query.where(_search(args["q"], Product.brand, Product.model))
    return query


def list_contracts(user: User, args: dict[str, Any], today: date | None = None) -> Select[Contract]:
    query = visible_contracts(user)
    if "affiliate_id" in args:
        query = query.where(Contract.affiliate_id == args["affiliate_id"])
    if "supplier_id" in args:
        query = query.where(Contract.supplier_id == args["supplier_id"])
    if "in_force" in args:
        in_force = contract_in_force(today or date.today())
        query = query.where(in_force if args["in_force"] else ~in_force)
    return query


def list_disclosures(user: User, args: dict[str, Any], today: date | None = None) -> Select[Disclosure]:
    """``state`` is current, ended (not current, not withdrawn) or withdrawn; ``current`` a yes or no."""
    today = today or date.today()
    query = visible_disclosures(user, today)
    if "product_id" in args:
        query = query.where(Disclosure.product_id == args["product_id"])
    if "site_id" in args:
        query = query.where(Disclosure.site_id == args["site_id"])
    current_now = disclosure_is_current(today)
    if "current" in args:
        query = query.where(current_now if args["current"] else ~current_now)
    state = args.get("state")
    if state == "current":
        query = query.where(current_now)
    elif state == "ended":
        query = query.where(Disclosure.withdrawn_dt.is_(None), ~current_now)
    elif state == "withdrawn":
        query = query.where(Disclosure.withdrawn_dt.is_not(None))
    return query


def list_duplicates(user: User, args: dict[str, Any]) -> Select[SiteDuplicate]:
    return (
        visible_duplicates(user)
        .where(SiteDuplicate.state == args["state"])
        .options(
            joinedload(SiteDuplicate.site).selectinload(Site.alternative_names),
            joinedload(SiteDuplicate.candidate).selectinload(Site.alternative_names),
        )
    )


def list_currency_rates() -> Select[CurrencyRate]:
    return select(CurrencyRate)


def currencies_without_rate() -> list[str]:
    """The currencies of contracts that have no rate yet, which the leverage leaves out."""
    return list(
        db.session.scalars(
            select(Contract.currency)
            .where(
                Contract.currency != queries.BASE_CURRENCY,
                Contract.currency.not_in(select(CurrencyRate.currency)),
            )
            .distinct()
            .order_by(Contract.currency)
        )
    )


def supplier_choices(contract: Contract | None = None) -> Select[Organisation]:
    """Active suppliers, and a contract's own even if it was deactivated since (unordered)."""
    own = Organisation.id == contract.supplier_id if contract is not None else false()
    return select(Organisation).where(
        Organisation.kind == OrganisationKind.supplier, Organisation.is_active.is_(True) | own
    )


def active_suppliers(contract: Contract | None = None) -> list[Organisation]:
    """Active suppliers, and a contract's own even if it was deactivated since."""
    order = (func.lower(Organisation.name), Organisation.id)
    return list(db.session.scalars(supplier_choices(contract).order_by(*order)))


def active_supplier(organisation_id: int | None) -> Organisation | None:
    if organisation_id is None:
        return None
    return db.session.scalar(
        select(Organisation).where(
            Organisation.id == organisation_id,
            Organisation.kind == OrganisationKind.supplier,
            Organisation.is_active.is_(True),
        )
    )


def import_supplier(user: User, supplier_id: int | None) -> Organisation:
    """The supplier a disclosure import is for: the user's own, or the active one a coordinator names."""
    if not chooses_supplier_to_import_for(user):
        require(supplier_id in (None, user.organisation_id))
        supplier: Organisation | None = user.organisation
    elif supplier_id is None:
        raise OperationError(_l("Choose the supplier the disclosures are made for."), "supplier_id")
    elif (supplier := active_supplier(supplier_id)) is None:
        raise OperationError(_l("There is no active supplier organisation with this id."), "supplier_id")
    require(supplier is not None and can_import_disclosures(user, supplier))
    assert supplier is not None
    return supplier


# --- what a role sees of a site ---------------------------------------------------------------


@dataclass
class Concerned:
    """Whom a site concerns, as far as the user may know (see ``ConcernedSchema``)."""

    affiliates: list[queries.ConcernedAffiliate]
    suppliers: list[queries.ConcernedSupplier]
    other_affiliates: int | None = None
    leverage: queries.Leverage | None = None
    unconverted: list[queries.UnconvertedSpend] | None = None


@dataclass
class SiteView:
    """A site as its page shows it to one user."""

    site: Site
    disclosures: list[Disclosure]
    concerned: Concerned | None
    own_links: list[tuple[Contract, Product]] = field(default_factory=list)

    def context(self) -> dict[str, Any]:
        """The names the site page's template reads (a section is left out when not shown)."""
        shown: dict[str, Any] = {"site": self.site, "disclosures": self.disclosures}
        if self.concerned is None:
            return shown
        shown["suppliers"] = self.concerned.suppliers
        if self.concerned.leverage is not None:
            shown.update(
                leverage=self.concerned.leverage,
                affiliates=self.concerned.affiliates,
                unconverted=self.concerned.unconverted,
            )
        else:
            shown.update(own_links=self.own_links, other_affiliates=self.concerned.other_affiliates)
        return shown


def concerned(user: User, site: Site, today: date) -> Concerned | None:
    """Every affiliate and the leverage for readers; an affiliate sees itself, how many others,
    and the suppliers linked to its own products; anyone else nothing."""
    if can_view_leverage(user):
        return Concerned(
            affiliates=queries.concerned_affiliates(site.id, today),
            suppliers=queries.concerned_suppliers(site.id, today),
            leverage=queries.site_leverage(site.id, today),
            unconverted=queries.unconverted_spend(site.id, today),
        )
    org = affiliate_organisation(user)
    if org is None:
        return None
    return Concerned(
        affiliates=queries.concerned_affiliates(site.id, today, org),
        suppliers=queries.concerned_suppliers(site.id, today, org),
        other_affiliates=queries.other_affiliates(site.id, today, org),
    )


def site_view(user: User, site: Site, today: date) -> SiteView:
    disclosures = db.session.scalars(
        visible_disclosures(user, today)
        .where(Disclosure.site_id == site.id, disclosure_is_current(today))
        .order_by(Disclosure.valid_from.desc(), Disclosure.id)
    ).all()
    org = affiliate_organisation(user)
    own_links = queries.contracts_reaching_site(site.id, today, org) if org is not None else []
    return SiteView(site, list(disclosures), concerned(user, site, today), own_links)


# The order of a product's disclosures on its page, by site name (a keyset).
PRODUCT_DISCLOSURE_ORDER = [Site.name, Disclosure.id]


def product_links(user: User, product: Product, today: date) -> tuple[list[Contract], Select[Any], set[int]]:
    """The contracts covering a product, the query of its current disclosures (to page by
    :data:`PRODUCT_DISCLOSURE_ORDER`) and the ids of all their sites, as far as the user sees."""
    contracts = db.session.scalars(
        visible_contracts(user)
        .join(ContractProduct)
        .where(ContractProduct.product_id == product.id)
        .order_by(Contract.start_date.desc(), Contract.id)
    ).all()
    disclosures = (
        visible_disclosures(user, today)
        .join(Site, Site.id == Disclosure.site_id)
        .where(Disclosure.product_id == product.id, disclosure_is_current(today))
    )
    site_ids = set(db.session.scalars(disclosures.with_only_columns(Disclosure.site_id).distinct()))
    return list(contracts), disclosures, site_ids


def sites_of_products(user: User, product_ids: set[int], today: date) -> dict[int, list[Disclosure]]:
    """The visible disclosures of each product, by site name (one query)."""
    sites_of: dict[int, list[Disclosure]] = defaultdict(list)
    for disclosure in db.session.scalars(
        visible_disclosures(user, today)
        .join(Site, Site.id == Disclosure.site_id)
        .where(Disclosure.product_id.in_(product_ids))
        .order_by(Site.name, Disclosure.id)
    ):
        sites_of[disclosure.product_id].append(disclosure)
    return sites_of


# At most this many sites under each product of "my supply chain"; the product's page lists all.
SITES_SHOWN = 10


@dataclass(frozen=True)
class MadeAt:
    """The first :data:`SITES_SHOWN` visible disclosures of a product, by site name, and how many
    there are in all."""

    shown: list[Disclosure]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


# On SQLite, a product made at more sites than this has its first few found by walking the
# sites by name (and the disclosures at each) rather than by sorting all of its disclosures.
MANY_SITES = 200


def _walks_by_name() -> bool:
    """Whether the first sites need the walk spelled out: PostgreSQL's planner walks the index on
    the site's name by itself for the plain query (and joins the spelled-out walk by hashing
    every site), SQLite's, without statistics, sorts all of the product's disclosures."""
    return db.session.get_bind().dialect.name == "sqlite"


def first_sites_of_products(user: User, product_ids: set[int], today: date) -> dict[int, MadeAt]:
    """The visible disclosures of each product, by site name: the first few and their number
    (two queries; the others are counted in the database, not loaded)."""
    if not product_ids:
        return {}
    visible = visible_disclosures(user, today)
    totals: dict[int, int] = {
        product_id: int(total)
        for product_id, total in db.session.execute(
            visible.where(Disclosure.product_id.in_(product_ids))
            .with_only_columns(Disclosure.product_id, func.count())
            .group_by(Disclosure.product_id)
        )
    }
    if not totals:
        return {}
    walk = _walks_by_name()
    firsts = union_all(
        *(
            select(_first_disclosures(visible, product_id, walk and total > MANY_SITES))
            for product_id, total in sorted(totals.items())
        )
    )
    shown: dict[int, list[Disclosure]] = defaultdict(list)
    for disclosure in db.session.scalars(
        select(Disclosure)
        .join(Site, Site.id == Disclosure.site_id)
        .where(Disclosure.id.in_(firsts))
        .order_by(Disclosure.product_id, Site.name, Disclosure.id)
    ):
        shown[disclosure.product_id].append(disclosure)
    return {product_id: MadeAt(shown[product_id], total) for product_id, total in totals.items()}


def _first_disclosures(visible: Select[Disclosure], product_id: int, many: bool) -> Any:
    """The ids of a product's first :data:`SITES_SHOWN` visible disclosures by site name.

    With ``many`` sites, only the disclosures at the sites named like one of the first
    :data:`SITES_SHOWN` sites (by name) that have one: those sites hold at least that many
    disclosures, so the first ones are among them (sites of the same name included), and the
    database walks the index on the site's name to find them, whatever the product's size.
    """
    query = (
        visible.join(Site, Site.id == Disclosure.site_id)
        .where(Disclosure.product_id == product_id)
        .with_only_columns(Disclosure.id)
    )
    if many:
        walked, named = aliased(Site, name="walked"), aliased(Site, name="named")
        made_there = (
            visible.where(Disclosure.site_id == walked.id, Disclosure.product_id == product_id)
            .with_only_columns(Disclosure.id)
            .correlate_except(Disclosure)
        )
        names = select(walked.name).where(made_there.exists()).order_by(walked.name).limit(SITES_SHOWN)
        query = query.where(Disclosure.site_id.in_(select(named.id).where(named.name.in_(names))))
    return query.order_by(Site.name, Disclosure.id).limit(SITES_SHOWN).subquery()


# --- input to operations --------------------------------------------------------------------

CONTRACT_FIELDS = (
    "reference",
    "title",
    "start_date",
    "end_date",
    "annual_spend",
    "currency",
    "labour_conditions",
)


def contract_data(args: dict[str, Any], contract: Contract | None = None) -> operations.ContractData:
    """A contract's ``Args`` as the operation takes them; fields left out keep ``contract``'s values."""
    values = {n: getattr(contract, n) for n in CONTRACT_FIELDS} if contract is not None else {}
    values.update({n: args[n] for n in CONTRACT_FIELDS if n in args})
    supplier_id = args.get("supplier_id", contract.supplier_id if contract is not None else None)
    return operations.ContractData(
        supplier=db.session.get(Organisation, supplier_id) if supplier_id is not None else None,
        clauses=[operations.ClauseData(**clause) for clause in args.get("clauses", [])],
        **values,
    )


def add_contract_product(user: User, contract: Contract, args: dict[str, Any]) -> ContractProduct:
    """Add a product by id, or by brand and model (a new product is added to the registry)."""
    quantity = args.get("quantity")
    if "product_id" in args:
        product = db.session.get(Product, args["product_id"])
        if product is None:
            raise OperationError(_l("There is no such product."), "product_id")
        return operations.add_contract_product(user, contract, product, quantity)
    return operations.add_product_by_name(
        user, contract, args["brand"], args["model"], args.get("category"), quantity
    )


def disclose(user: User, args: dict[str, Any]) -> Disclosure:
    """Disclose a product at one of the supplier's sites (``site_id``) or at a described ``site``."""
    site = operations.SiteData(**args["site"]) if "site" in args else args["site_id"]
    chain = operations.ChainData(
        supplies_site=operations.supplied_site(
            user, args.get("supplies_site_id"), args.get("supplies_os_id")
        ),
        value_share=args.get("value_share"),
        units_per_product=args.get("units_per_product"),
    )
    return operations.disclose(
        user,
        args["product_id"],
        site,
        args["part"],
        args["valid_from"],
        args.get("valid_to"),
        args.get("source", ""),
        chain,
    )


def job_status(job: Job) -> dict[str, Any]:
    """What the job page and the API show of a job: its progress, and its counts or problems."""
    failure = job.failure() if job.state == JobState.failed else None
    seconds_left = job.seconds_left()
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state.value,
        "state_title": job.state.title,
        "filename": job.filename,
        "created_dt": job.created_dt,
        "started_dt": job.started_dt,
        "finished_dt": job.finished_dt,
        "progress": round(job.fraction(), 4),
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "problems": job.problems,
        "seconds_left": seconds_left,
        "time_left": format_timedelta(timedelta(seconds=seconds_left)) if seconds_left is not None else None,
        "result": job.summary if job.state == JobState.done else None,
        "error": failure["message"] if failure else None,
        "errors": failure["problems"] if failure else [],
        "errors_total": failure["total"] if failure else 0,
    }
