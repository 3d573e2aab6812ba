"""Login, logout, password change, the account page and API tokens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from monitoring.accounts import devices, operations, services
from monitoring.accounts.forms import (
    ChangePasswordForm,
    ConfirmPasswordForm,
    LoginForm,
    TimeZoneForm,
    TokenForm,
)
from monitoring.accounts.schemas import CreateTokenArgs, UpdateAccountArgs
from monitoring.core.auth import authenticated, current_member, public, record_password_confirmed, safe_next
from monitoring.core.forms import apply_error, form_args
from monitoring.core.i18n import language_choices
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt, keep_failed_attempt

bp = Blueprint("accounts", __name__)


def _too_many_failures() -> str:
    return _("Too many failed attempts. Please wait a few minutes and try again.")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form)
    password = form.password.data or ""
    claims = devices.request_claims()
    result = operations.authenticate(form.email.data or "", password, request.remote_addr or "", claims)
    if result.user is None:
        keep_failed_attempt()  # the failure counts towards the throttle, and is audited
        wrong = _("The e-mail address or the password is not correct.")
        form.email.errors = [_too_many_failures() if result.throttled else wrong]
        return render_template("accounts/login.html", form=form), 429 if result.throttled else 200
    services.start_session(result.user, password)
    return redirect(services.after_login(result.user, request.args.get("next")))


@bp.route("/logout", methods=["POST"])
@authenticated(password_change_exempt=True, two_factor_exempt=True)
def logout() -> Any:
    operations.record_logout(current_member())
    logout_user()
    session.clear()
    session.regenerate()  # type: ignore[attr-defined]
    flash(_("You have logged out."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@authenticated(password_change_exempt=True)
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user, password = current_member(), form.password.data or ""
        try:
            attempt(operations.change_password, user, form.current_password.data or "", password)
        except OperationError as exc:
            apply_error(form, exc)
        else:
            services.renew_session(user, password)  # every session ended, this one too
            flash(_("Your password was changed. Other devices have been logged out."), "success")
            return redirect(services.key_setup_page(user) or url_for("accounts.account"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/account/confirm-password", methods=["GET", "POST"])
@authenticated(password_change_exempt=True, two_factor_exempt=True)
def confirm_password() -> Any:
    """Ask for the password again before a change to how the account signs in."""
    form, status = ConfirmPasswordForm(), 200
    if form.validate_on_submit():
        user = current_member()
        result = operations.confirm_password(user, form.password.data or "")
        if result.user is not None:
            record_password_confirmed(user)
            return redirect(safe_next(request.args.get("next")) or url_for("core.index"))
        keep_failed_attempt()  # failures are counted and audited too
        form.password.errors = [
            _too_many_failures() if result.throttled else _("The password is not correct.")
        ]
        status = 429 if result.throttled else 200
    minutes = current_app.config["PASSWORD_CONFIRM_MINUTES"]
    return render_template("accounts/confirm_password.html", form=form, minutes=minutes), status


def _account_page(time_zone_form: TimeZoneForm | None = None) -> str:
    user = current_member()
    if time_zone_form is None:
        time_zone_form = TimeZoneForm(user.default_time_zone, data={"time_zone": user.time_zone or ""})
    return render_template(
        "accounts/account.html",
        view=services.account_view(user),
        language=dict(language_choices()).get(user.locale or ""),
        tokens=services.tokens_of(user),
        token_form=TokenForm(),
        time_zone_form=time_zone_form,
        new_token=services.pop_new_token(user),
    )


@bp.route("/account")
@authenticated
def account() -> Any:
    return _account_page()


@bp.route("/account/time-zone", methods=["POST"])
@authenticated
def set_time_zone() -> Any:
    user = current_member()
    form = TimeZoneForm(user.default_time_zone)
    args = form_args(UpdateAccountArgs, form)
    if args is None:
        return _account_page(form), 422
    args.setdefault("time_zone", None)  # the empty choice: the organisation's country's zone
    try:
        attempt(services.update_account, user, args)
    except OperationError as exc:
        apply_error(form, exc)
        return _account_page(form), 422
    flash(_("Times are now shown in the time zone %(zone)s.", zone=user.time_zone_name), "success")
    return redirect(url_for(".account"))


@bp.route("/account/tokens", methods=["POST"])
@authenticated
def create_token() -> Any:
    form = TokenForm()
    args = form_args(CreateTokenArgs, form)
    if args is None:
        for error in form.name.errors:
            flash(str(error), "error")
        return redirect(url_for(".account"))
    try:
        _token, clear = attempt(operations.create_token, current_member(), args["name"])
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".account"))
    services.show_new_token_once(current_member(), clear)
    return redirect(url_for(".account"))


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@authenticated
def revoke_token(token_id: int) -> Any:
    user = current_member()
    operations.revoke_token(user, services.load_token(user, token_id))
    flash(_("The token was revoked."), "success")
    return redirect(url_for(".account"))
