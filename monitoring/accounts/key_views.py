"""The "Keys and access" pages: one's key, the organisation's key, grants and the recovery code.

Monitors manage their organisation's key here, and approve or refuse new colleagues (who see
none of the organisation's reports until then); coordinators see the state of their own key
(and its fingerprint, to compare when a monitor grants them a report). Everyone else gets 404.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from monitoring.accounts import keys, operations
from monitoring.accounts.models import User, UserRole
from monitoring.core import audit
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.errors import error_response
from monitoring.core.forms import apply_error
from monitoring.core.operations import OperationError

logger = logging.getLogger(__name__)

bp = Blueprint("keys", __name__, url_prefix="/account/keys")


class CreateKeyForm(FlaskForm):
    """Only the CSRF token: the button creates the organisation's key."""


class ConfirmRecoveryCodeForm(FlaskForm):
    stored = BooleanField(
        _l("I have stored the recovery code somewhere safe, away from this computer."),
        validators=[DataRequired(message=_l("Please confirm that you have stored the recovery code."))],
    )


class GrantForm(FlaskForm):
    fingerprint = HiddenField(validators=[DataRequired(), Length(max=64)])


class MembershipForm(FlaskForm):
    """Only the CSRF token: the button approves or refuses a new colleague."""


class RecoverForm(FlaskForm):
    recovery_code = StringField(
        _l("Recovery code"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("52 letters and digits in groups of four, as printed when the key was created."),
    )


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


@bp.app_errorhandler(keys.KeysLocked)
@bp.app_errorhandler(keys.NoKeyAccess)
def sealed_access_refused(exc: keys.KeysLocked | keys.NoKeyAccess) -> Any:
    """Sealed data asked for without an unlocked key or a grant: say what to do (403)."""
    db.session.rollback()
    return error_response(403, str(exc.message))


def setup_page(user: User) -> str | None:
    """Where the first monitor of an organisation without a key goes after logging in."""
    if (
        user.role is UserRole.monitor
        and not user.membership_pending
        and keys.current_organisation_key(user.organisation) is None
    ):
        return url_for("keys.index")
    return None


@bp.route("")
@roles(UserRole.monitor, UserRole.coordinator)
def index() -> Any:
    user = _me()
    return render_template(
        "accounts/keys.html",
        status=keys.key_status(user),
        pending_code=keys.pending_recovery_code(user) is not None,
        create_form=CreateKeyForm(),
        recover_form=RecoverForm(),
        membership_form=MembershipForm(),
    )


@bp.route("/organisation-key", methods=["POST"])
@roles(UserRole.monitor)
def create_organisation_key() -> Any:
    user = _me()
    form = CreateKeyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        code = keys.create_organisation_key(user, user.organisation)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".index"))
    db.session.commit()
    # Shown on the next page until its receipt is confirmed, encrypted like the unlocked key.
    keys.remember_recovery_code(user, code)
    return redirect(url_for(".recovery_code"))


@bp.route("/recovery-code", methods=["GET", "POST"])
@roles(UserRole.monitor)
def recovery_code() -> Any:
    user = _me()
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
        db.session.commit()
        flash(_("The organisation's key is ready. The recovery code will not be shown again."), "success")
        return redirect(url_for(".index"))
    response = render_template("accounts/keys_recovery_code.html", code=code, form=form)
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/grants/<int:user_id>", methods=["POST"])
@roles(UserRole.monitor)
def grant(user_id: int) -> Any:
    granter = _me()
    member = db.session.scalar(
        select(User).where(User.id == user_id, User.id.in_(keys.colleague_ids(granter)))
    )
    if member is None:
        abort(404)
    form = GrantForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        keys.grant_member(granter, member, expected_fingerprint=form.fingerprint.data)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".index"))
    except (keys.KeysLocked, keys.NoKeyAccess) as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(_("%(name)s now has access to the organisation's key.", name=member.name), "success")
    return redirect(url_for(".index"))


def _pending_member(user_id: int) -> User:
    """A colleague waiting for approval in the current user's organisation (else 404)."""
    member = db.session.scalar(
        select(User).where(User.id == user_id, User.id.in_(keys.pending_member_ids(_me())))
    )
    if member is None:
        abort(404)
    return member


@bp.route("/members/<int:user_id>/approve", methods=["POST"])
@roles(UserRole.monitor)
def approve_member(user_id: int) -> Any:
    member = _pending_member(user_id)
    if not MembershipForm().validate_on_submit():
        abort(400)
    try:
        operations.approve_member(_me(), member)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".index"))
    db.session.commit()
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
    member = _pending_member(user_id)
    if not MembershipForm().validate_on_submit():
        abort(400)
    try:
        operations.refuse_member(_me(), member)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(_("%(name)s was refused; their account is deactivated.", name=member.name), "success")
    return redirect(url_for(".index"))


@bp.route("/recover", methods=["POST"])
@roles(UserRole.monitor)
def recover() -> Any:
    user = _me()
    form = RecoverForm()
    if form.validate_on_submit():
        try:
            keys.recover(user, user.organisation, form.recovery_code.data or "")
        except OperationError as exc:
            apply_error(form, exc)
        else:
            db.session.commit()
            flash(_("You have access to the organisation's key again."), "success")
            return redirect(url_for(".index"))
    page = render_template(
        "accounts/keys.html",
        status=keys.key_status(user),
        pending_code=keys.pending_recovery_code(user) is not None,
        create_form=CreateKeyForm(),
        recover_form=form,
        membership_form=MembershipForm(),
    )
    return page, 422
