"""HTML pages for monitors: intake, reports, opening sealed content, the conversation, files.

Every page here is for monitors of the receiving organisation and for coordinators a report
was shared with; administrators, affiliates and suppliers get 404 on all of them, as anyone
does for a report of another organisation. Nothing sealed is shown unless a monitor asks for
it with a reason (a POST), and then only in that one response; sealing audits each opening.

A refused opening (keys locked, no access, or a ciphertext that does not open) answers 403
with an explanation and, for locked keys or missing access, a link to the "Keys and access"
page; the audit entry of the attempt is kept. Queries, lookups and input rules live in
:mod:`.services`; routing consent pages are in :mod:`.routing_views`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from monitoring.accounts import keys
from monitoring.accounts.models import User, UserRole
from monitoring.core import uploads
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.downloads import attachment
from monitoring.core.errors import error_response
from monitoring.core.forms import apply_error, form_args
from monitoring.core.operations import OperationError
from monitoring.core.pagination import paginate
from monitoring.core.transactions import attempt
from monitoring.testimony import jobs, operations, routing, sealing
from monitoring.testimony import services as s
from monitoring.testimony.forms import (
    NO_SITE,
    ActionForm,
    CoverageForm,
    EvidenceForm,
    FallbackForm,
    IntakeForm,
    OpenForm,
    RecoveryUpgradeForm,
    ReencryptForm,
    ReplyForm,
    ReportFilterForm,
    RewrapForm,
    RotateKeyForm,
    ShareForm,
    SiteSearchForm,
    StatusForm,
)
from monitoring.testimony.models import CoverageChange, Evidence, WorkerReport
from monitoring.testimony.permissions import (
    COVERAGE_ROLES,
    SEALED_ROLES,
    can_add_evidence,
    can_manage_coverage,
    can_manage_organisation_keys,
    can_manage_report,
    can_open_evidence,
    can_open_report,
    can_record_report,
    can_share_report,
    is_member,
)
from monitoring.testimony.schemas import (
    CreateWorkerReportArgs,
    ListWorkerReportsArgs,
    OpenSealedArgs,
    ReencryptReportsArgs,
    ReplyToWorkerArgs,
    ReportView,
    RewrapReportKeysArgs,
    SetMonitorCoverageArgs,
    SetReportStatusArgs,
    UpgradeRecoveryKeyArgs,
)

logger = logging.getLogger(__name__)

bp = Blueprint("testimony", __name__, url_prefix="/testimony")
coverage_bp = Blueprint("coverage", __name__, url_prefix="/coverage")


def sealed_refusal(exc: sealing.SealedAccessError) -> Any:
    """Keep the audit entry of the failed opening, then explain without details (403)."""
    message = s.refusal_message(exc)
    show_keys_link = exc.kind in ("locked", "no_access")
    return render_template("testimony/sealed_error.html", message=message, show_keys_link=show_keys_link), 403


@bp.app_template_global("testimony_file_size")
def file_size(size: int) -> str:
    """A file's size in the user's language (KB below a megabyte)."""
    if size < 1024 * 1024:
        return _("%(size)s KB", size=format_decimal(size / 1024, format="#,##0.#"))
    return s.size_text(size)


@bp.app_template_global("testimony_deadlines")
def testimony_deadlines() -> s.HomeCounts | None:
    """Deadline and unread counts for a monitor's start page (None for everyone else)."""
    return s.home_counts(s.me()) if can_record_report(s.me()) else None


@bp.app_template_global("testimony_country")
def country_name(code: str | None) -> str:
    return operations.country_name(code)


# --- the list -------------------------------------------------------------------------------


