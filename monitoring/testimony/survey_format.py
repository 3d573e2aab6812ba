"""The layout of a KoboToolbox survey export: its questions, limits and what a row becomes.

See :mod:`.survey` for the file format and how an import works.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from monitoring.supplychain.models import Site
from monitoring.testimony import sealing
from monitoring.testimony.models import (
    IssueCategory,
    RetaliationRisk,
)
from monitoring.testimony.models_outcomes import ValidationAnswer, ValidationQuestion
from monitoring.testimony.permissions import visible_survey_imports as visible_survey_imports

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
# Optional answers to validation questions: ``validation_<question>`` (e.g. validation_fee_repaid)
# holding yes, no or partly; empty: not asked.
VALIDATION_PREFIX = "validation_"
VALIDATION_ANSWERS = {a.value: a for a in ValidationAnswer}
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
        "validation_<question>",
        _l(
            "Optional answers to a validation question: yes, no or partly (empty: not asked). "
            "<question> is one of: %(questions)s. They count for the cases at the workplace.",
            questions=", ".join(q.value for q in ValidationQuestion),
        ),
    ),
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
    # The message untranslated (a lazy string), for a job that shows it in its reader's language.
    source: Any = field(default=None, compare=False, repr=False)


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
    # Answers to validation questions (``validation_<question>`` columns).
    validations: dict[ValidationQuestion, ValidationAnswer] = field(default_factory=dict)
    # The most similar site of the country when ``site_name`` matched none exactly, for review.
    proposed_site: Site | None = None

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
    validations: dict[ValidationQuestion, int] = field(default_factory=dict)  # validation_<question>
