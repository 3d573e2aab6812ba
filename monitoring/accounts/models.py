"""Organisations, users, login attempts and API tokens."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitoring.core.crypto import ProtectedBytes
from monitoring.core.db import Base
from monitoring.core.keyring import protected
from monitoring.core.roles import UserRole
from monitoring.core.time_zones import UTC_NAME, country_time_zone, is_time_zone
from monitoring.core.types import TitledEnum, UTCDateTime, enum_column, utcnow


class OrganisationKind(TitledEnum):
    operator = "operator"
    monitor = "monitor"
    affiliate = "affiliate"
    supplier = "supplier"

    @staticmethod
    def __titles__() -> dict[OrganisationKind, str]:
        return {
            OrganisationKind.operator: _l("Operating organisation"),
            OrganisationKind.monitor: _l("Monitoring organisation"),
            OrganisationKind.affiliate: _l("Public buyer"),
            OrganisationKind.supplier: _l("Supplier"),
        }


class KeyAlgorithm(TitledEnum):
    """The HPKE suite of a key pair (values as in :data:`monitoring.core.crypto.SUITES`)."""

    x25519 = "x25519"
    mlkem768_x25519 = "mlkem768-x25519"

    @staticmethod
    def __titles__() -> dict[KeyAlgorithm, str]:
        return {
            KeyAlgorithm.x25519: _l("X25519 (not safe against quantum computers)"),
            KeyAlgorithm.mlkem768_x25519: _l("ML-KEM-768 + X25519 (post-quantum hybrid)"),
        }


class KeyOrigin(TitledEnum):
    """How a user's key pair came about: shown to colleagues next to its fingerprint."""

    own_password = "own_password"  # noqa: S105 - the name of an origin, not a password
    after_reset = "after_reset"
    replaced = "replaced"
    legacy = "legacy"

    @staticmethod
    def __titles__() -> dict[KeyOrigin, str]:
        return {
            KeyOrigin.own_password: _l("by the member on setting their own password"),
            KeyOrigin.after_reset: _l(
                "by the member on setting their own password after an administrator reset"
            ),
            KeyOrigin.replaced: _l(
                "by the member on changing their password, replacing a key that no longer opened"
            ),
            KeyOrigin.legacy: _l(
                "before key origins were recorded, possibly under a temporary password an administrator knew"
            ),
        }


