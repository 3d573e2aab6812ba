"""Who may file, read, confirm and query circularity reports, and which sites a supplier may name.

A contract's supplier files and corrects the reports of its own contracts. The contract's buyer
(an affiliate of the buyer organisation) and coordinators read them and confirm or query them.
Monitors read nothing here: the reports are a matter between buyer and supplier, and the sites
they name carry findings and worker reports through the registry like any other site. Everything
a user may not see answers 404.
"""

from __future__ import annotations

from sqlalchemy import Select, false, or_, select

from monitoring.accounts.models import User
from monitoring.core.roles import UserRole, is_affiliate, is_coordinator, is_supplier
from monitoring.supplychain.models import Contract, Site, SiteKind
from monitoring.supplychain.permissions import visible_sites

# Who may use the circularity routes at all (the contract is then checked).
READER_ROLES = (UserRole.coordinator, UserRole.affiliate, UserRole.supplier)
FILER_ROLES = (UserRole.supplier,)
REVIEWER_ROLES = (UserRole.affiliate, UserRole.coordinator)
# Who sees the feedback loop of their contracts' products (the buyer's dashboard).
LOOP_ROLES = (UserRole.affiliate, UserRole.coordinator)


def can_read_circularity(user: User, contract: Contract) -> bool:
    """The contract's buyer, its supplier, or a coordinator."""
    if is_coordinator(user):
        return True
    if is_affiliate(user):
        return user.organisation_id == contract.affiliate_id
    return is_supplier(user) and user.organisation_id == contract.supplier_id


def can_file_circularity(user: User, contract: Contract) -> bool:
    """The contract's supplier."""
    return is_supplier(user) and user.organisation_id == contract.supplier_id


def can_review_circularity(user: User, contract: Contract) -> bool:
    """The contract's buyer or a coordinator: confirm or query a report."""
    return is_coordinator(user) or (is_affiliate(user) and user.organisation_id == contract.affiliate_id)


def loop_contracts(user: User) -> Select[Contract]:
    """The contracts feeding the user's feedback loop: a buyer's own, every one for coordinators."""
    query = select(Contract)
    if is_coordinator(user):
        return query
    if is_affiliate(user):
        return query.where(Contract.affiliate_id == user.organisation_id)
    return query.where(false())


def nameable_sites(user: User) -> Select[Site]:
    """The registry sites a supplier may name in a report: any repair, refurbishment or recycling
    site (take-back goes to such sites, whoever disclosed them), and the sites it sees; never a
    merged site."""
    if not is_supplier(user):
        return select(Site).where(false())
    seen = visible_sites(user).with_only_columns(Site.id)
    return select(Site).where(
        Site.merged_into_id.is_(None), or_(Site.kind == SiteKind.recycling, Site.id.in_(seen))
    )
