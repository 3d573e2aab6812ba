"""After a key rotation: re-wrap older reports in resumable batches, then retire the old version."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from monitoring.accounts import operations as account_operations
from monitoring.accounts.models import OrganisationKey, OrganisationKeyGrant, User, UserRole
from monitoring.core.db import db
from monitoring.testimony.models import Evidence, WorkerReport
from tests.conftest import give_key_access, post_form
from tests.testimony.monitor_helpers import (
    PDF,
    add_file,
    audit_since,
    last_audit_id,
    make_anonymous_report,
    make_report,
    page_csrf,
)


@pytest.fixture
def rotated(app, create_user, admin, monitor_with_keys, api_client):
    """Four reports, a message and two files under version 1; then a member leaves (version 2)."""
    leaver = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    give_key_access(app, leaver)
    reports = [make_report(app, monitor_with_keys, testimony=f"Testimony {n}") for n in range(3)]
    anonymous, _receipt = make_anonymous_report(app, monitor_with_keys, text="Anonymous one")
    reports.append(anonymous)
    script = api_client(monitor_with_keys, unlocked=True)
    assert (
        script.post(f"/api/v1/worker-reports/{anonymous}/messages", json={"body": "Reply one"}).status_code
        == 201
    )
    files = [add_file(app, reports[0], PDF + b"first"), add_file(app, reports[1], PDF + b"second")]
    with app.app_context():
        account_operations.set_user_active(
            db.session.get(User, admin.id), db.session.get(User, leaver.id), False
        )
        db.session.commit()
        versions = db.session.scalars(
            select(OrganisationKey.version).where(
                OrganisationKey.organisation_id == monitor_with_keys.organisation_id
            )
        ).all()
        assert sorted(versions) == [1, 2]
    newer = make_report(app, monitor_with_keys, testimony="After the rotation")
    return {"reports": reports, "files": files, "newer": newer, "script": script, "anonymous": anonymous}


def _version_of(app, model, row_id):
    with app.app_context():
        return db.session.scalar(
            select(OrganisationKey.version)
            .join(model, model.organisation_key_id == OrganisationKey.id)
            .where(model.id == row_id)
        )


def _reads_work(rotated):
    """Every report, the conversation and every file open for the remaining monitor."""
    script = rotated["script"]
    for report_id in (*rotated["reports"], rotated["newer"]):
        body = script.post(f"/api/v1/worker-reports/{report_id}/open", json={"reason": "verification"})
        assert body.status_code == 200, report_id
    conversation = script.post(
        f"/api/v1/worker-reports/{rotated['anonymous']}/open", json={"reason": "follow_up"}
    ).get_json()["messages"]
    assert [m["body"] for m in conversation] == ["Reply one"]
    for report_id, evidence_id, tail in zip(
        rotated["reports"], rotated["files"], (b"first", b"second"), strict=False
    ):
        response = script.post(
            f"/api/v1/worker-reports/{report_id}/evidence/{evidence_id}/download",
            json={"reason": "verification"},
        )
        assert response.status_code == 200 and response.data.endswith(tail)
        response.close()


def test_new_reports_use_the_new_version_and_old_ones_still_open(app, rotated):
    assert _version_of(app, WorkerReport, rotated["newer"]) == 2
    assert _version_of(app, WorkerReport, rotated["reports"][0]) == 1
    state = rotated["script"].get("/api/v1/worker-report-keys").get_json()
    assert state["current_version"] == 2 and state["to_rewrap"] == 7
    assert [(v["version"], v["reports"], v["messages"], v["files"]) for v in state["versions"]] == [
        (2, 1, 0, 0),
        (1, 4, 1, 2),
    ]
    _reads_work(rotated)


def test_an_interrupted_rewrap_resumes_and_the_old_version_is_retired(app, rotated, monitor_with_keys):
    script = rotated["script"]
    since = last_audit_id(app)
    first = script.post("/api/v1/worker-report-keys/rewrap", json={"batch_size": 3, "max_batches": 1})
    assert first.status_code == 200
    assert (
        first.get_json()["rewrapped"],
        first.get_json()["to_rewrap"],
        first.get_json()["retired_versions"],
    ) == (
        3,
        4,
        [],
    )
    _reads_work(rotated)  # half moved, half not: everything opens

    # The next batch meets a damaged file key: the whole batch is undone and the failure audited.
    with app.app_context():
        damaged = db.session.get(Evidence, rotated["files"][1])
        original = damaged.wrapped_key
        damaged.wrapped_key = db.session.get(Evidence, rotated["files"][0]).wrapped_key
        db.session.commit()
    failed = script.post("/api/v1/worker-report-keys/rewrap", json={"batch_size": 4, "max_batches": 5})
    assert failed.status_code == 403
    assert script.get("/api/v1/worker-report-keys").get_json()["to_rewrap"] == 4
    with app.app_context():
        db.session.get(Evidence, rotated["files"][1]).wrapped_key = original
        db.session.commit()

    # Resumed: it finishes, and version 1 is retired with its grants.
    done = script.post(
        "/api/v1/worker-report-keys/rewrap", json={"batch_size": 3, "max_batches": 5}
    ).get_json()
    assert (done["rewrapped"], done["to_rewrap"], done["retired_versions"]) == (4, 0, [1])
    assert [(v["version"], v["retired_dt"] is not None) for v in done["versions"]] == [(2, False), (1, True)]
    with app.app_context():
        old = db.session.scalar(
            select(OrganisationKey).where(
                OrganisationKey.organisation_id == monitor_with_keys.organisation_id,
                OrganisationKey.version == 1,
            )
        )
        grants = db.session.scalar(
            select(func.count(OrganisationKeyGrant.id)).where(
                OrganisationKeyGrant.organisation_key_id == old.id
            )
        )
        assert grants == 0
    for report_id in rotated["reports"]:
        assert _version_of(app, WorkerReport, report_id) == 2
    for evidence_id in rotated["files"]:
        assert _version_of(app, Evidence, evidence_id) == 2
    _reads_work(rotated)
    actions = [e.action for e in audit_since(app, since)]
    assert actions.count("organisation_key.rewrap") == 3
    assert "organisation_key.rewrap_failed" in actions and "keys.organisation_retire" in actions


def test_the_keys_page_rewraps_in_the_browser(app, client_for, rotated):
    client = client_for(_monitor(app, rotated))
    page = client.get("/testimony/keys").get_data(as_text=True)
    assert "7 keys are still sealed to an older version." in page
    response = client.post("/testimony/keys/rewrap", data={"csrf_token": page_csrf(page)})
    assert response.status_code == 302
    page = client.get("/testimony/keys").get_data(as_text=True)
    assert "Everything is sealed to the newest version (7 keys moved now). Older versions retired: 1." in page
    assert "Everything is sealed to the newest version." in page
    assert post_form(client, "/testimony/keys/rewrap", form_page="/testimony/keys").status_code == 302


def _monitor(app, rotated) -> User:
    with app.app_context():
        report = db.session.get(WorkerReport, rotated["newer"])
        return db.session.get(User, report.created_by_id)


def test_a_monitor_without_the_old_version_cannot_rewrap(app, rotated, create_user, api_client, client_for):
    newcomer = create_user(UserRole.monitor, organisation=_monitor(app, rotated).organisation)
    response = api_client(newcomer, unlocked=True).post("/api/v1/worker-report-keys/rewrap", json={})
    assert response.status_code == 403
    page = client_for(newcomer)
    html = page.get("/testimony/keys").get_data(as_text=True)
    refused = page.post("/testimony/keys/rewrap", data={"csrf_token": page_csrf(html)})
    assert refused.status_code == 403 and 'href="/account/keys"' in refused.get_data(as_text=True)
    assert rotated["script"].get("/api/v1/worker-report-keys").get_json()["to_rewrap"] == 7
