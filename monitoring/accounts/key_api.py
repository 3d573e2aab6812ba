"""API of keys and access: one's key, the organisation's key, grants, the recovery code, and the
approval of new colleagues (who see none of the organisation's reports until a member approves).

An API token opens sealed data only if it was made while its owner's keys were unlocked (on
the account page after logging in, or through this API with such a token). Sealed routes answer
403 with an explanation otherwise.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import fields, validate
from sqlalchemy import select

from monitoring.accounts import keys, operations
from monitoring.accounts.models import KeyOrigin, OrganisationKeyGrant, User, UserRole
from monitoring.core.api import paginate, route
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.pagination import Page
from monitoring.core.schemas import BaseSchema, PageArgs

_FINGERPRINT = _l("SHA-256 of the public key, 32 hex digits in groups of four; compare it out of band.")
_KEY_CREATED = _l(
    "When the key pair was made; null without a key, or for keys made before this was recorded."
)
_KEY_ORIGIN = _l(
    "How the key pair was made: own_password (when the member set their own password), after_reset "
    "(the same, after an administrator reset), replaced (a key that no longer opened was replaced) or "
    "legacy (before origins were recorded, possibly under a temporary password an administrator knew)."
)


def _origin_text(origin: KeyOrigin | None) -> str | None:
    return origin.title if origin is not None else None


class OrganisationKeyVersionSchema(BaseSchema):
    version = fields.Integer(attribute="key.version", dump_only=True)
    fingerprint = fields.String(dump_only=True, metadata={"description": _FINGERPRINT})
    created_dt = fields.AwareDateTime(attribute="key.created_dt", dump_only=True)
    has_access = fields.Boolean(
        dump_only=True, metadata={"description": _l("Whether you hold this version.")}
    )
    members_with_access = fields.Integer(dump_only=True)


class KeyStatusSchema(BaseSchema):
    """The state of your key and of your organisation's key."""

    has_keys = fields.Boolean(dump_only=True)
    unlocked = fields.Boolean(
        dump_only=True,
        metadata={
            "description": _l("Whether this request can open sealed data (the token carries your key).")
        },
    )
    fingerprint = fields.String(dump_only=True, metadata={"description": _FINGERPRINT})
    key_created_dt = fields.AwareDateTime(
        dump_only=True, allow_none=True, metadata={"description": _KEY_CREATED}
    )
    key_origin = fields.Enum(
        KeyOrigin, by_value=True, dump_only=True, allow_none=True, metadata={"description": _KEY_ORIGIN}
    )
    key_origin_text = fields.Function(
        lambda status: _origin_text(status.key_origin), dump_only=True, allow_none=True
    )
    keys_reset_dt = fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("When an administrator's password reset last dropped your key pair.")},
    )
    membership_pending = fields.Boolean(
        dump_only=True,
        metadata={
            "description": _l(
                "Whether you wait for a member of your organisation to approve you; until then you "
                "see none of its reports."
            )
        },
    )
    organisation_has_key = fields.Boolean(dump_only=True)
    has_access = fields.Boolean(
        dump_only=True, metadata={"description": _l("Whether you hold the current version.")}
    )
    versions = fields.List(fields.Nested(OrganisationKeyVersionSchema), dump_only=True)


class ColleagueKeySchema(BaseSchema):
    """A colleague, their key's fingerprint and whether they hold the current version."""

    id = fields.Integer(attribute="user.id", dump_only=True)
    name = fields.String(attribute="user.name", dump_only=True)
    email = fields.String(attribute="user.email", dump_only=True)
    fingerprint = fields.String(dump_only=True, metadata={"description": _FINGERPRINT})
    key_created_dt = fields.AwareDateTime(
        dump_only=True, allow_none=True, metadata={"description": _KEY_CREATED}
    )
    key_origin = fields.Enum(
        KeyOrigin, by_value=True, dump_only=True, allow_none=True, metadata={"description": _KEY_ORIGIN}
    )
    key_origin_text = fields.Function(
        lambda colleague: _origin_text(colleague.key_origin), dump_only=True, allow_none=True
    )
    has_access = fields.Boolean(dump_only=True)


