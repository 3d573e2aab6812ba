"""Administration pages: organisations, users and the audit log (admins only)."""

from __future__ import annotations

import json
import logging
from typing import Any

from babel.lists import format_list
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Select, func

from monitoring.accounts import operations, two_factor
from monitoring.accounts.models import ROLE_ORGANISATION_KIND, Organisation, User, UserRole
from monitoring.accounts.permissions import (
    can_manage_accounts,
    can_view_audit_log,
    can_view_coverage_health,
    visible_organisations,
)
from monitoring.accounts.schemas import (
    CreateOrganisationArgs,
    CreateUserArgs,
    ListOrganisationsArgs,
    ListUsersArgs,
)
from monitoring.accounts.services import load_managed_organisation, load_managed_user
from monitoring.admin import services
from monitoring.admin.forms import (
    AuditFilterForm,
    OrganisationFilterForm,
    OrganisationForm,
    UserFilterForm,
    UserForm,
)
from monitoring.admin.schemas import ListAuditArgs
from monitoring.core.audit import AuditEntry
from monitoring.core.auth import current_member, roles
from monitoring.core.db import db
from monitoring.core.forms import apply_error, form_args
from monitoring.core.i18n import language_choices
from monitoring.core.operations import OperationError
from monitoring.core.pagination import paginate
from monitoring.core.transactions import attempt

logger = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _admin() -> User:
    """The current administrator; anyone else is refused like a missing page."""
    actor: User = current_member()
    if not can_manage_accounts(actor):
        abort(404)
    return actor


def _filters() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "after" and v}


def _page(query: Select[Any], order: list[Any]) -> dict[str, Any]:
    """One page of a list and what its pager needs (the filters, whether it is the first)."""
    after = request.args.get("after")
    page = paginate(db.session, query, key_columns=order, after=after)
    return {"page": page, "filters": _filters(), "first_page": not after}


def _active_organisations(actor: User) -> list[Organisation]:
    return list(db.session.scalars(visible_organisations(actor).where(Organisation.is_active.is_(True))))


def pretty_json(entry: AuditEntry) -> str:
    try:
        return json.dumps(entry.data_dict, indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return entry.data


# --- organisations --------------------------------------------------------------------------


@bp.route("/organisations")
@roles(UserRole.admin)
def organisations() -> Any:
    actor, form = _admin(), OrganisationFilterForm(formdata=request.args)
    form.validate()
    args = services.filter_args(ListOrganisationsArgs, form, form.values())
    rows = services.organisation_rows(actor, args)
    return render_template("admin/organisations.html", rows=rows, form=form, filters=_filters())


@bp.route("/organisations/new", methods=["GET", "POST"])
@roles(UserRole.admin)
def organisation_create() -> Any:
    actor, form = _admin(), OrganisationForm()
    args = form_args(CreateOrganisationArgs, form)
    if args is not None:
        try:
            org = attempt(
                operations.create_organisation, actor, args["name"], args["kind"], args.get("country")
            )
        except OperationError as exc:
            apply_error(form, exc)
        else:
            flash(_("The organisation %(name)s was created.", name=org.name), "success")
            return redirect(url_for(".organisation", org_id=org.id))
    return render_template("admin/organisation_form.html", form=form)


@bp.route("/organisations/<int:org_id>")
@roles(UserRole.admin)
def organisation(org_id: int) -> Any:
    actor = _admin()
    org = load_managed_organisation(actor, org_id)
    query = services.user_list(actor, {"organisation_id": org.id}).order_by(func.lower(User.name), User.id)
    titles = [role.title for role, kind in ROLE_ORGANISATION_KIND.items() if kind is org.kind]
    roles_text = format_list(titles, style="or", locale=get_locale() or "en")
    members = db.session.scalars(query).all()
    return render_template("admin/organisation.html", org=org, members=members, roles_text=roles_text)


@bp.route("/organisations/<int:org_id>/deactivate", methods=["POST"], defaults={"active": False})
@bp.route("/organisations/<int:org_id>/activate", methods=["POST"], defaults={"active": True})
@roles(UserRole.admin)
def organisation_set_active(org_id: int, active: bool) -> Any:
    actor = _admin()
    org = load_managed_organisation(actor, org_id)
    try:
        attempt(operations.set_organisation_active, actor, org, active)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".organisation", org_id=org.id))
    if active:
        flash(_("The organisation %(name)s was reactivated.", name=org.name), "success")
    else:
        message = _("The organisation %(name)s was deactivated; its people were logged out.", name=org.name)
        flash(message, "success")
    return redirect(url_for(".organisation", org_id=org.id))


# --- users ----------------------------------------------------------------------------------


@bp.route("/users")
@roles(UserRole.admin)
def users() -> Any:
    actor = _admin()
    form = UserFilterForm(db.session.scalars(visible_organisations(actor)).all(), formdata=request.args)
    form.validate()
    query = services.user_list(actor, services.filter_args(ListUsersArgs, form, form.values()))
    page = paginate(db.session, query, key_columns=services.USER_ORDER, after=request.args.get("after"))
    first_page = not request.args.get("after")
    return render_template(
        "admin/users.html", form=form, page=page, filters=_filters(), first_page=first_page
    )


