"""Schemas of the keys-and-access API: one's key, the organisation's key, colleagues and approvals."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from monitoring.accounts.models import KeyOrigin
from monitoring.core.schemas import BaseSchema, Integer, PageArgs

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
    version = Integer(attribute="key.version", dump_only=True)
    fingerprint = fields.String(dump_only=True, metadata={"description": _FINGERPRINT})
    created_dt = fields.AwareDateTime(attribute="key.created_dt", dump_only=True)
    has_access = fields.Boolean(
        dump_only=True, metadata={"description": _l("Whether you hold this version.")}
    )
    members_with_access = Integer(dump_only=True)


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

    id = Integer(attribute="user.id", dump_only=True)
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

    id = Integer(dump_only=True)
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
    user_id = Integer(required=True, strict=True)
    fingerprint = fields.String(
        required=True,
        validate=validate.Length(max=64),
        metadata={
            "description": _l("The fingerprint you compared with the colleague; refused if it changed.")
        },
    )


class RecoverKeyAccessArgs(BaseSchema):
    recovery_code = fields.String(required=True, validate=validate.Length(min=1, max=200))
