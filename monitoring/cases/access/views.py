"""Pages: a site's factory access records, and the form a monitor records one with."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from monitoring.cases.access import operations, services
from monitoring.cases.access.forms import RecordAccessForm
from monitoring.cases.access.permissions import READER_ROLES, RECORDER_ROLES, can_record_access
from monitoring.cases.access.schemas import RecordAccessArgs
from monitoring.cases.models import AccessOutcome
from monitoring.core.auth import roles
from monitoring.core.forms import apply_error, form_args
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt
from monitoring.supplychain.services import current

bp = Blueprint("access", __name__)


@bp.route("/sites/<int:site_id>/access")
@roles(*READER_ROLES)
def site_access(site_id: int) -> Any:
    user = current()
    site = services.load_site(user, site_id)
    return render_template(
        "access/site.html",
        site=site,
        records=services.site_access(user, site),
        can_record=can_record_access(user),
    )


@bp.route("/sites/<int:site_id>/access/new", methods=["GET", "POST"])
@roles(*RECORDER_ROLES)
def record_access(site_id: int) -> Any:
    user = current()
    site = services.load_site(user, site_id)
    form = RecordAccessForm(services.supplier_choices())
    if not form.is_submitted():
        return render_template("access/new.html", site=site, form=form)
    if (args := form_args(RecordAccessArgs, form)) is not None:
        try:
            access = attempt(operations.record_access, user, site, operations.AccessData(**args))
        except OperationError as exc:
            apply_error(form, exc)
        else:
            if access.outcome is AccessOutcome.refused:
                flash(_("The refused access was recorded and filed as a finding."), "success")
            else:
                flash(_("The access was recorded."), "success")
            return redirect(url_for(".site_access", site_id=site.id))
    return render_template("access/new.html", site=site, form=form), 422
