"""Two-factor operations: who needs it, the secret at rest, the window, replay and throttling."""

from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import select

from monitoring.accounts import two_factor
from monitoring.accounts.models import User, UserRole
from monitoring.core.audit import AuditEntry
from monitoring.core.crypto import DecryptionError
from monitoring.core.db import db
from monitoring.core.keyring import protected_columns, unprotect
from monitoring.core.operations import OperationError
from tests.accounts.two_factor_helpers import code_at, enrol_directly

INTERVAL = two_factor.INTERVAL


def _actions(user_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "user_account", AuditEntry.object_id == str(user_id))
            .order_by(AuditEntry.id)
        )
    )


@pytest.mark.parametrize(
    ("role", "required"),
    [("admin", True), ("coordinator", True), ("monitor", True), ("affiliate", False), ("supplier", False)],
)
def test_who_needs_the_second_factor(app, create_user, role, required):
    user = create_user(role)
    with app.app_context():
        row = db.session.get(User, user.id)
        assert two_factor.two_factor_required(row) is required
        assert not two_factor.is_enrolled(row)
    enrol_directly(app, user)
    with app.app_context():
        # Once someone has switched it on, it is required, whatever the role.
        assert two_factor.two_factor_required(db.session.get(User, user.id)) is True


def test_secret_is_kept_under_the_keyring_bound_to_its_row(app, monitor, coordinator):
    secret = enrol_directly(app, monitor)
    with app.app_context():
        user = db.session.get(User, monitor.id)
        blob = user.totp_secret_ct
        assert secret.encode() not in blob
        assert user.totp_secret == secret
        assert any(c.model is User and c.column == "totp_secret_ct" for c in protected_columns())
        # The same ciphertext in another person's row does not open.
        with pytest.raises(DecryptionError):
            unprotect(blob, table="user_account", column="totp_secret_ct", row=coordinator.id)


def test_enrolment_needs_a_code_from_the_new_secret(app, monitor):
    with app.app_context():
        user = db.session.get(User, monitor.id)
        enrolment = two_factor.begin_enrolment(user)
        assert two_factor.enrolment_pending(user) and not two_factor.is_enrolled(user)
        assert len(enrolment.secret) == 32  # 160 bits
        assert enrolment.grouped.split(" ")[0] == enrolment.secret[:4]
        other = pyotp.random_base32()
        now = time.time()
        wrong = two_factor.confirm_enrolment(user, pyotp.TOTP(other).at(now), now=now)
        assert not wrong.ok and not two_factor.is_enrolled(user)
        right = two_factor.confirm_enrolment(user, pyotp.TOTP(enrolment.secret).at(now), now=now)
        assert right.ok and two_factor.is_enrolled(user)
        assert user.totp_last_step == int(now) // INTERVAL
        db.session.commit()
        assert _actions(user.id)[-3:] == ["two_factor.enrol_start", "two_factor.failure", "two_factor.enrol"]


def test_the_uri_is_what_authenticator_apps_expect(app, monitor):
    with app.app_context():
        user = db.session.get(User, monitor.id)
        enrolment = two_factor.begin_enrolment(user)
        parsed = pyotp.parse_uri(enrolment.uri)
        assert isinstance(parsed, pyotp.TOTP)
        assert (parsed.secret, parsed.digits, parsed.interval) == (enrolment.secret, 6, 30)
        assert parsed.digest().name == "sha1"
        assert parsed.name == monitor.email
        assert parsed.issuer == app.config["TWO_FACTOR_ISSUER"]


def test_begin_again_replaces_an_unconfirmed_secret_but_not_a_confirmed_one(app, monitor):
    with app.app_context():
        user = db.session.get(User, monitor.id)
        first = two_factor.begin_enrolment(user)
        second = two_factor.begin_enrolment(user)
        assert first.secret != second.secret
        assert two_factor.pending_enrolment(user).secret == second.secret
        now = time.time()
        assert two_factor.confirm_enrolment(user, pyotp.TOTP(second.secret).at(now), now=now).ok
        assert two_factor.pending_enrolment(user) is None
        with pytest.raises(OperationError):
            two_factor.begin_enrolment(user)
        with pytest.raises(OperationError):
            two_factor.confirm_enrolment(user, "000000")


def test_verify_refuses_before_enrolment(app, monitor):
    with app.app_context(), pytest.raises(OperationError):
        two_factor.verify_code(db.session.get(User, monitor.id), "123456")


