"""Attack: copy the database now, keep it until a quantum computer breaks X25519 (harvest now, decrypt later).
Defence: new key versions, member and recovery keys are ML-KEM-768 + X25519 hybrids; re-wrap moves reports.
"""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import inspect, select

from monitoring.accounts import keys
from monitoring.accounts.models import KeyAlgorithm, OrganisationKey, OrganisationKeyGrant, User, UserRole
from monitoring.core import crypto
from monitoring.core.db import db
from monitoring.testimony import sealing
from monitoring.testimony.models import Evidence, ReportGrant, ReportMessage, WorkerReport
from tests.conftest import unlocked_as
from tests.testimony.monitor_helpers import PDF, add_file, make_anonymous_report, make_report, share_with

OPEN = {"reason": "follow_up"}
REPORT, MESSAGE = WorkerReport.__tablename__, ReportMessage.__tablename__


def _suites_in_use(app, organisation_id: int) -> set[str | None]:
    """The suite of every sealed key an organisation's reports, messages and files hold."""
    with app.app_context():
        blobs = [
            *db.session.scalars(
                select(WorkerReport.wrapped_key).where(WorkerReport.organisation_id == organisation_id)
            ),
            *db.session.scalars(
                select(ReportMessage.organisation_wrapped_key)
                .join(WorkerReport, WorkerReport.id == ReportMessage.report_id)
                .where(WorkerReport.organisation_id == organisation_id)
            ),
            *db.session.scalars(
                select(Evidence.wrapped_key)
                .join(WorkerReport, WorkerReport.id == Evidence.report_id)
                .where(WorkerReport.organisation_id == organisation_id)
            ),
        ]
        return {crypto.sealed_suite(blob) for blob in blobs}


def test_both_suites_seal_and_open():
    for suite in crypto.SUITES:
        private, public = crypto.generate_key_pair(suite)
        assert crypto.suite_of(public) == crypto.suite_of(private) == suite
        blob = crypto.seal(public, b"data key", context=("worker_report", 1))
        assert crypto.sealed_suite(blob) == suite
        assert crypto.unseal(private, blob, context=("worker_report", 1)) == b"data key"
        with pytest.raises(crypto.DecryptionError):
            crypto.unseal(private, blob, context=("worker_report", 2))
    assert len(crypto.generate_key_pair()[1]) == crypto.HYBRID_PUBLIC_BYTES  # the default is the hybrid


def test_a_blob_names_its_suite_and_opens_with_no_other():
    x25519_private, x25519_public = crypto.generate_key_pair(crypto.SUITE_X25519)
    hybrid_private, hybrid_public = crypto.generate_key_pair(crypto.SUITE_HYBRID)
    blob = crypto.seal(hybrid_public, b"data key", context=("r", 1))
    with pytest.raises(crypto.DecryptionError):
        crypto.unseal(x25519_private, blob, context=("r", 1))
    # Relabelled as an X25519 blob it opens with neither key.
    relabelled = bytes([1]) + blob[1:]
    for private in (x25519_private, hybrid_private):
        with pytest.raises(crypto.DecryptionError):
            crypto.unseal(private, relabelled, context=("r", 1))
    with pytest.raises(crypto.CryptoError):
        crypto.seal(x25519_public, b"data key", context=("r", 1), suite=crypto.SUITE_HYBRID)
    # The recovery key derived from a code is the same every time, for either suite.
    for suite in crypto.SUITES:
        one = crypto.derive_private_key(b"c" * 30, purpose="test", suite=suite)
        assert one == crypto.derive_private_key(b"c" * 30, purpose="test", suite=suite)
        assert crypto.suite_of(crypto.public_key_of(one)) == suite


def test_new_keys_are_post_quantum_hybrids(app, monitor_with_keys, coordinator, api_client):
    report_id, _receipt = make_anonymous_report(app, monitor_with_keys, text="They hold our passports.")
    script = api_client(monitor_with_keys, unlocked=True)
    assert (
        script.post(f"/api/v1/worker-reports/{report_id}/messages", json={"body": "We hear you."}).status_code
        == 201
    )
    add_file(app, report_id, PDF)
    share_with(app, monitor_with_keys, report_id, coordinator)
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        key = keys.current_organisation_key(monitor.organisation)
        assert key.algorithm is KeyAlgorithm.mlkem768_x25519
        assert crypto.suite_of(key.public_key) == crypto.SUITE_HYBRID
        # The recovery key and every member's key are hybrids too: a quantum computer that broke
        # X25519 could otherwise unseal the organisation's key from a grant or the recovery blob.
        assert crypto.suite_of(key.recovery_public_key) == crypto.SUITE_HYBRID
        assert crypto.sealed_suite(key.recovery_wrapped) == crypto.SUITE_HYBRID
        assert crypto.suite_of(monitor.public_key) == crypto.SUITE_HYBRID
        grants = db.session.scalars(select(OrganisationKeyGrant.wrapped)).all()
        shares = db.session.scalars(select(ReportGrant.wrapped_key)).all()
        assert {crypto.sealed_suite(blob) for blob in [*grants, *shares]} == {crypto.SUITE_HYBRID}
    assert _suites_in_use(app, monitor_with_keys.organisation_id) == {crypto.SUITE_HYBRID}
    state = script.get("/api/v1/worker-report-keys").get_json()
    assert state["current_algorithm"] == "mlkem768-x25519" and state["recovery_post_quantum"] is True


