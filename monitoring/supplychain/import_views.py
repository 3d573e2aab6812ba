"""HTML pages for imports and for reviewing likely duplicate sites."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from monitoring.core.auth import authenticated, roles
from monitoring.core.column_mapping import SavedMapping
from monitoring.core.db import db
from monitoring.core.forms import apply_error, form_args
from monitoring.core.jobs import Job, JobState
from monitoring.core.operations import OperationError
from monitoring.core.pagination import paginate
from monitoring.core.roles import UserRole
from monitoring.core.transactions import attempt
from monitoring.supplychain import duplicates, import_mapping, imports, mapping_admin, services
from monitoring.supplychain.forms import (
    BulkReviewForm,
    ColumnMappingForm,
    DecisionForm,
    DisclosureImportForm,
    DuplicateFilterForm,
    FacilityImportForm,
    MergeForm,
    ProposeDuplicateForm,
)
from monitoring.supplychain.import_jobs import FACILITY_IMPORT, queue_facility_import
from monitoring.supplychain.models import DisclosurePart, Site, SiteDuplicate, SiteKind
from monitoring.supplychain.permissions import (
    DISCLOSURE_IMPORT_ROLES,
    READER_ROLES,
    can_import_facilities,
    can_review_duplicates,
    chooses_supplier_to_import_for,
    reviewable_sites,
    visible_duplicates,
    visible_jobs,
    visible_saved_mappings,
)
from monitoring.supplychain.schemas import (
    ListSiteDuplicatesArgs,
    ProposeSiteDuplicateArgs,
    ReviewSiteDuplicatesArgs,
)

logger = logging.getLogger(__name__)

bp = Blueprint("supplychain_tools", __name__)

# The name of each field's select on the column-mapping page (``macros/column_mapping.html``).
MAP_PREFIX = "map_"

current, require = services.current, services.require


def _upload_limit() -> int | None:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return int(limit) if limit else None


# --- imports --------------------------------------------------------------------------------


def _run_import(form: FlaskForm, context: dict[str, Any], run: Callable[[], Any], **shown: Any) -> int:
    """Run an import in a savepoint; put its result (with ``shown``) or refusal in ``context``.

    Returns the page's status: 422 for a refused file or form.
    """
    try:
        context.update(result=attempt(run), **shown)
    except imports.ImportRefused as exc:
        context["refused"] = {"errors": exc.errors, "total": exc.total, "message": exc.message}
        return 422
    except OperationError as exc:
        apply_error(form, exc)
        return 422
    return 200


@bp.route("/imports/facilities", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def import_facilities() -> Any:
    user = current()
    require(can_import_facilities(user))
    form = FacilityImportForm()
    context: dict[str, Any] = {"form": form, "upload_limit": _upload_limit()}
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = attempt(queue_facility_import, user, upload.stream, upload.filename or "", hold=True)
        except OperationError as exc:
            apply_error(form, exc)
        else:
            return redirect(url_for(".import_columns", job_id=job.id))
    return render_template("supplychain/import_facilities.html", **context), status


@bp.route("/imports/jobs/<int:job_id>")
@authenticated
def job(job_id: int) -> Any:
    """An import's progress; the page reloads itself every two seconds until the job is over."""
    found = services.load(visible_jobs(current()), Job.id == job_id)
    if found.state == JobState.waiting and found.kind == FACILITY_IMPORT:
        return redirect(url_for(".import_columns", job_id=found.id))
    return render_template("supplychain/job.html", job=found, status=services.job_status(found))


def _render_columns(
    job: Job, form: ColumnMappingForm, proposal: import_mapping.MappingProposal, errors: dict[str, list[str]]
) -> str:
    return render_template(
        "supplychain/import_columns.html", job=job, form=form, proposal=proposal, errors=errors
    )


