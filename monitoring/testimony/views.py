"""HTML pages for monitors: intake, reports, opening sealed content, the conversation, files.

Every page here is for monitors of the receiving organisation and for coordinators a report
was shared with; administrators, affiliates and suppliers get 404 on all of them, as anyone
does for a report of another organisation. Nothing sealed is shown unless a monitor asks for
it with a reason (a POST), and then only in that one response; sealing audits each opening.

A refused opening (keys locked, no access, or a ciphertext that does not open) answers 403
with an explanation and, for locked keys or missing access, a link to the "Keys and access"
page. The audit entry of the attempt is committed first.

Which monitor organisation receives which country's reports (``/coverage``) is routing
metadata for administrators and coordinators; what they ask for there waits for the consent of
the organisation receiving the reports today (:mod:`.routing`, pages in :mod:`.routing_views`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from monitoring.accounts import keys
from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.core import uploads
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.downloads import attachment
from monitoring.core.errors import error_response
from monitoring.core.forms import apply_error
from monitoring.core.operations import OperationError
from monitoring.core.pagination import paginate
from monitoring.supplychain.models import Site
from monitoring.testimony import operations, routing, sealing
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
from monitoring.testimony.models import (
    CoverageChange,
    CoverageChangeState,
    Evidence,
    MonitorCoverage,
    ReportGrant,
    ReportStatus,
    WorkerReport,
)
from monitoring.testimony.operations import IntakeData, OpenReason
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
    visible_evidence,
    visible_grants,
    visible_reports,
)
from monitoring.testimony.schemas import ReportDetailView, ReportView

logger = logging.getLogger(__name__)

bp = Blueprint("testimony", __name__, url_prefix="/testimony")
coverage_bp = Blueprint("coverage", __name__, url_prefix="/coverage")

# Re-wrapping after a key rotation: keys per batch (one transaction each) and batches per request.
REWRAP_BATCH_SIZE = 200
REWRAP_BATCHES_PER_REQUEST = 10
# Re-encryption rewrites every field and file of a report: fewer per request.
REENCRYPT_BATCH_SIZE = 20
REENCRYPT_BATCHES_PER_REQUEST = 5
# Room for the multipart envelope around an evidence file.
UPLOAD_OVERHEAD_BYTES = 64 * 1024


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _require(allowed: bool) -> None:
    """Refuse like a missing page, so a refusal tells nothing."""
    if not allowed:
        abort(404)


def load_report(report_id: int) -> ReportView:
    """The report with its overdue flags (computed in SQL), if the user may see it (else 404)."""
    query = (
        visible_reports(_me()).add_columns(*operations.deadline_columns()).where(WorkerReport.id == report_id)
    )
    row = db.session.execute(query).first()
    if row is None:
        abort(404)
    return ReportView(row[0], bool(row[1]), bool(row[2]))


def member_report(report_id: int, check: Any) -> WorkerReport:
    """The report, if the user may see it and ``check(user, report)`` allows (else 404)."""
    view = load_report(report_id)
    _require(check(_me(), view.report))
    return view.report


def report_detail(view: ReportView) -> ReportDetailView:
    """The report with the files and grants the user may see."""
    user = _me()
    evidence = list(db.session.scalars(visible_evidence(user, view.report).order_by(Evidence.id)))
    grants = list(db.session.scalars(visible_grants(user, view.report).order_by(ReportGrant.id)))
    return ReportDetailView(view.report, view.acknowledge_overdue, view.feedback_overdue, evidence, grants)


def sealed_refusal(exc: sealing.SealedAccessError) -> Any:
    """Commit the audit entry of the failed opening, then explain without details (403)."""
    db.session.commit()
    if exc.kind == "locked" or exc.kind == "no_access":
        message = str(exc.message)
    else:
        message = _(
            "The sealed content could not be opened. The attempt was recorded. "
            "If this keeps happening, tell the people who run this system."
        )
    show_keys_link = exc.kind in ("locked", "no_access")
    return (
        render_template("testimony/sealed_error.html", message=message, show_keys_link=show_keys_link),
        403,
    )


def _size_text(size: int) -> str:
    return _("%(size)s MB", size=format_decimal(size / (1024 * 1024), format="#,##0.#"))


@bp.app_template_global("testimony_file_size")
def file_size(size: int) -> str:
    """A file's size in the user's language (KB below a megabyte)."""
    if size < 1024 * 1024:
        return _("%(size)s KB", size=format_decimal(size / 1024, format="#,##0.#"))
    return _size_text(size)


@bp.app_template_global("testimony_deadlines")
def testimony_deadlines() -> operations.DeadlineCounts | None:
    """Deadline counts for a monitor's start page (None for everyone else)."""
    user = _me()
    if not can_record_report(user):
        return None
    return operations.deadline_counts(user)