# The kind of organisation each role belongs to.
ROLE_ORGANISATION_KIND = {
    UserRole.admin: OrganisationKind.operator,
    UserRole.coordinator: OrganisationKind.operator,
    UserRole.monitor: OrganisationKind.monitor,
    UserRole.affiliate: OrganisationKind.affiliate,
    UserRole.supplier: OrganisationKind.supplier,
}


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # SHA-256 of the name's confusables skeleton (monitoring.core.names): no two organisations
    # may look alike, whatever invisible or look-alike characters their names hold.
    name_skeleton: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind, "kind"))
    country: Mapped[str | None] = mapped_column(String(2))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.kind.value} {self.name!r}>"


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("deactivated_dt IS NULL OR NOT is_active", name="deactivated_dt_if_inactive"),
        CheckConstraint("(public_key IS NULL) = (key_origin IS NULL)", name="key_origin_if_key"),
        CheckConstraint("key_created_dt IS NULL OR public_key IS NOT NULL", name="key_created_dt_if_key"),
        CheckConstraint(
            "membership_approved_by_id IS NULL OR membership_approved_dt IS NOT NULL",
            name="approved_by_if_approved",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[UserRole] = mapped_column(enum_column(UserRole, "role"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    # The IANA zone the user reads times in; NULL: the usual zone of the organisation's country.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deactivated_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The user's key pair (ML-KEM-768 + X25519; X25519 if made before December 2026):
    # organisation keys are wrapped to the public key; the private
    # key is stored wrapped under a key derived from the password (see ``monitoring.accounts.keys``).
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    private_key_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary(256))
    # A key pair is made only when the user sets a password of their own, never under one an
    # administrator saw; when and how is shown to colleagues (NULL date: before it was recorded).
    key_created_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    key_origin: Mapped[KeyOrigin | None] = mapped_column(enum_column(KeyOrigin, "key_origin"))
    # When an administrator's password reset last dropped the user's key pair.
    keys_reset_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A monitor joins their organisation's reports only once a member approved them (the
    # organisation's first member is approved automatically: approved_by is then NULL).
    membership_approved_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    membership_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # TOTP second factor: the secret under the server keyring, the last time step used (codes
    # are accepted once) and when enrolment was confirmed.
    totp_secret_ct: Mapped[bytes | None] = mapped_column(ProtectedBytes(256))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    totp_enabled_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_secret = protected("totp_secret_ct")

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")
    membership_approved_by: Mapped[User | None] = relationship(
        foreign_keys=[membership_approved_by_id], remote_side=[id]
    )

    @property
    def membership_pending(self) -> bool:
        """A monitor whom no member of their organisation has approved yet: sees none of its reports."""
        return self.role is UserRole.monitor and self.membership_approved_dt is None

    @property
    def default_time_zone(self) -> str:
        """The zone of the organisation's country, else UTC: what a user without a choice reads."""
        return country_time_zone(self.organisation.country if self.organisation else None) or UTC_NAME

    @property
    def time_zone_name(self) -> str:
        """The zone the user reads times in: their own choice, else their organisation's country's."""
        if self.time_zone and is_time_zone(self.time_zone):
            return self.time_zone
        return self.default_time_zone

    # Flask-Login
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value} {self.email}>"


class LoginAttempt(Base):
    """A failed login, keyed by an HMAC of the account name, the client address or a trusted device.

    Rows older than the throttle window are deleted by ``flask jobs run``.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_key_dt", "key", "attempted_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    attempted_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrustedDevice(Base):
    """A browser in which a user completed a login (password and second factor).

    Its device cookie gives it an allowance of failed logins of its own, so that strangers who
    lock the account out cannot lock its owner out (OWASP's device cookie). The cookie holds a
    random nonce; only its SHA-256 is stored, so neither the database nor the server secrets
    alone can make a cookie that counts.
    """

    __tablename__ = "trusted_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("revoked_dt IS NULL OR revoked_dt >= created_dt", name="revoked_after_created"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The user's private key wrapped under a key derived from the token itself, so that a
    # token made while the user's keys were unlocked can open sealed data; NULL otherwise.
    private_key_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary(256))

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:
        return self.revoked_dt is None


class OrganisationKey(Base):
    """One version of a monitor organisation's key pair for sealed data.

    The private key is never stored in the clear: it is wrapped to each member
    (:class:`OrganisationKeyGrant`) and to the organisation's recovery key. New versions are
    post-quantum hybrids (ML-KEM-768 + X25519); versions made before are X25519.
    """

    __tablename__ = "organisation_key"
    __table_args__ = (
        UniqueConstraint("organisation_id", "version"),
        CheckConstraint("retired_dt IS NULL OR retired_dt >= created_dt", name="retired_after_created"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    algorithm: Mapped[KeyAlgorithm] = mapped_column(enum_column(KeyAlgorithm, "algorithm"))
    # Raw keys and sealed blobs: 32 bytes for X25519, 1,216 (public) and ~1,250 (sealed) for the
    # hybrid; LargeBinary is BYTEA / BLOB, without a length limit, on PostgreSQL and SQLite.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The recovery key's public half, and this version's private key sealed to it.
    recovery_public_key: Mapped[bytes] = mapped_column(LargeBinary)
    recovery_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    retired_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()

    def __repr__(self) -> str:
        return f"<OrganisationKey {self.id} org={self.organisation_id} v{self.version}>"


class OrganisationKeyGrant(Base):
    """An organisation key version's private key, sealed to one member's public key."""

    __tablename__ = "organisation_key_grant"
    __table_args__ = (UniqueConstraint("organisation_key_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_key_id: Mapped[int] = mapped_column(
        ForeignKey("organisation_key.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation_key: Mapped[OrganisationKey] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
