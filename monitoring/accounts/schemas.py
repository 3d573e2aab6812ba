"""Input and output schemas of accounts: users, organisations and API tokens.

No schema exposes a password hash or a token hash.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate

from monitoring.accounts.models import KeyOrigin, OrganisationKind, UserRole
from monitoring.config import LOCALES
from monitoring.core.schemas import BaseSchema, Integer, PageArgs
from monitoring.core.time_zones import is_time_zone

# --- output -------------------------------------------------------------------------------------


class OrganisationRefSchema(BaseSchema):
    """An organisation in brief, as shown next to a user."""

    id = Integer(dump_only=True)
    name = fields.String(dump_only=True)
    kind = fields.Enum(OrganisationKind, by_value=True, dump_only=True)


class OrganisationSchema(OrganisationRefSchema):
    country = fields.String(dump_only=True, allow_none=True)
    is_active = fields.Boolean(dump_only=True)
    created_dt = fields.AwareDateTime(dump_only=True)


class UserRefSchema(BaseSchema):
    """A user in brief, e.g. the actor of an audit entry."""

    id = Integer(dump_only=True)
    email = fields.String(dump_only=True)
    name = fields.String(dump_only=True)


class MeSchema(UserRefSchema):
    """The current user."""

    role = fields.Enum(UserRole, by_value=True, dump_only=True)
    organisation = fields.Nested(OrganisationRefSchema, dump_only=True)
    locale = fields.String(dump_only=True, allow_none=True)
    time_zone = fields.String(
        attribute="time_zone_name",
        dump_only=True,
        metadata={
            "description": _l(
                "The time zone the person reads times in: their own choice, else the usual time zone of "
                "their organisation's country."
            )
        },
    )
    must_change_password = fields.Boolean(dump_only=True)


class UserSchema(MeSchema):
    """A user as administrators see it."""

    is_active = fields.Boolean(dump_only=True)
    created_dt = fields.AwareDateTime(dump_only=True)
    password_changed_dt = fields.AwareDateTime(dump_only=True)
    deactivated_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    has_keys = fields.Function(
        lambda user: user.public_key is not None,
        dump_only=True,
        metadata={
            "description": _l(
                "Whether the person has a key pair: it is made only when they choose their own password."
            )
        },
    )
    key_origin = fields.Enum(KeyOrigin, by_value=True, dump_only=True, allow_none=True)
    membership_pending = fields.Boolean(
        dump_only=True,
        metadata={
            "description": _l(
                "A monitor waiting for a member of their organisation to approve them; until then they "
                "see none of its reports."
            )
        },
    )
    membership_approved_dt = fields.AwareDateTime(dump_only=True, allow_none=True)


class UserWithPasswordSchema(BaseSchema):
    """A user and the temporary password just given to them (shown only this once)."""

    user = fields.Nested(UserSchema, dump_only=True)
    temporary_password = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": _l("Shown only this once; null when the password was given in the request.")
        },
    )


class ApiTokenSchema(BaseSchema):
    id = Integer(dump_only=True)
    name = fields.String(dump_only=True)
    prefix = fields.String(dump_only=True, metadata={"description": _l("The first characters of the token.")})
    is_active = fields.Boolean(dump_only=True)
    created_dt = fields.AwareDateTime(dump_only=True)
    last_used_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    revoked_dt = fields.AwareDateTime(dump_only=True, allow_none=True)


class NewApiTokenSchema(BaseSchema):
    """A token just created, with its secret (shown only this once)."""

    token = fields.Nested(ApiTokenSchema, dump_only=True)
    secret = fields.String(
        dump_only=True,
        metadata={"description": _l("The bearer token. It is shown only this once and cannot be recovered.")},
    )


# --- input --------------------------------------------------------------------------------------

_name_length = validate.Length(min=1, max=200, error=_l("Give between 1 and 200 characters."))


def _time_zone(value: str) -> None:
    if not is_time_zone(value):
        raise ValidationError(_("Choose a time zone from the list, e.g. Asia/Bangkok."))


def _time_zone_field(description: object) -> fields.String:
    return fields.String(
        allow_none=True,
        validate=_time_zone,
        metadata={"description": description, "example": "Asia/Bangkok"},
    )


def _locale_field(description: object) -> fields.String:
    return fields.String(
        allow_none=True,
        validate=validate.OneOf(LOCALES, error=_l("This language is not available.")),
        metadata={"description": description},
    )


class CreateTokenArgs(BaseSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100, error=_l("Give between 1 and 100 characters.")),
    )


class ListTokensArgs(PageArgs):
    """Paging through one's own tokens, newest first; no filters."""


