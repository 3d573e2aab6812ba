"""Reading a KoboToolbox survey export: every row checked, every problem with its line.

See :mod:`.survey` for the file format and how an import works.
"""

from __future__ import annotations

import collections
import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.supplychain.matching import is_country_code, site_keys
from monitoring.supplychain.models import Site
from monitoring.testimony import sealing
from monitoring.testimony.models import (
    IssueCategory,
    RetaliationRisk,
)
from monitoring.testimony.models_outcomes import ValidationAnswer, ValidationQuestion
from monitoring.testimony.operations import WORKER_LANGUAGES, AgeBand, Gender
from monitoring.testimony.permissions import visible_survey_imports as visible_survey_imports
from monitoring.testimony.survey_format import (
    CONSENT_COLUMNS,
    DATE_COLUMNS,
    DELIMITERS,
    FIELD_MAX,
    IDENTITY_COLUMNS,
    ISO_DATE,
    ISSUES,
    MAX_ERRORS,
    NO,
    QUESTIONS,
    REQUIRED,
    SUBMISSION_COLUMN,
    TEXT_MAX,
    VALIDATION_ANSWERS,
    VALIDATION_PREFIX,
    YES,
    SurveyError,
    SurveyRefused,
    SurveyRow,
    _Header,
)
from monitoring.testimony.survey_matching import SiteProposer

logger = logging.getLogger(__name__)


# --- reading the file ----------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.errors: list[SurveyError] = []
        self.more = 0

    def add(self, line: int | None, column: str, message: Any) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(SurveyError(line, column, str(message), message))
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


def _read_header(
    values: list[str], problems: _Problems, mapping: dict[str, str | None] | None = None
) -> _Header:
    """The questions of the header row, by name; with a ``mapping`` (question -> the file's
    column, confirmed by the user) the questions it names are taken from those columns only."""
    header = _Header()
    by_column = {column: question for question, column in (mapping or {}).items() if column}
    for index, raw in enumerate(values):
        name = raw.strip()
        parts = [p for p in name.split("/") if p]
        if not parts:
            continue
        if name in by_column:
            _mapped_column(header, problems, name, by_column[name], index)
            continue
        if mapping is not None and parts[-1] in mapping:
            continue  # the user chose another column (or none) for this question
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
        if question.startswith(VALIDATION_PREFIX):
            _validation_column(header, problems, name, question, index)
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


def _mapped_column(header: _Header, problems: _Problems, name: str, question: str, index: int) -> None:
    if question == SUBMISSION_COLUMN:
        header.submission = index
    elif question in header.columns:
        problems.add(1, name, _l("The question “%(name)s” appears twice.", name=question))
    else:
        header.columns[question] = index


def header_columns(head: bytes) -> list[str]:
    """The column names of the header row at the start of a file (its first bytes suffice);
    raise :class:`SurveyRefused` if there is none."""
    first_line = head.split(b"\n", 1)[0]
    text = _decode(first_line if b"\n" in head else head)
    problems = _Problems()
    first = next(_records(text, _delimiter(text), problems), None)
    if first is None:
        problems.add(1, "", _l("The file is empty."))
    problems.raise_if_any()
    assert first is not None
    return [value.strip() for value in first[1]]


def _validation_column(header: _Header, problems: _Problems, name: str, question: str, index: int) -> None:
    """A ``validation_<question>`` column: answers to one validation question."""
    try:
        asked = ValidationQuestion(question.removeprefix(VALIDATION_PREFIX))
    except ValueError:
        problems.add(
            1,
            name,
            _l(
                "“%(name)s” is not a validation question this system knows: %(questions)s.",
                name=question,
                questions=", ".join(VALIDATION_PREFIX + q.value for q in ValidationQuestion),
            ),
        )
        return
    if asked in header.validations:
        problems.add(1, name, _l("The question “%(name)s” appears twice.", name=question))
        return
    header.validations[asked] = index


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
        self.proposer = SiteProposer()

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

    def _validations(self, line: int, values: list[str]) -> dict[ValidationQuestion, ValidationAnswer]:
        answers = {}
        for question, index in self.header.validations.items():
            raw = values[index].strip().lower() if index < len(values) else ""
            if not raw:
                continue
            answer = VALIDATION_ANSWERS.get(raw)
            if answer is None:
                self.problems.add(
                    line,
                    VALIDATION_PREFIX + question.value,
                    _l("“%(value)s” is not yes, no or partly.", value=raw),
                )
                continue
            answers[question] = answer
        return answers

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
        proposed = (
            self.proposer.propose(workplace, country) if site is None and country and workplace else None
        )
        collected = self._date(line, values)
        consents = [self._yes_no(line, values, question) for question in CONSENT_COLUMNS]
        submission = self._submission(line, values)
        validations = self._validations(line, values)
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
            validations=validations,
            proposed_site=proposed,
        )


