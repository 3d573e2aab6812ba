"""Who may see and change what in the supply-chain registry.

Coordinators and monitors read everything; coordinators manage sites, products and currency
rates. An affiliate (public buyer) manages its own contracts and reads them, the products they
cover and the sites those products reach through current disclosures (any supplier's). A supplier
reads the contracts it is party to, their products, its own disclosures and their sites, and
discloses sites only for products one of its contracts covers. Coordinators import facility
lists and decide about likely duplicate sites; a supplier imports its own disclosures, a
coordinator on a supplier's behalf. The column mappings saved on an import's mapping step are
seen only by the coordinators and monitors of the organisation that saved them. Administrators
see none of it. Everything a user may not see answers 404. Roles are read through
:mod:`monitoring.core.roles` only.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select
from sqlalchemy.orm import joinedload

from monitoring.accounts.models import Organisation, OrganisationKind, User
from monitoring.core.column_mapping import SavedMapping
from monitoring.core.db import db
from monitoring.core.jobs import Job
from monitoring.core.roles import (
    STAFF_ROLES,
    WORKING_ROLES,
    UserRole,
    is_affiliate,
    is_coordinator,
    is_supplier,
)
from monitoring.core.roles import is_staff as reads_everything
from monitoring.supplychain.models import Contract, ContractProduct, Disclosure, Product, Site, SiteDuplicate

# Who reads the whole registry (coordinators and monitors), and who reads some of it.
READER_ROLES = STAFF_ROLES
REGISTRY_ROLES = WORKING_ROLES
# Who may import disclosures (a supplier for itself, a coordinator for a supplier).
DISCLOSURE_IMPORT_ROLES = (UserRole.supplier, UserRole.coordinator)

__all__ = ["is_affiliate", "is_supplier", "reads_everything"]


# --- what is current ------------------------------------------------------------------------


def disclosure_is_current(today: date) -> ColumnElement[bool]:
    """Valid today and not withdrawn."""
    return and_(
        Disclosure.valid_from <= today,
        or_(Disclosure.valid_to.is_(None), Disclosure.valid_to >= today),
        Disclosure.withdrawn_dt.is_(None),
    )


def contract_in_force(today: date) -> ColumnElement[bool]:
    return and_(Contract.start_date <= today, or_(Contract.end_date.is_(None), Contract.end_date >= today))


def is_in_force(contract: Contract, today: date) -> bool:
    """:func:`contract_in_force` for one loaded contract."""
    return contract.start_date <= today and (contract.end_date is None or contract.end_date >= today)


def is_current(disclosure: Disclosure, today: date) -> bool:
    """:func:`disclosure_is_current` for one loaded disclosure."""
    return (
        disclosure.withdrawn_dt is None
        and disclosure.valid_from <= today
        and (disclosure.valid_to is None or disclosure.valid_to >= today)
    )


# --- scoping queries ------------------------------------------------------------------------


def _own_contracts(user: User) -> ColumnElement[bool]:
    """The contracts the user's organisation is party to (as buyer or as supplier)."""
    if is_affiliate(user):
        return Contract.affiliate_id == user.organisation_id
    if is_supplier(user):
        return Contract.supplier_id == user.organisation_id
    return false()


def _contract_product_ids(user: User) -> Select[int]:
    return select(ContractProduct.product_id).join(Contract).where(_own_contracts(user))


def visible_contracts(user: User) -> Select[Contract]:
    query = select(Contract)
    return query if reads_everything(user) else query.where(_own_contracts(user))


def visible_products(user: User) -> Select[Product]:
    """Everything for readers; the products of their contracts for affiliates and suppliers.

    A supplier also keeps sight of the products of its own disclosures (its own statements), e.g.
    after a product was removed from its contract.
    """
    query = select(Product)
    if reads_everything(user):
        return query
    if is_supplier(user):
        disclosed = select(Disclosure.product_id).where(Disclosure.supplier_id == user.organisation_id)
        return query.where(or_(Product.id.in_(_contract_product_ids(user)), Product.id.in_(disclosed)))
    return query.where(Product.id.in_(_contract_product_ids(user)))


def visible_disclosures(user: User, today: date | None = None) -> Select[Disclosure]:
    """All for readers; a supplier's own (also past and withdrawn); for an affiliate the current
    disclosures of the products its contracts cover, whoever made them."""
    query = select(Disclosure)
    if reads_everything(user):
        return query
    if is_supplier(user):
        return query.where(Disclosure.supplier_id == user.organisation_id)
    if is_affiliate(user):
        return query.where(
            Disclosure.product_id.in_(_contract_product_ids(user)),
            disclosure_is_current(today or date.today()),
        )
    return query.where(false())