@bp.route("/reports")
@roles(*SEALED_ROLES)
def reports() -> Any:
    form = ReportFilterForm(formdata=request.args)
    form.validate()  # a filter that does not parse is shown with its error and left out
    query = s.list_reports(s.me(), s.filter_args(ListWorkerReportsArgs, request.args.to_dict()))
    page = paginate(
        db.session(), s.without_sealed(query), key_columns=s.REPORT_ORDER, after=request.args.get("after")
    )
    page.items = s.report_views(page.items)
    filters = {k: v for k, v in request.args.items() if k != "after" and v}
    first_page = not request.args.get("after")
    can_record = can_record_report(s.me())
    return render_template(
        "testimony/reports.html",
        form=form,
        page=page,
        filters=filters,
        first_page=first_page,
        can_record=can_record,
    )


# --- intake ---------------------------------------------------------------------------------


def _intake_args(form: IntakeForm) -> dict[str, Any] | None:
    """The intake form's data through ``CreateWorkerReportArgs`` (the identity nested)."""
    if not form.validate_on_submit():
        return None
    names = CreateWorkerReportArgs().fields
    data = {k: v for k, v in form.data.items() if k in names and v not in (None, "", [])}
    data["identity"] = {name: form[name].data or "" for name in s.IDENTITY_FIELDS}
    data.update(site_id=form.site_id, collected_date=form.collected_date.data.isoformat())
    return s.load_args(CreateWorkerReportArgs, data, form)


@bp.route("/reports/new", methods=["GET", "POST"])
@roles(UserRole.monitor)
def intake() -> Any:
    user = s.me()
    s.require(can_record_report(user))
    search = SiteSearchForm(formdata=request.args)
    search.validate()
    query = (request.form.get("q") if request.method == "POST" else search.q.data) or ""
    sites = s.intake_sites(query.strip()[:200], request.form.get("site"), NO_SITE)
    form = IntakeForm(sites)
    if request.method == "GET":
        form.q.data = query
        form.site.data = None if sites else NO_SITE
        form.collected_date.data = operations.current_time().date()
    elif (args := _intake_args(form)) is not None:
        try:
            report = attempt(s.record_report, user, args)
        except OperationError as exc:
            apply_error(
                form, exc, rename={"site_id": "site", **{f"identity.{n}": n for n in s.IDENTITY_FIELDS}}
            )
        else:
            flash(_("The testimony was sealed and saved as report %(id)s.", id=report.id), "success")
            return redirect(url_for(".report", report_id=report.id))
    has_key = keys.current_organisation_key(user.organisation) is not None
    return render_template("testimony/intake.html", form=form, search=search, sites=sites, has_key=has_key)


# --- one report -----------------------------------------------------------------------------


def _detail(view: ReportView, *, status: int = 200, **forms: Any) -> Any:
    """Render a report's page: metadata, and the sealed content when it was just opened."""
    report = view.report
    member = is_member(s.me(), report)
    context: dict[str, Any] = {
        "view": s.report_detail(s.me(), view),
        "member": member,
        "open_form": forms.get("open_form") or OpenForm(formdata=None),
        "opened": forms.get("opened"),
        "reason": forms.get("reason"),
        "action_form": ActionForm(formdata=None),
        "max_upload": s.size_text(current_app.config["EVIDENCE_MAX_BYTES"]),
        "language_name": operations.language_name(report.language),
        "titles": {
            "gender": {g.value: g.title for g in operations.Gender},
            "age_band": {a.value: a.title for a in operations.AgeBand},
        },
    }
    if member:
        context.update(
            status_form=forms.get("status_form") or StatusForm(s.next_statuses(report), formdata=None),
            reply_form=forms.get("reply_form") or ReplyForm(formdata=None),
            evidence_form=EvidenceForm(formdata=None),
            share_form=ShareForm(operations.shareable_coordinators(report), formdata=None),
        )
    return render_template("testimony/report.html", **context), status


def _back(report_id: int) -> Any:
    return redirect(url_for(".report", report_id=report_id))


@bp.route("/reports/<int:report_id>")
@roles(*SEALED_ROLES)
def report(report_id: int) -> Any:
    return _detail(s.load_report(s.me(), report_id))


