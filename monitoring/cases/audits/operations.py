"""Edit the crosswalk and import audits. Audited; never commits."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases.audits.importing import SECTION_PATTERN, read_audits
from monitoring.cases.audits.models import CrosswalkEntry, SocialAudit, SocialAuditFinding
from monitoring.cases.audits.permissions import can_edit_crosswalk, can_import_audits
from monitoring.cases.files import placeholder_ct
from monitoring.cases.standards import forget_crosswalk, get_standard
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.testimony.models import IssueCategory

logger = logging.getLogger(__name__)

NOTE_MAX = 500


@dataclass
class EntryData:
    standard: str
    rba_section: str | None = None
    issue_category: IssueCategory | None = None
    note: str | None = None


def _clean(data: EntryData) -> EntryData:
    standard = (data.standard or "").strip().upper()
    if get_standard(standard) is None:
        raise OperationError(_l("Choose one of the standards."), "standard")
    section = (data.rba_section or "").strip().upper() or None
    if section is not None and not SECTION_PATTERN.match(section):
        raise OperationError(_l("Give a section of the RBA Code, such as A3 or B10."), "rba_section")
    if section is None and data.issue_category is None:
        raise OperationError(_l("Give an RBA Code section, an issue category or both."), "rba_section")
    note = (data.note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise OperationError(_l("Keep the note under %(num)d characters.", num=NOTE_MAX), "note")
    return EntryData(standard, section, data.issue_category, note)


def _check_unique(data: EntryData, entry_id: int | None) -> None:
    query = select(CrosswalkEntry.id).where(
        CrosswalkEntry.standard == data.standard,
        CrosswalkEntry.rba_section.is_(None)
        if data.rba_section is None
        else CrosswalkEntry.rba_section == data.rba_section,
        CrosswalkEntry.issue_category.is_(None)
        if data.issue_category is None
        else CrosswalkEntry.issue_category == data.issue_category,
    )
    if any(found != entry_id for found in db.session.scalars(query)):
        raise OperationError(_l("The crosswalk already has this link."), "standard")


def _values(entry: CrosswalkEntry) -> dict[str, Any]:
    return {
        "standard": entry.standard,
        "rba_section": entry.rba_section,
        "issue_category": entry.issue_category.value if entry.issue_category else None,
        "note": entry.note,
    }


def _require_editor(actor: User) -> None:
    if not can_edit_crosswalk(actor):
        raise OperationError(_l("Only coordinators edit the crosswalk."))


def add_entry(actor: User, data: EntryData) -> CrosswalkEntry:
    """Add a link to the crosswalk."""
    _require_editor(actor)
    clean = _clean(data)
    _check_unique(clean, None)
    entry = CrosswalkEntry(
        standard=clean.standard,
        rba_section=clean.rba_section,
        issue_category=clean.issue_category,
        note=clean.note,
        updated_by_id=actor.id,
        updated_dt=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    forget_crosswalk()
    audit.record(
        "crosswalk.add",
        f"Added crosswalk link {entry.rba_section or '-'} to {entry.standard}",
        actor=actor,
        obj=entry,
        data=_values(entry),
    )
    logger.info("crosswalk entry %s added", entry.id)
    return entry


def edit_entry(actor: User, entry: CrosswalkEntry, data: EntryData) -> CrosswalkEntry:
    """Change a link of the crosswalk; the audit entry holds the changed fields."""
    _require_editor(actor)
    clean = _clean(data)
    _check_unique(clean, entry.id)
    before = _values(entry)
    entry.standard, entry.rba_section = clean.standard, clean.rba_section
    entry.issue_category, entry.note = clean.issue_category, clean.note
    entry.updated_by_id, entry.updated_dt = actor.id, utcnow()
    db.session.flush()
    forget_crosswalk()
    after = _values(entry)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    audit.record(
        "crosswalk.edit",
        f"Changed crosswalk link {entry.id}",
        actor=actor,
        obj=entry,
        data={"changes": changes},
    )
    logger.info("crosswalk entry %s changed", entry.id)
    return entry


def delete_entry(actor: User, entry: CrosswalkEntry) -> None:
    """Remove a link of the crosswalk (the audit entry keeps what it was)."""
    _require_editor(actor)
    values = _values(entry)
    entry_id = entry.id
    db.session.delete(entry)
    db.session.flush()
    forget_crosswalk()
    audit.record(
        "crosswalk.delete",
        f"Removed crosswalk link {entry_id}",
        actor=actor,
        object_type="crosswalk_entry",
        object_id=entry_id,
        data=values,
    )
    logger.info("crosswalk entry %s removed", entry_id)


@dataclass
class AuditImportResult:
    audits: list[SocialAudit]

    @property
    def findings(self) -> int:
        return sum(len(a.findings) for a in self.audits)


def import_audits(actor: User, stream: IO[bytes], filename: str = "") -> AuditImportResult:
    """Import every audit of a CSV file, or none (:class:`ImportRefused` lists the problems)."""
    if not can_import_audits(actor):
        raise OperationError(_l("Only coordinators and monitors import audits."))
    parsed = read_audits(stream, date.today())
    audits = []
    for item in parsed:
        row = SocialAudit(
            site_id=item.site_id,
            audit_date=item.audit_date,
            firm=item.firm,
            imported_by_id=actor.id,
            imported_dt=utcnow(),
        )
        for found in item.findings:
            row.findings.append(
                SocialAuditFinding(
                    rba_section=found.section,
                    severity=found.severity,
                    status=found.status,
                    text_ct=placeholder_ct(),
                )
            )
        db.session.add(row)
        db.session.flush()
        for finding_row, found in zip(row.findings, item.findings, strict=True):
            finding_row.text = found.text
        db.session.flush()
        audit.record(
            "social_audit.import",
            f"Imported the audit of site {item.site_id} on {item.audit_date} by {item.firm}",
            actor=actor,
            obj=row,
            data={
                "site_id": item.site_id,
                "audit_date": item.audit_date,
                "firm": item.firm,
                "findings": len(item.findings),
                "open_findings": sum(1 for f in item.findings if f.status.is_open),
                "file": filename,
                "line": item.line,
            },
        )
        audits.append(row)
    logger.info("imported %d audits from %s", len(audits), filename or "a file")
    return AuditImportResult(audits)
