"""``flask keys verify`` covers every protected and sealed-key column; ``flask files verify`` checks
every stored file a row names and lists the files no row or upload record names."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from monitoring.accounts.models import OrganisationKeyGrant, User
from monitoring.core import crypto
from monitoring.core.db import db
from monitoring.core.keyring import protect
from monitoring.core.storage import file_store, new_object_name
from monitoring.testimony.models import Evidence, WorkerReport
from tests.testimony.monitor_helpers import add_file, make_report


@pytest.fixture(autouse=True)
def _empty_store(app):
    with app.app_context():
        store = file_store()
        for name in list(store.names_older_than(-60)):
            store.delete(name)


def _invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_keys_verify_checks_protected_values_and_sealed_keys(app, monitor_with_keys):
    report_id = make_report(app, monitor_with_keys)
    add_file(app, report_id)
    result = _invoke(app, "keys", "verify")
    assert result.exit_code == 0, result.output + result.stderr
    assert ", 0 failed" in result.output
    sealed = int(result.output.split(" sealed keys")[0].rsplit(" ", 1)[-1])
    assert sealed >= 4  # the report's key, the file's key, the member's grant, the recovery key

    with app.app_context():
        blob = db.session.scalar(select(WorkerReport.wrapped_key).where(WorkerReport.id == report_id))
        db.session.execute(
            update(WorkerReport).where(WorkerReport.id == report_id).values(wrapped_key=blob[:-1])
        )
        grant = db.session.scalars(select(OrganisationKeyGrant)).first()
        grant.wrapped = b"\x07" + grant.wrapped[1:]
        user = db.session.get(User, monitor_with_keys.id)
        user.totp_secret_ct = crypto.Keyring.generate("k9").encrypt(
            b"SECRET", table="user_account", column="totp_secret_ct", row=user.id
        )
        db.session.commit()
    result = _invoke(app, "keys", "verify")
    assert result.exit_code == 1
    assert f"worker_report.wrapped_key row {report_id}: is " in result.stderr
    assert "bytes long" in result.stderr
    assert f"organisation_key_grant.wrapped row {grant.id}: is not a sealed key" in result.stderr
    assert f"user_account.totp_secret_ct row {user.id}: key k9 is not in the keyring" in result.stderr
    assert ", 3 failed" in result.output


def test_keys_verify_names_a_value_that_does_not_decrypt(app, monitor_with_keys):
    with app.app_context():
        user = db.session.get(User, monitor_with_keys.id)
        # A ciphertext moved from another row.
        user.totp_secret_ct = protect(
            b"SECRET", table="user_account", column="totp_secret_ct", row=user.id + 1
        )
        db.session.commit()
    result = _invoke(app, "keys", "verify")
    assert result.exit_code == 1
    assert f"user_account.totp_secret_ct row {user.id}: does not decrypt under key" in result.stderr


def test_files_verify_finds_missing_damaged_and_unknown_files(app, monitor_with_keys):
    report_id = make_report(app, monitor_with_keys)
    kept, damaged, missing = (add_file(app, report_id) for _ in range(3))
    result = _invoke(app, "files", "verify")
    assert result.exit_code == 0, result.stderr
    assert "3 stored files checked, 0 failed; 0 unknown files in the store" in result.output

    with app.app_context():
        store = file_store()
        keys = dict(db.session.execute(select(Evidence.id, Evidence.storage_key)).all())
        path = store._path(keys[damaged])  # the directory store's own layout
        path.write_bytes(path.read_bytes()[:-5])
        store.delete(keys[missing])
        stranger = new_object_name()
        store.write(stranger, [b"a file of a newer database"])
    result = _invoke(app, "files", "verify")
    assert result.exit_code == 1
    assert f"evidence {damaged} of report {report_id} ({keys[damaged]}): holds" in result.stderr
    assert f"evidence {missing} of report {report_id} ({keys[missing]}): missing from the file store" in (
        result.stderr
    )
    assert f"unknown stored file {stranger}" in result.stderr
    assert f"evidence {kept} " not in result.stderr
    assert "3 stored files checked, 2 failed; 1 unknown files in the store" in result.output
