"""Re-encryption after a member left, a new key version and the recovery key: API, pages and CLI."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from monitoring.accounts import keys
from monitoring.accounts import operations as account_operations
from monitoring.accounts.models import Organisation, OrganisationKey, User, UserRole
from monitoring.core.db import db
from monitoring.core.storage import file_store
from monitoring.testimony.models import Evidence, WorkerReport
from tests.conftest import give_key_access, post_form
from tests.testimony.monitor_helpers import PDF, add_file, audit_since, last_audit_id, make_report, page_csrf

OPEN = {"reason": "verification"}


@pytest.fixture
def left(app, create_user, admin, monitor_with_keys):
    """Three reports, two with files, under version 1; then a member leaves (version 2)."""
    leaver = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    code = give_key_access(app, leaver)
    reports = [make_report(app, monitor_with_keys, testimony=f"Testimony {n}") for n in range(3)]
    files = [add_file(app, reports[0], PDF + b"first"), add_file(app, reports[1], PDF + b"second")]
    with app.app_context():
        account_operations.set_user_active(
            db.session.get(User, admin.id), db.session.get(User, leaver.id), False
        )
        db.session.commit()
        organisation = db.session.get(Organisation, monitor_with_keys.organisation_id).name
    return {"reports": reports, "files": files, "code": code, "organisation": organisation}


def _stored_names() -> set[str]:
    return set(file_store().names_older_than(-3600))  # every object, however new


def _reads(script, left) -> None:
    for n, report_id in enumerate(left["reports"]):
        opened = script.post(f"/api/v1/worker-reports/{report_id}/open", json=OPEN)
        assert opened.status_code == 200 and opened.get_json()["testimony"] == f"Testimony {n}"
    for report_id, evidence_id, tail in zip(
        left["reports"], left["files"], (b"first", b"second"), strict=False
    ):
        download = script.post(
            f"/api/v1/worker-reports/{report_id}/evidence/{evidence_id}/download", json=OPEN
        )
        assert download.status_code == 200 and download.data == PDF + tail
        download.close()


def test_a_failed_batch_changes_nothing_and_leaves_no_file_behind(app, left, monitor_with_keys, api_client):
    script = api_client(monitor_with_keys, unlocked=True)
    with app.app_context():
        before = _stored_names()
        ours = set(db.session.scalars(select(Evidence.storage_key).where(Evidence.id.in_(left["files"]))))
        damaged = db.session.get(Evidence, left["files"][1])
        original = damaged.wrapped_key
        damaged.wrapped_key = db.session.get(Evidence, left["files"][0]).wrapped_key
        db.session.commit()
    since = last_audit_id(app)
    failed = script.post("/api/v1/worker-report-keys/reencrypt", json={"batch_size": 3})
    assert failed.status_code == 403
    assert [e.action for e in audit_since(app, since)] == ["organisation_key.reencrypt_failed"]
    with app.app_context():
        assert _stored_names() == before
        assert set(db.session.scalars(select(WorkerReport.data_key_generation))) == {1}
        db.session.get(Evidence, left["files"][1]).wrapped_key = original
        db.session.commit()
    assert script.get("/api/v1/worker-report-keys").get_json()["to_reencrypt"] == 3
    done = script.post("/api/v1/worker-report-keys/reencrypt", json={}).get_json()
    assert (done["reencrypted"], done["files"], done["to_reencrypt"], done["retired_versions"]) == (
        3,
        2,
        0,
        [1],
    )
    with app.app_context():
        after = _stored_names()
        names = set(db.session.scalars(select(Evidence.storage_key).where(Evidence.id.in_(left["files"]))))
        assert names <= after and not names & ours  # each file in a new object
        assert not ours & after  # and the old objects are deleted
    _reads(script, left)


def test_a_monitor_without_the_old_version_cannot_reencrypt(
    app, left, monitor_with_keys, create_user, api_client
):
    newcomer = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    response = api_client(newcomer, unlocked=True).post("/api/v1/worker-report-keys/reencrypt", json={})
    assert response.status_code == 403
    assert api_client(newcomer, unlocked=True).post("/api/v1/worker-report-keys/rotate").status_code == 403
    script = api_client(monitor_with_keys, unlocked=True)
    assert script.get("/api/v1/worker-report-keys").get_json()["to_reencrypt"] == 3


def test_the_keys_page_reencrypts_and_makes_a_new_version(
    app, left, client_for, monitor_with_keys, api_client
):
    client = client_for(monitor_with_keys)
    page = client.get("/testimony/keys").get_data(as_text=True)
    assert "3 reports still have keys made before the newest version." in page
    assert "ML-KEM-768 + X25519 (post-quantum hybrid)" in page
    response = client.post("/testimony/keys/reencrypt", data={"csrf_token": page_csrf(page)})
    assert response.status_code == 302
    page = client.get("/testimony/keys").get_data(as_text=True)
    assert "Every report is encrypted under keys made since the newest version (3 re-encrypted now)." in page
    assert "Older versions retired: 1." in page
    _reads(api_client(monitor_with_keys, unlocked=True), left)

    response = post_form(client, "/testimony/keys/rotate", form_page="/testimony/keys")
    assert response.status_code == 302
    page = client.get("/testimony/keys").get_data(as_text=True)
    assert "Version 3 of your organisation&#39;s key is ready" in page
    assert "3 reports still have keys made before the newest version." in page


def test_the_recovery_key_form_refuses_a_wrong_code(app, left, client_for, monitor_with_keys):
    client = client_for(monitor_with_keys)
    wrong = keys.format_recovery_code(secrets.token_bytes(keys.RECOVERY_SECRET_BYTES))
    page = client.get("/testimony/keys").get_data(as_text=True)
    assert 'name="recovery_code"' not in page  # the organisation's recovery key is post-quantum already
    response = client.post(
        "/testimony/keys/recovery-key", data={"csrf_token": page_csrf(page), "recovery_code": wrong}
    )
    assert response.status_code == 422
    assert "This is not the recovery code of your organisation" in response.get_data(as_text=True)


def _cli(app, *args: str, code: str, ok: bool = True) -> str:
    result = app.test_cli_runner().invoke(args=["keys", *args], input=code + "\n")
    assert (result.exit_code == 0) is ok, result.output
    return result.output


def test_the_command_line_reencrypts_in_resumable_batches(app, left, monitor_with_keys, api_client):
    organisation = left["organisation"]
    since = last_audit_id(app)
    wrong = keys.format_recovery_code(secrets.token_bytes(keys.RECOVERY_SECRET_BYTES))
    refused = _cli(app, "reencrypt", "--organisation", organisation, code=wrong, ok=False)
    assert "This is not the recovery code" in refused
    out = _cli(
        app,
        "reencrypt",
        "--organisation",
        organisation,
        "--batch-size",
        "1",
        "--max-batches",
        "1",
        code=left["code"],
    )
    assert "re-encrypted 1 reports (0 messages, 1 files)" in out and "2 left" in out
    assert left["code"] not in out
    out = _cli(app, "reencrypt", "--organisation", organisation, "--batch-size", "2", code=left["code"])
    assert "re-encrypted 2 reports (0 messages, 1 files)" in out and "0 left; versions retired: 1" in out
    entries = [e for e in audit_since(app, since) if e.action == "organisation_key.reencrypt"]
    assert [(e.actor_id, e.data_dict["opened_with"]) for e in entries] == [(None, "recovery code")] * 2
    _reads(api_client(monitor_with_keys, unlocked=True), left)


def test_the_command_line_rotates_and_rewraps(app, left, monitor_with_keys, api_client):
    organisation = left["organisation"]
    out = _cli(app, "rotate", "--organisation", organisation, code="")
    assert "version 3 (mlkem768-x25519)" in out
    out = _cli(app, "rewrap", "--organisation", organisation, code=left["code"])
    assert "re-sealed 5 keys" in out and "0 left; versions retired: 1, 2" in out
    with app.app_context():
        versions = db.session.scalars(
            select(OrganisationKey.version).where(
                OrganisationKey.organisation_id == monitor_with_keys.organisation_id,
                OrganisationKey.retired_dt.is_(None),
            )
        ).all()
        assert versions == [3]
    _reads(api_client(monitor_with_keys, unlocked=True), left)
    assert "no monitor organisation named" in _cli(
        app, "rotate", "--organisation", "Nobody", code="", ok=False
    )
