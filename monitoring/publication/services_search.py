"""One search box across cases, sites and findings, each scoped by what the user may see.

Cases and sites match on their names in SQL, through the features' own visibility scopes.
A finding's text is sealed at rest, so it is matched here after decryption, and only for the
findings whose summary the user may read (the most recent ones, up to ``TEXT_SCAN``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, func, or_, select

from monitoring.accounts.models import User
from monitoring.cases import permissions as case_permissions
from monitoring.cases.models import Case, Finding
from monitoring.cases.services_lists import case_text_clause, like_pattern
from monitoring.core.db import db
from monitoring.supplychain import permissions as site_permissions
from monitoring.supplychain.models import Site, SiteName

LIMIT = 25
TEXT_SCAN = 500


@dataclass
class SearchResults:
    query: str
    cases: list[Case] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.cases or self.sites or self.findings)


def search_cases(user: User, text: str, today: date) -> list[Case]:
    if not case_permissions.can_list_cases(user):
        return []
    query = case_permissions.visible_cases(user, today).where(case_text_clause(text))
    return list(db.session.scalars(query.order_by(Case.opened_dt.desc(), Case.id.desc()).limit(LIMIT)))


def _site_clause(text: str) -> ColumnElement[bool]:
    pattern = like_pattern(text)
    other_names = select(SiteName.site_id).where(func.lower(SiteName.name).like(pattern, escape="\\"))
    return or_(func.lower(Site.name).like(pattern, escape="\\"), Site.id.in_(other_names))


def search_sites(user: User, text: str, today: date) -> list[Site]:
    if not case_permissions.sees_site_page(user):
        return []
    query = site_permissions.listed_sites(user, today).where(_site_clause(text))
    return list(db.session.scalars(query.order_by(Site.name, Site.id).limit(LIMIT)))


def search_findings(user: User, text: str) -> list[Finding]:
    """Findings by site, standard or case reference; by their text where the user may read it."""
    if not case_permissions.can_list_findings(user):
        return []
    pattern = like_pattern(text)
    listed = case_permissions.listed_findings(user)
    by_name = listed.where(
        or_(
            Finding.site_id.in_(select(Site.id).where(_site_clause(text))),
            func.lower(Finding.standard).like(pattern, escape="\\"),
            Finding.case_id.in_(select(Case.id).where(func.lower(Case.reference).like(pattern, escape="\\"))),
        )
    )
    found = {f.id: f for f in db.session.scalars(by_name.order_by(Finding.id.desc()).limit(LIMIT))}
    needle = text.strip().casefold()
    recent = db.session.scalars(listed.order_by(Finding.id.desc()).limit(TEXT_SCAN))
    for finding in recent:
        if len(found) >= LIMIT:
            break
        if finding.id in found or not case_permissions.can_see_finding_summary(user, finding):
            continue
        if needle in (finding.summary or "").casefold():
            found[finding.id] = finding
    return sorted(found.values(), key=lambda f: -f.id)


def search(user: User, text: str, today: date) -> SearchResults:
    text = text.strip()
    if not text:
        return SearchResults(text)
    return SearchResults(
        text,
        cases=search_cases(user, text, today),
        sites=search_sites(user, text, today),
        findings=search_findings(user, text),
    )
