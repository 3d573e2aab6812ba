"""Survey import: a KoboToolbox CSV export becomes many sealed reports, in one transaction.

The file
--------
Export the form's data from KoboToolbox as **CSV** with **"XML values and headers"** (question
names as column headers and choice names as values); group names in the headers and either
layout of "select many" questions are fine. The file is UTF-8; the separator (``;`` as Kobo
proposes, ``,`` or a tab) is recognised from the header row. One row is one worker's answers.

Kobo's own columns are used where they help and otherwise ignored: ``start``, ``end``,
``today``, ``_id``, ``_uuid``, ``_submission_time``, ``_index``, ``_validation_status``... A
column header may carry group names (``interview/testimony``); only the question name (the
part after the last ``/``) counts.

Question names (the ``name`` column of the XLSForm) the import understands:

===========================  ==========================================================
``testimony``                **required column**: what the worker said (free text)
``issues``                   select_multiple over the choice names of :class:`IssueCategory`
                             (``wages``, ``working_hours``, ``recruitment_fees`` ...): one
                             column of space-separated names, and/or one ``issues/<choice>``
                             column per choice holding 1 or 0
``site_os_id``               the workplace's Open Supply Hub id (must be in the registry)
``site_name``                the workplace's name; with ``country`` it is matched against
                             the registry, else kept (sealed) as the worker's description
``country``                  ISO 3166 two-letter code of the workplace's country
``collected_date``           the interview date (YYYY-MM-DD); else ``today``, else the date
                             of ``start``, else of ``_submission_time``
``language``                 language of the interview (``th``, ``my``, ``zh_Hans`` ..., one
                             of ``WORKER_LANGUAGES``); else the import's default language
``consent_share_buyers``     yes/no: may be shared anonymised with buyers
``consent_share_supplier``   yes/no: may be shared anonymised with the supplier
``consent_contact``          yes/no: the worker may be contacted
``retaliation_risk``         low / medium / high
``worker_name``,             optional identity, sealed with the testimony
``worker_contact``,
``employee_number``,
``employer``,
``nationality``, ``gender``,  (``gender``: woman, man, other, undisclosed; ``age_band``:
``age_band``                 under_16, 16_17, 18_24, 25_34, 35_44, 45_54, 55_plus)
===========================  ==========================================================

Every row needs a workplace: its ``site_os_id``, its ``site_name`` and ``country``, or the
site chosen for the whole import. yes/no answers accept ``yes``/``no``, ``1``/``0`` and
``true``/``false``; empty means no.

A file with any problem (not UTF-8, a missing column, a bad value, too many rows) is refused
whole, each problem named with its line number; nothing is stored. Otherwise every row becomes
a report of channel ``survey`` sealed to the importing monitor's organisation, together with one
:class:`SurveyImport` row, in the caller's single transaction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, select

from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.supplychain.matching import is_country_code, site_keys
from monitoring.supplychain.models import Site
from monitoring.testimony import sealing
from monitoring.testimony.models import (
    IssueCategory,
    ReportChannel,
    RetaliationRisk,
    SurveyImport,
    WorkerReport,
)
from monitoring.testimony.operations import WORKER_LANGUAGES, AgeBand, Gender

logger = logging.getLogger(__name__)

ISSUES = "issues"
DATE_COLUMNS = ("collected_date", "today", "start", "_submission_time")
# Kobo's id of a submission: an answer exported again in a later file is recognised by it.
SUBMISSION_COLUMN = "_uuid"
IDENTITY_COLUMNS = {
    "worker_name": "name",
    "worker_contact": "contact",
    "employee_number": "employee_number",
    "employer": "employer",
    "nationality": "nationality",
    "gender": "gender",
    "age_band": "age_band",
}
CONSENT_COLUMNS = ("consent_share_buyers", "consent_share_supplier", "consent_contact")
QUESTIONS = frozenset(
    {
        "testimony",
        ISSUES,
        "site_os_id",
        "site_name",
        "country",
        "language",
        "retaliation_risk",
        *DATE_COLUMNS,
        *CONSENT_COLUMNS,
        *IDENTITY_COLUMNS,
    }
)
REQUIRED = ("testimony",)
DELIMITERS = (";", ",", "\t")
YES = frozenset({"yes", "y", "1", "true"})
NO = frozenset({"no", "n", "0", "false", ""})
ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ].*)?$")
TEXT_MAX = 20000
FIELD_MAX = 300
MAX_ERRORS = 200

# What the upload page says about each question name (the module docstring says the same).
QUESTION_HELP: list[tuple[str, Any]] = [
    ("testimony", _l("Required column. What the worker said, as free text.")),
    (
        "issues",
        _l(
            "Select many, with the choice names below: one column of names separated by spaces, "
            "or one column issues/<choice> per choice holding 1 or 0."
        ),
    ),
    ("site_os_id", _l("The workplace's Open Supply Hub id; it must be in the registry.")),
    (
        "site_name",
        _l(
            "The workplace's name. With country it is matched against the registry; "
            "otherwise it is kept, sealed, as the worker's description."
        ),
    ),
    ("country", _l("Two-letter ISO code of the workplace's country, e.g. TH, MY, CN.")),
    (
        "collected_date",
        _l("Date of the interview (YYYY-MM-DD). Without it: today, else start, else _submission_time."),
    ),
    ("language", _l("Language of the interview (th, my, zh_Hans...). Without it: the language chosen here.")),
    ("consent_share_buyers", _l("yes or no: the report may be shared, anonymised, with buyers.")),
    ("consent_share_supplier", _l("yes or no: the report may be shared, anonymised, with the supplier.")),
    ("consent_contact", _l("yes or no: the worker may be contacted.")),
    ("retaliation_risk", _l("low, medium or high.")),
    (
        "worker_name, worker_contact, employee_number, employer, nationality, gender, age_band",
        _l(
            "Optional identity of the worker, sealed with the testimony. gender: woman, man, other or "
            "undisclosed; age_band: under_16, 16_17, 18_24, 25_34, 35_44, 45_54 or 55_plus."
        ),
    ),
]


@dataclass(frozen=True)
class SurveyError:
    """One problem of a refused file; ``line`` is the line in the file (1 is the header)."""

    line: int | None
    column: str
    message: str


class SurveyRefused(Exception):
    """The file was refused whole; ``errors`` lists every problem found (up to MAX_ERRORS)."""

    def __init__(self, errors: list[SurveyError], more: int = 0) -> None:
        super().__init__(f"survey refused: {len(errors) + more} problem(s)")
        self.errors = errors
        self.more = more


@dataclass
class SurveyRow:
    line: int
    site: Site | None
    country: str | None
    workplace: str
    collected_date: date
    language: str
    testimony: str
    categories: list[IssueCategory]
    consent_share_buyers: bool
    consent_share_supplier: bool
    consent_contact: bool
    retaliation_risk: RetaliationRisk | None
    identity: sealing.Identity | None
    # KoboToolbox's id of the submission (``_uuid``), when the export has it.
    submission: str | None = None

    @property
    def source_digest(self) -> str | None:
        """What a report stores to recognise the submission (a digest, not Kobo's id itself)."""
        if not self.submission:
            return None
        return hashlib.sha256(f"kobotoolbox:{self.submission}".encode()).hexdigest()


@dataclass
class _Header:
    columns: dict[str, int] = field(default_factory=dict)  # question name -> index
    choices: dict[IssueCategory, int] = field(default_factory=dict)  # issues/<choice> -> index
    submission: int | None = None  # Kobo's _uuid column


# --- permissions ---------------------------------------------------------------------------


def can_import_survey(user: User, organisation: Organisation) -> bool:
    """Monitors import surveys for their own organisation only."""
    return bool(user.is_active and user.role is UserRole.monitor and user.organisation_id == organisation.id)


def visible_survey_imports(user: User) -> Any:
    """The survey imports a user may see: those of their own monitor organisation."""
    query = select(SurveyImport)
    if user.role is not UserRole.monitor:
        return query.where(false())
    return query.where(SurveyImport.organisation_id == user.organisation_id)


# --- reading the file ----------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.errors: list[SurveyError] = []
        self.more = 0

    def add(self, line: int | None, column: str, message: Any) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(SurveyError(line, column, str(message)))
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        if self.errors:
            raise SurveyRefused(self.errors, self.more)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SurveyRefused(
            [
                SurveyError(
                    line,
                    "",
                    str(
                        _l(
                            "The file is not UTF-8 text. Export it again from KoboToolbox as CSV "
                            "(KoboToolbox writes UTF-8)."
                        )
                    ),
                )
            ]
        ) from None


def _delimiter(text: str) -> str:
    """The separator that splits the header row into the most columns."""
    first = text.split("\n", 1)[0]
    return max(DELIMITERS, key=lambda d: len(next(csv.reader([first], delimiter=d), [])))


def _records(text: str, delimiter: str, problems: _Problems) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line of the record, values); a broken quote stops with an error."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            logger.info("survey file is not valid CSV at line %s: %s", reader.line_num, exc)
            problems.add(
                reader.line_num, "", _l("The file is not valid CSV from here on (is a quote not closed?).")
            )
            return
        if values and any(v.strip() for v in values):
            yield line, values
        line = reader.line_num + 1