@bp.route("/reports/<int:report_id>/open", methods=["POST"])
@roles(*SEALED_ROLES)
def open_report(report_id: int) -> Any:
    view = s.load_report(s.me(), report_id)
    s.require(can_open_report(s.me(), view.report))
    form = OpenForm()
    try:
        args = form_args(OpenSealedArgs, form)
        if args is None:
            return _detail(view, status=422, open_form=form)
        opened = operations.open_report(s.me(), view.report, s.opening_reason(args))
    except OperationError as exc:
        apply_error(form, exc)
        return _detail(view, status=422, open_form=form)
    except sealing.SealedAccessError as exc:
        return sealed_refusal(exc)
    return _detail(view, opened=opened, reason=form, open_form=form)


def _report_action(report_id: int, change: Callable[[User, WorkerReport], Any], done: str) -> Any:
    """A button that makes one change to a report: say how it went, back on the report's page."""
    report = s.member_report(s.me(), report_id, can_manage_report)
    if ActionForm().validate_on_submit():
        try:
            attempt(change, s.me(), report)
        except OperationError as exc:
            flash(str(exc.message), "error")
        else:
            flash(done, "success")
    return _back(report.id)


@bp.route("/reports/<int:report_id>/acknowledge", methods=["POST"])
@roles(UserRole.monitor)
def acknowledge(report_id: int) -> Any:
    return _report_action(report_id, operations.acknowledge, _("The report is acknowledged."))


@bp.route("/reports/<int:report_id>/feedback", methods=["POST"])
@roles(UserRole.monitor)
def record_feedback(report_id: int) -> Any:
    return _report_action(report_id, operations.record_feedback, _("The feedback to the worker is recorded."))


@bp.route("/reports/<int:report_id>/status", methods=["POST"])
@roles(UserRole.monitor)
def change_status(report_id: int) -> Any:
    view = s.load_report(s.me(), report_id)
    s.require(can_manage_report(s.me(), view.report))
    form = StatusForm(s.next_statuses(view.report))
    try:
        if (args := form_args(SetReportStatusArgs, form)) is None:
            return _detail(view, status=422, status_form=form)
        operations.set_status(s.me(), view.report, args["status"])
    except OperationError as exc:
        apply_error(form, exc)
        return _detail(view, status=422, status_form=form)
    flash(_("The report is now “%(status)s”.", status=view.report.status.title), "success")
    return _back(report_id)


@bp.route("/reports/<int:report_id>/messages", methods=["POST"])
@roles(UserRole.monitor)
def reply(report_id: int) -> Any:
    view = s.load_report(s.me(), report_id)
    s.require(can_manage_report(s.me(), view.report))
    form = ReplyForm()
    try:
        if (args := form_args(ReplyToWorkerArgs, form)) is None:
            return _detail(view, status=422, reply_form=form)
        operations.reply_to_worker(s.me(), view.report, args["body"], feedback=args["feedback"])
    except OperationError as exc:
        apply_error(form, exc)
        return _detail(view, status=422, reply_form=form)
    flash(_("Your message was sealed. The worker reads it with their receipt code."), "success")
    return _back(report_id)


# --- evidence files -------------------------------------------------------------------------


@bp.route("/reports/<int:report_id>/evidence", methods=["POST"])
@roles(UserRole.monitor)
def upload_evidence(report_id: int) -> Any:
    report = s.member_report(s.me(), report_id, can_add_evidence)
    # The CSRF token is checked after the size: checking it first would read the whole body.
    if not uploads.accept_form(s.upload_limit()):
        return error_response(413, s.too_large_message())
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise OperationError(_("Choose a file."), "file")
        attempt(operations.add_evidence, s.me(), report, upload.stream, upload.filename)
    except OperationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The file was sealed and added to the report."), "success")
    return _back(report.id)


uploads.csrf_checked_in_view(bp, upload_evidence)


