"""HTML pages for imports and for reviewing likely duplicate sites."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from wtforms import IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.forms import apply_error, optional_int
from monitoring.core.operations import OperationError
from monitoring.core.pagination import paginate
from monitoring.supplychain import duplicates, imports
from monitoring.supplychain.models import DisclosurePart, DuplicateState, Site, SiteDuplicate, SiteKind

logger = logging.getLogger(__name__)

bp = Blueprint("supplychain_tools", __name__)

_FILE_HINT = _l("A CSV file saved as UTF-8, with a header row.")


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _require(allowed: bool) -> None:
    """Refuse like a missing page, so a refusal tells nothing."""
    if not allowed:
        abort(404)


def _upload_limit() -> int | None:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return int(limit) if limit else None


# --- forms ----------------------------------------------------------------------------------


def _file_field() -> FileField:
    return FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a file to import."))],
        description=_FILE_HINT,
        render_kw={"accept": ".csv,text/csv"},
    )


class FacilityImportForm(FlaskForm):
    file = _file_field()


class DisclosureImportForm(FlaskForm):
    supplier = SelectField(
        _l("Supplier"),
        coerce=optional_int,
        validators=[InputRequired(_l("Choose the supplier the disclosures are made for."))],
        description=_l("The disclosures are recorded for this supplier, in your name."),
    )
    file = _file_field()


class ProposeDuplicateForm(FlaskForm):
    site_id = IntegerField(
        _l("Number of the site that stays"),
        validators=[InputRequired(_l("Give the number of a site.")), NumberRange(min=1)],
        description=_l("The number at the end of the site page's address, e.g. 12 for /sites/12."),
    )
    candidate_id = IntegerField(
        _l("Number of the site to merge into it"),
        validators=[InputRequired(_l("Give the number of a site.")), NumberRange(min=1)],
    )
    reason = StringField(
        _l("Why they look like one place (optional)"), validators=[Optional(), Length(max=200)]
    )


class MergeForm(FlaskForm):
    keep = RadioField(
        _l("Which site stays?"),
        choices=[
            SelectChoice("site", _l("The first site")),
            SelectChoice("candidate", _l("The second site")),
        ],
        default="site",
        validators=[InputRequired()],
    )


class DecisionForm(FlaskForm):
    """A button that only needs the CSRF token."""


class DuplicateFilterForm(FlaskForm):
    """A GET form that narrows the list; it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    state = SelectField(_l("Show"), default=DuplicateState.proposed.value)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state.choices = [SelectChoice(s.value, s.title) for s in DuplicateState]


# --- imports --------------------------------------------------------------------------------


def _refused(exc: imports.ImportRefused) -> dict[str, Any]:
    return {"errors": exc.errors, "total": exc.total, "message": exc.message}


def _run_import(form: FlaskForm, context: dict[str, Any], run: Callable[[], Any], **shown: Any) -> int:
    """Run an import in one transaction; put its result (with ``shown``) or refusal in ``context``.

    Returns the page's status: 422 for a refused file.
    """
    try:
        result = run()
    except imports.ImportRefused as exc:
        db.session.rollback()
        context["refused"] = _refused(exc)
        return 422
    except OperationError as exc:
        db.session.rollback()
        apply_error(form, exc)
        return 200
    db.session.commit()
    context.update(result=result, **shown)
    return 200


@bp.route("/imports/facilities", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def import_facilities() -> Any:
    user = _user()
    _require(imports.can_import_facilities(user))
    form = FacilityImportForm()
    context: dict[str, Any] = {"form": form, "upload_limit": _upload_limit()}
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        status = _run_import(
            form,
            context,
            lambda: imports.import_facilities(user, upload.stream, filename=upload.filename or ""),
            filename=upload.filename,
        )
    elif form.is_submitted():
        status = 422
    return render_template("supplychain/import_facilities.html", **context), status


def _suppliers() -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrganisationKind.supplier, Organisation.is_active.is_(True))
            .order_by(func.lower(Organisation.name), Organisation.id)
        )
    )


@bp.route("/imports/disclosures", methods=["GET", "POST"])
@roles(UserRole.supplier, UserRole.coordinator)
def import_disclosures() -> Any:
    user = _user()
    form = DisclosureImportForm()
    if user.role is UserRole.supplier:
        del form.supplier
        supplier: Organisation | None = user.organisation
    else:
        form.supplier.choices = [
            SelectChoice("", _("Choose a supplier")),
            *(SelectChoice(str(o.id), o.name) for o in _suppliers()),
        ]
        supplier = None
    context: dict[str, Any] = {
        "form": form,
        "upload_limit": _upload_limit(),
        "part_values": ", ".join(p.value for p in DisclosurePart),
        "kind_values": ", ".join(k.value for k in SiteKind),
    }
    status = 200
    if form.validate_on_submit():
        if supplier is None:
            supplier = db.session.get(Organisation, form.supplier.data)
        _require(supplier is not None and imports.can_import_disclosures(user, supplier))
        upload = form.file.data
        status = _run_import(
            form,
            context,
            lambda: imports.import_disclosures(user, supplier, upload.stream, filename=upload.filename or ""),
            filename=upload.filename,
            supplier=supplier,
        )
    elif form.is_submitted():
        status = 422
    return render_template("supplychain/import_disclosures.html", **context), status


