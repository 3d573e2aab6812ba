"""Attack: a member who left keeps the old organisation key and the keys it opened, and reads a later copy.
Defence: re-encryption gives every older report, message and file fresh keys, in resumable batches.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitoring.accounts import keys
from monitoring.accounts import operations as account_operations
from monitoring.accounts.models import User, UserRole
from monitoring.core import crypto
from monitoring.core.db import db
from monitoring.core.storage import file_store
from monitoring.testimony import sealing
from monitoring.testimony.models import Evidence, ReportMessage, WorkerReport
from tests.conftest import give_key_access, unlocked_as
from tests.testimony.monitor_helpers import (
    PDF,
    add_file,
    audit_since,
    last_audit_id,
    make_anonymous_report,
    make_report,
    share_with,
)

OPEN = {"reason": "follow_up"}


def _harvest(app, leaver: User, organisation_id: int) -> dict[str, object]:
    """What the member takes before leaving: the organisation's private key and every key it opens."""
    taken: dict[str, object] = {"reports": {}, "messages": {}, "files": {}}
    with unlocked_as(app, leaver) as member:
        version = keys.current_organisation_key(member.organisation)
        private = keys.organisation_private_key(member, version)
        taken["private"] = private
        for report in db.session.scalars(
            select(WorkerReport).where(WorkerReport.organisation_id == organisation_id)
        ):
            taken["reports"][report.id] = sealing._unseal_data_key(lambda _key: private, report)
            for message in sealing._messages(report):
                taken["messages"][message.id] = sealing._open_message(lambda _key: private, message)[0]
        for evidence in db.session.scalars(select(Evidence)):
            context = (
                *sealing._file_context(evidence.report_id, evidence.storage_key),
                evidence.organisation_key_id,
            )
            taken["files"][evidence.id] = (
                crypto.unseal(private, evidence.wrapped_key, context=context),
                evidence.storage_key,
            )
    return taken


def _opens_anything(app, taken: dict[str, object]) -> list[str]:
    """Everything in the database as it is now that the taken keys still open."""
    opened = []
    private = taken["private"]
    with app.app_context():
        for report in db.session.scalars(select(WorkerReport)):
            try:
                sealing._unseal_data_key(lambda _key: private, report)
                opened.append(f"data key of report {report.id}")
            except crypto.DecryptionError:
                pass
            data_key = taken["reports"].get(report.id)
            for column in sealing.SEALED_COLUMNS:
                if data_key is None or getattr(report, column) is None:
                    continue
                try:
                    sealing._open_field(data_key, report, column)
                    opened.append(f"{column} of report {report.id}")
                except crypto.DecryptionError:
                    pass
        for message in db.session.scalars(select(ReportMessage)):
            try:
                sealing._open_message(lambda _key: private, message)
                opened.append(f"key of message {message.id}")
            except crypto.DecryptionError:
                pass
            message_key = taken["messages"].get(message.id)
            if message_key is not None:
                try:
                    crypto.decrypt_field(message_key, message.body_sealed, **sealing._body_aad(message))
                    opened.append(f"body of message {message.id}")
                except crypto.DecryptionError:
                    pass
        for evidence in db.session.scalars(select(Evidence)):
            file_key, old_name = taken["files"][evidence.id]
            context = sealing._file_context(evidence.report_id, evidence.storage_key)
            try:
                with file_store().open(evidence.storage_key) as fh:
                    b"".join(crypto.decrypt_stream(file_key, fh, context=context))
                opened.append(f"file {evidence.id}")
            except crypto.DecryptionError:
                pass
            if old_name != evidence.storage_key:
                with pytest.raises(FileNotFoundError):
                    file_store().open(old_name)
    return opened


@pytest.fixture
def departed(app, create_user, admin, monitor_with_keys, coordinator):
    """Three reports (a file, a conversation, a share), then a member takes the key and leaves."""
    leaver = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    give_key_access(app, leaver)
    first = make_report(app, monitor_with_keys, testimony="The agency keeps our passports.")
    anonymous, receipt = make_anonymous_report(app, monitor_with_keys, text="Student interns work nights.")
    shared = make_report(app, monitor_with_keys, testimony="Shared with the coordinator.")
    with app.app_context():
        report = db.session.get(WorkerReport, anonymous)
        sealing.add_message(report, body="The supervisor is Mr K.", author=None)
        sealing.add_message(
            report, body="Thank you, we will visit.", author=db.session.get(User, monitor_with_keys.id)
        )
        db.session.commit()
    files = [add_file(app, first, PDF + b"payslip"), add_file(app, anonymous, PDF + b"photo")]
    share_with(app, monitor_with_keys, shared, coordinator)
    taken = _harvest(app, leaver, monitor_with_keys.organisation_id)
    with app.app_context():
        account_operations.set_user_active(
            db.session.get(User, admin.id), db.session.get(User, leaver.id), False
        )
        db.session.commit()
    return {
        "taken": taken,
        "reports": [first, anonymous, shared],
        "anonymous": anonymous,
        "receipt": receipt,
        "shared": shared,
        "files": dict(zip(files, (first, anonymous), strict=True)),
    }