def download_response(evidence: Evidence, name: str, chunks: Any) -> Any:
    """Stream a decrypted evidence file as an attachment."""
    fallback = f"evidence-{evidence.id}{sealing.ALLOWED_TYPES.get(evidence.content_type, '')}"
    return attachment(
        chunks, name=name, fallback=fallback, content_type=evidence.content_type, size=evidence.size
    )


@bp.route("/reports/<int:report_id>/evidence/<int:evidence_id>/download", methods=["POST"])
@roles(UserRole.monitor)
def download_evidence(report_id: int, evidence_id: int) -> Any:
    report = s.member_report(s.me(), report_id, can_open_evidence)
    evidence = s.load_evidence(s.me(), report, evidence_id)
    try:
        args = form_args(OpenSealedArgs, OpenForm())
        if args is None:
            raise OperationError(_("Choose why you open the file."), "reason")
        name, chunks = operations.open_evidence(s.me(), evidence, s.opening_reason(args))
    except OperationError as exc:
        flash(str(exc.message), "error")
        return _back(report.id)
    except sealing.SealedAccessError as exc:
        return sealed_refusal(exc)
    return download_response(evidence, name, chunks)


# --- sharing with coordinators --------------------------------------------------------------


@bp.route("/reports/<int:report_id>/grants", methods=["POST"])
@roles(UserRole.monitor)
def share(report_id: int) -> Any:
    report = s.member_report(s.me(), report_id, can_share_report)
    form = ShareForm(operations.shareable_coordinators(report))
    try:
        if not form.validate_on_submit():
            raise OperationError(_("Choose a coordinator."), "user")
        grant = attempt(s.share_report, s.me(), report, form.user.data)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return _back(report.id)
    except sealing.SealedAccessError as exc:
        return sealed_refusal(exc)
    flash(_("%(name)s can now read this report.", name=grant.user.name), "success")
    return _back(report.id)


@bp.route("/reports/<int:report_id>/grants/<int:grant_id>/revoke", methods=["POST"])
@roles(UserRole.monitor)
def revoke_share(report_id: int, grant_id: int) -> Any:
    report = s.member_report(s.me(), report_id, can_share_report)
    grant = s.load_grant(s.me(), report, grant_id)
    if ActionForm().validate_on_submit():
        name = grant.user.name
        operations.stop_sharing(s.me(), grant)
        flash(_("%(name)s can no longer read this report.", name=name), "success")
    return _back(report.id)


# --- organisation key versions --------------------------------------------------------------


def _key_page(form: RecoveryUpgradeForm | None = None, status: int = 200) -> Any:
    s.require(can_manage_organisation_keys(s.me()))
    return render_template(
        "testimony/keys.html",
        form=RewrapForm(),
        reencrypt_form=ReencryptForm(),
        rotate_form=RotateKeyForm(),
        recovery_form=form or RecoveryUpgradeForm(),
        versions=operations.key_versions(s.me().organisation),
    ), status


@bp.route("/keys")
@roles(UserRole.monitor)
def key_page() -> Any:
    return _key_page()


def _key_work(form: FlaskForm, work: Callable[[], Any], done: Callable[[Any], tuple[str, str]]) -> Any:
    """One button of the key page: run the work, say how it went, back on the key page."""
    s.require(can_manage_organisation_keys(s.me()))
    if form.validate_on_submit():
        try:
            flash(*done(work()))
        except OperationError as exc:
            flash(str(exc.message), "error")
        except sealing.SealedAccessError as exc:
            return sealed_refusal(exc)
    return redirect(url_for(".key_page"))


@bp.route("/keys/rewrap", methods=["POST"])
@roles(UserRole.monitor)
def rewrap() -> Any:
    args = RewrapReportKeysArgs().load({})  # the page runs the API's default batches
    return _key_work(RewrapForm(), lambda: jobs.rewrap_organisation_keys(s.me(), **args), s.rewrapped)