def default_language_of(code: str) -> str:
    """The language code as stored; raise :class:`SurveyRefused` if it is not one of the list."""
    language = worker_language(code)
    if language is None:
        raise SurveyRefused([SurveyError(None, "language", str(_l("Choose a language from the list.")))])
    return language


@dataclass
class HeaderCheck:
    """What the first line of a file says: its separator and the questions found."""

    delimiter: str
    width: int
    header: _Header


def check_header(head: bytes) -> HeaderCheck:
    """Check the header row at the start of a file (its first bytes suffice); raise
    :class:`SurveyRefused` listing its problems. No answer is read."""
    first_line = head.split(b"\n", 1)[0]
    text = _decode(first_line if b"\n" in head else head)
    problems = _Problems()
    records = _records(text, _delimiter(text), problems)
    first = next(records, None)
    if first is None:
        problems.add(1, "", _l("The file is empty."))
    problems.raise_if_any()
    assert first is not None
    header = _read_header(first[1], problems)
    problems.raise_if_any()
    return HeaderCheck(_delimiter(text), len(first[1]), header)


class SurveyCheck:
    """A file checked row by row, in batches: :meth:`check` yields after each batch; the rows
    are in ``rows`` and the problems, if any, raised as :class:`SurveyRefused` at the end."""

    def __init__(
        self,
        data: bytes,
        *,
        site: Site | None = None,
        default_language: str = "en",
        mapping: dict[str, str | None] | None = None,
    ) -> None:
        self.site = _surviving(site) if site is not None else None
        self.default_language = default_language_of(default_language)
        text = _decode(data)
        self.problems = _Problems()
        records = _records(text, _delimiter(text), self.problems)
        first = next(records, None)
        if first is None:
            self.problems.add(1, "", _l("The file is empty."))
            self.problems.raise_if_any()
        assert first is not None
        self.width = len(first[1])
        self.header = _read_header(first[1], self.problems, mapping)
        self.problems.raise_if_any()
        self.body = list(records)
        limit = int(current_app.config["SURVEY_MAX_ROWS"])
        if len(self.body) > limit:
            self.problems.add(
                None,
                "",
                _l(
                    "The file has %(rows)s rows; at most %(max)s are imported at once.",
                    rows=len(self.body),
                    max=limit,
                ),
            )
            self.problems.raise_if_any()
        self.rows: list[SurveyRow] = []
        self.checked = 0

    @property
    def total(self) -> int:
        return len(self.body)

    @property
    def problem_count(self) -> int:
        return len(self.problems.errors) + self.problems.more

    def check(self, batch: int) -> Iterator[list[SurveyRow]]:
        """Check ``batch`` rows at a time, yielding the good rows of each batch; then raise
        :class:`SurveyRefused` if any row had a problem."""
        header = self.header
        os_ids = {
            values[header.columns["site_os_id"]].strip().upper()
            for _line, values in self.body
            if "site_os_id" in header.columns and header.columns["site_os_id"] < len(values)
        }
        reader = _RowReader(
            header,
            self.problems,
            site=self.site,
            default_language=self.default_language,
            sites=_sites_by_os_id(os_ids - {""}),
        )
        for start in range(0, len(self.body), max(batch, 1)):
            part = self.body[start : start + max(batch, 1)]
            read = (reader.read(line, values, self.width) for line, values in part)
            rows = [row for row in read if row is not None]
            self.rows.extend(rows)
            self.checked += len(part)
            yield rows
        if not self.body:
            self.problems.add(None, "", _l("The file has a header but no answers."))
        self.problems.raise_if_any()


def parse_survey(data: bytes, *, site: Site | None = None, default_language: str = "en") -> list[SurveyRow]:
    """Check the whole file and return its rows; raise :class:`SurveyRefused` listing every problem."""
    checked = SurveyCheck(data, site=site, default_language=default_language)
    collections.deque(checked.check(checked.total), maxlen=0)  # run every batch of the check
    return checked.rows
