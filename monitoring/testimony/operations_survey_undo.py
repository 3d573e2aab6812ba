"""Undoing a survey import, and correcting a report's workplace (or confirming the proposed one).

A monitor of the import's organisation may undo it within ``SURVEY_UNDO_DAYS`` of the import:
every report of it is crypto-shredded (:func:`operations_erasure.erase_reports`, reason
``import_undone``, a batch of reports per statement), its submission digests are cleared so the
same file can be imported again, and the import is marked undone, with one audit entry holding
the counts. An import whose
reports support a finding cannot be undone: the finding rests on them.

These functions flush and audit, never commit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import column, func, select, table, update

from monitoring.accounts.models import Organisation, User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.supplychain.models import Site
from monitoring.testimony import operations_erasure
from monitoring.testimony.models import ErasureReason, SurveyImport, WorkerReport
from monitoring.testimony.permissions import can_import_survey, can_manage_report

logger = logging.getLogger(__name__)

# The cases feature sits above this one and may not be imported here; its link table is named
# by a bare table clause (only the column the question needs).
_finding_report = table("finding_report", column("report_id"))


def undo_deadline(survey: SurveyImport) -> datetime:
    """Until when the import may be undone."""
    return survey.imported_dt + timedelta(days=int(current_app.config["SURVEY_UNDO_DAYS"]))


def can_still_undo(survey: SurveyImport) -> bool:
    """Not undone yet and within the undo period (permission aside)."""
    return survey.undone_dt is None and utcnow() <= undo_deadline(survey)


def linked_report_count(survey: SurveyImport) -> int:
    """How many reports of the import support a finding."""
    return int(
        db.session.scalar(
            select(func.count(func.distinct(_finding_report.c.report_id))).where(
                _finding_report.c.report_id.in_(
                    select(WorkerReport.id).where(WorkerReport.survey_import_id == survey.id)
                )
            )
        )
        or 0
    )


def undo_survey_import(actor: User, survey: SurveyImport) -> int:
    """Shred every report of the import and mark it undone; return how many were shredded."""
    if not can_import_survey(actor, survey_organisation(survey)):
        raise OperationError(_l("Only monitors of this organisation can undo its survey imports."))
    if survey.undone_dt is not None:
        raise OperationError(_l("This import was undone already."))
    if utcnow() > undo_deadline(survey):
        raise OperationError(
            _l(
                "An import can be undone only within %(days)d days; this one is older.",
                days=int(current_app.config["SURVEY_UNDO_DAYS"]),
            )
        )
    linked = linked_report_count(survey)
    if linked:
        raise OperationError(
            _l(
                "%(num)d reports of this import support a finding; it cannot be undone.",
                num=linked,
            )
        )
    reports = list(db.session.scalars(select(WorkerReport).where(WorkerReport.survey_import_id == survey.id)))
    # The digest goes with the content, so the same answers can be imported again.
    db.session.execute(
        update(WorkerReport).where(WorkerReport.survey_import_id == survey.id).values(source_digest=None),
        execution_options={"synchronize_session": "fetch"},
    )
    erased = [report.id for report in reports if report.erased_dt is None]
    shredded = operations_erasure.erase_reports(reports, ErasureReason.import_undone, actor, audit_each=False)
    survey.undone_dt = utcnow()
    survey.undone_by_id = actor.id
    db.session.flush()
    audit.record(
        "survey.undone",
        f"Undid survey import {survey.id}: {shredded} of its {len(reports)} reports shredded",
        actor=actor,
        obj=survey,
        data={
            "reports": len(reports),
            "shredded": shredded,
            "organisation_id": survey.organisation_id,
            "reason": ErasureReason.import_undone.value,
            "erased_report_ids": erased,  # the one entry of every report this undo erased
        },
    )
    logger.info("survey import %s undone: %d reports shredded", survey.id, shredded)
    return shredded


def survey_organisation(survey: SurveyImport) -> Organisation:
    return db.session.get_one(Organisation, survey.organisation_id)


def correct_report_site(actor: User, report: WorkerReport, site: Site | None) -> None:
    """Set the workplace a report names (None: unlinked), audited with the old and new site ids."""
    if not can_manage_report(actor, report):
        raise OperationError(_l("Only monitors of this organisation can correct the report's site."))
    old = report.site_id
    new = site.id if site is not None else None
    proposed = report.proposed_site_id
    report.proposed_site_id = None  # a monitor decided: the proposal is settled either way
    if old == new:
        db.session.flush()
        return
    report.site_id = new
    report.site = site
    if site is not None and site.country:
        report.country = site.country
    db.session.flush()
    audit.record(
        "report.site_corrected",
        f"Corrected the site of report {report.id}: {old} to {new}",
        actor=actor,
        obj=report,
        data={"old_site_id": old, "new_site_id": new, "proposed_site_id": proposed},
    )


def confirm_proposed_site(actor: User, report: WorkerReport) -> None:
    """Link the report to the site fuzzy matching proposed for it."""
    if report.proposed_site_id is None:
        raise OperationError(_l("No site is proposed for this report."))
    correct_report_site(actor, report, db.session.get(Site, report.proposed_site_id))


def site_proposals(survey: SurveyImport, limit: int = 200) -> list[tuple[WorkerReport, Site]]:
    """The import's reports that wait for a monitor to confirm or change their proposed site."""
    rows = db.session.execute(
        select(WorkerReport, Site)
        .join(Site, Site.id == WorkerReport.proposed_site_id)
        .where(WorkerReport.survey_import_id == survey.id, WorkerReport.erased_dt.is_(None))
        .order_by(WorkerReport.id)
        .limit(limit)
    ).all()
    return [(report, site) for report, site in rows]
