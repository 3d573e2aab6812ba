"""JSON API of survey imports (monitors, for their own organisation).

``POST /testimony/survey-imports`` takes ``multipart/form-data`` (the CSV as ``file``): the
route leaves the body unread (``raw_body``) until its size is checked and its files are kept
in memory. The file layout is documented in :mod:`monitoring.testimony.survey`.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from monitoring.accounts.models import UserRole
from monitoring.core import uploads
from monitoring.core.api import paginate, parse_args, route
from monitoring.core.auth import roles
from monitoring.core.errors import MESSAGES, ApiError
from monitoring.core.jobs import Job, JobState
from monitoring.core.pagination import Page
from monitoring.supplychain import services as supplychain_services
from monitoring.supplychain.schemas import JobSchema
from monitoring.testimony import operations_survey_undo as undo
from monitoring.testimony import services as s
from monitoring.testimony import survey, survey_jobs, survey_mapping
from monitoring.testimony.models import SurveyImport, WorkerReport
from monitoring.testimony.permissions import can_manage_report
from monitoring.testimony.schemas import CreateSurveyImportArgs, ListSurveyImportsArgs
from monitoring.testimony.survey_schemas import (
    ConfirmSurveyColumnsArgs,
    CorrectableSurveyImportSchema,
    CorrectedReportSiteSchema,
    CorrectReportSiteArgs,
    SurveyColumnsSchema,
)

SurveyImportSchema = CorrectableSurveyImportSchema

TAG = "testimony"
RULE = "/testimony/survey-imports"


@route(
    RULE,
    summary=_l("List the survey imports of my organisation"),
    args=ListSurveyImportsArgs,
    response=SurveyImportSchema,
    paginated=True,
    tag=TAG,
)
@roles(UserRole.monitor)
def list_survey_imports(args: dict[str, Any]) -> Page:
    return paginate(s.list_survey_imports(s.me()), s.SURVEY_ORDER, args.get("after"), args.get("limit"))


@route(f"{RULE}/<int:import_id>", summary=_l("Get a survey import"), response=SurveyImportSchema, tag=TAG)
@roles(UserRole.monitor)
def get_survey_import(import_id: int) -> SurveyImport:
    return s.load_survey_import(s.me(), import_id)


@route(
    RULE,
    method="POST",
    summary=_l("Import a survey export"),
    description=_l(
        "The header row is checked (a bad one is refused, 422) and the file stored encrypted; a "
        "background job then checks every row and seals each as a worker report (channel survey) "
        "to your organisation's key, all in one transaction. Follow the job with GET "
        "/testimony/survey-imports/jobs/{id}: a file with any problem fails whole, with one "
        "problem per line; when it is done its result names the survey import. A file whose "
        "columns are not all read by name (a renamed question, a column nothing reads) is held "
        "instead (state waiting): nothing is imported before its columns are confirmed with POST "
        "/testimony/survey-imports/jobs/{id}/columns."
    ),
    args=CreateSurveyImportArgs,
    response=JobSchema,
    status=202,
    tag=TAG,
    raw_body=True,
)
@roles(UserRole.monitor)
def create_survey_import() -> dict[str, Any]:
    """Check a survey export's header, store it encrypted and queue its import."""
    user = s.me()
    if not uploads.accept_body(current_app.config["MAX_CONTENT_LENGTH"]):
        raise ApiError(413, str(MESSAGES[413]))
    if request.mimetype != "multipart/form-data":
        raise ApiError(
            422,
            _("Send the file as multipart/form-data, in the field “file”."),
            {"file": [str(_l("This field is required."))]},
        )
    raw: dict[str, Any] = request.form.to_dict(flat=True)
    upload = request.files.get("file")
    if upload is not None and upload.filename is not None:
        raw["file"] = upload
    args = parse_args(CreateSurveyImportArgs, raw)
    site = s.survey_site_by_id(args.get("site_id"))
    upload = args["file"]
    try:
        job = survey_jobs.queue_survey_import(
            user,
            user.organisation,
            upload.stream,
            upload.filename or "",
            site=site,
            default_language=args["language"],
            confirm_columns=True,
        )
    except survey.SurveyRefused as exc:
        raise ApiError(
            422, _("The file was refused; nothing was imported."), {"file": s.survey_refusal(exc)}
        ) from exc
    return supplychain_services.job_status(job)


