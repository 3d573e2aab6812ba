"""Reading an audit CSV file (layout: ``docs/audits.md``): whole or not at all.

Rows with the same site, audit date and audit firm are one audit; a row whose finding columns
are all empty records an audit that found nothing. Every problem is listed with its line and
column and nothing is saved; files are small, so they are read in the request, up to
:data:`MAX_ROWS` rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import IO

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monitoring.cases.audits.models import AuditFindingStatus
from monitoring.cases.audits.services import existing_audit
from monitoring.cases.models import Severity
from monitoring.core.db import db
from monitoring.supplychain.import_reading import CsvFile, ErrorLog, Progress, RowReader, read_header
from monitoring.supplychain.matching import OS_ID_PATTERN
from monitoring.supplychain.models import Site

MAX_ROWS = 2000
FIRM_MAX = 200
TEXT_MAX = 5000
# A section of the RBA Code: a part letter (A labour, B health and safety, C environment,
# D ethics, E management systems) and a number.
SECTION_PATTERN = re.compile(r"^[A-E][1-9][0-9]?$")
REQUIRED = ("site", "audit_date", "audit_firm", "code_section", "finding", "severity", "status")
FINDING_COLUMNS = ("code_section", "finding", "severity", "status")


@dataclass
class ParsedFinding:
    section: str
    severity: Severity
    status: AuditFindingStatus
    text: str


@dataclass
class ParsedAudit:
    line: int
    site_id: int
    audit_date: date
    firm: str
    findings: list[ParsedFinding] = field(default_factory=list)


class _Reader:
    def __init__(self, errors: ErrorLog, today: date) -> None:
        self.errors, self.today = errors, today
        self.sites: dict[str, int | None] = {}
        self.audits: dict[tuple[int, date, str], ParsedAudit] = {}

    def site(self, row: RowReader) -> int | None:
        value = row.text("site", required=True).upper()
        if not value:
            return None
        if value not in self.sites:
            self.sites[value] = self._find_site(row, value)
            return self.sites[value]
        if self.sites[value] is None:
            row.fail("site", _l("%(value)s is not a site in the registry.", value=value[:40]))
        return self.sites[value]

    @staticmethod
    def _find_site(row: RowReader, value: str) -> int | None:
        if value.isdigit():
            site = db.session.get(Site, int(value)) if len(value) < 10 else None
        elif OS_ID_PATTERN.match(value):
            site = db.session.scalar(select(Site).where(Site.os_id == value))
        else:
            row.fail(
                "site",
                _l("%(value)s is neither a site number nor an Open Supply Hub id.", value=value[:40]),
            )
            return None
        if site is None:
            row.fail("site", _l("%(value)s is not a site in the registry.", value=value[:40]))
            return None
        if site.merged_into_id is not None:
            row.fail(
                "site",
                _l(
                    "Site %(value)s was merged into site %(target)d: use that one.",
                    value=value[:40],
                    target=site.merged_into_id,
                ),
            )
            return None
        return site.id

    def finding(self, row: RowReader) -> ParsedFinding | None:
        if not any(row.text(column) for column in FINDING_COLUMNS):
            return None
        section = row.text("code_section", required=True).upper().replace(" ", "").replace(".", "")
        if section and not SECTION_PATTERN.match(section):
            row.fail(
                "code_section",
                _l("%(value)s is not a section of the RBA Code, such as A3 or B10.", value=section[:20]),
            )
        text = row.text("finding", required=True, max_length=TEXT_MAX)
        severity = row.choice("severity", Severity, required=True)
        status = row.choice("status", AuditFindingStatus, required=True)
        if not row.ok:
            return None
        return ParsedFinding(section, severity, status, text)

    def read(self, line: int, row: RowReader) -> None:
        site_id = self.site(row)
        audit_date = row.day("audit_date", required=True)
        if audit_date is not None and audit_date > self.today:
            row.fail("audit_date", _l("The date cannot be in the future."))
        firm = row.text("audit_firm", required=True, max_length=FIRM_MAX)
        finding = self.finding(row)
        if not row.ok or site_id is None or audit_date is None:
            return
        key = (site_id, audit_date, firm.casefold())
        audit = self.audits.get(key)
        if audit is None:
            if existing_audit(site_id, audit_date, firm):
                row.fail(
                    "audit_firm",
                    _l("This audit (the same site, date and firm) was imported before."),
                )
                return
            audit = self.audits[key] = ParsedAudit(line, site_id, audit_date, firm)
        if finding is not None:
            audit.findings.append(finding)


def read_audits(stream: IO[bytes], today: date) -> list[ParsedAudit]:
    """The audits of the file, or :class:`ImportRefused` with every problem by line and column."""
    errors = ErrorLog()
    source = CsvFile(stream, errors, Progress())
    records = source.records()
    header = read_header(records, errors, REQUIRED)
    if header is None:
        raise errors.refuse()
    reader = _Reader(errors, today)
    rows = 0
    for line, record in records:
        rows += 1
        if rows > MAX_ROWS:
            errors.add(
                line,
                None,
                _l("The file has more than %(num)d rows: split it into smaller files.", num=MAX_ROWS),
            )
            break
        if len(record) > header.width:
            errors.add(
                line,
                None,
                _l(
                    "Line %(line)d has %(found)d values but the header has %(expected)d columns.",
                    line=line,
                    found=len(record),
                    expected=header.width,
                ),
            )
            continue
        reader.read(line, RowReader(header, line, record, errors))
    if not errors.total and not reader.audits:
        errors.add(1, None, _l("The file has no audit rows."))
    if errors.total:
        raise errors.refuse()
    return list(reader.audits.values())