def test_window_is_one_step_either_side_and_each_step_counts_once(app, monitor):
    secret = enrol_directly(app, monitor)
    with app.app_context():
        user = db.session.get(User, monitor.id)
        # Far in the future, so no code of the enrolment is near.
        now = time.time() + 3600
        step = int(now) // INTERVAL
        for outside in (step - 2, step + 2):
            assert not two_factor.verify_code(user, code_at(secret, outside), now=now).ok
        assert two_factor.verify_code(user, code_at(secret, step - 1), now=now).ok
        assert two_factor.verify_code(user, code_at(secret, step), now=now).ok
        # Replays: the same code again, and an earlier step still inside the window.
        assert not two_factor.verify_code(user, code_at(secret, step), now=now).ok
        assert not two_factor.verify_code(user, code_at(secret, step - 1), now=now).ok
        assert two_factor.verify_code(user, code_at(secret, step + 1), now=now).ok
        assert user.totp_last_step == step + 1
        db.session.commit()
        entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_id == str(user.id), AuditEntry.action.like("two_factor.%"))
            .order_by(AuditEntry.id)
        ).all()
        tail = [(e.action, e.data_dict.get("replayed")) for e in entries[-7:]]
        assert tail == [
            ("two_factor.failure", False),
            ("two_factor.failure", False),
            ("two_factor.success", None),
            ("two_factor.success", None),
            ("two_factor.failure", True),
            ("two_factor.failure", True),
            ("two_factor.success", None),
        ]
        # No code and no secret reaches the audit log.
        assert not any(secret in e.data or code_at(secret, step) in e.data for e in entries)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("123456", "123456"),
        (" 123 456 ", "123456"),
        ("123-456", "123456"),
        ("๑๒๓๔๕๖", "123456"),  # Thai digits
        ("١٢٣٤٥٦", "123456"),  # Arabic-Indic digits
        ("12345", None),
        ("1234567", None),
        ("12a456", None),
        ("", None),
    ],
)
def test_codes_are_normalised(typed, expected):
    assert two_factor.normalise_code(typed) == expected


def test_codes_in_other_digits_are_accepted(app, monitor):
    secret = enrol_directly(app, monitor)
    thai = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
    with app.app_context():
        user = db.session.get(User, monitor.id)
        now = time.time() + 3600
        code = code_at(secret, int(now) // INTERVAL)
        assert two_factor.verify_code(user, code.translate(thai), now=now).ok


def test_failed_codes_are_throttled_per_account(app, monitor, coordinator):
    secret = enrol_directly(app, monitor)
    other_secret = enrol_directly(app, coordinator)
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    with app.app_context():
        user = db.session.get(User, monitor.id)
        now = time.time() + 3600
        step = int(now) // INTERVAL
        wrong = f"{(int(code_at(secret, step)) + 1) % 1_000_000:06d}"
        for _ in range(limit):
            result = two_factor.verify_code(user, wrong, now=now)
            assert not result.ok and not result.throttled
        # Now even the right code is refused.
        result = two_factor.verify_code(user, code_at(secret, step), now=now)
        assert result.throttled and not result.ok
        assert user.totp_last_step != step
        # Another account is not affected.
        other = db.session.get(User, coordinator.id)
        assert two_factor.verify_code(other, code_at(other_secret, step), now=now).ok
        db.session.commit()
        assert _actions(user.id)[-1] == "two_factor.throttled"


def test_a_right_code_clears_the_failures(app, monitor):
    secret = enrol_directly(app, monitor)
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    with app.app_context():
        user = db.session.get(User, monitor.id)
        now = time.time() + 3600
        step = int(now) // INTERVAL
        for _ in range(limit - 1):
            assert not two_factor.verify_code(user, "abcdef", now=now).ok
        assert two_factor.verify_code(user, code_at(secret, step), now=now).ok
        # Without the clearing, the first of these would already be throttled.
        for _ in range(limit - 1):
            result = two_factor.verify_code(user, "abcdef", now=now)
            assert not result.ok and not result.throttled
        assert two_factor.verify_code(user, code_at(secret, step + 1), now=now).ok


def test_reset_removes_the_key_and_is_audited(app, admin, monitor):
    enrol_directly(app, monitor)
    with app.app_context():
        actor = db.session.get(User, admin.id)
        user = db.session.get(User, monitor.id)
        two_factor.reset_two_factor(actor, user)
        db.session.commit()
        assert (user.totp_secret_ct, user.totp_last_step, user.totp_enabled_dt) == (None, None, None)
        assert two_factor.two_factor_required(user)  # a monitor must enrol again
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "two_factor.reset").order_by(AuditEntry.id.desc())
        )
        assert entry.actor_id == admin.id and entry.object_id == str(monitor.id)
        assert entry.data_dict["was_enrolled"] is True
        with pytest.raises(OperationError, match="has not set up"):
            two_factor.reset_two_factor(actor, user)
        with pytest.raises(OperationError, match="your own"):
            two_factor.reset_two_factor(actor, actor)


def test_reset_of_a_voluntary_user_makes_it_optional_again(app, admin, affiliate):
    enrol_directly(app, affiliate)
    with app.app_context():
        user = db.session.get(User, affiliate.id)
        assert two_factor.two_factor_required(user)
        two_factor.reset_two_factor(db.session.get(User, admin.id), user)
        assert user.role is UserRole.affiliate and not two_factor.two_factor_required(user)