def _read_header(values: list[str], problems: _Problems) -> _Header:
    header = _Header()
    for index, raw in enumerate(values):
        name = raw.strip()
        parts = [p for p in name.split("/") if p]
        if not parts:
            continue
        if len(parts) >= 2 and parts[-2] == ISSUES:
            try:
                category = IssueCategory(parts[-1])
            except ValueError:
                problems.add(
                    1, name, _l("“%(choice)s” is not an issue category this system knows.", choice=parts[-1])
                )
                continue
            header.choices[category] = index
            continue
        question = parts[-1]
        if question == SUBMISSION_COLUMN:
            header.submission = index
            continue
        if question not in QUESTIONS:
            continue  # Kobo's metadata and questions the import does not use
        if question in header.columns:
            problems.add(1, name, _l("The question “%(name)s” appears twice.", name=question))
            continue
        header.columns[question] = index
    for question in REQUIRED:
        if question not in header.columns:
            problems.add(
                1,
                question,
                _l(
                    "The column “%(name)s” is missing. Export with “XML values and headers” and "
                    "check the question names.",
                    name=question,
                ),
            )
    if not any(c in header.columns for c in DATE_COLUMNS):
        problems.add(
            1,
            "today",
            _l("No date column: the file needs one of %(names)s.", names=", ".join(DATE_COLUMNS)),
        )
    return header