class PendingMemberSchema(BaseSchema):
    """A new colleague who waits for a member's approval (and sees none of the reports until then)."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    email = fields.String(dump_only=True)
    created_dt = fields.AwareDateTime(dump_only=True)
    is_active = fields.Boolean(dump_only=True)
    membership_pending = fields.Boolean(dump_only=True)
    membership_approved_dt = fields.AwareDateTime(dump_only=True, allow_none=True)


class ListPendingMembersArgs(PageArgs):
    """Paging through the colleagues waiting for approval, oldest request first; no filters."""


class NewOrganisationKeySchema(BaseSchema):
    version = fields.Nested(OrganisationKeyVersionSchema, dump_only=True)
    recovery_code = fields.String(
        dump_only=True,
        metadata={"description": _l("Shown only this once and stored nowhere: keep it somewhere safe.")},
    )


class ListColleagueKeysArgs(PageArgs):
    waiting = fields.Boolean(
        metadata={"description": _l("Only colleagues who have a key but no access (true), or the others.")}
    )


class GrantKeyAccessArgs(BaseSchema):
    user_id = fields.Integer(required=True, strict=True)
    fingerprint = fields.String(
        required=True,
        validate=validate.Length(max=64),
        metadata={
            "description": _l("The fingerprint you compared with the colleague; refused if it changed.")
        },
    )


class RecoverKeyAccessArgs(BaseSchema):
    recovery_code = fields.String(required=True, validate=validate.Length(min=1, max=200))


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _colleague_statuses(user: User, members: list[User]) -> list[keys.ColleagueStatus]:
    current = keys.current_organisation_key(user.organisation)
    holders: set[int] = set()
    if current is not None and members:
        holders = set(
            db.session.scalars(
                select(OrganisationKeyGrant.user_id).where(
                    OrganisationKeyGrant.organisation_key_id == current.id,
                    OrganisationKeyGrant.user_id.in_([m.id for m in members]),
                )
            )
        )
    return [keys.ColleagueStatus(m, keys.fingerprint(m.public_key), m.id in holders) for m in members]


@route("/me/keys", summary=_l("The state of your keys"), response=KeyStatusSchema)
@roles(UserRole.monitor, UserRole.coordinator)
def get_key_status() -> keys.KeyStatus:
    return keys.key_status(_me())


@route(
    "/me/keys/colleagues",
    summary=_l("Your colleagues' keys and access"),
    args=ListColleagueKeysArgs,
    response=ColleagueKeySchema,
    paginated=True,
)
@roles(UserRole.monitor)
def list_colleague_keys(args: dict[str, Any]) -> Page:
    user = _me()
    query = select(User).where(User.id.in_(keys.colleague_ids(user)))
    if "waiting" in args:
        current = keys.current_organisation_key(user.organisation)
        holders = select(OrganisationKeyGrant.user_id).where(
            OrganisationKeyGrant.organisation_key_id == (current.id if current is not None else -1)
        )
        if args["waiting"]:
            query = query.where(User.public_key.is_not(None), User.id.not_in(holders))
        else:
            query = query.where(User.public_key.is_(None) | User.id.in_(holders))
    page = paginate(query, [User.id], args.get("after"), args.get("limit"))
    return Page(_colleague_statuses(user, page.items), page.next_cursor, page.limit)


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
    user = _me()
    code = keys.create_organisation_key(user, user.organisation)
    db.session.commit()
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
    granter = _me()
    member = db.session.scalar(
        select(User).where(User.id == args["user_id"], User.id.in_(keys.colleague_ids(granter)))
    )
    if member is None:
        abort(404)
    keys.grant_member(granter, member, expected_fingerprint=args["fingerprint"])
    db.session.commit()
    return _colleague_statuses(granter, [member])[0]


def _pending_member(user_id: int) -> User:
    member = db.session.scalar(
        select(User).where(User.id == user_id, User.id.in_(keys.pending_member_ids(_me())))
    )
    if member is None:
        abort(404)
    return member


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
    query = select(User).where(User.id.in_(keys.pending_member_ids(_me())))
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
    member = _pending_member(user_id)
    operations.approve_member(_me(), member)
    db.session.commit()
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
    member = _pending_member(user_id)
    operations.refuse_member(_me(), member)
    db.session.commit()
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
    user = _me()
    keys.recover(user, user.organisation, args["recovery_code"])
    db.session.commit()
    return keys.key_status(user)