def test_breaking_the_x25519_half_alone_opens_nothing(app, monitor_with_keys):
    report_id = make_report(app, monitor_with_keys, testimony="Student interns on the night shift.")
    with unlocked_as(app, monitor_with_keys) as monitor:
        report = db.session.get(WorkerReport, report_id)
        private = keys.organisation_private_key(monitor, report.organisation_key)
        context = sealing._data_key_context(report, report.organisation_key_id)
        assert len(crypto.unseal(private, report.wrapped_key, context=context)) == crypto.KEY_BYTES
        # An adversary who recovered the X25519 private key (as a quantum computer would from the
        # public key) but not the ML-KEM-768 one: every other byte of the hybrid key is right.
        x25519_only = secrets.token_bytes(64) + private[64:]
        assert crypto.public_key_of(x25519_only)[-32:] == report.organisation_key.public_key[-32:]
        with pytest.raises(crypto.DecryptionError):
            crypto.unseal(x25519_only, report.wrapped_key, context=context)


def _legacy_organisation_key(app, monitor: User) -> tuple[str, bytes]:
    """Version 1 of the monitor's organisation's key exactly as the code before December 2026
    made it: X25519, an X25519 recovery key, granted to the monitor. Returns (code, private key)."""
    secret = secrets.token_bytes(keys.RECOVERY_SECRET_BYTES)
    with app.app_context():
        member = db.session.get(User, monitor.id)
        organisation = member.organisation
        recovery_private = crypto.derive_key(secret, purpose="organisation-recovery-key")
        recovery_public = crypto.public_key_of(recovery_private)
        private, public = crypto.generate_key_pair(crypto.SUITE_X25519)
        key = OrganisationKey(
            organisation_id=organisation.id,
            version=1,
            algorithm=KeyAlgorithm.x25519,
            public_key=public,
            recovery_public_key=recovery_public,
            recovery_wrapped=crypto.seal(
                recovery_public, private, context=("organisation_key_recovery", organisation.id, 1)
            ),
            created_by_id=member.id,
        )
        db.session.add(key)
        db.session.flush()
        db.session.add(
            OrganisationKeyGrant(
                organisation_key_id=key.id,
                user_id=member.id,
                granted_by_id=member.id,
                wrapped=crypto.seal(
                    member.public_key, private, context=("organisation_key_grant", key.id, member.id)
                ),
            )
        )
        db.session.commit()
    return keys.format_recovery_code(secret), private


def _make_legacy(app, report_id: int, private: bytes) -> None:
    """Turn a report and its messages into rows as the code before December 2026 wrote them."""
    with app.app_context():
        report = db.session.get(WorkerReport, report_id)
        key_id = report.organisation_key_id
        data_key = crypto.unseal(private, report.wrapped_key, context=(REPORT, "data_key", report.id, key_id))
        report.wrapped_key = crypto.seal(
            crypto.public_key_of(private), data_key, context=(REPORT, "data_key", key_id)
        )
        report.key_binding = 1
        for message in db.session.scalars(select(ReportMessage).where(ReportMessage.report_id == report_id)):
            side = "worker" if message.from_worker else "monitor"
            bound = (MESSAGE, "organisation", report_id, message.id, side, key_id)
            message_key = crypto.unseal(private, message.organisation_wrapped_key, context=bound)
            body = crypto.decrypt_field(
                message_key,
                message.body_sealed,
                table=MESSAGE,
                column=f"body_sealed/{side}",
                row=f"{report_id}/{message.id}",
            )
            message.organisation_wrapped_key = crypto.seal(
                crypto.public_key_of(private),
                message_key,
                context=(MESSAGE, "organisation", report_id, key_id),
            )
            message.receipt_wrapped_key = crypto.seal(
                report.receipt_public_key, message_key, context=(MESSAGE, "receipt", report_id, "worker")
            )
            message.body_sealed = crypto.encrypt_field(
                message_key, body, table=MESSAGE, column="body_sealed", row=report_id
            )
            message.key_binding = 1
        db.session.commit()


