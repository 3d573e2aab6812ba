"""Pages: the crosswalk and its editing, the audit import, and a site's audits and worker voice."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from monitoring.cases.audits import operations, services
from monitoring.cases.audits.forms import AuditImportForm, CrosswalkEntryForm
from monitoring.cases.audits.models import CrosswalkEntry
from monitoring.cases.audits.permissions import (
    CROSSWALK_EDITOR_ROLES,
    CROSSWALK_READER_ROLES,
    IMPORTER_ROLES,
    VIEWER_ROLES,
    can_edit_crosswalk,
    can_import_audits,
)
from monitoring.cases.audits.schemas import CrosswalkEntryArgs, SiteAuditsArgs
from monitoring.core.auth import roles
from monitoring.core.forms import apply_error, form_args
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt
from monitoring.supplychain.import_reading import ImportRefused
from monitoring.supplychain.services import current

bp = Blueprint("audits", __name__)


@bp.route("/crosswalk")
@roles(*CROSSWALK_READER_ROLES)
def crosswalk() -> Any:
    return render_template(
        "audits/crosswalk.html",
        entries=services.crosswalk_entries(),
        labels=services.standard_labels(),
        can_edit=can_edit_crosswalk(current()),
    )


def _entry_page(form: CrosswalkEntryForm, entry: CrosswalkEntry | None) -> Any:
    user = current()
    if not form.is_submitted():
        return render_template("audits/crosswalk_form.html", form=form, entry=entry)
    if (args := form_args(CrosswalkEntryArgs, form)) is not None:
        data = operations.EntryData(**args)
        try:
            if entry is None:
                attempt(operations.add_entry, user, data)
            else:
                attempt(operations.edit_entry, user, entry, data)
        except OperationError as exc:
            apply_error(form, exc)
        else:
            flash(_("The crosswalk was saved; the sites' audits views follow it."), "success")
            return redirect(url_for(".crosswalk"))
    return render_template("audits/crosswalk_form.html", form=form, entry=entry), 422


@bp.route("/crosswalk/new", methods=["GET", "POST"])
@roles(*CROSSWALK_EDITOR_ROLES)
def add_entry() -> Any:
    services.require_editor(current())
    return _entry_page(CrosswalkEntryForm(), None)


@bp.route("/crosswalk/<int:entry_id>/edit", methods=["GET", "POST"])
@roles(*CROSSWALK_EDITOR_ROLES)
def edit_entry(entry_id: int) -> Any:
    entry = services.load_entry(current(), entry_id)
    data = {
        "standard": entry.standard,
        "rba_section": entry.rba_section or "",
        "issue_category": entry.issue_category.value if entry.issue_category else "",
        "note": entry.note or "",
    }
    form = CrosswalkEntryForm() if request.method == "POST" else CrosswalkEntryForm(formdata=None, data=data)
    return _entry_page(form, entry)


@bp.route("/crosswalk/<int:entry_id>/delete", methods=["POST"])
@roles(*CROSSWALK_EDITOR_ROLES)
def delete_entry(entry_id: int) -> Any:
    user = current()
    entry = services.load_entry(user, entry_id)
    try:
        attempt(operations.delete_entry, user, entry)
    except OperationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The link was removed from the crosswalk."), "success")
    return redirect(url_for(".crosswalk"))


@bp.route("/audits/import", methods=["GET", "POST"])
@roles(*IMPORTER_ROLES)
def import_audits() -> Any:
    user = current()
    services.require_importer(user)
    form = AuditImportForm()
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    context: dict[str, Any] = {"form": form, "upload_limit": int(limit) if limit else None}
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = attempt(operations.import_audits, user, upload.stream, upload.filename or "")
        except ImportRefused as exc:
            context["refused"] = {"errors": exc.errors, "total": exc.total, "message": exc.message}
        except OperationError as exc:
            apply_error(form, exc)
        else:
            flash(
                ngettext("%(num)d audit was imported.", "%(num)d audits were imported.", len(result.audits)),
                "success",
            )
            context.update(result=result, filename=upload.filename)
            status = 200
    return render_template("audits/import.html", **context), status


@bp.route("/sites/<int:site_id>/audits")
@roles(*VIEWER_ROLES)
def site_audits(site_id: int) -> Any:
    user = current()
    site = services.load_site(user, site_id)
    errors = SiteAuditsArgs().validate(request.args.to_dict(flat=True))
    year = None if errors else request.args.get("year", type=int)
    view = services.site_audits(user, site, year or date.today().year)
    return render_template("audits/site.html", view=view, can_import=can_import_audits(user))