@bp.app_template_global("testimony_country")
def country_name(code: str | None) -> str:
    return operations.country_name(code)


# --- the list -------------------------------------------------------------------------------


@bp.route("/reports")
@roles(*SEALED_ROLES)
def reports() -> Any:
    user = _me()
    form = ReportFilterForm(formdata=request.args)
    form.validate()
    now = operations.current_time()
    query = visible_reports(user).add_columns(*operations.deadline_columns(now))
    # A filter that does not parse is shown with its error and left out.
    if form.status.data and not form.status.errors:
        query = query.where(WorkerReport.status == ReportStatus(form.status.data))
    if form.channel.data and not form.channel.errors:
        query = query.where(WorkerReport.channel == form.channel.data)
    if form.country.data and not form.country.errors:
        query = query.where(WorkerReport.country == form.country.data)
    if form.overdue.data:
        query = query.where(operations.overdue(now))
    page = paginate(
        db.session,
        query,
        key_columns=[WorkerReport.created_dt.desc(), WorkerReport.id.desc()],
        after=request.args.get("after"),
    )
    page.items = [ReportView(r, bool(a), bool(f)) for r, a, f in page.items]
    filters = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template(
        "testimony/reports.html",
        form=form,
        page=page,
        filters=filters,
        first_page=not request.args.get("after"),
        can_record=can_record_report(user),
    )


# --- intake ---------------------------------------------------------------------------------


def _intake_sites(query: str, chosen: str | None) -> list[Site]:
    """The sites the search found, plus the one chosen before (so a re-shown form keeps it)."""
    sites = operations.search_sites(query) if query else []
    if chosen and chosen != NO_SITE and chosen.isdigit() and all(str(s.id) != chosen for s in sites):
        site = db.session.get(Site, int(chosen))
        if site is not None and site.merged_into_id is None:
            sites.append(site)
    return sites


@bp.route("/reports/new", methods=["GET", "POST"])
@roles(UserRole.monitor)
def intake() -> Any:
    user = _me()
    _require(can_record_report(user))
    search = SiteSearchForm(formdata=request.args)
    search.validate()
    query = (request.form.get("q") if request.method == "POST" else search.q.data) or ""
    sites = _intake_sites(query.strip()[:200], request.form.get("site"))
    form = IntakeForm(sites)
    if request.method == "GET":
        form.q.data = query
        form.site.data = None if sites else NO_SITE
        form.collected_date.data = operations.current_time().date()
    if form.validate_on_submit():
        site = db.session.get(Site, form.site_id) if form.site_id is not None else None
        data = IntakeData(
            site=site,
            country=form.country.data or None if site is None else None,
            workplace=form.workplace.data or "",
            channel=operations.ReportChannel(form.channel.data),
            collected_date=form.collected_date.data,
            language=form.language.data or "",
            identity=sealing.Identity(
                name=form.name.data or "",
                contact=form.contact.data or "",
                employee_number=form.employee_number.data or "",
                employer=form.employer.data or "",
                nationality=form.nationality.data or "",
                gender=form.gender.data or "",
                age_band=form.age_band.data or "",
            ),
            testimony=form.testimony.data or "",
            categories=[operations.IssueCategory(c) for c in form.categories.data or []],
            consent_share_buyers=form.consent_share_buyers.data,
            consent_share_supplier=form.consent_share_supplier.data,
            consent_contact=form.consent_contact.data,
            retaliation_risk=(
                operations.RetaliationRisk(form.retaliation_risk.data) if form.retaliation_risk.data else None
            ),
        )
        try:
            report = operations.record_report(user, data)
        except OperationError as exc:
            apply_error(form, exc)
        else:
            db.session.commit()
            flash(_("The testimony was sealed and saved as report %(id)s.", id=report.id), "success")
            return redirect(url_for(".report", report_id=report.id))
    has_key = keys.current_organisation_key(user.organisation) is not None
    return render_template("testimony/intake.html", form=form, search=search, sites=sites, has_key=has_key)