@route(
    f"{RULE}/jobs/<int:job_id>",
    summary=_l("Follow a survey import"),
    description=_l("Its progress and, when it is over, the survey import it made or the file's problems."),
    response=JobSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def show_survey_job(job_id: int) -> dict[str, Any]:
    job = supplychain_services.load(survey_jobs.visible_survey_jobs(s.me()), Job.id == job_id)
    return supplychain_services.job_status(job)


def _held_survey_job(job_id: int) -> Job:
    job = supplychain_services.load(survey_jobs.visible_survey_jobs(s.me()), Job.id == job_id)
    if job.state != JobState.waiting:
        message = _("This import is no longer waiting for its columns to be confirmed.")
        raise ApiError(422, message, {"_schema": [message]})
    return job


def _columns(job: Job, mapping: dict[str, Any]) -> dict[str, Any]:
    columns = survey_mapping.columns_of(job)
    return {
        "job_id": job.id,
        "state": job.state.value,
        "targets": [
            {"key": f.key, "label": str(f.label), "required": f.required, "column": mapping.get(f.key)}
            for f in survey_mapping.survey_fields()
        ],
        "columns": columns,
        "mapping": mapping,
        "unmapped_columns": survey_mapping.unmapped(columns, mapping),
        "problems": survey_mapping.problems(mapping),
        "saved_mapping": job.arguments.get("saved", ""),
    }


@route(
    f"{RULE}/jobs/<int:job_id>/columns",
    summary=_l("The proposed columns of a held survey upload"),
    description=_l(
        "An upload whose columns are not all read by name (a renamed question, a column nothing "
        "reads) waits (state waiting) for its columns to be confirmed: this is the file's header "
        "against the questions, with the mapping proposed by name, synonym or a saved mapping, the "
        "columns nothing would import and the required questions without a column."
    ),
    response=SurveyColumnsSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def show_survey_columns(job_id: int) -> dict[str, Any]:
    job = _held_survey_job(job_id)
    return _columns(job, job.arguments.get("proposed") or {})


@route(
    f"{RULE}/jobs/<int:job_id>/columns",
    method="POST",
    summary=_l("Confirm the columns of a held survey upload"),
    description=_l(
        "Queues the import with these columns (optionally saving the mapping under a name); a "
        "required question without a column is refused (422, by question) and nothing is queued."
    ),
    args=ConfirmSurveyColumnsArgs,
    response=JobSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def confirm_survey_columns(job_id: int, args: dict[str, Any]) -> dict[str, Any]:
    job = _held_survey_job(job_id)
    try:
        survey_mapping.confirm_columns(s.me(), job, args["mapping"], args["save_as"])
    except survey_mapping.MappingRefused as exc:
        raise ApiError(422, _("The columns cannot be imported this way."), exc.errors) from exc
    return supplychain_services.job_status(job)


@route(
    f"{RULE}/jobs/<int:job_id>/cancel",
    method="POST",
    summary=_l("Cancel a held survey upload"),
    description=_l("The upload is given up and its stored file erased."),
    response=JobSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def cancel_survey_upload(job_id: int) -> dict[str, Any]:
    job = _held_survey_job(job_id)
    survey_mapping.cancel_upload(s.me(), job)
    return supplychain_services.job_status(job)


@route(
    f"{RULE}/<int:import_id>/undo",
    method="POST",
    summary=_l("Undo a survey import"),
    description=_l(
        "Erases (crypto-shreds) every report of the import and marks it undone, so the same file "
        "can be imported again. Only within SURVEY_UNDO_DAYS of the import, and not when a report "
        "of it supports a finding (422)."
    ),
    response=CorrectableSurveyImportSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def undo_survey_import(import_id: int) -> SurveyImport:
    item = s.load_survey_import(s.me(), import_id)
    undo.undo_survey_import(s.me(), item)
    return item


@route(
    "/worker-reports/<int:report_id>/site",
    method="POST",
    summary=_l("Correct the workplace of a report"),
    description=_l("A monitor of the report's organisation sets the site it names; the change is audited."),
    args=CorrectReportSiteArgs,
    response=CorrectedReportSiteSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def correct_report_site(report_id: int, args: dict[str, Any]) -> WorkerReport:
    report = s.member_report(s.me(), report_id, can_manage_report)
    undo.correct_report_site(s.me(), report, s.survey_site_by_id(args["site_id"]))
    return report


@route(
    f"{RULE}/<int:import_id>/site-proposals",
    summary=_l("Reports of an import whose proposed site awaits review"),
    description=_l(
        "A row whose workplace name matched no site exactly got the most similar site of its country "
        "as a proposal. Confirm it or set another with POST /worker-reports/{id}/site."
    ),
    response=CorrectedReportSiteSchema(many=True),
    tag=TAG,
)
@roles(UserRole.monitor)
def list_site_proposals(import_id: int) -> list[WorkerReport]:
    item = s.load_survey_import(s.me(), import_id)
    return [report for report, _site in undo.site_proposals(item)]
