"""Pages of two-factor sign-in: set-up, the code at login, one's own status."""

from __future__ import annotations

from typing import Any

import segno
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monitoring.accounts import devices, keys, services, two_factor
from monitoring.accounts.forms import ButtonForm, CodeForm
from monitoring.accounts.models import User
from monitoring.accounts.two_factor import CodeResult
from monitoring.core.auth import authenticated, current_member, safe_next
from monitoring.core.forms import apply_error
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt, keep_failed_attempt

bp = Blueprint("two_factor", __name__)


def _next() -> str | None:
    return safe_next(request.args.get("next"))


def _continue() -> Any:
    """Where to go once the second factor passed: a forced password change first, else onwards."""
    return redirect(services.after_second_factor(current_member(), _next()))


def _passed(user: User) -> None:
    """Record the passed second factor in a session with a new id (the unlocked keys move along)."""
    with keys.unlock_kept(user):
        session.regenerate()  # type: ignore[attr-defined]
        two_factor.mark_passed(user)


def qr_code(uri: str) -> str:
    """The otpauth address as an SVG QR code in a data: URL (no script, no third party)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=4, dark="#000", light="#fff")


@bp.app_context_processor
def two_factor_context() -> dict[str, Any]:
    def demo_notice() -> bool:
        return bool(current_user.is_authenticated and two_factor.demo_relaxed(current_user))

    def pending() -> bool:
        return bool(current_user.is_authenticated and two_factor.second_factor_pending(current_user))

    return {"two_factor_demo_notice": demo_notice, "second_factor_pending": pending}


@bp.route("/account/two-factor")
@authenticated
def status() -> Any:
    user = current_member()
    return render_template(
        "accounts/two_factor_status.html",
        enrolled=two_factor.is_enrolled(user),
        required=two_factor.two_factor_required(user),
        relaxed=two_factor.demo_relaxed(user),
        begin_form=ButtonForm(),
    )


@bp.route("/account/two-factor/setup", methods=["GET", "POST"])
@authenticated(password_change_exempt=True, two_factor_exempt=True, password_confirmed=True)
def setup() -> Any:
    user = current_member()
    if two_factor.is_enrolled(user):
        if two_factor.second_factor_pending(user):
            return redirect(url_for(".verify", next=_next()))
        flash(_("Two-factor sign-in is already switched on for your account."), "success")
        return redirect(url_for(".status"))
    enrolment = two_factor.pending_enrolment(user)
    if enrolment is None:
        # Nothing to confirm yet: explain, and offer to make the key.
        return render_template(
            "accounts/two_factor_setup.html",
            enrolment=None,
            required=two_factor.two_factor_required(user),
            begin_form=ButtonForm(),
        )
    form = CodeForm()
    status_code = 200
    if form.validate_on_submit():
        try:
            result = attempt(two_factor.confirm_enrolment, user, form.code.data or "")
        except OperationError as exc:
            apply_error(form, exc)
        else:
            if result.ok:
                devices.remember_browser(user)  # the login is complete
                _passed(user)
                flash(_("Two-factor sign-in is switched on. You will need a code at every login."), "success")
                return _continue()
            status_code = _refuse_code(form, result)
    return (
        render_template(
            "accounts/two_factor_setup.html",
            enrolment=enrolment,
            qr_code=qr_code(enrolment.uri),
            required=two_factor.two_factor_required(user),
            form=form,
            begin_form=ButtonForm(),
        ),
        status_code,
    )


@bp.route("/account/two-factor/begin", methods=["POST"])
@authenticated(password_change_exempt=True, two_factor_exempt=True, password_confirmed=True)
def begin() -> Any:
    user = current_member()
    try:
        attempt(two_factor.begin_enrolment, user)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".status"))
    return redirect(url_for(".setup", next=_next()))


@bp.route("/login/two-factor", methods=["GET", "POST"])
@authenticated(password_change_exempt=True, two_factor_exempt=True)
def verify() -> Any:
    user = current_member()
    if not two_factor.is_enrolled(user):
        return redirect(url_for(".setup", next=_next()))
    if two_factor.has_passed(user):
        return _continue()
    form = CodeForm()
    status_code = 200
    if form.validate_on_submit():
        result = two_factor.verify_code(user, form.code.data or "")
        if result.ok:
            devices.remember_browser(user)  # the login is complete
            _passed(user)
            return _continue()
        status_code = _refuse_code(form, result)
    return render_template("accounts/two_factor_verify.html", form=form), status_code


def _refuse_code(form: CodeForm, result: CodeResult) -> int:
    """Say on the form why a code was refused (the failure is kept); return the page's status."""
    keep_failed_attempt()
    if result.throttled:
        form.code.errors = [_("Too many wrong codes. Please wait a few minutes and try again.")]
        return 429
    form.code.errors = [_("This code is not correct, or it was already used. Try the next one.")]
    return 200
