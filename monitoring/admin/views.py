"""Administration pages: organisations, users and the audit log (admins only)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any

from babel.lists import format_list
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from monitoring.accounts import operations, two_factor
from monitoring.accounts.models import (
    ROLE_ORGANISATION_KIND,
    Organisation,
    OrganisationKind,
    User,
    UserRole,
)
from monitoring.accounts.permissions import (
    can_manage_accounts,
    can_view_audit_log,
    visible_organisations,
    visible_users,
)
from monitoring.admin.forms import ACTIVE_CHOICES, AuditFilterForm, OrganisationForm, UserFilterForm, UserForm
from monitoring.core import audit, session_secrets
from monitoring.core.audit import AuditEntry
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.forms import apply_error
from monitoring.core.i18n import language_choices
from monitoring.core.operations import OperationError
from monitoring.core.pagination import encode_cursor, paginate

logger = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")

# A temporary password lives here between the POST that made it and the page that shows it once.
NEW_PASSWORD_KEY = "admin_new_password"  # noqa: S105 - a session key, not a secret


def _require(allowed: bool) -> None:
    """Refuse like a missing page, so a refusal tells nothing."""
    if not allowed:
        abort(404)


def _load_organisation(org_id: int) -> Organisation:
    org = db.session.scalar(visible_organisations(current_user).where(Organisation.id == org_id))
    if org is None:
        abort(404)
    return org


def _load_user(user_id: int) -> User:
    user = db.session.scalar(visible_users(current_user).where(User.id == user_id))
    if user is None:
        abort(404)
    return user


def _active_organisations() -> list[Organisation]:
    query = visible_organisations(current_user).where(Organisation.is_active.is_(True))
    return list(db.session.scalars(query))


def _remember_password(user: User, password: str) -> None:
    """Keep the temporary password for the admin's next page, encrypted in the session."""
    value = json.dumps({"user_id": user.id, "password": password}).encode()
    session_secrets.put(NEW_PASSWORD_KEY, current_user.id, value)


def _pop_password(user: User) -> str | None:
    """Return the temporary password made for this user, once."""
    stored = session_secrets.pop(NEW_PASSWORD_KEY, current_user.id)
    if stored is None:
        return None
    value = json.loads(stored)
    return value["password"] if value.get("user_id") == user.id else None


# --- organisations --------------------------------------------------------------------------


@bp.route("/organisations")
@roles(UserRole.admin)
def organisations() -> Any:
    _require(can_manage_accounts(current_user))
    user_count = (
        select(func.count(User.id))
        .where(User.organisation_id == Organisation.id)
        .correlate(Organisation)
        .scalar_subquery()
        .label("user_count")
    )
    rows = db.session.execute(
        visible_organisations(current_user)
        .add_columns(user_count)
        .order_by(func.lower(Organisation.name), Organisation.id)
    ).all()
    return render_template("admin/organisations.html", rows=rows)


@bp.route("/organisations/new", methods=["GET", "POST"])
@roles(UserRole.admin)
def organisation_create() -> Any:
    _require(can_manage_accounts(current_user))
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            org = operations.create_organisation(
                current_user,
                form.name.data or "",
                OrganisationKind(form.kind.data),
                form.country.data or None,
            )
        except OperationError as exc:
            apply_error(form, exc)
        else:
            db.session.commit()
            flash(_("The organisation %(name)s was created.", name=org.name), "success")
            return redirect(url_for(".organisation", org_id=org.id))
    return render_template("admin/organisation_form.html", form=form)


@bp.route("/organisations/<int:org_id>")
@roles(UserRole.admin)
def organisation(org_id: int) -> Any:
    org = _load_organisation(org_id)
    _require(can_manage_accounts(current_user))
    members = db.session.scalars(
        visible_users(current_user)
        .where(User.organisation_id == org.id)
        .order_by(func.lower(User.name), User.id)
    ).all()
    titles = [role.title for role, kind in ROLE_ORGANISATION_KIND.items() if kind is org.kind]
    return render_template(
        "admin/organisation.html",
        org=org,
        members=members,
        roles_text=format_list(titles, style="or", locale=get_locale() or "en"),
    )


def _set_organisation_active(org_id: int, active: bool) -> Any:
    org = _load_organisation(org_id)
    _require(can_manage_accounts(current_user))
    try:
        operations.set_organisation_active(current_user, org, active)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".organisation", org_id=org.id))
    db.session.commit()
    if active:
        flash(_("The organisation %(name)s was reactivated.", name=org.name), "success")
    else:
        flash(
            _("The organisation %(name)s was deactivated; its people were logged out.", name=org.name),
            "success",
        )
    return redirect(url_for(".organisation", org_id=org.id))


