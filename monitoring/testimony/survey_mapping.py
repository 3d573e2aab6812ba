"""The column-mapping step of a survey upload: the file's columns against the survey's questions.

A KoboToolbox export whose columns are all the question names the import reads (group paths
allowed: ``interview/testimony`` counts as ``testimony``), or Kobo's own bookkeeping columns, is
queued at once. Otherwise (a question renamed in the form, a column nobody reads, the testimony
missing) the upload is held (:class:`~monitoring.core.jobs.JobState.waiting`) and the monitor
confirms on a page which column holds each question: proposed by name, synonym, or a mapping the
organisation saved for an earlier export of the same form. Columns no question takes are listed
before anything is imported. Only the header row is read for this: no answer is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from monitoring.accounts.models import User
from monitoring.core import audit, column_mapping, jobs
from monitoring.core.column_mapping import TargetField, normalise
from monitoring.core.operations import OperationError
from monitoring.testimony import survey
from monitoring.testimony.survey_format import (
    DATE_COLUMNS,
    ISSUES,
    QUESTIONS,
    REQUIRED,
    SUBMISSION_COLUMN,
    VALIDATION_PREFIX,
)

MAPPING_KIND = "survey"

# Synonyms seen in real forms for the questions the import reads.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "testimony": ("story", "statement", "what_happened", "complaint", "grievance", "description"),
    ISSUES: ("issue", "problems", "issue_categories"),
    "site_os_id": ("os_id", "osh_id", "open_supply_id"),
    "site_name": ("factory", "factory_name", "workplace", "workplace_name", "facility_name"),
    "country": ("country_code", "workplace_country"),
    "collected_date": ("interview_date", "date_of_interview", "date"),
    "language": ("lang", "interview_language"),
    "consent_share_buyers": ("consent_buyers", "share_with_buyers", "share_buyers"),
    "consent_share_supplier": ("consent_supplier", "share_with_supplier", "share_supplier"),
    "consent_contact": ("contact_consent", "may_contact", "consent_to_contact"),
    "retaliation_risk": ("risk", "risk_level"),
    "worker_name": ("name", "full_name", "respondent_name"),
    "worker_contact": ("contact", "phone", "phone_number"),
    "employee_number": ("employee_id", "staff_number", "badge_number"),
    "age_band": ("age", "age_group"),
}
# KoboToolbox's own columns the import does not need: they do not call for the mapping step.
KOBO_BOOKKEEPING = frozenset(
    {
        "end",
        "deviceid",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "audit",
        "instanceid",
        "_id",
        "_validation_status",
        "_notes",
        "_status",
        "_submitted_by",
        "__version__",
        "_version_",
        "_tags",
        "_index",
        "_attachments",
        "_geolocation",
        "_parent_index",
    }
)
ORDER = (
    "testimony",
    ISSUES,
    "site_os_id",
    "site_name",
    "country",
    *DATE_COLUMNS,
    "language",
    "consent_share_buyers",
    "consent_share_supplier",
    "consent_contact",
    "retaliation_risk",
)


def survey_fields() -> list[TargetField]:
    """The questions the import reads, the required one first, then Kobo's ``_uuid``."""
    rest = sorted(QUESTIONS - set(ORDER))
    return [
        *(
            TargetField(key, key, required=key in REQUIRED, synonyms=_SYNONYMS.get(key, ()))
            for key in (*ORDER, *rest)
        ),
        TargetField(SUBMISSION_COLUMN, _l("KoboToolbox's id of the answer")),
    ]


def _read_by_name(column: str) -> bool:
    """Columns the reader takes by their own name besides the questions: issue choices and
    validation answers."""
    parts = [p for p in column.split("/") if p]
    return bool(parts) and (
        (len(parts) >= 2 and parts[-2] == ISSUES) or parts[-1].startswith(VALIDATION_PREFIX)
    )


