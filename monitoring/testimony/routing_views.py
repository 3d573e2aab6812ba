"""Pages of routing consent: a routing change, its confirmation and objection; a monitor
organisation's routing and the audit trail of its reports.

A change is shown to administrators and coordinators and to the monitors of the two
organisations it touches; everyone else gets 404, as for a missing change. Only a member of the
organisation receiving the reports today confirms; a monitor of either organisation objects.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from monitoring.accounts.models import UserRole
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.pagination import paginate
from monitoring.core.transactions import attempt
from monitoring.testimony import routing
from monitoring.testimony import services as s
from monitoring.testimony.forms import ActionForm
from monitoring.testimony.permissions import (
    can_confirm_coverage_change,
    can_manage_coverage,
    can_object_coverage_change,
    can_read_organisation_audit,
)
from monitoring.testimony.routing import short_fingerprint

logger = logging.getLogger(__name__)

bp = Blueprint("routing", __name__)

ROUTING_ROLES = (UserRole.admin, UserRole.coordinator, UserRole.monitor)


@bp.app_template_global("worker_fingerprint")
def worker_fingerprint(public_key: bytes | None) -> str:
    """The short fingerprint of an organisation key that workers see on the report page."""
    return short_fingerprint(public_key)


@bp.route("/coverage/changes/<int:change_id>")
@roles(*ROUTING_ROLES)
def change(change_id: int) -> Any:
    item = s.load_change(s.me(), change_id)
    user = s.me()
    return render_template(
        "testimony/coverage_change.html",
        change=item,
        can_confirm=can_confirm_coverage_change(user, item),
        can_object=can_object_coverage_change(user, item),
        can_cancel=can_manage_coverage(user) and item.state.value == "pending",
        action_form=ActionForm(formdata=None),
    )


def _decide(change_id: int, allowed: Any, operation: Any, done: str) -> Any:
    item = s.load_change(s.me(), change_id)
    s.require(allowed(s.me(), item))
    if ActionForm().validate_on_submit():
        try:
            attempt(operation, s.me(), item)
        except OperationError as exc:
            flash(str(exc.message), "error")
        else:
            flash(done, "success")
    return redirect(url_for(".change", change_id=change_id))


@bp.route("/coverage/changes/<int:change_id>/confirm", methods=["POST"])
@roles(UserRole.monitor)
def confirm(change_id: int) -> Any:
    return _decide(
        change_id,
        can_confirm_coverage_change,
        routing.confirm_change,
        _("You confirmed the change; it is in force. Both organisations were told."),
    )


@bp.route("/coverage/changes/<int:change_id>/object", methods=["POST"])
@roles(UserRole.monitor)
def object_to(change_id: int) -> Any:
    return _decide(
        change_id,
        can_object_coverage_change,
        routing.object_to_change,
        _("You objected; the change is stopped and nothing changed. Both organisations were told."),
    )


@bp.route("/coverage/changes/<int:change_id>/cancel", methods=["POST"])
@roles(UserRole.admin, UserRole.coordinator)
def cancel(change_id: int) -> Any:
    return _decide(
        change_id,
        lambda user, _item: can_manage_coverage(user),
        routing.cancel_change,
        _("The change was withdrawn; nothing changed."),
    )


@bp.route("/routing")
@roles(UserRole.monitor)
def ours() -> Any:
    """Which reports reach the monitor's organisation, the fingerprint workers see, the changes."""
    s.require(can_read_organisation_audit(s.me()))
    return render_template(
        "testimony/our_routing.html",
        routing=routing.our_routing(s.me()),
        action_form=ActionForm(formdata=None),
    )


@bp.route("/routing/audit")
@roles(UserRole.monitor)
def audit_trail() -> Any:
    """Who opened the organisation's reports (and failed to), shared them, and changes of its routing."""
    s.require(can_read_organisation_audit(s.me()))
    after = request.args.get("after")
    page = paginate(db.session(), s.list_audit_trail(s.me()), key_columns=s.AUDIT_ORDER, after=after)
    return render_template("testimony/audit_trail.html", page=page, first_page=not request.args.get("after"))
