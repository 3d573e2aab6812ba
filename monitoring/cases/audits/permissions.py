"""Who may read and edit the crosswalk, import audits and open a site's audits view.

Everyone who works with the registry reads the crosswalk (it is the code of standards' own
cross-reference, nothing confidential); coordinators edit it, since it decides how every audit
is read. Coordinators and monitors import audit reports: both handle third-party evidence about
sites (DESIGN.md: monitors file findings, coordinators run the remediation), and the rows carry
who imported them. A site's audits view is for coordinators and monitors in full, and for
affiliates on the sites of their supply chains as counts only (small counts hidden); suppliers
and administrators get 404. The worker reports naming a standard are counted as the site's risk
view counts them: every organisation's for coordinators and (small counts hidden) affiliates, a
monitor's own organisation's for a monitor, who reads no other organisation's reports; the
contradiction flag, a fact about the site, rests on them all.
"""

from __future__ import annotations

from monitoring.accounts.models import User
from monitoring.core.roles import UserRole, is_affiliate, is_coordinator, is_monitor, is_staff

# Who may read the crosswalk.
CROSSWALK_READER_ROLES = (UserRole.coordinator, UserRole.monitor, UserRole.affiliate, UserRole.supplier)
# Who may edit it.
CROSSWALK_EDITOR_ROLES = (UserRole.coordinator,)
# Who may import audit reports.
IMPORTER_ROLES = (UserRole.coordinator, UserRole.monitor)
# Who may open a site's audits view (the site is then checked).
VIEWER_ROLES = (UserRole.coordinator, UserRole.monitor, UserRole.affiliate)
# Counts below this are shown to affiliates as "fewer than 5" (the reporting rule, kept here since
# cases sit below reporting).
SMALL_COUNT = 5


def can_edit_crosswalk(user: User) -> bool:
    return is_coordinator(user)


def can_import_audits(user: User) -> bool:
    return is_staff(user)


def can_view_site_audits(user: User) -> bool:
    """Staff on every site; affiliates on the sites they see (checked by the site's lookup)."""
    return is_staff(user) or is_affiliate(user)


def reads_audit_details(user: User) -> bool:
    """Staff read the audit and monitor findings themselves; affiliates get counts."""
    return is_staff(user)


def shown_count(user: User, count: int) -> int | None:
    """A count as this user may see it: None ("fewer than 5") for affiliates when 1 to 4."""
    if not reads_audit_details(user) and 0 < count < SMALL_COUNT:
        return None
    return count


def counted_report_organisation(user: User) -> int | None:
    """Whose worker reports the user's counts cover: None for every organisation's, else the
    monitor's own organisation."""
    return user.organisation_id if is_monitor(user) else None
