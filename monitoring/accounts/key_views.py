"""The "Keys and access" pages: one's key, the organisation's key, grants and the recovery code.

Monitors manage their organisation's key here, and approve or refuse new colleagues (who see
none of the organisation's reports until then); coordinators see the state of their own key
(and its fingerprint, to compare when a monitor grants them a report). Everyone else gets 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from monitoring.accounts import keys, operations, services
from monitoring.accounts.forms import ButtonForm, ConfirmRecoveryCodeForm, GrantForm, RecoverForm
from monitoring.accounts.key_schemas import RecoverKeyAccessArgs
from monitoring.accounts.models import User, UserRole
from monitoring.core import audit
from monitoring.core.auth import current_member, roles
from monitoring.core.errors import error_response
from monitoring.core.forms import apply_error, form_args
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt

bp = Blueprint("keys", __name__, url_prefix="/account/keys")


@bp.app_errorhandler(keys.KeysLocked)
@bp.app_errorhandler(keys.NoKeyAccess)
def sealed_access_refused(exc: keys.KeysLocked | keys.NoKeyAccess) -> Any:
    """Sealed data asked for without an unlocked key or a grant: say what to do (403)."""
    return error_response(403, str(exc.message))


def _page(user: User, recover_form: RecoverForm | None = None) -> str:
    return render_template(
        "accounts/keys.html",
        status=keys.key_status(user),
        pending_code=keys.pending_recovery_code(user) is not None,
        create_form=ButtonForm(),
        recover_form=recover_form or RecoverForm(),
        membership_form=ButtonForm(),
    )


def _refused(exc: OperationError | keys.KeysLocked | keys.NoKeyAccess) -> Any:
    flash(str(exc.message), "error")
    return redirect(url_for(".index"))


@bp.route("")
@roles(UserRole.monitor, UserRole.coordinator)
def index() -> Any:
    return _page(current_member())


@bp.route("/organisation-key", methods=["POST"])
@roles(UserRole.monitor)
def create_organisation_key() -> Any:
    user = current_member()
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        code = attempt(keys.create_organisation_key, user, user.organisation)
    except OperationError as exc:
        return _refused(exc)
    # Shown on the next page until its receipt is confirmed, encrypted like the unlocked key.
    keys.remember_recovery_code(user, code)
    return redirect(url_for(".recovery_code"))


@bp.route("/recovery-code", methods=["GET", "POST"])
@roles(UserRole.monitor)
def recovery_code() -> Any:
    user = current_member()
    code = keys.pending_recovery_code(user)
    if code is None:
        return redirect(url_for(".index"))
    form = ConfirmRecoveryCodeForm()
    if form.validate_on_submit():
        keys.forget_recovery_code()
        audit.record(
            "keys.recovery_code_stored",
            f"{user.email} confirmed storing the recovery code of {user.organisation.name!r}",
            actor=user,
            obj=user.organisation,
        )
        flash(_("The organisation's key is ready. The recovery code will not be shown again."), "success")
        return redirect(url_for(".index"))
    response = render_template("accounts/keys_recovery_code.html", code=code, form=form)
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/grants/<int:user_id>", methods=["POST"])
@roles(UserRole.monitor)
def grant(user_id: int) -> Any:
    granter = current_member()
    member = services.load_colleague(granter, user_id)
    form = GrantForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        attempt(keys.grant_member, granter, member, expected_fingerprint=form.fingerprint.data)
    except (OperationError, keys.KeysLocked, keys.NoKeyAccess) as exc:
        return _refused(exc)
    flash(_("%(name)s now has access to the organisation's key.", name=member.name), "success")
    return redirect(url_for(".index"))


@bp.route("/members/<int:user_id>/approve", methods=["POST"])
@roles(UserRole.monitor)
def approve_member(user_id: int) -> Any:
    member = services.load_pending_member(current_member(), user_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        attempt(operations.approve_member, current_member(), member)
    except OperationError as exc:
        return _refused(exc)
    flash(
        _(
            "%(name)s is now a member: they see your organisation's reports, and can open them once "
            "someone grants them access.",
            name=member.name,
        ),
        "success",
    )
    return redirect(url_for(".index", _anchor="colleagues"))


@bp.route("/members/<int:user_id>/refuse", methods=["POST"])
@roles(UserRole.monitor)
def refuse_member(user_id: int) -> Any:
    member = services.load_pending_member(current_member(), user_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        attempt(operations.refuse_member, current_member(), member)
    except OperationError as exc:
        return _refused(exc)
    flash(_("%(name)s was refused; their account is deactivated.", name=member.name), "success")
    return redirect(url_for(".index"))


@bp.route("/recover", methods=["POST"])
@roles(UserRole.monitor)
def recover() -> Any:
    user, form = current_member(), RecoverForm()
    args = form_args(RecoverKeyAccessArgs, form)
    if args is not None:
        try:
            attempt(keys.recover, user, user.organisation, args["recovery_code"])
        except OperationError as exc:
            apply_error(form, exc)
        else:
            flash(_("You have access to the organisation's key again."), "success")
            return redirect(url_for(".index"))
    return _page(user, form), 422