@bp.route("/imports/jobs/<int:job_id>/columns", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def import_columns(job_id: int) -> Any:
    """The column-mapping step of a held facility import: confirm (queue it) or cancel it."""
    user = current()
    found = services.load(visible_jobs(user), Job.id == job_id, Job.kind == FACILITY_IMPORT)
    require(can_import_facilities(user))
    if found.state != JobState.waiting:
        return redirect(url_for(".job", job_id=found.id))
    form = ColumnMappingForm()
    if not form.is_submitted():
        proposal = import_mapping.propose_mapping(user, found, saved_id=request.args.get("saved", type=int))
        return _render_columns(found, form, proposal, {})
    mapping = {f.key: request.form.get(MAP_PREFIX + f.key) or None for f in import_mapping.FACILITY_FIELDS}
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            if request.form.get("action") == "cancel":
                attempt(import_mapping.cancel_import, user, found)
                flash(_("The import was cancelled: nothing was imported."), "success")
                return redirect(url_for(".import_facilities"))
            attempt(import_mapping.confirm_mapping, user, found, mapping, form.save_as.data)
        except import_mapping.MappingRefused as exc:
            for key, message in exc.errors:
                if key is None:
                    form.form_errors.append(str(message))
                else:
                    errors.setdefault(key, []).append(str(message))
        except OperationError as exc:
            apply_error(form, exc)
        else:
            return redirect(url_for(".job", job_id=found.id))
    proposal = import_mapping.propose_mapping(user, found, mapping=mapping)
    return _render_columns(found, form, proposal, errors), 422


@bp.route("/imports/disclosures", methods=["GET", "POST"])
@roles(*DISCLOSURE_IMPORT_ROLES)
def import_disclosures() -> Any:
    user = current()
    form = DisclosureImportForm()
    if chooses_supplier_to_import_for(user):
        suppliers = (SelectChoice(str(o.id), o.name) for o in services.active_suppliers())
        form.supplier.choices = [SelectChoice("", _("Choose a supplier")), *suppliers]
    else:
        del form.supplier
    context: dict[str, Any] = {
        "form": form,
        "upload_limit": _upload_limit(),
        "part_values": ", ".join(p.value for p in DisclosurePart),
        "kind_values": ", ".join(k.value for k in SiteKind),
    }
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        upload = form.file.data

        def run() -> imports.DisclosureImportResult:
            context["supplier"] = services.import_supplier(
                user, form.supplier.data if "supplier" in form else None
            )
            return imports.import_disclosures(
                user, context["supplier"], upload.stream, filename=upload.filename or ""
            )

        status = _run_import(form, context, run, filename=upload.filename)
    return render_template("supplychain/import_disclosures.html", **context), status


# --- saved column mappings ---------------------------------------------------------------------


class RenameMappingForm(FlaskForm):
    name = StringField(_l("New name"), validators=[InputRequired(), Length(max=mapping_admin.NAME_LENGTH)])


@bp.route("/imports/mappings")
@roles(*READER_ROLES)
def saved_mappings() -> Any:
    """The column mappings the user's organisation saved, with a rename link and a delete button."""
    after = request.args.get("after")
    page = paginate(
        db.session(),
        visible_saved_mappings(current()),
        key_columns=list(mapping_admin.MAPPING_ORDER),
        after=after,
    )
    return render_template(
        "supplychain/saved_mappings.html",
        page=mapping_admin.describe_page(page),
        first_page=not after,
    )


def _own_mapping(mapping_id: int) -> SavedMapping:
    return services.load(visible_saved_mappings(current()), SavedMapping.id == mapping_id)


@bp.route("/imports/mappings/<int:mapping_id>", methods=["GET", "POST"])
@roles(*READER_ROLES)
def saved_mapping(mapping_id: int) -> Any:
    """One saved mapping's fields and columns, with a form to rename it."""
    saved = _own_mapping(mapping_id)
    form = RenameMappingForm()
    if not form.is_submitted():
        form.name.data = saved.name
    args = form_args(mapping_admin.RenameSavedMappingArgs, form) if form.is_submitted() else None
    if args is not None:
        try:
            attempt(mapping_admin.rename_mapping, current(), saved, args["name"])
        except OperationError as exc:
            apply_error(form, exc)
        else:
            flash(_("The mapping is now called %(name)s.", name=saved.name), "success")
            return redirect(url_for(".saved_mappings"))
    page = render_template(
        "supplychain/saved_mapping.html", mapping=mapping_admin.describe_one(saved), form=form
    )
    return page, 422 if form.is_submitted() else 200


@bp.route("/imports/mappings/<int:mapping_id>/delete", methods=["POST"])
@roles(*READER_ROLES)
def saved_mapping_delete(mapping_id: int) -> Any:
    saved = _own_mapping(mapping_id)
    name = saved.name
    try:
        attempt(mapping_admin.delete_mapping, current(), saved)
    except OperationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The mapping %(name)s was deleted.", name=name), "success")
    return redirect(url_for(".saved_mappings"))


# --- likely duplicates ----------------------------------------------------------------------


def _pair(duplicate_id: int) -> SiteDuplicate:
    user = current()
    pair = services.load(visible_duplicates(user), SiteDuplicate.id == duplicate_id)
    require(can_review_duplicates(user))
    return pair


@bp.route("/sites/duplicates")
@roles(UserRole.coordinator)
def duplicate_list() -> Any:
    require(can_review_duplicates(current()))
    return _render_duplicate_list(BulkReviewForm(formdata=None))


def _render_duplicate_list(review_form: BulkReviewForm) -> Any:
    user = current()
    form = DuplicateFilterForm(formdata=request.args)
    args = services.lenient_args(ListSiteDuplicatesArgs, {"state": request.args.get("state")})
    after = request.args.get("after")
    page = paginate(
        db.session(),
        services.list_duplicates(user, args),
        key_columns=list(services.DUPLICATE_ORDER),
        after=after,
    )
    site_ids = {d.site_id for d in page.items} | {d.candidate_id for d in page.items}
    return render_template(
        "supplychain/duplicates.html",
        form=form,
        review_form=review_form,
        page=page,
        state=args["state"],
        counts=duplicates.disclosure_counts(site_ids),
        similarity=duplicates.similarity,
        filters={k: v for k, v in request.args.items() if k != "after" and v},
        first_page=not after,
        reason_title=duplicates.reason_title,
    )


@bp.route("/sites/duplicates/review", methods=["POST"])
@roles(UserRole.coordinator)
def duplicate_review() -> Any:
    """Merge the open pairs from one similarity up and dismiss those below another."""
    user = current()
    require(can_review_duplicates(user))
    form = BulkReviewForm()
    args = form_args(ReviewSiteDuplicatesArgs, form)
    if args is None:
        return _render_duplicate_list(form), 422
    try:
        review = attempt(
            duplicates.review_duplicates,
            user,
            accept_from=args["accept_from"],
            dismiss_below=args["dismiss_below"],
        )
    except OperationError as exc:
        apply_error(form, exc)
        return _render_duplicate_list(form), 422
    flash(
        _(
            "Pairs merged: %(merged)d. Pairs dismissed: %(dismissed)d.",
            merged=len(review.merged),
            dismissed=len(review.dismissed),
        ),
        "success",
    )
    if review.left:
        flash(
            ngettext(
                "%(num)d more pair matches: review again to decide it.",
                "%(num)d more pairs match: review again to decide them.",
                review.left,
            ),
            "info",
        )
    return redirect(url_for(".duplicate_list"))


def _propose(user: Any, form: ProposeDuplicateForm, args: dict[str, Any]) -> SiteDuplicate | None:
    sites = {
        s.id: s
        for s in db.session.scalars(
            reviewable_sites(user).where(Site.id.in_([args["site_id"], args["candidate_id"]]))
        )
    }
    missing = [f for f in (form.site_id, form.candidate_id) if f.data not in sites]
    for field in missing:
        field.errors = [*field.errors, _("There is no site with this number.")]
    if missing:
        return None
    return duplicates.propose_duplicate(
        user, sites[args["site_id"]], sites[args["candidate_id"]], args["reason"]
    )


@bp.route("/sites/duplicates/new", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def duplicate_propose() -> Any:
    user = current()
    require(can_review_duplicates(user))
    form = ProposeDuplicateForm()
    if request.method == "GET":
        form.site_id.data = request.args.get("site_id", type=int)
        form.candidate_id.data = request.args.get("candidate_id", type=int)
    args = form_args(ProposeSiteDuplicateArgs, form)
    try:
        duplicate = attempt(_propose, user, form, args) if args is not None else None
    except OperationError as exc:
        apply_error(form, exc)
        duplicate = None
    if duplicate is not None:
        flash(_("The two sites are proposed as duplicates."), "success")
        return redirect(url_for(".duplicate", duplicate_id=duplicate.id))
    return render_template("supplychain/duplicate_form.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/sites/duplicates/<int:duplicate_id>")
@roles(UserRole.coordinator)
def duplicate(duplicate_id: int) -> Any:
    return _render_duplicate(_pair(duplicate_id), MergeForm(), DecisionForm())


def _render_duplicate(pair: SiteDuplicate, merge_form: MergeForm, dismiss_form: DecisionForm) -> Any:
    return render_template(
        "supplychain/duplicate.html",
        pair=pair,
        counts=duplicates.disclosure_counts({pair.site_id, pair.candidate_id}),
        reason_title=duplicates.reason_title,
        merge_form=merge_form,
        dismiss_form=dismiss_form,
    )


def _decide(pair: SiteDuplicate, form: FlaskForm, run: Callable[[], str], then: str) -> Any:
    """Take a decision about a pair (``run`` says what was done); a refusal shows on the pair's page."""
    if not form.validate_on_submit():
        merge_form, dismiss_form = (
            (form, DecisionForm()) if isinstance(form, MergeForm) else (MergeForm(), form)
        )
        return _render_duplicate(pair, merge_form, dismiss_form), 422
    try:
        flash(attempt(run), "success")
    except OperationError as exc:
        flash(str(exc.message), "error")
        then = ".duplicate"
    return redirect(url_for(then, duplicate_id=pair.id) if then == ".duplicate" else url_for(then))


@bp.route("/sites/duplicates/<int:duplicate_id>/merge", methods=["POST"])
@roles(UserRole.coordinator)
def duplicate_merge(duplicate_id: int) -> Any:
    pair, form = _pair(duplicate_id), MergeForm()

    def merge() -> str:
        kept = duplicates.merge_duplicate(current(), pair, keep_candidate=form.keep.data == "candidate")
        return _("The sites were merged into %(name)s.", name=kept.name)

    return _decide(pair, form, merge, ".duplicate")


@bp.route("/sites/duplicates/<int:duplicate_id>/dismiss", methods=["POST"])
@roles(UserRole.coordinator)
def duplicate_dismiss(duplicate_id: int) -> Any:
    pair = _pair(duplicate_id)

    def dismiss() -> str:
        duplicates.dismiss_duplicate(current(), pair)
        return _("The pair was recorded as two different sites.")

    return _decide(pair, DecisionForm(), dismiss, ".duplicate_list")
