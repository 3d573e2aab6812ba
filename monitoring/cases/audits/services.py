"""What the audits pages and API read: the crosswalk, and a site's audits beside worker voice.

The site view is computed from the crosswalk table when read, so an edit re-maps it at once.
Worker testimony stays sealed: the view counts reports, never opens one. Two counts stand per
standard: the reports linked to the monitors' findings (``FindingReport``), and the reports at the
site whose issue categories (``ReportCategory``, plain metadata) the crosswalk maps to the standard.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from monitoring.accounts.models import User
from monitoring.cases.audits.models import CrosswalkEntry, SocialAudit, SocialAuditFinding
from monitoring.cases.audits.permissions import (
    can_edit_crosswalk,
    can_import_audits,
    can_view_site_audits,
    counted_report_organisation,
    reads_audit_details,
    shown_count,
)
from monitoring.cases.models import Finding, FindingReport
from monitoring.cases.permissions import visible_findings
from monitoring.cases.standards import (
    STANDARDS,
    Crosswalk,
    Standard,
    codes_in_group,
    crosswalk,
    get_standard,
    groups,
    section_key,
    section_title,
    standard_key,
)
from monitoring.core.db import db
from monitoring.supplychain.models import Site
from monitoring.supplychain.permissions import visible_sites
from monitoring.supplychain.services import load, require
from monitoring.testimony.models import IssueCategory, ReportCategory, WorkerReport

# --- the crosswalk ------------------------------------------------------------------------------


def read_crosswalk() -> list[tuple[str | None, str, str | None]]:
    """Every row of the table as (section, standard, issue category value)."""
    rows = db.session.execute(
        select(CrosswalkEntry.rba_section, CrosswalkEntry.standard, CrosswalkEntry.issue_category)
    )
    return [(section, code, category.value if category else None) for section, code, category in rows]


def crosswalk_entries() -> list[CrosswalkEntry]:
    """The rows in the order of the code of standards, then by section."""
    rows = list(db.session.scalars(select(CrosswalkEntry)))
    return sorted(
        rows,
        key=lambda e: (standard_key(e.standard), section_key(e.rba_section or "Z99"), e.id),
    )


def standard_labels() -> dict[str, str]:
    """Each standard's code and title ("WH-1 Working weeks over 60 hours ..."), by code."""
    return {s.code: s.label() for s in STANDARDS}


def load_entry(user: User, entry_id: int) -> CrosswalkEntry:
    """A row, for a coordinator (anyone else, or a missing row: 404)."""
    require(can_edit_crosswalk(user))
    return load(select(CrosswalkEntry), CrosswalkEntry.id == entry_id)


# --- a site's audits and worker voice ---------------------------------------------------------


def load_site(user: User, site_id: int) -> Site:
    """The site, for someone who may open its audits view (missing or not allowed: 404)."""
    require(can_view_site_audits(user))
    return load(visible_sites(user), Site.id == site_id)


@dataclass
class StandardRow:
    """One top-level standard of the site view."""

    standard: Standard
    sections: list[str]
    audit_findings: list[SocialAuditFinding] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    report_ids: set[int] = field(default_factory=set)
    passed_by: list[SocialAudit] = field(default_factory=list)
    # The issue categories the crosswalk maps to the standard (or a sub-standard), and the worker
    # reports at the site in the year that name one of them (each report once).
    categories: list[IssueCategory] = field(default_factory=list)
    category_report_ids: set[int] = field(default_factory=set)
    # Those of them the reader counts (a monitor: its own organisation's).
    counted_report_ids: set[int] = field(default_factory=set)

    @property
    def code(self) -> str:
        return self.standard.code

    @property
    def title(self) -> str:
        return str(self.standard.title)

    @property
    def section_items(self) -> list[dict[str, str]]:
        return [{"code": s, "title": section_title(s)} for s in self.sections]

    @property
    def open_audit_findings(self) -> list[SocialAuditFinding]:
        return [f for f in self.audit_findings if f.status.is_open]

    @property
    def category_items(self) -> list[dict[str, str]]:
        return [{"value": c.value, "title": str(c.title)} for c in self.categories]

    @property
    def contradiction(self) -> bool:
        """An audit passed the standard while monitors' findings or worker reports name it."""
        return bool(self.passed_by) and bool(self.findings or self.category_report_ids)


@dataclass
class SiteAudits:
    site: Site
    year: int
    audits: list[SocialAudit]
    rows: list[StandardRow]
    details: bool  # whether the reader sees the findings themselves, or counts only
    user: User

    def count(self, value: int) -> int | None:
        return shown_count(self.user, value)

    @property
    def contradictions(self) -> list[StandardRow]:
        return [row for row in self.rows if row.contradiction]


def _audits(site: Site, year: int) -> list[SocialAudit]:
    query = (
        select(SocialAudit)
        .where(
            SocialAudit.site_id == site.id,
            SocialAudit.audit_date >= date(year, 1, 1),
            SocialAudit.audit_date <= date(year, 12, 31),
        )
        .options(selectinload(SocialAudit.findings))
        .order_by(SocialAudit.audit_date, SocialAudit.id)
    )
    return list(db.session.scalars(query))


def _findings(user: User, site: Site, year: int) -> tuple[list[Finding], dict[int, set[int]]]:
    query = (
        visible_findings(user)
        .where(
            Finding.site_id == site.id,
            Finding.found_date >= date(year, 1, 1),
            Finding.found_date <= date(year, 12, 31),
        )
        .order_by(Finding.found_date, Finding.id)
    )
    findings = list(db.session.scalars(query).unique())
    reports: dict[int, set[int]] = defaultdict(set)
    if findings:
        links = db.session.execute(
            select(FindingReport.finding_id, FindingReport.report_id).where(
                FindingReport.finding_id.in_([f.id for f in findings])
            )
        )
        for finding_id, report_id in links:
            reports[finding_id].add(report_id)
    return findings, reports


