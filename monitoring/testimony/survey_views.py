"""HTML pages for monitors: import a KoboToolbox survey export, see past imports and results.

Only monitors reach these pages, and only for their own organisation; an import of another
organisation answers 404 like a missing one.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from monitoring.accounts.models import User, UserRole
from monitoring.core import uploads
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.errors import error_response
from monitoring.core.forms import apply_error
from monitoring.core.jobs import Job, JobState
from monitoring.core.operations import OperationError
from monitoring.core.pagination import paginate
from monitoring.core.transactions import attempt
from monitoring.supplychain import services as supplychain_services
from monitoring.supplychain.models import Site
from monitoring.testimony import operations_survey_undo as undo
from monitoring.testimony import services as s
from monitoring.testimony import survey, survey_jobs, survey_mapping
from monitoring.testimony.forms import ActionForm, SurveyUploadForm
from monitoring.testimony.models import IssueCategory
from monitoring.testimony.permissions import can_manage_report

logger = logging.getLogger(__name__)

bp = Blueprint("survey", __name__, url_prefix="/testimony/survey-imports")


@bp.route("/")
@roles(UserRole.monitor)
def imports() -> Any:
    after = request.args.get("after")
    page = paginate(db.session(), s.list_survey_imports(s.me()), key_columns=s.SURVEY_ORDER, after=after)
    users = s.users_by_id(item.imported_by_id for item in page.items)
    return render_template("testimony/survey_imports.html", page=page, users=users, first_page=not after)


def _upload_page(
    form: SurveyUploadForm, *, refused: survey.SurveyRefused | None = None, status: int = 200
) -> Any:
    return render_template(
        "testimony/survey_upload.html",
        form=form,
        refused=refused,
        questions=survey.QUESTION_HELP,
        categories=list(IssueCategory),
        max_rows=current_app.config["SURVEY_MAX_ROWS"],
    ), status


@bp.route("/new", methods=["GET", "POST"])
@roles(UserRole.monitor)
def upload() -> Any:
    user = s.me()
    # The file holds identities in clear: parse it in memory, then check the CSRF token.
    if request.method == "POST" and not uploads.accept_form(current_app.config["MAX_CONTENT_LENGTH"]):
        return error_response(413)
    form = SurveyUploadForm()
    if request.method == "GET":
        form.language.data = survey.worker_language(user.locale or "") or "en"
    if not form.validate_on_submit():
        return _upload_page(form, status=422 if request.method == "POST" else 200)
    upload = form.file.data
    try:
        site = s.survey_site(form.site.data)
        job = attempt(
            survey_jobs.queue_survey_import,
            user,
            user.organisation,
            upload.stream,
            upload.filename or "",
            site=site,
            default_language=form.language.data,
            confirm_columns=True,
        )
    except survey.SurveyRefused as exc:
        return _upload_page(form, refused=exc, status=422)
    except OperationError as exc:
        apply_error(form, exc, rename={"site_id": "site"})
        return _upload_page(form, status=422)
    if job.state == JobState.waiting:
        return redirect(url_for(".columns", job_id=job.id))
    return redirect(url_for(".job", job_id=job.id))


uploads.csrf_checked_in_view(bp, upload)


@bp.route("/jobs/<int:job_id>")
@roles(UserRole.monitor)
def job(job_id: int) -> Any:
    """An import's progress; the page reloads itself every two seconds until the job is over."""
    found = _load_job(job_id)
    status = supplychain_services.job_status(found)
    imported_id = (status["result"] or {}).get("survey_import_id")
    return render_template("testimony/survey_job.html", job=found, status=status, imported_id=imported_id)


def _load_job(job_id: int) -> Job:
    return supplychain_services.load(survey_jobs.visible_survey_jobs(s.me()), Job.id == job_id)


def _columns_page(job: Job, mapping: dict[str, Any], errors: dict[str, list[str]], status: int = 200) -> Any:
    columns = survey_mapping.columns_of(job)
    return render_template(
        "testimony/survey_columns.html",
        job=job,
        form=ActionForm(),
        fields=survey_mapping.survey_fields(),
        columns=columns,
        mapping=mapping,
        unmapped=survey_mapping.unmapped(columns, mapping),
        errors=errors,
        saved=job.arguments.get("saved", ""),
    ), status