def unmapped(columns: list[str], mapping: Mapping[str, str | None]) -> list[str]:
    """The file's columns nothing imports (issue choices and validation answers are read)."""
    return [c for c in column_mapping.unmapped_columns(columns, mapping) if not _read_by_name(c)]


def proposal(organisation_id: int | None, columns: list[str]) -> tuple[dict[str, str | None], str]:
    """The mapping proposed for the file (a saved one that fits, else by name and synonym), and
    the saved mapping's name ("" if none)."""
    fields = survey_fields()
    proposed = column_mapping.propose(fields, [c for c in columns if not _read_by_name(c)], {})
    saved = column_mapping.best_saved(organisation_id, MAPPING_KIND, columns)
    if saved is None:
        return proposed, ""
    chosen = {key: column for key, column in saved.for_columns(columns).items() if column}
    taken = set(chosen.values())
    kept = {key: column for key, column in proposed.items() if column not in taken}
    return column_mapping.clean_mapping(fields, columns, {**kept, **chosen}), saved.name


def needs_confirmation(columns: list[str], mapping: Mapping[str, str | None]) -> bool:
    """Whether the monitor is to confirm the columns: a required question unmatched, a question
    matched under another name, or a column nothing reads (other than Kobo's bookkeeping)."""
    if problems(mapping):
        return True
    if any(column and normalise(column) != normalise(key) for key, column in mapping.items()):
        return True
    bookkeeping = {normalise(name) for name in KOBO_BOOKKEEPING}
    return any(normalise(c) not in bookkeeping for c in unmapped(columns, mapping))


def problems(mapping: Mapping[str, str | None]) -> dict[str, list[str]]:
    """Question -> why the mapping cannot be used: a required question or the date unmatched."""
    found: dict[str, list[str]] = {}
    for field in column_mapping.missing_required(survey_fields(), mapping):
        found[field.key] = [str(_l("Choose the column that holds this question: it is required."))]
    if not any(mapping.get(key) for key in DATE_COLUMNS):
        found[DATE_COLUMNS[0]] = [
            str(_l("Choose a date column: one of %(names)s is needed.", names=", ".join(DATE_COLUMNS)))
        ]
    return found


class MappingRefused(Exception):
    """The mapping leaves a required question without a column: ``errors`` by question."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def columns_of(job: jobs.Job) -> list[str]:
    return [str(c) for c in job.arguments.get("columns", [])]


def confirm_columns(actor: User, job: jobs.Job, chosen: Mapping[str, Any], save_as: str = "") -> None:
    """Queue a held survey import with the columns the monitor chose; save the mapping under
    ``save_as`` for the organisation if given; flush. Raises :class:`MappingRefused` (nothing
    queued) when a required question has no column."""
    if job.state != jobs.JobState.waiting or job.organisation_id is None:
        raise OperationError(_l("This import is not waiting for its columns any more."))
    organisation = survey.organisation_of(job.organisation_id)
    survey.check_can_import(actor, organisation)
    columns = columns_of(job)
    mapping = column_mapping.clean_mapping(survey_fields(), columns, chosen)
    errors = problems(mapping)
    if errors:
        raise MappingRefused(errors)
    saved = None
    if save_as.strip():
        saved = column_mapping.save_mapping(actor.id, organisation.id, MAPPING_KIND, save_as, mapping)
    jobs.release(job, {"mapping": mapping})
    audit.record(
        "survey.columns_confirmed",
        f"Confirmed the columns of survey upload {job.id} and queued it",
        actor=actor,
        obj=job,
        data={"mapping": mapping, "saved_mapping_id": saved.id if saved is not None else None},
    )


def cancel_upload(actor: User, job: jobs.Job) -> None:
    """Give up a held or queued survey import: its stored file is erased; flush."""
    if job.state not in (jobs.JobState.waiting, jobs.JobState.queued):
        raise OperationError(_l("This import has begun: it cannot be cancelled any more."))
    jobs.cancel(job)
    audit.record("survey.upload_cancelled", f"Cancelled survey upload {job.id}", actor=actor, obj=job)
