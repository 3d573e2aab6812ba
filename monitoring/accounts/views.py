"""Login, logout, password change, the account page and API tokens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from monitoring.accounts import devices, key_views, keys, operations, two_factor
from monitoring.accounts.forms import ChangePasswordForm, ConfirmPasswordForm, LoginForm, TokenForm
from monitoring.accounts.models import ApiToken
from monitoring.accounts.permissions import can_revoke_token, visible_tokens
from monitoring.accounts.two_factor_views import redirect_to_second_factor
from monitoring.core import session_secrets
from monitoring.core.auth import authenticated, public, record_password_confirmed, safe_next
from monitoring.core.db import db
from monitoring.core.forms import apply_error
from monitoring.core.operations import OperationError

# The session entry holding a new API token until the next page has shown it once.
NEW_TOKEN_KEY = "new_token"  # noqa: S105 - the name of a session entry, not a secret

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    if form.validate_on_submit():
        result = operations.authenticate(
            form.email.data or "",
            form.password.data or "",
            request.remote_addr or "",
            devices.request_claims(),
        )
        db.session.commit()
        if result.user is None:
            if result.throttled:
                form.email.errors = [_("Too many failed attempts. Please wait a few minutes and try again.")]
                return render_template("accounts/login.html", form=form), 429
            form.email.errors = [_("The e-mail address or the password is not correct.")]
            return render_template("accounts/login.html", form=form), 200
        session.clear()
        session.regenerate()  # type: ignore[attr-defined]
        login_user(result.user)
        record_password_confirmed(result.user)
        # The private key is kept for this session, encrypted under the new session id.
        keys.unlock(result.user, form.password.data or "")
        if not two_factor.second_factor_pending(result.user):
            devices.remember_browser(result.user)  # the login is complete
        db.session.commit()
        if two_factor.second_factor_pending(result.user):
            # The code comes before anything else, a forced password change included.
            return redirect_to_second_factor(
                result.user, safe_next(request.args.get("next")) or key_views.setup_page(result.user)
            )
        if result.user.must_change_password:
            flash(_("Please choose a new password before you go on."), "warning")
            return redirect(url_for("accounts.change_password"))
        landing = safe_next(request.args.get("next")) or key_views.setup_page(result.user)
        return redirect(landing or url_for("core.index"))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@authenticated(password_change_exempt=True, two_factor_exempt=True)
def logout() -> Any:
    operations.record_logout(current_user)
    db.session.commit()
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
        try:
            operations.change_password(
                current_user, form.current_password.data or "", form.password.data or ""
            )
        except OperationError as exc:
            apply_error(form, exc)
        else:
            db.session.commit()
            user = current_user._get_current_object()
            passed_second_factor = two_factor.has_passed(user)
            # Every session ended, this one too; continue in a brand-new one.
            session.clear()
            session.regenerate()  # type: ignore[attr-defined]
            login_user(user)
            record_password_confirmed(user)
            if passed_second_factor:
                two_factor.mark_passed(user)
            keys.unlock(user, form.password.data or "")
            db.session.commit()
            flash(_("Your password was changed. Other devices have been logged out."), "success")
            return redirect(key_views.setup_page(user) or url_for("accounts.account"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/account/confirm-password", methods=["GET", "POST"])
@authenticated(password_change_exempt=True, two_factor_exempt=True)
def confirm_password() -> Any:
    """Ask for the password again before a change to how the account signs in."""
    form = ConfirmPasswordForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        result = operations.confirm_password(user, form.password.data or "")
        db.session.commit()  # failures are counted and audited too
        if result.user is not None:
            record_password_confirmed(user)
            return redirect(safe_next(request.args.get("next")) or url_for("core.index"))
        if result.throttled:
            form.password.errors = [_("Too many failed attempts. Please wait a few minutes and try again.")]
            status = 429
        else:
            form.password.errors = [_("The password is not correct.")]
    minutes = current_app.config["PASSWORD_CONFIRM_MINUTES"]
    return render_template("accounts/confirm_password.html", form=form, minutes=minutes), status


@bp.route("/account")
@authenticated
def account() -> Any:
    tokens = db.session.scalars(visible_tokens(current_user).order_by(ApiToken.created_dt.desc())).all()
    return render_template(
        "accounts/account.html",
        tokens=tokens,
        token_form=TokenForm(),
        new_token=_pop_new_token(),
    )


@bp.route("/account/tokens", methods=["POST"])
@authenticated
def create_token() -> Any:
    form = TokenForm()
    if not form.validate_on_submit():
        for error in form.name.errors:
            flash(str(error), "error")
        return redirect(url_for(".account"))
    try:
        _token, clear = operations.create_token(current_user, form.name.data or "")
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".account"))
    db.session.commit()
    # Shown once on the next page, then gone from the session (where it is kept encrypted).
    session_secrets.put(NEW_TOKEN_KEY, current_user.id, clear.encode())
    return redirect(url_for(".account"))


def _pop_new_token() -> str | None:
    token = session_secrets.pop(NEW_TOKEN_KEY, current_user.id)
    return token.decode() if token is not None else None


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@authenticated
def revoke_token(token_id: int) -> Any:
    token = db.session.scalar(visible_tokens(current_user).where(ApiToken.id == token_id))
    if token is None or not can_revoke_token(current_user, token):
        abort(404)
    operations.revoke_token(current_user, token)
    db.session.commit()
    flash(_("The token was revoked."), "success")
    return redirect(url_for(".account"))