# --- one report -----------------------------------------------------------------------------


def _next_statuses(report: WorkerReport) -> list[ReportStatus]:
    order = list(ReportStatus)
    return sorted(operations.TRANSITIONS[report.status], key=order.index)


def _detail(view: ReportView, *, status: int = 200, **forms: Any) -> Any:
    """Render a report's page: metadata, and the sealed content when it was just opened."""
    report = view.report
    member = is_member(_me(), report)
    detail = report_detail(view)
    statuses = _next_statuses(report)
    context: dict[str, Any] = {
        "view": detail,
        "member": member,
        "open_form": forms.pop("open_form", None) or OpenForm(formdata=None),
        "opened": forms.pop("opened", None),
        "reason": forms.pop("reason", None),
        "action_form": ActionForm(formdata=None),
        "max_upload": _size_text(current_app.config["EVIDENCE_MAX_BYTES"]),
        "language_name": operations.language_name(report.language),
        "titles": {
            "gender": {g.value: g.title for g in operations.Gender},
            "age_band": {a.value: a.title for a in operations.AgeBand},
        },
    }
    if member:
        context.update(
            status_form=forms.pop("status_form", None) or StatusForm(statuses, formdata=None),
            reply_form=forms.pop("reply_form", None) or ReplyForm(formdata=None),
            evidence_form=EvidenceForm(formdata=None),
            share_form=ShareForm(operations.shareable_coordinators(report), formdata=None),
        )
    return render_template("testimony/report.html", **context), status


@bp.route("/reports/<int:report_id>")
@roles(*SEALED_ROLES)
def report(report_id: int) -> Any:
    return _detail(load_report(report_id))


def _reason(form: OpenForm) -> str:
    """The audited reason from a validated OpenForm; OperationError if "other" lacks words."""
    return operations.reason_text(OpenReason(form.reason.data), form.reason_text.data or "")


@bp.route("/reports/<int:report_id>/open", methods=["POST"])
@roles(*SEALED_ROLES)
def open_report(report_id: int) -> Any:
    user = _me()
    view = load_report(report_id)
    _require(can_open_report(user, view.report))
    form = OpenForm()
    if not form.validate_on_submit():
        return _detail(view, status=422, open_form=form)
    try:
        reason = _reason(form)
    except OperationError as exc:
        apply_error(form, exc)
        return _detail(view, status=422, open_form=form)
    try:
        opened = operations.open_report(user, view.report, reason)
    except sealing.SealedAccessError as exc:
        return sealed_refusal(exc)
    db.session.commit()  # the audit entries of this opening
    return _detail(view, opened=opened, reason=form, open_form=form)


def _report_action(report_id: int, change: Callable[[User, WorkerReport], Any], done: str) -> Any:
    """A button that makes one change to a report: say how it went, back on the report's page."""
    report = member_report(report_id, can_manage_report)
    if ActionForm().validate_on_submit():
        try:
            change(_me(), report)
        except OperationError as exc:
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(done, "success")
    return redirect(url_for(".report", report_id=report.id))


@bp.route("/reports/<int:report_id>/acknowledge", methods=["POST"])
@roles(UserRole.monitor)
def acknowledge(report_id: int) -> Any:
    return _report_action(report_id, operations.acknowledge, _("The report is acknowledged."))


@bp.route("/reports/<int:report_id>/status", methods=["POST"])
@roles(UserRole.monitor)
def change_status(report_id: int) -> Any:
    view = load_report(report_id)
    _require(can_manage_report(_me(), view.report))
    report = view.report
    form = StatusForm(_next_statuses(report))
    if not form.validate_on_submit():
        return _detail(view, status=422, status_form=form)
    try:
        operations.set_status(_me(), report, ReportStatus(form.status.data))
    except OperationError as exc:
        apply_error(form, exc)
        return _detail(view, status=422, status_form=form)
    db.session.commit()
    flash(_("The report is now “%(status)s”.", status=report.status.title), "success")
    return redirect(url_for(".report", report_id=report.id))


@bp.route("/reports/<int:report_id>/feedback", methods=["POST"])
@roles(UserRole.monitor)
def record_feedback(report_id: int) -> Any:
    return _report_action(report_id, operations.record_feedback, _("The feedback to the worker is recorded."))


