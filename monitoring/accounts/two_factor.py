"""Two-factor sign-in with time-based one-time passwords (TOTP, RFC 6238).

Codes have 6 digits, change every 30 seconds and use HMAC-SHA-1, which every authenticator
app understands. The secret is kept under the server keyring (``User.totp_secret``). A code is
accepted for the current time step and one step either side, and each step only once: the
last step used is stored and a code for it or an earlier one is refused. Failed codes are
counted per account like failed logins and throttled the same way.

Monitors, coordinators and admins must pass the second factor before they reach any page
but the two-factor pages themselves, logout and the language switch; affiliates and suppliers
may switch it on, and then it is required for them too. The API has no sessions: a bearer
token can only be made from a session that passed the second factor (or by an operator on the
command line), so a token stands for both factors. It cannot change them, though: setting up
and resetting two-factor sign-in need a web session in which the password was typed within
``PASSWORD_CONFIRM_MINUTES``, and a reset revokes the user's API tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from flask import current_app, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete

from monitoring.accounts.models import LoginAttempt, User
from monitoring.accounts.operations import revoke_all_tokens
from monitoring.accounts.permissions import must_use_two_factor
from monitoring.accounts.sign_in import attempt_key, failures_since
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.sessions import end_user_sessions
from monitoring.core.types import utcnow

logger = logging.getLogger(__name__)

DIGITS = 6
INTERVAL = 30  # seconds
WINDOW = 1  # time steps accepted either side of the current one (clock drift, slow typing)
DIGEST = hashlib.sha1  # RFC 6238's default; authenticator apps expect it
# Only accounts under this domain can have the demo relaxation; no real address ends in it
# (".example" is reserved by RFC 2606).
DEMO_EMAIL_SUFFIX = "@demo.example"
# The session key that records that the second factor passed, holding the user's id.
SESSION_KEY = "two_factor_user_id"


# --- policy ---------------------------------------------------------------------------------


def is_enrolled(user: User) -> bool:
    """Whether the user has confirmed an authenticator app."""
    return user.totp_enabled_dt is not None


def enrolment_pending(user: User) -> bool:
    """Whether a secret was made but not yet confirmed with a code."""
    return user.totp_enabled_dt is None and user.totp_secret_ct is not None


def demo_relaxed(user: User) -> bool:
    """Whether the demo switches the mandatory second factor off for this account.

    Only with ``DEMO_RELAX_TWO_FACTOR`` (refused in production), only for demo accounts, only
    for roles that would otherwise need it, and never once the person has enrolled.
    """
    return bool(
        current_app.config.get("DEMO_RELAX_TWO_FACTOR")
        and user.email.endswith(DEMO_EMAIL_SUFFIX)
        and must_use_two_factor(user)
        and not is_enrolled(user)
    )


def two_factor_required(user: User) -> bool:
    """Whether the user must pass the second factor before anything else."""
    if is_enrolled(user):
        return True
    return must_use_two_factor(user) and not demo_relaxed(user)


def can_enrol(user: User) -> bool:
    return not is_enrolled(user)


# --- the session ----------------------------------------------------------------------------


def has_passed(user: User) -> bool:
    """Whether this session passed the second factor for this user."""
    return session.get(SESSION_KEY) == user.id


def mark_passed(user: User) -> None:
    """Record in the session that the second factor passed (the caller renews the session id)."""
    session[SESSION_KEY] = user.id


def second_factor_pending(user: User) -> bool:
    """Whether the logged-in user still has to give a code in this session."""
    return two_factor_required(user) and not has_passed(user)


# --- codes ----------------------------------------------------------------------------------


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, digest=DIGEST, interval=INTERVAL)


def normalise_code(code: str) -> str | None:
    """The code as ASCII digits, or None. Spaces and dashes are ignored; digits of any script count."""
    digits = []
    for char in code:
        if char.isspace() or unicodedata.category(char) == "Pd":  # dashes of any kind
            continue
        value = unicodedata.decimal(char, None)
        if value is None:
            return None
        digits.append(str(value))
    text = "".join(digits)
    return text if len(text) == DIGITS else None


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step within the window whose code equals ``code``, if any."""
    totp = _totp(secret)
    current = totp.timecode(now)
    match = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        # Compare every candidate, so the time taken tells nothing about which one matched.
        if hmac.compare_digest(totp.generate_otp(step), code):
            match = step
    return match


def format_secret(secret: str) -> str:
    """The secret in groups of four, as people type it into an authenticator app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` address authenticator apps read from the QR code."""
    return _totp(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["TWO_FACTOR_ISSUER"]
    )


# --- enrolment ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str

    @property
    def grouped(self) -> str:
        return format_secret(self.secret)