# --- likely duplicates ----------------------------------------------------------------------


def _load_duplicate(user: User, duplicate_id: int) -> SiteDuplicate:
    duplicate = db.session.scalar(duplicates.visible_duplicates(user).where(SiteDuplicate.id == duplicate_id))
    if duplicate is None:
        abort(404)
    return duplicate


@bp.route("/sites/duplicates")
@roles(UserRole.coordinator)
def duplicate_list() -> Any:
    user = _user()
    _require(duplicates.can_review_duplicates(user))
    form = DuplicateFilterForm(formdata=request.args)
    state = DuplicateState.proposed
    if form.validate() and form.state.data:
        state = DuplicateState(form.state.data)
    query = duplicates.visible_duplicates(user).where(SiteDuplicate.state == state)
    page = paginate(db.session, query, key_columns=[SiteDuplicate.id.desc()], after=request.args.get("after"))
    site_ids = {d.site_id for d in page.items} | {d.candidate_id for d in page.items}
    filters = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template(
        "supplychain/duplicates.html",
        form=form,
        page=page,
        state=state,
        counts=duplicates.disclosure_counts(site_ids),
        filters=filters,
        first_page=not request.args.get("after"),
        reason_title=duplicates.reason_title,
    )


@bp.route("/sites/duplicates/new", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def duplicate_propose() -> Any:
    user = _user()
    _require(duplicates.can_review_duplicates(user))
    form = ProposeDuplicateForm()
    if request.method == "GET":
        form.site_id.data = request.args.get("site_id", type=int)
        form.candidate_id.data = request.args.get("candidate_id", type=int)
    if form.validate_on_submit():
        ids = [form.site_id.data, form.candidate_id.data]
        found = db.session.scalars(duplicates.reviewable_sites(user).where(Site.id.in_(ids)))
        sites = {s.id: s for s in found}
        missing = [f for f in (form.site_id, form.candidate_id) if f.data not in sites]
        for field in missing:
            field.errors = [*field.errors, _("There is no site with this number.")]
        if not missing:
            try:
                duplicate = duplicates.propose_duplicate(
                    user, sites[form.site_id.data], sites[form.candidate_id.data], form.reason.data or ""
                )
            except OperationError as exc:
                db.session.rollback()
                apply_error(form, exc)
            else:
                db.session.commit()
                flash(_("The two sites are proposed as duplicates."), "success")
                return redirect(url_for(".duplicate", duplicate_id=duplicate.id))
    status = 422 if form.is_submitted() else 200
    return render_template("supplychain/duplicate_form.html", form=form), status


@bp.route("/sites/duplicates/<int:duplicate_id>")
@roles(UserRole.coordinator)
def duplicate(duplicate_id: int) -> Any:
    user = _user()
    pair = _load_duplicate(user, duplicate_id)
    _require(duplicates.can_review_duplicates(user))
    return _render_duplicate(pair, MergeForm(), DecisionForm())


def _render_duplicate(pair: SiteDuplicate, merge_form: MergeForm, dismiss_form: DecisionForm) -> Any:
    return render_template(
        "supplychain/duplicate.html",
        pair=pair,
        counts=duplicates.disclosure_counts({pair.site_id, pair.candidate_id}),
        reason_title=duplicates.reason_title,
        merge_form=merge_form,
        dismiss_form=dismiss_form,
    )


@bp.route("/sites/duplicates/<int:duplicate_id>/merge", methods=["POST"])
@roles(UserRole.coordinator)
def duplicate_merge(duplicate_id: int) -> Any:
    user = _user()
    pair = _load_duplicate(user, duplicate_id)
    _require(duplicates.can_review_duplicates(user))
    form = MergeForm()
    if not form.validate_on_submit():
        return _render_duplicate(pair, form, DecisionForm()), 422
    try:
        kept = duplicates.merge_duplicate(user, pair, keep_candidate=form.keep.data == "candidate")
    except OperationError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".duplicate", duplicate_id=duplicate_id))
    db.session.commit()
    flash(_("The sites were merged into %(name)s.", name=kept.name), "success")
    return redirect(url_for(".duplicate", duplicate_id=duplicate_id))


@bp.route("/sites/duplicates/<int:duplicate_id>/dismiss", methods=["POST"])
@roles(UserRole.coordinator)
def duplicate_dismiss(duplicate_id: int) -> Any:
    user = _user()
    pair = _load_duplicate(user, duplicate_id)
    _require(duplicates.can_review_duplicates(user))
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_duplicate(pair, MergeForm(), form), 422
    try:
        duplicates.dismiss_duplicate(user, pair)
    except OperationError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".duplicate", duplicate_id=duplicate_id))
    db.session.commit()
    flash(_("The pair was recorded as two different sites."), "success")
    return redirect(url_for(".duplicate_list"))