def worker_language(code: str) -> str | None:
    """The language code as the reports store it (``zh-hans`` -> ``zh_Hans``), or None if unknown."""
    wanted = code.strip().replace("-", "_").lower()
    return next((known for known in WORKER_LANGUAGES if known.lower() == wanted), None)


def _sites_by_os_id(os_ids: set[str]) -> dict[str, Site]:
    if not os_ids:
        return {}
    sites = db.session.scalars(select(Site).where(Site.os_id.in_(sorted(os_ids))))
    return {site.os_id: site for site in sites if site.os_id}


def _site_by_name(name: str, country: str) -> Site | None:
    key = site_keys(name, "", country).name_key
    found = list(
        db.session.scalars(select(Site).where(Site.name_key == key, Site.merged_into_id.is_(None)).limit(2))
    )
    return found[0] if len(found) == 1 else None


def _surviving(site: Site) -> Site:
    for _hop in range(10):
        if site.merged_into is None:
            break
        site = site.merged_into
    return site


class _RowReader:
    """Turn one record into a :class:`SurveyRow`, or add its problems."""

    def __init__(
        self,
        header: _Header,
        problems: _Problems,
        *,
        site: Site | None,
        default_language: str,
        sites: dict[str, Site],
    ) -> None:
        self.header = header
        self.problems = problems
        self.site = site
        self.default_language = default_language
        self.sites = sites
        self.latest = utcnow().date() + timedelta(days=1)
        self.submissions: dict[str, int] = {}  # _uuid -> the line it was first seen on

    def _submission(self, line: int, values: list[str]) -> str | None:
        index = self.header.submission
        submission = values[index].strip() if index is not None and index < len(values) else ""
        if not submission:
            return None
        first = self.submissions.setdefault(submission, line)
        if first != line:
            self.problems.add(
                line,
                SUBMISSION_COLUMN,
                _l("This answer (_uuid %(uuid)s) is also on line %(line)s.", uuid=submission, line=first),
            )
        return submission

    def value(self, values: list[str], question: str) -> str:
        index = self.header.columns.get(question)
        return values[index].strip() if index is not None and index < len(values) else ""

    def _yes_no(self, line: int, values: list[str], question: str) -> bool:
        raw = self.value(values, question).lower()
        if raw in YES:
            return True
        if raw not in NO:
            self.problems.add(line, question, _l("“%(value)s” is not yes or no.", value=raw))
        return False

    def _date(self, line: int, values: list[str]) -> date | None:
        for question in DATE_COLUMNS:
            raw = self.value(values, question)
            if not raw:
                continue
            match = ISO_DATE.match(raw)
            try:
                value = date.fromisoformat(match.group(1)) if match else None
            except ValueError:
                value = None
            if value is None:
                self.problems.add(line, question, _l("“%(value)s” is not a date (YYYY-MM-DD).", value=raw))
                return None
            if value > self.latest:
                self.problems.add(line, question, _l("The date %(date)s is in the future.", date=raw))
                return None
            return value
        self.problems.add(line, "today", _l("This row has no date."))
        return None

    def _categories(self, line: int, values: list[str]) -> list[IssueCategory]:
        categories: list[IssueCategory] = []
        summary = self.value(values, ISSUES)
        if ISSUES in self.header.columns:
            for name in summary.split():
                try:
                    categories.append(IssueCategory(name))
                except ValueError:
                    self.problems.add(
                        line,
                        ISSUES,
                        _l("“%(choice)s” is not an issue category this system knows.", choice=name),
                    )
            return categories
        for category, index in self.header.choices.items():
            raw = values[index].strip().lower() if index < len(values) else ""
            if raw in YES:
                categories.append(category)
            elif raw not in NO:
                self.problems.add(
                    line, f"{ISSUES}/{category.value}", _l("“%(value)s” is not 1 or 0.", value=raw)
                )
        return categories

    def _text(self, line: int, values: list[str], question: str, limit: int) -> str:
        text = self.value(values, question)
        if len(text) > limit:
            self.problems.add(line, question, _l("At most %(num)s characters.", num=limit))
        return text

    def _workplace(self, line: int, values: list[str]) -> tuple[Site | None, str | None, str]:
        os_id = self.value(values, "site_os_id").upper()
        name = self._text(line, values, "site_name", FIELD_MAX)
        country = self.value(values, "country").upper()
        if country and not is_country_code(country):
            self.problems.add(
                line, "country", _l("“%(value)s” is not a two-letter country code.", value=country)
            )
            country = ""
        if os_id:
            site = self.sites.get(os_id)
            if site is None:
                self.problems.add(
                    line, "site_os_id", _l("No workplace with the Open Supply Hub id %(id)s.", id=os_id)
                )
                return None, None, ""
            return _surviving(site), None, ""
        if name and country:
            site = _site_by_name(name, country)
            return (site, None, "") if site is not None else (None, country, name)
        if self.site is not None:
            return self.site, None, ""
        if name:
            self.problems.add(line, "country", _l("Give the country of the workplace “%(name)s”.", name=name))
        else:
            self.problems.add(
                line,
                "site_os_id",
                _l("No workplace: give site_os_id, site_name and country, or a site for the import."),
            )
        return None, None, ""

    def read(self, line: int, values: list[str], width: int) -> SurveyRow | None:
        before = len(self.problems.errors) + self.problems.more
        if len(values) != width:
            self.problems.add(
                line,
                "",
                _l(
                    "This row has %(found)s values; the header has %(expected)s.",
                    found=len(values),
                    expected=width,
                ),
            )
            return None
        testimony = self._text(line, values, "testimony", TEXT_MAX)
        categories = self._categories(line, values)
        if not testimony and not categories:
            self.problems.add(line, "testimony", _l("No testimony and no issue: this row says nothing."))
        raw_language = self.value(values, "language")
        language = worker_language(raw_language) if raw_language else self.default_language
        if language is None:
            self.problems.add(
                line,
                "language",
                _l(
                    "“%(value)s” is not one of the language codes: %(codes)s.",
                    value=raw_language,
                    codes=", ".join(WORKER_LANGUAGES),
                ),
            )
        for question, enum_class in (("gender", Gender), ("age_band", AgeBand)):
            raw = self.value(values, question)
            if raw and raw not in {member.value for member in enum_class}:
                self.problems.add(
                    line,
                    question,
                    _l(
                        "“%(value)s” is not one of: %(choices)s.",
                        value=raw,
                        choices=", ".join(member.value for member in enum_class),
                    ),
                )
        risk_raw = self.value(values, "retaliation_risk").lower()
        risk = None
        if risk_raw:
            try:
                risk = RetaliationRisk(risk_raw)
            except ValueError:
                self.problems.add(
                    line, "retaliation_risk", _l("“%(value)s” is not low, medium or high.", value=risk_raw)
                )
        identity = sealing.Identity(
            **{
                attribute: self._text(line, values, question, FIELD_MAX)
                for question, attribute in IDENTITY_COLUMNS.items()
            }
        )
        site, country, workplace = self._workplace(line, values)
        collected = self._date(line, values)
        consents = [self._yes_no(line, values, question) for question in CONSENT_COLUMNS]
        submission = self._submission(line, values)
        if len(self.problems.errors) + self.problems.more > before or collected is None or language is None:
            return None
        return SurveyRow(
            line=line,
            site=site,
            country=country,
            workplace=workplace,
            collected_date=collected,
            language=language,
            testimony=testimony,
            categories=categories,
            consent_share_buyers=consents[0],
            consent_share_supplier=consents[1],
            consent_contact=consents[2],
            retaliation_risk=risk,
            identity=None if identity.is_empty() else identity,
            submission=submission,
        )