def visible_sites(user: User, today: date | None = None) -> Select[Site]:
    """All sites for readers (merged ones too: their pages say where they went); for affiliates
    and suppliers the sites of the disclosures they see, never a merged one. An affiliate also
    sees the sites upstream in its products' chains: those whose parts go, at any tier, to a
    site where a product of its contracts is made (the sites its risk views reach)."""
    query = select(Site)
    if reads_everything(user):
        return query
    site_ids = visible_disclosures(user, today).with_only_columns(Disclosure.site_id)
    if is_affiliate(user):
        from monitoring.supplychain.queries import reach  # queries builds on this module

        reached = reach(today or date.today())
        upstream = select(reached.c.site_id).where(reached.c.product_id.in_(_contract_product_ids(user)))
        return query.where(Site.merged_into_id.is_(None), or_(Site.id.in_(site_ids), Site.id.in_(upstream)))
    return query.where(Site.merged_into_id.is_(None), Site.id.in_(site_ids))


def listed_sites(user: User, today: date | None = None) -> Select[Site]:
    """The sites a list shows: the visible ones that were not merged into another."""
    return visible_sites(user, today).where(Site.merged_into_id.is_(None))


def disclosable_products(user: User) -> Select[Product]:
    """The products a supplier may disclose sites for: those its own contracts cover."""
    if not is_supplier(user):
        return select(Product).where(false())
    return select(Product).where(Product.id.in_(_contract_product_ids(user)))


# --- capabilities ---------------------------------------------------------------------------


def can_view_registry(user: User) -> bool:
    return reads_everything(user) or is_affiliate(user) or is_supplier(user)


def can_manage_sites(user: User) -> bool:
    """Create and update sites, products and currency rates."""
    return is_coordinator(user)


can_manage_products = can_manage_sites
can_set_currency_rates = can_manage_sites


def can_view_leverage(user: User) -> bool:
    """The leverage ranking and the names of every affiliate a site concerns."""
    return reads_everything(user)


def can_create_contract(user: User) -> bool:
    return is_affiliate(user)


def can_manage_contract(user: User, contract: Contract) -> bool:
    """Update a contract, its clauses and the products it covers (adding a new product too)."""
    return is_affiliate(user) and contract.affiliate_id == user.organisation_id


def can_confirm_disclosure(user: User, contract: Contract) -> bool:
    """Confirm that the disclosure for a contract is still true: the contract's supplier."""
    return is_supplier(user) and contract.supplier_id == user.organisation_id


def can_disclose(user: User) -> bool:
    return is_supplier(user)


def can_disclose_product(user: User, product: Product) -> bool:
    return is_supplier(user) and bool(
        db.session.scalar(
            select(
                exists().where(
                    ContractProduct.product_id == product.id,
                    ContractProduct.contract_id == Contract.id,
                    Contract.supplier_id == user.organisation_id,
                )
            )
        )
    )


def can_withdraw_disclosure(user: User, disclosure: Disclosure) -> bool:
    return (
        is_supplier(user)
        and disclosure.supplier_id == user.organisation_id
        and disclosure.withdrawn_dt is None
    )


def affiliate_organisation(user: User) -> int | None:
    """The buyer organisation an affiliate sees a site's links for; None for everyone else."""
    return user.organisation_id if is_affiliate(user) else None


def supplier_organisation(user: User) -> int | None:
    """The supplier organisation whose own contracts a supplier sees in figures; None for others."""
    return user.organisation_id if is_supplier(user) else None


def can_see_concerned(user: User) -> bool:
    """Whom a site concerns: every affiliate for readers, itself and a count for an affiliate."""
    return reads_everything(user) or is_affiliate(user)


# --- imports and duplicates -----------------------------------------------------------------


def can_import_facilities(user: User) -> bool:
    """Coordinators keep the site registry."""
    return is_coordinator(user)


def chooses_supplier_to_import_for(user: User) -> bool:
    """A coordinator names the supplier; a supplier imports for its own organisation."""
    return is_coordinator(user)


def can_import_disclosures(user: User, supplier: Organisation) -> bool:
    """A supplier discloses for its own organisation; a coordinator may on a supplier's behalf."""
    if supplier.kind is not OrganisationKind.supplier:
        return False
    return is_coordinator(user) or (is_supplier(user) and user.organisation_id == supplier.id)


def can_review_duplicates(user: User) -> bool:
    """Coordinators keep the site registry, so they decide about duplicates."""
    return is_coordinator(user)


def visible_duplicates(user: User) -> Select[SiteDuplicate]:
    """Every proposal for coordinators, none for anyone else; both sites are loaded with it."""
    query = select(SiteDuplicate).options(
        joinedload(SiteDuplicate.site),
        joinedload(SiteDuplicate.candidate),
        joinedload(SiteDuplicate.decided_by),
    )
    return query if can_review_duplicates(user) else query.where(false())


def reviewable_sites(user: User) -> Select[Site]:
    """The sites a reviewer may pair: every site for coordinators."""
    query = select(Site)
    return query if can_review_duplicates(user) else query.where(false())


def visible_saved_mappings(user: User) -> Select[SavedMapping]:
    """The column mappings the user's organisation saved, for the staff who import; none for others.

    A mapping saved without an organisation is nobody's (every user has one).
    """
    query = select(SavedMapping)
    if not reads_everything(user):
        return query.where(false())
    return query.where(SavedMapping.organisation_id == user.organisation_id)


def visible_jobs(user: User) -> Select[Job]:
    """The background jobs (imports) the user may follow: their own."""
    return select(Job).where(Job.owner_id == user.id)