@bp.route("/users/new", methods=["GET", "POST"])
@roles(UserRole.admin)
def user_create() -> Any:
    actor = _admin()
    form = UserForm(_active_organisations(actor))
    org_id = request.args.get("organisation", type=int)
    if request.method == "GET" and org_id is not None:
        # Coming from an organisation's page: preselect it and the role its kind allows.
        org = db.session.scalar(visible_organisations(actor).where(Organisation.id == org_id))
        if org is not None and org.is_active:
            form.organisation.data = org.id
            kinds = [role for role, kind in ROLE_ORGANISATION_KIND.items() if kind is org.kind]
            if len(kinds) == 1:
                form.role.data = kinds[0].value
    rename = {"organisation_id": "organisation"}
    args = form_args(CreateUserArgs, form, rename=rename)
    if args is not None:
        try:
            user, password = attempt(services.create_user, actor, args)
        except OperationError as exc:
            apply_error(form, exc, rename)
        else:
            services.remember_password(actor, user, password or "")
            flash(_("The account of %(name)s was created.", name=user.name), "success")
            return redirect(url_for(".user", user_id=user.id))
    return render_template("admin/user_form.html", form=form)


@bp.route("/users/<int:user_id>")
@roles(UserRole.admin)
def user(user_id: int) -> Any:
    actor = _admin()
    target = load_managed_user(actor, user_id)
    language = dict(language_choices()).get(target.locale or "")
    new_password = services.pop_password(actor, target)
    return render_template("admin/user.html", user=target, language=language, new_password=new_password)


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"], defaults={"active": False})
@bp.route("/users/<int:user_id>/activate", methods=["POST"], defaults={"active": True})
@roles(UserRole.admin)
def user_set_active(user_id: int, active: bool) -> Any:
    actor = _admin()
    target = load_managed_user(actor, user_id)
    try:
        attempt(operations.set_user_active, actor, target, active)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".user", user_id=target.id))
    if active:
        flash(_("The account of %(name)s was reactivated.", name=target.name), "success")
    else:
        message = _(
            "The account of %(name)s was deactivated: they were logged out everywhere and "
            "their API tokens were revoked.",
            name=target.name,
        )
        flash(message, "success")
    return redirect(url_for(".user", user_id=target.id))


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@roles(UserRole.admin)
def user_reset_password(user_id: int) -> Any:
    actor = _admin()
    target = load_managed_user(actor, user_id)
    services.remember_password(actor, target, operations.reset_password(actor, target))
    message = _("The password of %(name)s was reset; they were logged out everywhere.", name=target.name)
    flash(message, "success")
    return redirect(url_for(".user", user_id=target.id))


@bp.route("/users/<int:user_id>/reset-two-factor", methods=["POST"])
@roles(UserRole.admin, password_confirmed=True)
def user_reset_two_factor(user_id: int) -> Any:
    actor = _admin()
    target = load_managed_user(actor, user_id)
    try:
        attempt(two_factor.reset_two_factor, actor, target)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".user", user_id=target.id))
    message = _(
        "The two-factor sign-in of %(name)s was reset; they were logged out everywhere.", name=target.name
    )
    flash(message, "success")
    return redirect(url_for(".user", user_id=target.id))


# --- audit log ------------------------------------------------------------------------------


@bp.route("/audit")
@roles(UserRole.admin)
def audit_log() -> Any:
    if not can_view_audit_log(current_member()):
        abort(404)
    form = AuditFilterForm(*services.audit_vocabulary(), formdata=request.args)
    form.validate()
    args = services.filter_args(ListAuditArgs, form, form.values())
    if form.actor.data and not form.actor.errors:
        args["actor_email"] = form.actor.data
    query = services.audit_list(args)
    page = paginate(db.session, query, key_columns=services.AUDIT_ORDER, after=request.args.get("after"))
    first_page = not request.args.get("after")
    return render_template(
        "admin/audit_log.html",
        form=form,
        page=page,
        filters=_filters(),
        first_page=first_page,
        pretty_json=pretty_json,
    )


@bp.route("/audit/verify", methods=["POST"])
@roles(UserRole.admin)
def audit_verify() -> Any:
    if not can_view_audit_log(current_member()):
        abort(404)
    check = services.check_audit_log()
    for message, category in check.messages:
        flash(message, category)
    return redirect(url_for(".audit_log", after=check.after) if check.after else url_for(".audit_log"))


# --- health: routes that cannot receive reports ---------------------------------------------


@bp.route("/coverage-health")
@roles(UserRole.admin, UserRole.coordinator)
def coverage_health() -> Any:
    """Every country whose worker reports go to an organisation without a usable key."""
    if not can_view_coverage_health(current_member()):
        abort(404)
    return render_template("admin/coverage_health.html", routes=services.coverage_health())