@bp.route("/reports/<int:report_id>/messages", methods=["POST"])
@roles(UserRole.monitor)
def reply(report_id: int) -> Any:
    view = load_report(report_id)
    _require(can_manage_report(_me(), view.report))
    form = ReplyForm()
    if not form.validate_on_submit():
        return _detail(view, status=422, reply_form=form)
    try:
        operations.reply_to_worker(_me(), view.report, form.body.data or "", feedback=form.feedback.data)
    except OperationError as exc:
        apply_error(form, exc)
        return _detail(view, status=422, reply_form=form)
    db.session.commit()
    flash(_("Your message was sealed. The worker reads it with their receipt code."), "success")
    return redirect(url_for(".report", report_id=report_id))


# --- evidence files -------------------------------------------------------------------------


def upload_limit(*, multipart: bool = True) -> int:
    """The largest request body an evidence upload may have (a form adds its envelope)."""
    limit = int(current_app.config["EVIDENCE_MAX_BYTES"])
    return limit + UPLOAD_OVERHEAD_BYTES if multipart else limit


def too_large_message() -> str:
    return _(
        "The file is too large. Files may be at most %(size)s.",
        size=_size_text(current_app.config["EVIDENCE_MAX_BYTES"]),
    )


@bp.route("/reports/<int:report_id>/evidence", methods=["POST"])
@roles(UserRole.monitor)
def upload_evidence(report_id: int) -> Any:
    report = member_report(report_id, can_add_evidence)
    # The CSRF token is checked after the size: checking it first would read the whole body.
    if not uploads.accept_form(upload_limit()):
        return error_response(413, too_large_message())
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a file."), "error")
        return redirect(url_for(".report", report_id=report.id))
    try:
        operations.add_evidence(_me(), report, upload.stream, upload.filename)
    except OperationError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".report", report_id=report.id))
    db.session.commit()
    flash(_("The file was sealed and added to the report."), "success")
    return redirect(url_for(".report", report_id=report.id))


uploads.csrf_checked_in_view(bp, upload_evidence)


def download_response(evidence: Evidence, name: str, chunks: Any) -> Response:
    """Stream a decrypted evidence file as an attachment."""
    fallback = f"evidence-{evidence.id}{sealing.ALLOWED_TYPES.get(evidence.content_type, '')}"
    return attachment(
        chunks, name=name, fallback=fallback, content_type=evidence.content_type, size=evidence.size
    )


@bp.route("/reports/<int:report_id>/evidence/<int:evidence_id>/download", methods=["POST"])
@roles(UserRole.monitor)
def download_evidence(report_id: int, evidence_id: int) -> Any:
    user = _me()
    report = member_report(report_id, can_open_evidence)
    evidence = db.session.scalar(visible_evidence(user, report).where(Evidence.id == evidence_id))
    if evidence is None:
        abort(404)
    form = OpenForm()
    try:
        if not form.validate_on_submit():
            raise OperationError(_("Choose why you open the file."), "reason")
        reason = _reason(form)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".report", report_id=report.id))
    try:
        name, chunks = operations.open_evidence(user, evidence, reason)
    except sealing.SealedAccessError as exc:
        return sealed_refusal(exc)
    db.session.commit()  # the audit entry of this opening
    return download_response(evidence, name, chunks)


# --- sharing with coordinators --------------------------------------------------------------


@bp.route("/reports/<int:report_id>/grants", methods=["POST"])
@roles(UserRole.monitor)
def share(report_id: int) -> Any:
    user = _me()
    report = member_report(report_id, can_share_report)
    coordinators = operations.shareable_coordinators(report)
    form = ShareForm(coordinators)
    if not form.validate_on_submit():
        flash(_("Choose a coordinator."), "error")
        return redirect(url_for(".report", report_id=report.id))
    grantee = next(c for c in coordinators if c.id == form.user.data)
    try:
        operations.share_report(user, report, grantee)
    except sealing.SealedAccessError as exc:
        return sealed_refusal(exc)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".report", report_id=report.id))
    db.session.commit()
    flash(_("%(name)s can now read this report.", name=grantee.name), "success")
    return redirect(url_for(".report", report_id=report.id))