def _reads_everything(app, script, reports: list[int], anonymous: int, receipt: bytes, evidence: int) -> None:
    for report_id in reports:
        assert script.post(f"/api/v1/worker-reports/{report_id}/open", json=OPEN).status_code == 200
    opened = script.post(f"/api/v1/worker-reports/{anonymous}/open", json=OPEN).get_json()
    assert opened["testimony"] == "Old testimony, sealed to X25519."
    assert [(m["from_worker"], m["body"]) for m in opened["messages"]] == [
        (True, "Old worker message."),
        (False, "Old reply."),
    ]
    with app.app_context():
        report = db.session.get(WorkerReport, anonymous)
        worker_view = [
            (m.message.from_worker, m.body) for m in sealing.read_messages_with_receipt(report, receipt)
        ]
        assert worker_view == [(True, "Old worker message."), (False, "Old reply.")]
    download = script.post(f"/api/v1/worker-reports/{anonymous}/evidence/{evidence}/download", json=OPEN)
    assert download.status_code == 200 and download.data == PDF + b"old file"
    download.close()


def test_an_x25519_version_made_as_before_still_opens_and_moves_to_the_hybrid(app, create_user, api_client):
    monitor = create_user(UserRole.monitor)
    code, private = _legacy_organisation_key(app, monitor)
    reports = [make_report(app, monitor, testimony=f"Old report {n}") for n in range(3)]
    anonymous, receipt = make_anonymous_report(app, monitor, text="Old testimony, sealed to X25519.")
    with app.app_context():
        report = db.session.get(WorkerReport, anonymous)
        sealing.add_message(report, body="Old worker message.", author=None)
        sealing.add_message(report, body="Old reply.", author=db.session.get(User, monitor.id))
        db.session.commit()
    evidence = add_file(app, anonymous, PDF + b"old file")
    for report_id in (*reports, anonymous):
        _make_legacy(app, report_id, private)
    assert _suites_in_use(app, monitor.organisation_id) == {crypto.SUITE_X25519}

    script = api_client(monitor, unlocked=True)
    _reads_everything(app, script, reports, anonymous, receipt, evidence)
    state = script.get("/api/v1/worker-report-keys").get_json()
    assert (state["current_version"], state["current_algorithm"], state["recovery_post_quantum"]) == (
        1,
        "x25519",
        False,
    )
    assert state["to_rewrap"] == 4 + 2  # unbound reports and messages on the newest version

    # A new version is the hybrid; the re-wrap moves every key to it and binds it to its row.
    rotated = script.post("/api/v1/worker-report-keys/rotate")
    assert rotated.status_code == 200
    assert (rotated.get_json()["current_version"], rotated.get_json()["current_algorithm"]) == (
        2,
        "mlkem768-x25519",
    )
    done = script.post("/api/v1/worker-report-keys/rewrap", json={}).get_json()
    assert (done["rewrapped"], done["to_rewrap"], done["retired_versions"]) == (4 + 2 + 1, 0, [1])
    assert _suites_in_use(app, monitor.organisation_id) == {crypto.SUITE_HYBRID}
    with app.app_context():
        rows = [*db.session.scalars(select(WorkerReport)), *db.session.scalars(select(ReportMessage))]
        assert {row.key_binding for row in rows} == {sealing.BOUND}
    _reads_everything(app, script, reports, anonymous, receipt, evidence)

    # The recovery key: the same code, now sealing the key with the hybrid too.
    upgraded = script.post("/api/v1/worker-report-keys/recovery-key", json={"recovery_code": code})
    assert upgraded.status_code == 200
    assert (upgraded.get_json()["upgraded_versions"], upgraded.get_json()["recovery_post_quantum"]) == (
        [2],
        True,
    )
    with app.app_context():
        key = keys.current_organisation_key(db.session.get(User, monitor.id).organisation)
        assert crypto.sealed_suite(key.recovery_wrapped) == crypto.SUITE_HYBRID
        # The code printed back then still opens every version in use.
        open_version = keys.recovery_opener(key.organisation, code)
        for version in keys.organisation_keys(key.organisation):
            assert crypto.public_key_of(open_version(version)) == version.public_key


