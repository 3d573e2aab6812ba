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
                             and the most similar site of the country proposed for review
                             (:mod:`.survey_matching`)
``country``                  ISO 3166 two-letter code of the workplace's country
``collected_date``           the interview date (YYYY-MM-DD); else ``today``, else the date
                             of ``start``, else of ``_submission_time``
``language``                 language of the interview (``th``, ``my``, ``zh_Hans`` ..., one
                             of ``WORKER_LANGUAGES``); else the import's default language
``consent_share_buyers``     yes/no: may be shared anonymised with buyers
``consent_share_supplier``   yes/no: may be shared anonymised with the supplier
``consent_contact``          yes/no: the worker may be contacted
``retaliation_risk``         low / medium / high
``validation_<question>``    optional answers to a validation question (yes / no / partly;
                             empty: not asked), e.g. ``validation_fee_repaid``; the questions
                             are those of :class:`ValidationQuestion`. They count for the
                             cases at the workplace opened before the import
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

import logging
from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from monitoring.accounts.models import Organisation, User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.supplychain.models import Site
from monitoring.testimony import alerts, sealing_bulk
from monitoring.testimony.models import (
    ReportChannel,
    SurveyImport,
    WorkerReport,
)
from monitoring.testimony.permissions import can_import_survey
from monitoring.testimony.permissions import visible_survey_imports as visible_survey_imports
from monitoring.testimony.survey_format import (
    MAX_ERRORS,
    QUESTION_HELP,
    SurveyError,
    SurveyRefused,
    SurveyRow,
)
from monitoring.testimony.survey_reader import _surviving, parse_survey, worker_language

__all__ = [
    "MAX_ERRORS",
    "QUESTION_HELP",
    "SurveyError",
    "SurveyRefused",
    "SurveyRow",
    "parse_survey",
    "visible_survey_imports",
    "worker_language",
]

logger = logging.getLogger(__name__)

CANNOT_IMPORT = _l("Only monitors of this organisation can import its surveys.")

# --- importing ---------------------------------------------------------------------------------


def check_can_import(actor: User, organisation: Organisation) -> None:
    """Refuse an import by someone else than a monitor of the organisation, or without a key."""
    if not can_import_survey(actor, organisation):
        raise OperationError(CANNOT_IMPORT)
    from monitoring.accounts import keys

    if keys.current_organisation_key(organisation) is None:
        raise OperationError(
            _l(
                "%(organisation)s cannot receive sealed reports yet: it has no key.",
                organisation=organisation.name,
            )
        )


def organisation_of(organisation_id: int) -> Organisation:
    """The organisation an upload is for (refused if it is gone)."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise OperationError(CANNOT_IMPORT)
    return organisation


def import_rows(
    actor: User,
    organisation: Organisation,
    rows: list[SurveyRow],
    *,
    site: Site | None = None,
    progress: Callable[[int], Any] | None = None,
) -> SurveyImport:
    """Seal checked rows as reports of one new :class:`SurveyImport`; flush and audit, never commit.

    The reports are sealed and inserted in bulk (:mod:`.sealing_bulk`): one ``survey.import``
    audit entry names them all (ids first, last and count) instead of one entry per report.
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
    made = sealing_bulk.create_reports(
        organisation=organisation,
        reports=[_new_report(row) for row in new_rows],
        channel=ReportChannel.survey,
        created_by=actor,
        survey_import_id=survey.id,
        progress=progress,
    )
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
            "validation_answers": made.validation_answers,
            "proposed_sites": made.proposed_sites,
            **made.audit_data(),
        },
    )
    alerts.survey_imported(actor, survey)
    logger.info("survey import %s: %d reports for organisation %s", survey.id, survey.rows, organisation.id)
    return survey


def _new_report(row: SurveyRow) -> sealing_bulk.NewReport:
    return sealing_bulk.NewReport(
        site_id=row.site.id if row.site is not None else None,
        country=row.site.country if row.site is not None else row.country,
        collected_date=row.collected_date,
        language=row.language,
        consent_share_buyers=row.consent_share_buyers,
        consent_share_supplier=row.consent_share_supplier,
        consent_contact=row.consent_contact,
        retaliation_risk=row.retaliation_risk,
        identity=row.identity,
        testimony=row.testimony,
        categories=row.categories,
        workplace=row.workplace,
        source_digest=row.source_digest,
        proposed_site_id=row.proposed_site.id if row.proposed_site is not None else None,
        validations=row.validations,
    )


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