@bp.route("/reports/<int:report_id>/grants/<int:grant_id>/revoke", methods=["POST"])
@roles(UserRole.monitor)
def revoke_share(report_id: int, grant_id: int) -> Any:
    user = _me()
    report = member_report(report_id, can_share_report)
    grant = db.session.scalar(visible_grants(user, report).where(ReportGrant.id == grant_id))
    if grant is None:
        abort(404)
    if ActionForm().validate_on_submit():
        name = grant.user.name
        operations.stop_sharing(user, grant)
        db.session.commit()
        flash(_("%(name)s can no longer read this report.", name=name), "success")
    return redirect(url_for(".report", report_id=report.id))


# --- organisation key versions --------------------------------------------------------------


@bp.route("/keys")
@roles(UserRole.monitor)
def key_page() -> Any:
    user = _me()
    _require(can_manage_organisation_keys(user))
    return _key_page(user)


def _key_page(user: User, recovery_form: RecoveryUpgradeForm | None = None, status: int = 200) -> Any:
    return (
        render_template(
            "testimony/keys.html",
            form=RewrapForm(),
            reencrypt_form=ReencryptForm(),
            rotate_form=RotateKeyForm(),
            recovery_form=recovery_form or RecoveryUpgradeForm(),
            versions=operations.key_versions(user.organisation),
        ),
        status,
    )


@bp.route("/keys/rewrap", methods=["POST"])
@roles(UserRole.monitor)
def rewrap() -> Any:
    user = _me()
    _require(can_manage_organisation_keys(user))
    if not RewrapForm().validate_on_submit():
        return redirect(url_for(".key_page"))
    try:
        # Each batch is committed on its own, so an interrupted run keeps what it did.
        result = operations.rewrap_versions(
            user,
            batch_size=REWRAP_BATCH_SIZE,
            max_batches=REWRAP_BATCHES_PER_REQUEST,
            end_batch=db.session.commit,
        )
    except sealing.SealedAccessError as exc:
        return sealed_refusal(exc)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".key_page"))
    if result.to_rewrap:
        flash(
            _(
                "%(done)d keys were re-sealed to the newest version; %(left)d are left. "
                "Continue to move the rest.",
                done=result.rewrapped,
                left=result.to_rewrap,
            ),
            "warning",
        )
    else:
        flash(
            _(
                "Everything is sealed to the newest version (%(done)d keys moved now). "
                "Older versions retired: %(versions)s.",
                done=result.rewrapped,
                versions=", ".join(str(v) for v in result.retired_versions) or _("none"),
            ),
            "success",
        )
    return redirect(url_for(".key_page"))


@bp.route("/keys/reencrypt", methods=["POST"])
@roles(UserRole.monitor)
def reencrypt() -> Any:
    user = _me()
    _require(can_manage_organisation_keys(user))
    if not ReencryptForm().validate_on_submit():
        return redirect(url_for(".key_page"))
    try:
        # Each batch is committed on its own, so an interrupted run keeps what it did.
        result = operations.reencrypt_reports(
            user,
            batch_size=REENCRYPT_BATCH_SIZE,
            max_batches=REENCRYPT_BATCHES_PER_REQUEST,
            end_batch=db.session.commit,
        )
    except sealing.SealedAccessError as exc:
        return sealed_refusal(exc)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".key_page"))
    if result.to_reencrypt:
        flash(
            _(
                "%(done)d reports were re-encrypted under fresh keys; %(left)d are left. "
                "Continue to re-encrypt the rest.",
                done=result.reencrypted,
                left=result.to_reencrypt,
            ),
            "warning",
        )
    else:
        flash(
            _(
                "Every report is encrypted under keys made since the newest version (%(done)d "
                "re-encrypted now). Older versions retired: %(versions)s.",
                done=result.reencrypted,
                versions=", ".join(str(v) for v in result.retired_versions) or _("none"),
            ),
            "success",
        )
    return redirect(url_for(".key_page"))


@bp.route("/keys/rotate", methods=["POST"])
@roles(UserRole.monitor)
def rotate_key() -> Any:
    user = _me()
    _require(can_manage_organisation_keys(user))
    if not RotateKeyForm().validate_on_submit():
        return redirect(url_for(".key_page"))
    try:
        state = operations.rotate_key(user)
    except sealing.SealedAccessError as exc:
        return sealed_refusal(exc)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".key_page"))
    db.session.commit()
    flash(
        _(
            "Version %(version)d of your organisation's key is ready; new reports are sealed to it. "
            "Re-wrap the older reports now.",
            version=state.current_version,
        ),
        "success",
    )
    return redirect(url_for(".key_page"))