def parse_survey(data: bytes, *, site: Site | None = None, default_language: str = "en") -> list[SurveyRow]:
    """Check the whole file and return its rows; raise :class:`SurveyRefused` listing every problem."""
    if site is not None:
        site = _surviving(site)
    if worker_language(default_language) is None:
        raise SurveyRefused([SurveyError(None, "language", str(_l("Choose a language from the list.")))])
    default_language = worker_language(default_language) or "en"
    text = _decode(data)
    problems = _Problems()
    records = _records(text, _delimiter(text), problems)
    first = next(records, None)
    if first is None:
        problems.add(1, "", _l("The file is empty."))
        problems.raise_if_any()
    assert first is not None
    header = _read_header(first[1], problems)
    problems.raise_if_any()
    body = list(records)
    limit = int(current_app.config["SURVEY_MAX_ROWS"])
    if len(body) > limit:
        problems.add(
            None,
            "",
            _l(
                "The file has %(rows)s rows; at most %(max)s are imported at once.", rows=len(body), max=limit
            ),
        )
        problems.raise_if_any()
    os_ids = {
        values[header.columns["site_os_id"]].strip().upper()
        for _line, values in body
        if "site_os_id" in header.columns and header.columns["site_os_id"] < len(values)
    }
    reader = _RowReader(
        header, problems, site=site, default_language=default_language, sites=_sites_by_os_id(os_ids - {""})
    )
    rows = [row for line, values in body if (row := reader.read(line, values, len(first[1]))) is not None]
    if not body:
        problems.add(None, "", _l("The file has a header but no answers."))
    problems.raise_if_any()
    return rows