def test_a_wrong_recovery_code_changes_nothing(app, create_user, api_client):
    monitor = create_user(UserRole.monitor)
    _legacy_organisation_key(app, monitor)
    script = api_client(monitor, unlocked=True)
    wrong = keys.format_recovery_code(secrets.token_bytes(keys.RECOVERY_SECRET_BYTES))
    refused = script.post("/api/v1/worker-report-keys/recovery-key", json={"recovery_code": wrong})
    assert refused.status_code == 422
    assert script.get("/api/v1/worker-report-keys").get_json()["recovery_post_quantum"] is False


def test_hybrid_sizes_are_stored_whole(app, monitor_with_keys, coordinator):
    """LargeBinary without a length: BYTEA on PostgreSQL, BLOB on SQLite; nothing is cut."""
    report_id = make_report(app, monitor_with_keys)
    share_with(app, monitor_with_keys, report_id, coordinator)
    with app.app_context():
        columns = {
            "organisation_key": ["public_key", "recovery_public_key", "recovery_wrapped"],
            "organisation_key_grant": ["wrapped"],
            "user_account": ["public_key"],
            "worker_report": ["wrapped_key"],
            "report_message": ["organisation_wrapped_key", "receipt_wrapped_key"],
            "evidence": ["wrapped_key"],
            "report_grant": ["wrapped_key"],
        }
        inspector = inspect(db.session.connection())
        for table, names in columns.items():
            reflected = {c["name"]: c["type"] for c in inspector.get_columns(table)}
            for name in names:
                assert getattr(reflected[name], "length", None) is None, (table, name, reflected[name])
        report = db.session.get(WorkerReport, report_id)
        key = report.organisation_key
        written = (key.public_key, key.recovery_wrapped, report.wrapped_key)
        db.session.expire_all()
        stored = db.session.get(WorkerReport, report_id)
        assert (
            stored.organisation_key.public_key,
            stored.organisation_key.recovery_wrapped,
            stored.wrapped_key,
        ) == written
        assert len(written[0]) == crypto.HYBRID_PUBLIC_BYTES and len(written[2]) > 1100
        share = db.session.scalar(select(ReportGrant.wrapped_key).where(ReportGrant.report_id == report_id))
        assert len(share) > 1100


def test_a_workers_receipt_key_is_a_hybrid_and_replies_are_sealed_to_it(app, monitor_with_keys):
    """The replies a worker reads with their receipt are sealed to a hybrid key derived from it."""
    from monitoring.testimony import receipts

    receipt = receipts.new_receipt()
    with app.app_context(), app.test_request_context():
        derived = receipts.receipt_secrets(receipt)
        assert crypto.suite_of(derived.public_key) == crypto.SUITE_HYBRID
        report_id, _unused = make_anonymous_report(app, monitor_with_keys, text="Receipt test.")
        report = db.session.get(WorkerReport, report_id)
        report.receipt_public_key = derived.public_key
        sealing.add_message(
            report, body="We received your report.", author=db.session.get(User, monitor_with_keys.id)
        )
        db.session.flush()
        (sealed,) = db.session.scalars(
            select(ReportMessage.receipt_wrapped_key).where(ReportMessage.report_id == report_id)
        )
        assert crypto.sealed_suite(sealed) == crypto.SUITE_HYBRID
        opened = sealing.read_messages_with_receipt(
            report, derived.private_key_for(report.receipt_public_key)
        )
        assert [m.body for m in opened] == ["We received your report."]
        # The X25519 half of the receipt's key alone opens nothing.
        with pytest.raises(sealing.SealedAccessError):
            sealing.read_messages_with_receipt(report, derived.x25519_private_key)
        db.session.rollback()


def test_a_receipt_given_before_the_hybrid_still_reads_its_replies(app, monitor_with_keys):
    """A report whose stored receipt key is X25519 (as receipts were made before) keeps working."""
    from monitoring.testimony import receipts

    receipt = receipts.new_receipt()
    with app.app_context(), app.test_request_context():
        derived = receipts.receipt_secrets(receipt)
        report_id, _unused = make_anonymous_report(app, monitor_with_keys, text="Old receipt.")
        report = db.session.get(WorkerReport, report_id)
        report.receipt_public_key = crypto.public_key_of(derived.x25519_private_key)  # as stored before
        sealing.add_message(report, body="Are you safe?", author=db.session.get(User, monitor_with_keys.id))
        db.session.flush()
        opened = sealing.read_messages_with_receipt(
            report, derived.private_key_for(report.receipt_public_key)
        )
        assert [m.body for m in opened] == ["Are you safe?"]
        db.session.rollback()