@bp.route("/keys/recovery-key", methods=["POST"])
@roles(UserRole.monitor)
def upgrade_recovery_key() -> Any:
    user = _me()
    _require(can_manage_organisation_keys(user))
    form = RecoveryUpgradeForm()
    if not form.validate_on_submit():
        return _key_page(user, form, 422)
    try:
        result = operations.upgrade_recovery_key(user, form.recovery_code.data or "")
    except OperationError as exc:
        form.recovery_code.errors = [str(exc.message)]
        return _key_page(user, form, 422)
    db.session.commit()
    flash(
        _(
            "The recovery key is now post-quantum for every version (%(versions)s). "
            "The recovery code stays the same.",
            versions=", ".join(str(v) for v in result.upgraded_versions) or _("none"),
        ),
        "success",
    )
    return redirect(url_for(".key_page"))


# --- routing: which monitor organisation receives which country -----------------------------


def _monitor_organisations() -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrganisationKind.monitor, Organisation.is_active.is_(True))
            .order_by(func.lower(Organisation.name), Organisation.id)
        )
    )


def _coverage_page(status: int = 200, **forms: Any) -> Any:
    organisations = _monitor_organisations()
    rows = operations.coverage_rows()
    return (
        render_template(
            "testimony/coverage.html",
            rows=rows,
            changes=routing.recent_changes(),
            wait_days=routing.wait_days(),
            form=forms.get("form") or CoverageForm(organisations, formdata=None),
            fallback_form=forms.get("fallback_form") or FallbackForm(organisations, formdata=None),
            action_form=ActionForm(formdata=None),
        ),
        status,
    )


@coverage_bp.route("")
@roles(*COVERAGE_ROLES)
def coverage() -> Any:
    _require(can_manage_coverage(_me()))
    return _coverage_page()


def _change_requested(change: CoverageChange) -> Any:
    """Say what became of a requested routing change, and show it."""
    if change.state is CoverageChangeState.pending:
        flash(
            _(
                "The change waits until %(date)s for the consent of %(organisation)s: a member can "
                "confirm it sooner, and the monitors of both organisations were told and can object.",
                date=format_date(change.effective_dt),
                organisation=change.from_organisation.name if change.from_organisation else "",
            ),
            "warning",
        )
    else:
        flash(_("The change is in force: nobody else received these reports."), "success")
    return redirect(url_for("routing.change", change_id=change.id))


def _set_coverage(form: CoverageForm | FallbackForm, country: str | None, name: str) -> Any:
    organisation = db.session.get(Organisation, form.organisation.data)
    if organisation is None:
        abort(404)
    try:
        change = routing.request_change(_me(), country=country, organisation=organisation)
    except OperationError as exc:
        apply_error(form, exc)
        return _coverage_page(422, **{name: form})
    db.session.commit()
    return _change_requested(change)


@coverage_bp.route("", methods=["POST"])
@roles(*COVERAGE_ROLES)
def set_coverage() -> Any:
    _require(can_manage_coverage(_me()))
    form = CoverageForm(_monitor_organisations())
    if not form.validate_on_submit():
        return _coverage_page(422, form=form)
    return _set_coverage(form, form.country.data, "form")


@coverage_bp.route("/fallback", methods=["POST"])
@roles(*COVERAGE_ROLES)
def set_fallback() -> Any:
    _require(can_manage_coverage(_me()))
    form = FallbackForm(_monitor_organisations())
    if not form.validate_on_submit():
        return _coverage_page(422, fallback_form=form)
    return _set_coverage(form, None, "fallback_form")


@coverage_bp.route("/<int:coverage_id>/remove", methods=["POST"])
@roles(*COVERAGE_ROLES)
def remove_coverage(coverage_id: int) -> Any:
    _require(can_manage_coverage(_me()))
    row = db.session.get(MonitorCoverage, coverage_id)
    if row is None:
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            change = routing.request_change(_me(), country=row.country, organisation=None)
        except OperationError as exc:
            flash(str(exc.message), "error")
            return redirect(url_for(".coverage"))
        db.session.commit()
        return _change_requested(change)
    return redirect(url_for(".coverage"))