# --- importing ---------------------------------------------------------------------------------


def check_can_import(actor: User, organisation: Organisation) -> None:
    """Refuse an import by someone else than a monitor of the organisation, or without a key."""
    if not can_import_survey(actor, organisation):
        raise OperationError(_l("Only monitors of this organisation can import its surveys."))
    from monitoring.accounts import keys

    if keys.current_organisation_key(organisation) is None:
        raise OperationError(
            _l(
                "%(organisation)s cannot receive sealed reports yet: it has no key.",
                organisation=organisation.name,
            )
        )


def import_rows(
    actor: User,
    organisation: Organisation,
    rows: list[SurveyRow],
    *,
    site: Site | None = None,
    progress: Callable[[int], Any] | None = None,
) -> SurveyImport:
    """Seal checked rows as reports of one new :class:`SurveyImport`; flush and audit, never commit.

    Answers an earlier import of the organisation holds already (the same KoboToolbox ``_uuid``)
    are skipped, so a growing survey can be exported and imported again and again.
    """
    check_can_import(actor, organisation)
    if site is not None:
        site = _surviving(site)
    known = _imported_before(organisation, [d for row in rows if (d := row.source_digest)])
    new_rows = [row for row in rows if row.source_digest not in known]
    if rows and not new_rows:
        raise OperationError(_l("Every answer in this file was imported before: there is nothing new."))
    survey = SurveyImport(
        organisation_id=organisation.id,
        imported_by_id=actor.id,
        site_id=site.id if site is not None else None,
        rows=len(new_rows),
        skipped=len(rows) - len(new_rows),
    )
    db.session.add(survey)
    db.session.flush()
    for row in new_rows:
        sealing.create_report(
            organisation=organisation,
            site=row.site,
            country=row.country,
            channel=ReportChannel.survey,
            collected_date=row.collected_date,
            language=row.language,
            consent_share_buyers=row.consent_share_buyers,
            consent_share_supplier=row.consent_share_supplier,
            consent_contact=row.consent_contact,
            retaliation_risk=row.retaliation_risk,
            identity=row.identity,
            testimony=sealing.Testimony(text=row.testimony, categories=row.categories),
            workplace=row.workplace,
            created_by=actor,
            survey_import=survey,
            source_digest=row.source_digest,
        )
        if progress is not None:
            progress(1)
    audit.record(
        "survey.import",
        f"Imported {survey.rows} survey reports for {organisation.name} ({survey.skipped} imported before)",
        actor=actor,
        obj=survey,
        data={
            "rows": survey.rows,
            "skipped": survey.skipped,
            "site_id": survey.site_id,
            "organisation_id": organisation.id,
        },
    )
    logger.info("survey import %s: %d reports for organisation %s", survey.id, survey.rows, organisation.id)
    return survey