@bp.route("/organisations/<int:org_id>/deactivate", methods=["POST"])
@roles(UserRole.admin)
def organisation_deactivate(org_id: int) -> Any:
    return _set_organisation_active(org_id, False)


@bp.route("/organisations/<int:org_id>/activate", methods=["POST"])
@roles(UserRole.admin)
def organisation_activate(org_id: int) -> Any:
    return _set_organisation_active(org_id, True)


# --- users ----------------------------------------------------------------------------------


@bp.route("/users")
@roles(UserRole.admin)
def users() -> Any:
    _require(can_manage_accounts(current_user))
    all_organisations = db.session.scalars(visible_organisations(current_user)).all()
    form = UserFilterForm(all_organisations, formdata=request.args)
    form.validate()
    query = visible_users(current_user)
    # A filter that does not parse is shown with its error and left out.
    if form.role.data and not form.role.errors:
        query = query.where(User.role == UserRole(form.role.data))
    if form.organisation.data and not form.organisation.errors:
        query = query.where(User.organisation_id == form.organisation.data)
    if form.active.data in ACTIVE_CHOICES and not form.active.errors:
        query = query.where(User.is_active.is_(ACTIVE_CHOICES[form.active.data]))
    page = paginate(db.session, query, key_columns=[User.name, User.id], after=request.args.get("after"))
    filters = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template(
        "admin/users.html", form=form, page=page, filters=filters, first_page=not request.args.get("after")
    )


@bp.route("/users/new", methods=["GET", "POST"])
@roles(UserRole.admin)
def user_create() -> Any:
    _require(can_manage_accounts(current_user))
    form = UserForm(_active_organisations())
    if request.method == "GET":
        # Coming from an organisation's page: preselect it and the role its kind allows.
        org_id = request.args.get("organisation", type=int)
        org = (
            db.session.scalar(visible_organisations(current_user).where(Organisation.id == org_id))
            if org_id is not None
            else None
        )
        if org is not None and org.is_active:
            form.organisation.data = org.id
            kinds = [role for role, kind in ROLE_ORGANISATION_KIND.items() if kind is org.kind]
            if len(kinds) == 1:
                form.role.data = kinds[0].value
    if form.validate_on_submit():
        org = db.session.scalar(
            visible_organisations(current_user).where(Organisation.id == form.organisation.data)
        )
        if org is None:
            abort(404)
        password = operations.temporary_password()
        try:
            user = operations.create_user(
                current_user,
                email=form.email.data or "",
                name=form.name.data or "",
                role=UserRole(form.role.data),
                organisation=org,
                password=password,
                locale=form.locale.data or None,
                must_change_password=True,
            )
        except OperationError as exc:
            apply_error(form, exc)
        else:
            db.session.commit()
            _remember_password(user, password)
            flash(_("The account of %(name)s was created.", name=user.name), "success")
            return redirect(url_for(".user", user_id=user.id))
    return render_template("admin/user_form.html", form=form)


@bp.route("/users/<int:user_id>")
@roles(UserRole.admin)
def user(user_id: int) -> Any:
    target = _load_user(user_id)
    _require(can_manage_accounts(current_user))
    languages = dict(language_choices())
    return render_template(
        "admin/user.html",
        user=target,
        language=languages.get(target.locale or ""),
        new_password=_pop_password(target),
    )


def _set_user_active(user_id: int, active: bool) -> Any:
    target = _load_user(user_id)
    _require(can_manage_accounts(current_user))
    try:
        operations.set_user_active(current_user, target, active)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".user", user_id=target.id))
    db.session.commit()
    if active:
        flash(_("The account of %(name)s was reactivated.", name=target.name), "success")
    else:
        flash(
            _(
                "The account of %(name)s was deactivated: they were logged out everywhere and "
                "their API tokens were revoked.",
                name=target.name,
            ),
            "success",
        )
    return redirect(url_for(".user", user_id=target.id))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@roles(UserRole.admin)
def user_deactivate(user_id: int) -> Any:
    return _set_user_active(user_id, False)


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@roles(UserRole.admin)
def user_activate(user_id: int) -> Any:
    return _set_user_active(user_id, True)


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@roles(UserRole.admin)
def user_reset_password(user_id: int) -> Any:
    target = _load_user(user_id)
    _require(can_manage_accounts(current_user))
    try:
        password = operations.reset_password(current_user, target)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".user", user_id=target.id))
    db.session.commit()
    _remember_password(target, password)
    flash(
        _("The password of %(name)s was reset; they were logged out everywhere.", name=target.name), "success"
    )
    return redirect(url_for(".user", user_id=target.id))