@bp.route("/keys/reencrypt", methods=["POST"])
@roles(UserRole.monitor)
def reencrypt() -> Any:
    args = ReencryptReportsArgs().load({})
    return _key_work(
        ReencryptForm(), lambda: jobs.reencrypt_organisation_reports(s.me(), **args), s.reencrypted
    )


@bp.route("/keys/rotate", methods=["POST"])
@roles(UserRole.monitor)
def rotate_key() -> Any:
    return _key_work(RotateKeyForm(), lambda: operations.rotate_key(s.me()), s.rotated)


@bp.route("/keys/recovery-key", methods=["POST"])
@roles(UserRole.monitor)
def upgrade_recovery_key() -> Any:
    s.require(can_manage_organisation_keys(s.me()))
    form = RecoveryUpgradeForm()
    try:
        if (args := form_args(UpgradeRecoveryKeyArgs, form)) is None:
            return _key_page(form, 422)
        result = operations.upgrade_recovery_key(s.me(), args["recovery_code"])
    except OperationError as exc:
        form.recovery_code.errors = [str(exc.message)]
        return _key_page(form, 422)
    flash(
        _(
            "The recovery key is now post-quantum for every version (%(versions)s). "
            "The recovery code stays the same.",
            versions=s.version_list(result.upgraded_versions),
        ),
        "success",
    )
    return redirect(url_for(".key_page"))


# --- routing: which monitor organisation receives which country -----------------------------


def _coverage_page(status: int = 200, **forms: Any) -> Any:
    organisations = s.monitor_organisations()
    return render_template(
        "testimony/coverage.html",
        rows=operations.coverage_rows(),
        changes=routing.recent_changes(),
        wait_days=routing.wait_days(),
        form=forms.get("form") or CoverageForm(organisations, formdata=None),
        fallback_form=forms.get("fallback_form") or FallbackForm(organisations, formdata=None),
        action_form=ActionForm(formdata=None),
    ), status


@coverage_bp.route("")
@roles(*COVERAGE_ROLES)
def coverage() -> Any:
    s.require(can_manage_coverage(s.me()))
    return _coverage_page()


def _show_change(change: CoverageChange) -> Any:
    """Say what became of a requested routing change, and show it."""
    flash(*s.change_requested(change))
    return redirect(url_for("routing.change", change_id=change.id))


def _set_coverage(form: CoverageForm | FallbackForm, name: str, country: str | None = None) -> Any:
    s.require(can_manage_coverage(s.me()))
    extra = {"country": country}
    args = form_args(SetMonitorCoverageArgs, form, rename={"organisation_id": "organisation"}, extra=extra)
    try:
        if args is None:
            return _coverage_page(422, **{name: form})
        change = attempt(s.request_coverage, s.me(), args["organisation_id"], args["country"])
    except OperationError as exc:
        apply_error(form, exc, rename={"organisation_id": "organisation"})
        return _coverage_page(422, **{name: form})
    return _show_change(change)


@coverage_bp.route("", methods=["POST"])
@roles(*COVERAGE_ROLES)
def set_coverage() -> Any:
    form = CoverageForm(s.monitor_organisations())
    return _set_coverage(form, "form", form.country.data)


@coverage_bp.route("/fallback", methods=["POST"])
@roles(*COVERAGE_ROLES)
def set_fallback() -> Any:
    return _set_coverage(FallbackForm(s.monitor_organisations()), "fallback_form")


@coverage_bp.route("/<int:coverage_id>/remove", methods=["POST"])
@roles(*COVERAGE_ROLES)
def remove_coverage(coverage_id: int) -> Any:
    s.require(can_manage_coverage(s.me()))
    row = s.load_coverage(coverage_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for(".coverage"))
    try:
        change = attempt(routing.request_change, s.me(), country=row.country, organisation=None)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".coverage"))
    return _show_change(change)
