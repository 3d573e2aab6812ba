"""API of keys and access: one's key, the organisation's key, grants, the recovery code, and the
approval of new colleagues (who see none of the organisation's reports until a member approves).

An API token opens sealed data only if it was made while its owner's keys were unlocked (on
the account page after logging in, or through this API with such a token). Sealed routes answer
403 with an explanation otherwise.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from monitoring.accounts import keys, operations, services
from monitoring.accounts.key_schemas import (
    ColleagueKeySchema,
    GrantKeyAccessArgs,
    KeyStatusSchema,
    ListColleagueKeysArgs,
    ListPendingMembersArgs,
    NewOrganisationKeySchema,
    PendingMemberSchema,
    RecoverKeyAccessArgs,
)
from monitoring.accounts.models import User, UserRole
from monitoring.core.api import paginate, route
from monitoring.core.auth import current_member, roles
from monitoring.core.pagination import Page


@route("/me/keys", summary=_l("The state of your keys"), response=KeyStatusSchema)
@roles(UserRole.monitor, UserRole.coordinator)
def get_key_status() -> keys.KeyStatus:
    return keys.key_status(current_member())


@route(
    "/me/keys/colleagues",
    summary=_l("Your colleagues' keys and access"),
    args=ListColleagueKeysArgs,
    response=ColleagueKeySchema,
    paginated=True,
)
@roles(UserRole.monitor)
def list_colleague_keys(args: dict[str, Any]) -> Page:
    user = current_member()
    page = paginate(services.colleague_list(user, args), [User.id], args.get("after"), args.get("limit"))
    return Page(services.colleague_statuses(user, page.items), page.next_cursor, page.limit)


@route(
    "/me/keys/organisation-key",
    method="POST",
    summary=_l("Create your organisation's key"),
    description=_l(
        "For the first monitor of an organisation without a key. Your token must carry your key. "
        "The answer holds the recovery code, once."
    ),
    response=NewOrganisationKeySchema,
    status=201,
)
@roles(UserRole.monitor)
def create_organisation_key() -> dict[str, Any]:
    user = current_member()
    code = keys.create_organisation_key(user, user.organisation)
    status = keys.key_status(user)
    return {"version": status.versions[0], "recovery_code": code}


@route(
    "/me/keys/grants",
    method="POST",
    summary=_l("Grant a colleague access to your organisation's key"),
    description=_l("Your token must carry your key, and you must have access yourself."),
    args=GrantKeyAccessArgs,
    response=ColleagueKeySchema,
)
@roles(UserRole.monitor)
def grant_access(args: dict[str, Any]) -> keys.ColleagueStatus:
    granter = current_member()
    member = services.load_colleague(granter, args["user_id"])
    keys.grant_member(granter, member, expected_fingerprint=args["fingerprint"])
    return services.colleague_statuses(granter, [member])[0]


@route(
    "/me/keys/pending-members",
    summary=_l("Colleagues waiting for your approval"),
    description=_l(
        "People added to your organisation who see none of its reports until a member approves them."
    ),
    args=ListPendingMembersArgs,
    response=PendingMemberSchema,
    paginated=True,
)
@roles(UserRole.monitor)
def list_pending_members(args: dict[str, Any]) -> Page:
    query = services.pending_member_list(current_member())
    return paginate(query, [User.id], args.get("after"), args.get("limit"))


@route(
    "/me/keys/pending-members/<int:user_id>/approve",
    method="POST",
    summary=_l("Approve a new colleague"),
    description=_l(
        "They then see your organisation's reports (metadata); they open them only once someone grants "
        "them access to the organisation's key."
    ),
    response=PendingMemberSchema,
)
@roles(UserRole.monitor)
def approve_pending_member(user_id: int) -> User:
    member = services.load_pending_member(current_member(), user_id)
    operations.approve_member(current_member(), member)
    return member


@route(
    "/me/keys/pending-members/<int:user_id>/refuse",
    method="POST",
    summary=_l("Refuse a new colleague"),
    description=_l("Their account is deactivated."),
    response=PendingMemberSchema,
)
@roles(UserRole.monitor)
def refuse_pending_member(user_id: int) -> User:
    member = services.load_pending_member(current_member(), user_id)
    operations.refuse_member(current_member(), member)
    return member


@route(
    "/me/keys/recover",
    method="POST",
    summary=_l("Regain access with your organisation's recovery code"),
    args=RecoverKeyAccessArgs,
    response=KeyStatusSchema,
)
@roles(UserRole.monitor)
def recover_access(args: dict[str, Any]) -> keys.KeyStatus:
    user = current_member()
    keys.recover(user, user.organisation, args["recovery_code"])
    return keys.key_status(user)