def _category_reports(site: Site, year: int) -> tuple[dict[IssueCategory, set[int]], dict[int, set[int]]]:
    """The worker reports at the site collected in the year, by issue category (ids only), and
    for each organisation the ids of its reports.

    Every monitor organisation's reports raise the flag: it is a fact about the site, the same for
    every reader (the counts shown are the reader's, see :func:`counted_report_organisation`).
    Erased reports do not: an erasure the worker asked for withdraws the testimony, and one for
    retention or an undone import leaves nothing anyone could still act on.
    """
    query = (
        select(ReportCategory.category, ReportCategory.report_id, WorkerReport.organisation_id)
        .join(WorkerReport, WorkerReport.id == ReportCategory.report_id)
        .where(
            WorkerReport.site_id == site.id,
            WorkerReport.collected_date >= date(year, 1, 1),
            WorkerReport.collected_date <= date(year, 12, 31),
            WorkerReport.erased_dt.is_(None),
        )
    )
    reports: dict[IssueCategory, set[int]] = defaultdict(set)
    organisations: dict[int, set[int]] = defaultdict(set)
    for category, report_id, organisation_id in db.session.execute(query):
        reports[category].add(report_id)
        organisations[organisation_id].add(report_id)
    return reports, organisations


def _group_categories(walk: Crosswalk, group: str) -> list[IssueCategory]:
    """The issue categories the crosswalk maps to a top-level standard or any of its sub-standards."""
    values = {value for code in codes_in_group(group) for value in walk.categories_of(code)}
    return [category for category in IssueCategory if category.value in values]


def _group_of(code: str) -> str:
    standard = get_standard(code)
    return standard.group if standard else code


def _rows(
    walk: Crosswalk,
    audits: list[SocialAudit],
    findings: list[Finding],
    reports: dict[int, set[int]],
    by_category: dict[IssueCategory, set[int]],
) -> list[StandardRow]:
    rows = {g.code: StandardRow(g, walk.group_sections(g.code)) for g in groups()}
    for row in rows.values():
        row.categories = _group_categories(walk, row.code)
        for category in row.categories:
            row.category_report_ids |= by_category.get(category, set())
        sections = set(row.sections)
        for audit in audits:
            mapped = [f for f in audit.findings if f.rba_section in sections]
            row.audit_findings.extend(mapped)
            # The audit covered the whole Code: it passed the standard if none of the sections
            # linked to it has an open finding. A standard linked to no section is not judged.
            if sections and not any(f.status.is_open for f in mapped):
                row.passed_by.append(audit)
    for finding in findings:
        group_row = rows.get(_group_of(finding.standard))
        if group_row is not None:
            group_row.findings.append(finding)
            group_row.report_ids |= reports.get(finding.id, set())
    return list(rows.values())


def site_audits(user: User, site: Site, year: int) -> SiteAudits:
    """Per top-level standard: audit findings, monitors' findings, linked reports, the reports
    naming it through their issue categories, and the flag."""
    audits = _audits(site, year)
    findings, reports = _findings(user, site, year)
    by_category, by_organisation = _category_reports(site, year)
    rows = _rows(crosswalk(), audits, findings, reports, by_category)
    organisation_id = counted_report_organisation(user)
    for row in rows:
        row.counted_report_ids = (
            row.category_report_ids
            if organisation_id is None
            else row.category_report_ids & by_organisation.get(organisation_id, set())
        )
    return SiteAudits(site, year, audits, rows, reads_audit_details(user), user)


def _suppressed(value: int | None) -> dict[str, Any]:
    return {"count": value, "suppressed": value is None}


def site_audits_view(view: SiteAudits) -> dict[str, Any]:
    """The site view as the API answers it; counts only (small ones suppressed) for affiliates."""
    standards = []
    for row in view.rows:
        item: dict[str, Any] = {
            "code": row.code,
            "title": row.title,
            "rba_sections": row.section_items,
            "audit_findings_count": len(row.audit_findings),
            "open_audit_findings_count": len(row.open_audit_findings),
            "findings": _suppressed(view.count(len(row.findings))),
            "worker_reports": _suppressed(view.count(len(row.report_ids))),
            "issue_categories": row.category_items,
            "category_reports": _suppressed(view.count(len(row.counted_report_ids))),
            "passed_by_audit": bool(row.passed_by),
            "contradiction": row.contradiction,
        }
        if view.details:
            item["audit_findings"] = row.audit_findings
            item["monitor_findings"] = row.findings
            item["passed_by"] = [a.id for a in row.passed_by]
        standards.append(item)
    result: dict[str, Any] = {
        "site_id": view.site.id,
        "year": view.year,
        "audits_count": len(view.audits),
        "standards": standards,
    }
    if view.details:
        result["audits"] = view.audits
    return result


def existing_audit(site_id: int, audit_date: date, firm: str) -> bool:
    """Whether this audit (site, date, firm) was imported before."""
    query = select(SocialAudit.id, SocialAudit.firm).where(
        SocialAudit.site_id == site_id, SocialAudit.audit_date == audit_date
    )
    return any(name.casefold() == firm.casefold() for _id, name in db.session.execute(query))


def require_editor(user: User) -> None:
    """404 for anyone who may not edit the crosswalk."""
    require(can_edit_crosswalk(user))


def require_importer(user: User) -> None:
    """404 for anyone who may not import audits."""
    require(can_import_audits(user))