def _everyone_still_reads(app, departed, monitor, coordinator, api_client) -> None:
    script = api_client(monitor, unlocked=True)
    texts = [
        script.post(f"/api/v1/worker-reports/{report_id}/open", json=OPEN).get_json()["testimony"]
        for report_id in departed["reports"]
    ]
    assert texts == [
        "The agency keeps our passports.",
        "Student interns work nights.",
        "Shared with the coordinator.",
    ]
    conversation = script.post(f"/api/v1/worker-reports/{departed['anonymous']}/open", json=OPEN).get_json()
    assert [m["body"] for m in conversation["messages"]] == [
        "The supervisor is Mr K.",
        "Thank you, we will visit.",
    ]
    for evidence_id, report_id in departed["files"].items():
        download = script.post(
            f"/api/v1/worker-reports/{report_id}/evidence/{evidence_id}/download", json=OPEN
        )
        assert download.status_code == 200 and download.data.startswith(PDF)
        download.close()
    reader = api_client(coordinator, unlocked=True)
    shared = reader.post(f"/api/v1/worker-reports/{departed['shared']}/open", json=OPEN)
    assert shared.status_code == 200 and shared.get_json()["testimony"] == "Shared with the coordinator."
    with app.app_context():
        report = db.session.get(WorkerReport, departed["anonymous"])
        bodies = [m.body for m in sealing.read_messages_with_receipt(report, departed["receipt"])]
        assert bodies == ["The supervisor is Mr K.", "Thank you, we will visit."]


def test_rewrapping_alone_leaves_the_old_data_keys_useful(app, departed, monitor_with_keys, api_client):
    """Why re-encryption is needed: re-wrapping moves the sealed keys, not the keys themselves."""
    script = api_client(monitor_with_keys, unlocked=True)
    assert script.post("/api/v1/worker-report-keys/rewrap", json={}).get_json()["to_rewrap"] == 0
    opened = _opens_anything(app, departed["taken"])
    assert not [o for o in opened if o.startswith(("data key", "key of message"))]
    assert f"testimony_sealed of report {departed['reports'][0]}" in opened
    assert any(o.startswith("body of message") for o in opened) and any(o.startswith("file") for o in opened)


def test_after_reencryption_the_departed_members_keys_open_nothing(
    app, departed, monitor_with_keys, coordinator, api_client
):
    script = api_client(monitor_with_keys, unlocked=True)
    assert script.get("/api/v1/worker-report-keys").get_json()["to_reencrypt"] == 3
    since = last_audit_id(app)

    # One batch of one report, then the run is interrupted: the rest stays as it was, readable.
    first = script.post("/api/v1/worker-report-keys/reencrypt", json={"batch_size": 1, "max_batches": 1})
    assert first.status_code == 200
    assert (first.get_json()["reencrypted"], first.get_json()["to_reencrypt"]) == (1, 2)
    _everyone_still_reads(app, departed, monitor_with_keys, coordinator, api_client)
    assert len(_opens_anything(app, departed["taken"])) > 0

    # Resumed: it completes, moves what was left on the old version and retires it.
    done = script.post("/api/v1/worker-report-keys/reencrypt", json={"batch_size": 1}).get_json()
    assert (done["reencrypted"], done["to_reencrypt"], done["to_rewrap"], done["retired_versions"]) == (
        2,
        0,
        0,
        [1],
    )
    assert _opens_anything(app, departed["taken"]) == []
    _everyone_still_reads(app, departed, monitor_with_keys, coordinator, api_client)
    with app.app_context():
        generations = set(db.session.scalars(select(WorkerReport.data_key_generation)))
        assert generations == {2}
    batches = [e for e in audit_since(app, since) if e.action == "organisation_key.reencrypt"]
    assert [e.data_dict["reports"] for e in batches] == [1, 1, 1]
