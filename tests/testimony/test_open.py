"""Opening sealed content: only on request with a reason, audited, and refused with an explanation."""

from __future__ import annotations

import pytest

from monitoring.accounts.models import User, UserRole
from monitoring.core.db import db
from monitoring.testimony import sealing
from monitoring.testimony.models import WorkerReport
from tests.conftest import post_form
from tests.testimony.monitor_helpers import (
    audit_since,
    last_audit_id,
    make_anonymous_report,
    make_report,
    open_form,
)


def _open(client, report_id, **data):
    url = f"/testimony/reports/{report_id}"
    return post_form(client, f"{url}/open", open_form(**data), form_page=url)


def test_opening_shows_the_content_in_that_answer_only_and_audits_it(app, client_for, monitor_with_keys):
    report_id = make_report(app, monitor_with_keys)
    client = client_for(monitor_with_keys)
    page = client.get(f"/testimony/reports/{report_id}").get_data(as_text=True)
    assert "Somsri Test" not in page and "Open sealed content" in page
    since = last_audit_id(app)
    response = _open(client, report_id, reason="finding")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Somsri Test" in page and "+66 80 000 0000" in page and "without overtime pay" in page
    assert response.headers["Cache-Control"] == "no-store"
    entries = [e for e in audit_since(app, since) if e.action.startswith("report.")]
    assert [e.action for e in entries] == ["report.open"]
    assert entries[0].actor_id == monitor_with_keys.id
    assert entries[0].object_id == str(report_id)
    assert entries[0].data_dict["reason"] == "finding"
    # The next page is metadata again.
    assert "Somsri Test" not in client.get(f"/testimony/reports/{report_id}").get_data(as_text=True)


def test_another_reason_needs_words(app, client_for, monitor_with_keys):
    report_id = make_report(app, monitor_with_keys)
    client = client_for(monitor_with_keys)
    since = last_audit_id(app)
    for data in ({"reason": "other"}, {"reason": ""}, {"reason": "curiosity"}):
        response = _open(client, report_id, **data)
        assert response.status_code == 422
        assert "Somsri Test" not in response.get_data(as_text=True)
    assert audit_since(app, since) == []
    response = _open(client, report_id, reason="other", reason_text="Legal hold request")
    assert response.status_code == 200
    (entry,) = [e for e in audit_since(app, since) if e.action == "report.open"]
    assert entry.data_dict["reason"] == "other: Legal hold request"


def test_the_conversation_is_opened_with_the_report(app, client_for, api_client, monitor_with_keys):
    report_id, _receipt = make_anonymous_report(app, monitor_with_keys, text="Harassed at the line")
    script = api_client(monitor_with_keys, unlocked=True)
    assert (
        script.post(f"/api/v1/worker-reports/{report_id}/messages", json={"body": "We hear you"}).status_code
        == 201
    )
    since = last_audit_id(app)
    response = script.post(f"/api/v1/worker-reports/{report_id}/open", json={"reason": "follow_up"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["testimony"] == "Harassed at the line" and body["identity"] is None
    assert [m["body"] for m in body["messages"]] == ["We hear you"]
    assert body["messages"][0]["from_worker"] is False
    assert body["report"]["id"] == report_id
    actions = [e.action for e in audit_since(app, since)]
    assert actions.count("report.open") == 1 and actions.count("report.read_messages") == 1
    page = _open(client_for(monitor_with_keys), report_id).get_data(as_text=True)
    assert "We hear you" in page and "Harassed at the line" in page


def test_locked_keys_are_explained_and_audited(app, api_client, monitor_with_keys):
    report_id = make_report(app, monitor_with_keys)
    # A token made while the keys were locked cannot open sealed data.
    client = api_client(monitor_with_keys)
    since = last_audit_id(app)
    response = client.post(f"/api/v1/worker-reports/{report_id}/open", json={"reason": "investigation"})
    assert response.status_code == 403
    message = response.get_json()["error"]["message"]
    assert "keys" in message and "Somsri" not in response.get_data(as_text=True)
    (entry,) = audit_since(app, since)
    assert entry.action == "report.open_failed"
    assert entry.data_dict["error"] == "KeysLocked" and entry.data_dict["reason"] == "investigation"


def test_a_monitor_without_access_is_sent_to_the_keys_page(app, client_for, create_user, monitor_with_keys):
    report_id = make_report(app, monitor_with_keys)
    newcomer = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    since = last_audit_id(app)
    response = _open(client_for(newcomer), report_id)
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Sealed content not opened" in page and 'href="/account/keys"' in page
    assert "Somsri" not in page and "Traceback" not in page
    failed = [e for e in audit_since(app, since) if e.action == "report.open_failed"]
    assert (
        len(failed) == 1
        and failed[0].actor_id == newcomer.id
        and failed[0].data_dict["error"] == "NoKeyAccess"
    )


def test_the_server_alone_cannot_open_a_report(app, monitor_with_keys):
    """With the database and every server secret, but no monitor logged in, opening fails."""
    report_id = make_report(app, monitor_with_keys)
    with app.test_request_context("/"):
        report = db.session.get(WorkerReport, report_id)
        monitor = db.session.get(User, monitor_with_keys.id)
        with pytest.raises(sealing.SealedAccessError) as caught:
            sealing.open_report(monitor, report, reason="investigation")
        assert caught.value.kind == "locked"


@pytest.mark.parametrize(
    ("source_column", "target_column", "same_report"),
    [
        ("identity_sealed", "identity_sealed", False),
        ("testimony_sealed", "testimony_sealed", False),
        ("identity_sealed", "testimony_sealed", True),
        ("testimony_sealed", "identity_sealed", True),
        ("wrapped_key", "wrapped_key", False),
    ],
)
def test_a_ciphertext_moved_elsewhere_does_not_open(
    app, client_for, api_client, monitor_with_keys, source_column, target_column, same_report
):
    first = make_report(app, monitor_with_keys, testimony="First testimony")
    second = make_report(app, monitor_with_keys, testimony="Second testimony")
    source, target = (second, second) if same_report else (first, second)
    with app.app_context():
        blob = getattr(db.session.get(WorkerReport, source), source_column)
        setattr(db.session.get(WorkerReport, target), target_column, blob)
        db.session.commit()
    since = last_audit_id(app)
    response = _open(client_for(monitor_with_keys), target)
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "could not be opened" in page and "First testimony" not in page and "Second testimony" not in page
    script = api_client(monitor_with_keys, unlocked=True)
    answer = script.post(f"/api/v1/worker-reports/{target}/open", json={"reason": "verification"})
    assert answer.status_code == 403
    assert (
        answer.get_json()["error"]["message"]
        == "The sealed content could not be opened. The attempt was recorded."
    )
    failed = [e for e in audit_since(app, since) if e.action == "report.open_failed"]
    assert len(failed) == 2
    assert {e.object_id for e in failed} == {str(target)}
    assert all(e.data_dict["error"] == "DecryptionError" for e in failed)
    # The untouched report still opens.
    if not same_report:
        assert _open(client_for(monitor_with_keys), first).status_code == 200