class CreateOrganisationArgs(BaseSchema):
    name = fields.String(required=True, validate=_name_length)
    kind = fields.Enum(OrganisationKind, by_value=True, required=True)
    country = fields.String(
        allow_none=True,
        validate=validate.Length(equal=2, error=_l("Give the country as a two-letter ISO code.")),
        metadata={"description": _l("ISO 3166-1 alpha-2 code.")},
    )


class ListOrganisationsArgs(PageArgs):
    kind = fields.Enum(OrganisationKind, by_value=True)
    is_active = fields.Boolean()


class CreateUserArgs(BaseSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=_name_length)
    role = fields.Enum(UserRole, by_value=True, required=True)
    organisation_id = Integer(required=True, strict=True)
    password = fields.String(
        load_only=True,
        validate=validate.Length(max=1000),
        metadata={
            "description": _l(
                "Omit it to have a temporary password generated and returned once. Either way the "
                "person must choose their own at the first login; their key pair is made only then."
            )
        },
    )
    locale = _locale_field(_l("The language of the interface; null: the language of the browser."))
    time_zone = _time_zone_field(
        _l("An IANA time zone; null or omitted: the usual time zone of the organisation's country.")
    )


class UpdateAccountArgs(BaseSchema):
    """One's own settings; a field left out stays as it is."""

    locale = _locale_field(_l("The language of the interface; null: the language of the browser."))
    time_zone = _time_zone_field(
        _l("An IANA time zone; null: the usual time zone of your organisation's country.")
    )


class ListUsersArgs(PageArgs):
    organisation_id = Integer()
    role = fields.Enum(UserRole, by_value=True)
    is_active = fields.Boolean()


# The audit log's entries: the admin log, and a monitor organisation's trail (testimony).
class AuditEntrySchema(BaseSchema):
    id = Integer(dump_only=True)
    created_dt = fields.AwareDateTime(dump_only=True)
    actor_id = Integer(dump_only=True, allow_none=True)
    actor = fields.Nested(UserRefSchema, dump_only=True, allow_none=True)
    action = fields.String(dump_only=True)
    object_type = fields.String(dump_only=True, allow_none=True)
    object_id = fields.String(dump_only=True, allow_none=True)
    summary = fields.String(dump_only=True, metadata={"description": _l("Plain English, never translated.")})
    data = fields.Dict(attribute="data_dict", dump_only=True)
    prev_hash = fields.String(dump_only=True)
    hash = fields.String(dump_only=True)


# --- two-factor sign-in ------------------------------------------------------------------------


class TwoFactorStatusSchema(BaseSchema):
    """Whether a user's two-factor sign-in is on and needed."""

    user_id = Integer(dump_only=True)
    enabled = fields.Boolean(dump_only=True)
    enabled_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    enrolment_pending = fields.Boolean(
        dump_only=True, metadata={"description": _l("A key was made but not yet confirmed with a code.")}
    )
    required = fields.Boolean(
        dump_only=True, metadata={"description": _l("Whether every login must give a code.")}
    )
    demo_relaxed = fields.Boolean(
        dump_only=True,
        metadata={"description": _l("A demo account for which the demo switched two-factor sign-in off.")},
    )


class TwoFactorEnrolmentSchema(BaseSchema):
    """A new key for an authenticator app, to be confirmed with its first code."""

    secret = fields.String(
        dump_only=True,
        metadata={"description": _l("The key in base32, for typing into an authenticator app.")},
    )
    otpauth_uri = fields.String(
        dump_only=True, metadata={"description": _l("The otpauth:// address, usually shown as a QR code.")}
    )
    status = fields.Nested(TwoFactorStatusSchema, dump_only=True)


class ConfirmTwoFactorArgs(BaseSchema):
    code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=20, error=_l("Give between 1 and 20 characters.")),
        metadata={"description": _l("The six-digit code the authenticator app shows now.")},
    )