@bp.route("/users/<int:user_id>/reset-two-factor", methods=["POST"])
@roles(UserRole.admin, password_confirmed=True)
def user_reset_two_factor(user_id: int) -> Any:
    target = _load_user(user_id)
    _require(can_manage_accounts(current_user))
    try:
        two_factor.reset_two_factor(current_user, target)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".user", user_id=target.id))
    db.session.commit()
    flash(
        _("The two-factor sign-in of %(name)s was reset; they were logged out everywhere.", name=target.name),
        "success",
    )
    return redirect(url_for(".user", user_id=target.id))


# --- audit log ------------------------------------------------------------------------------


def _day_start(day: Any) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def pretty_json(entry: AuditEntry) -> str:
    try:
        return json.dumps(entry.data_dict, indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return entry.data


@bp.route("/audit")
@roles(UserRole.admin)
def audit_log() -> Any:
    _require(can_view_audit_log(current_user))
    actions = db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    object_types = db.session.scalars(
        select(AuditEntry.object_type)
        .where(AuditEntry.object_type.is_not(None))
        .distinct()
        .order_by(AuditEntry.object_type)
    ).all()
    form = AuditFilterForm(actions, object_types, formdata=request.args)
    form.validate()
    query = select(AuditEntry)
    # A filter that does not parse is shown with its error and left out.
    if form.action.data and not form.action.errors:
        query = query.where(AuditEntry.action == form.action.data)
    if form.actor.data and not form.actor.errors:
        actor_ids = select(User.id).where(User.email == operations.normalise_email(form.actor.data))
        query = query.where(AuditEntry.actor_id.in_(actor_ids))
    if form.object_type.data and not form.object_type.errors:
        query = query.where(AuditEntry.object_type == form.object_type.data)
    if form.object_id.data and not form.object_id.errors:
        query = query.where(AuditEntry.object_id == form.object_id.data.strip())
    if form.date_from.data and not form.date_from.errors:
        query = query.where(AuditEntry.created_dt >= _day_start(form.date_from.data))
    if form.date_to.data and not form.date_to.errors:
        query = query.where(AuditEntry.created_dt < _day_start(form.date_to.data + timedelta(days=1)))
    page = paginate(db.session, query, key_columns=[AuditEntry.id.desc()], after=request.args.get("after"))
    filters = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template(
        "admin/audit_log.html",
        form=form,
        page=page,
        filters=filters,
        first_page=not request.args.get("after"),
        pretty_json=pretty_json,
    )


@bp.route("/audit/verify", methods=["POST"])
@roles(UserRole.admin)
def audit_verify() -> Any:
    _require(can_view_audit_log(current_user))
    check = audit.verify_log(audit.audit_key())
    result = check.result
    if result.key_mismatch:
        logger.error("audit verify: the audit key does not match this database")
        flash(
            _("This server's audit key is not the key the audit log was written with: nothing was checked."),
            "error",
        )
        return redirect(url_for(".audit_log"))
    if check.tampered is not None:
        logger.error("audit checkpoint file tampered: %s", check.tampered)
        flash(
            _("The file of signed audit checkpoints was changed: it no longer proves the log complete."),
            "error",
        )
    if result.ok:
        flash(_("The audit log is intact: %(num)d entries verified.", num=result.checked), "success")
        if check.tampered is None and not check.checkpoints:
            flash(
                _(
                    "No signed checkpoint was found on this server, so entries cut from the end of the "
                    "log would not show. Run this check where the jobs run (flask audit verify)."
                ),
                "warning",
            )
        return redirect(url_for(".audit_log"))
    if result.checkpoint is not None:
        logger.error("audit log truncated or rewritten: %s", result.reason)
        flash(
            _(
                "The audit log was cut short or rewritten after the checkpoint of %(date)s: it now differs "
                "from what was signed then (%(reason)s).",
                date=format_datetime(datetime.fromisoformat(result.checkpoint.created)),
                reason=result.reason,
            ),
            "error",
        )
        return redirect(url_for(".audit_log"))
    logger.error("audit chain broken at entry %s: %s", result.broken_id, result.reason)
    flash(
        _(
            "The audit log is broken at entry %(id)s (%(reason)s). The %(num)d entries before it are "
            "intact. It is shown first below.",
            id=result.broken_id,
            reason=result.reason,
            num=result.checked,
        ),
        "error",
    )
    # Open the log at the broken entry: the cursor of the page that starts with it.
    return redirect(url_for(".audit_log", after=encode_cursor([(result.broken_id or 0) + 1])))