def _imported_before(organisation: Organisation, digests: list[str]) -> set[str]:
    """The digests among ``digests`` that reports of the organisation hold already."""
    found: set[str] = set()
    for start in range(0, len(digests), 500):
        found.update(
            db.session.scalars(
                select(WorkerReport.source_digest).where(
                    WorkerReport.organisation_id == organisation.id,
                    WorkerReport.source_digest.in_(digests[start : start + 500]),
                )
            )
        )
    return found


def import_survey(
    actor: User,
    organisation: Organisation,
    data: bytes,
    *,
    site: Site | None = None,
    default_language: str = "en",
) -> SurveyImport:
    """Check a file and seal every row as a report; flush and audit, never commit.

    Raises :class:`SurveyRefused` for a bad file and ``OperationError`` when the actor may not
    import for the organisation or it cannot receive sealed reports (no key).
    """
    check_can_import(actor, organisation)
    rows = parse_survey(data, site=site, default_language=default_language)
    return import_rows(actor, organisation, rows, site=site)


def report_count(survey: SurveyImport) -> int:
    """How many reports of the import exist."""
    return int(
        db.session.scalar(
            select(func.count(WorkerReport.id)).where(WorkerReport.survey_import_id == survey.id)
        )
        or 0
    )


def find_site(text: str) -> Site | None:
    """A site by its Open Supply Hub id or its number, for choosing the site of an import."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit():
        site = db.session.get(Site, int(text))
    else:
        site = db.session.scalar(select(Site).where(Site.os_id == text.upper()))
    return _surviving(site) if site is not None else None