@bp.route("/jobs/<int:job_id>/columns", methods=["GET", "POST"])
@roles(UserRole.monitor)
def columns(job_id: int) -> Any:
    """The column-mapping step of a held upload: confirm or correct, save, then queue."""
    job = _load_job(job_id)
    if job.state != JobState.waiting:
        return redirect(url_for(".job", job_id=job.id))
    proposed = job.arguments.get("proposed") or {}
    if request.method == "GET":
        return _columns_page(job, proposed, survey_mapping.problems(proposed))
    if not ActionForm().validate_on_submit():
        return error_response(400)
    if request.form.get("action") == "cancel":
        attempt(survey_mapping.cancel_upload, s.me(), job)
        flash(_("The upload was cancelled and its file erased."), "info")
        return redirect(url_for(".upload"))
    chosen = {f.key: request.form.get(f"map_{f.key}") or None for f in survey_mapping.survey_fields()}
    try:
        attempt(survey_mapping.confirm_columns, s.me(), job, chosen, request.form.get("save_as", "")[:120])
    except survey_mapping.MappingRefused as exc:
        return _columns_page(job, chosen, exc.errors, status=422)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return _columns_page(job, chosen, {}, status=422)
    return redirect(url_for(".job", job_id=job.id))


def _detail(item: Any, status: int = 200) -> Any:
    return render_template(
        "testimony/survey_import.html",
        item=item,
        reports=survey.report_count(item),
        imported_by=db.session.get(User, item.imported_by_id) if item.imported_by_id else None,
        undone_by=db.session.get(User, item.undone_by_id) if item.undone_by_id else None,
        site=db.session.get(Site, item.site_id) if item.site_id else None,
        can_undo=undo.can_still_undo(item),
        proposals=undo.site_proposals(item),
        undo_deadline=undo.undo_deadline(item),
        form=ActionForm(),
    ), status


@bp.route("/<int:import_id>")
@roles(UserRole.monitor)
def detail(import_id: int) -> Any:
    return _detail(s.load_survey_import(s.me(), import_id))


@bp.route("/<int:import_id>/undo", methods=["POST"])
@roles(UserRole.monitor)
def undo_import(import_id: int) -> Any:
    item = s.load_survey_import(s.me(), import_id)
    if not ActionForm().validate_on_submit():
        return error_response(400)
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm that the reports are to be erased."), "error")
        return _detail(item, status=422)
    try:
        shredded = attempt(undo.undo_survey_import, s.me(), item)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return _detail(item, status=422)
    flash(_("The import was undone: %(num)d reports were erased.", num=shredded), "success")
    return redirect(url_for(".detail", import_id=item.id))


@bp.route("/reports/<int:report_id>/site", methods=["POST"])
@roles(UserRole.monitor)
def correct_site(report_id: int) -> Any:
    """The site form on a report's page: an Open Supply Hub id or site number, or empty to unlink."""
    report = s.member_report(s.me(), report_id, can_manage_report)
    back = redirect(url_for("testimony.report", report_id=report.id))
    if not ActionForm().validate_on_submit():
        return error_response(400)
    try:
        site = s.survey_site(request.form.get("site", "").strip()[:100])
        attempt(undo.correct_report_site, s.me(), report, site)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return back
    flash(_("The report's workplace was corrected."), "success")
    return back


@bp.route("/reports/<int:report_id>/confirm-site", methods=["POST"])
@roles(UserRole.monitor)
def confirm_site(report_id: int) -> Any:
    """Confirm the site proposed for a survey report; back on its import's page."""
    report = s.member_report(s.me(), report_id, can_manage_report)
    if not ActionForm().validate_on_submit():
        return error_response(400)
    try:
        attempt(undo.confirm_proposed_site, s.me(), report)
    except OperationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The proposed workplace was confirmed."), "success")
    if report.survey_import_id is None:
        return redirect(url_for("testimony.report", report_id=report.id))
    return redirect(url_for(".detail", import_id=report.survey_import_id))
