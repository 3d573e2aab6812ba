"""Demo data of sealed testimony: report routing and a few sealed reports (all fictional).

Idempotent like the rest of ``flask demo load``: a routing row that exists is left as it is,
and the demo reports are made only while the demo monitor organisation has none.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from monitoring.accounts import keys
from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.supplychain.models import Site
from monitoring.testimony import operations, sealing
from monitoring.testimony.models import (
    IssueCategory,
    MonitorCoverage,
    ReportChannel,
    RetaliationRisk,
    WorkerReport,
)

logger = logging.getLogger(__name__)

REPORTING_ORGANISATION = "Chao Phraya Workers' Voice"
# Which demo monitor organisation receives which country's reports. The fallback goes to the
# organisation the demo gives a key (its monitor has a login), so every report can be sealed.
COVERAGE = {
    REPORTING_ORGANISATION: ("TH", "MM", "KH", "LA", "VN"),
    "Straits Labour Watch": ("MY", "SG", "ID", "CN", "MX", "CZ"),
}
FALLBACK = REPORTING_ORGANISATION


def _organisation(name: str) -> Organisation | None:
    return db.session.scalar(
        select(Organisation).where(
            func.lower(Organisation.name) == name.lower(), Organisation.kind == OrganisationKind.monitor
        )
    )


def _load_coverage() -> int:
    created = 0
    routed = {c.country for c in db.session.scalars(select(MonitorCoverage))}
    for name, countries in COVERAGE.items():
        organisation = _organisation(name)
        if organisation is None or not organisation.is_active:
            continue
        for country in countries:
            if country not in routed:
                operations.set_coverage(None, organisation, country)
                created += 1
    fallback = _organisation(FALLBACK)
    if None not in routed and fallback is not None and fallback.is_active:
        operations.set_coverage(None, fallback, None)
        created += 1
    return created


def _site_in(country: str, index: int) -> Site | None:
    sites = db.session.scalars(
        select(Site).where(Site.country == country, Site.merged_into_id.is_(None)).order_by(Site.id).limit(2)
    ).all()
    return sites[index] if len(sites) > index else None


def _load_reports(organisation: Organisation) -> int:
    if keys.current_organisation_key(organisation) is None:
        logger.warning("demo: %s has no key, so no sealed demo reports", organisation.name)
        return 0
    if db.session.scalar(
        select(WorkerReport.id).where(WorkerReport.organisation_id == organisation.id).limit(1)
    ):
        return 0
    monitor = db.session.scalar(
        select(User)
        .where(User.organisation_id == organisation.id, User.role == UserRole.monitor, User.is_active)
        .order_by(User.id)
        .limit(1)
    )
    today = utcnow().date()
    interview = sealing.create_report(
        organisation=organisation,
        created_by=monitor,
        site=_site_in("TH", 0),
        country="TH",
        channel=ReportChannel.offsite_interview,
        collected_date=today - timedelta(days=12),
        language="my",
        consent_share_buyers=True,
        consent_share_supplier=False,
        consent_contact=True,
        retaliation_risk=RetaliationRisk.high,
        identity=sealing.Identity(
            name="Ko Zaw (fictional)",
            contact="Via the migrant workers' drop-in centre",
            employer="Golden Bridge Manpower (agency)",
            nationality="MM",
            gender="man",
            age_band="25_34",
        ),
        testimony=sealing.Testimony(
            text=(
                "Paid a recruitment fee of about 18,000 baht to the agency before coming; it is "
                "deducted from wages every month. The agency keeps the passports of all workers "
                "on the line 'for safekeeping'."
            ),
            categories=[IssueCategory.recruitment_fees, IssueCategory.retained_documents],
        ),
    )
    hotline = sealing.create_report(
        organisation=organisation,
        created_by=monitor,
        site=None,
        country="TH",
        channel=ReportChannel.hotline,
        collected_date=today - timedelta(days=10),
        language="th",
        consent_share_buyers=False,
        consent_share_supplier=False,
        consent_contact=False,
        retaliation_risk=RetaliationRisk.medium,
        identity=None,
        testimony=sealing.Testimony(
            text=(
                "Overtime every Sunday during the peak season; those who refuse are moved to the night shift."
            ),
            categories=[IssueCategory.working_hours, IssueCategory.retaliation],
        ),
        workplace="A printer assembly plant in the Amata City estate, Chonburi",
    )
    # A call taken ten days ago and not acknowledged yet: the start page shows it as overdue.
    received = utcnow() - timedelta(days=10)
    hotline.created_dt = received
    hotline.acknowledge_due_dt = received + timedelta(days=7)
    hotline.feedback_due_dt = received + timedelta(days=90)
    sealing.create_report(
        organisation=organisation,
        created_by=monitor,
        site=_site_in("TH", 1),
        country="TH",
        channel=ReportChannel.onsite_interview,
        collected_date=today - timedelta(days=3),
        language="km",
        consent_share_buyers=True,
        consent_share_supplier=True,
        consent_contact=False,
        retaliation_risk=RetaliationRisk.low,
        identity=sealing.Identity(gender="woman", age_band="18_24", nationality="KH"),
        testimony=sealing.Testimony(
            text="Solvent smell in the cleaning room; masks are handed out only before audits.",
            categories=[IssueCategory.chemicals, IssueCategory.health_safety],
        ),
    )
    db.session.flush()
    logger.info("demo: 3 sealed reports for %s (report %s is the first)", organisation.name, interview.id)
    return 3


def load_testimony_demo() -> int:
    """Create the missing demo routing and sealed reports; flush, never commit. Returns how many."""
    created = _load_coverage()
    organisation = _organisation(REPORTING_ORGANISATION)
    if organisation is not None and organisation.is_active:
        created += _load_reports(organisation)
    return created