def pending_enrolment(user: User) -> Enrolment | None:
    """The secret being set up, to show again until it is confirmed."""
    if not enrolment_pending(user):
        return None
    secret = user.totp_secret
    return Enrolment(secret, provisioning_uri(user, secret))


def begin_enrolment(user: User) -> Enrolment:
    """Make a new secret for the user's authenticator app; it counts once confirmed with a code."""
    if is_enrolled(user):
        raise OperationError(
            _l(
                "Two-factor sign-in is already set up. To change the device, ask an administrator "
                "to reset it."
            )
        )
    restarted = enrolment_pending(user)
    secret = pyotp.random_base32()  # 32 characters: 160 bits, as RFC 4226 recommends
    user.totp_secret = secret
    user.totp_last_step = None
    db.session.flush()
    audit.record(
        "two_factor.enrol_start",
        f"{user.email} started setting up two-factor sign-in",
        actor=user,
        obj=user,
        data={"restarted": restarted},
    )
    return Enrolment(secret, provisioning_uri(user, secret))


@dataclass
class CodeResult:
    ok: bool
    throttled: bool = False


def _throttle_key(user: User) -> str:
    return attempt_key("two_factor", str(user.id))


def _check_code(user: User, code: str, *, kind: str, now: float | None) -> CodeResult:
    """Check a code against the user's secret: throttled, each time step accepted once, audited."""
    config = current_app.config
    key = _throttle_key(user)
    since = utcnow() - timedelta(minutes=config["LOGIN_WINDOW_MINUTES"])
    if failures_since(key, since) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
        db.session.add(LoginAttempt(key=key))
        audit.record(
            "two_factor.throttled",
            f"Two-factor code for {user.email} refused: too many failures",
            actor=user,
            obj=user,
            data={"stage": kind},
        )
        return CodeResult(False, throttled=True)
    normalised = normalise_code(code)
    step = (
        _matching_step(user.totp_secret, normalised, time.time() if now is None else now)
        if normalised is not None and user.totp_secret_ct is not None
        else None
    )
    replayed = step is not None and user.totp_last_step is not None and step <= user.totp_last_step
    if step is None or replayed:
        db.session.add(LoginAttempt(key=key))
        db.session.flush()
        audit.record(
            "two_factor.failure",
            f"Wrong two-factor code for {user.email}" + (" (already used)" if replayed else ""),
            actor=user,
            obj=user,
            data={"stage": kind, "replayed": replayed},
        )
        return CodeResult(False)
    user.totp_last_step = step
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.key == key))
    db.session.flush()
    return CodeResult(True)


def confirm_enrolment(user: User, code: str, *, now: float | None = None) -> CodeResult:
    """Switch two-factor sign-in on once the app's first code matches the new secret."""
    if not enrolment_pending(user):
        raise OperationError(_l("Start the set-up first: there is no key waiting to be confirmed."))
    result = _check_code(user, code, kind="enrolment", now=now)
    if not result.ok:
        return result
    user.totp_enabled_dt = utcnow()
    db.session.flush()
    audit.record(
        "two_factor.enrol",
        f"{user.email} switched on two-factor sign-in",
        actor=user,
        obj=user,
    )
    return result


def verify_code(user: User, code: str, *, now: float | None = None) -> CodeResult:
    """Check the code given at login."""
    if not is_enrolled(user):
        raise OperationError(_l("Two-factor sign-in is not set up for this account."))
    result = _check_code(user, code, kind="login", now=now)
    if result.ok:
        audit.record("two_factor.success", f"{user.email} passed two-factor sign-in", actor=user, obj=user)
    return result


# --- reset ----------------------------------------------------------------------------------


def reset_two_factor(actor: User | None, user: User) -> None:
    """Remove a user's authenticator (e.g. a lost phone); they must enrol again at next login."""
    if actor is not None and actor.id == user.id:
        raise OperationError(_l("You cannot reset your own two-factor sign-in; ask another administrator."))
    if not is_enrolled(user) and not enrolment_pending(user):
        raise OperationError(_l("%(name)s has not set up two-factor sign-in.", name=user.name))
    was_enrolled = is_enrolled(user)
    user.totp_secret = None
    user.totp_last_step = None
    user.totp_enabled_dt = None
    ended = end_user_sessions(user.id)
    # A token stolen before the reset must not outlive it (the thief could enrol their own phone).
    revoke_all_tokens(actor, user, reason="two_factor.reset")
    db.session.flush()
    audit.record(
        "two_factor.reset",
        f"Reset the two-factor sign-in of {user.email}",
        actor=actor,
        obj=user,
        data={"was_enrolled": was_enrolled, "sessions_ended": ended},
    )
