"""Attack: move a worker's sealed message into another message row, or flip its author side.
Defence: each message's wrapped keys and body are bound to its own id and author side (worker or monitor).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.testimony import sealing
from monitoring.testimony.models import ReportMessage, WorkerReport
from tests.testimony.monitor_helpers import make_anonymous_report

OPEN = {"reason": "follow_up"}
SEALED = ("organisation_wrapped_key", "receipt_wrapped_key", "body_sealed")


@pytest.fixture
def conversation(app, monitor_with_keys, api_client):
    """An anonymous report with a worker's message and the monitor's reply."""
    report_id, receipt_private = make_anonymous_report(
        app, monitor_with_keys, text="They hold our passports."
    )
    with app.app_context():
        report = db.session.get(WorkerReport, report_id)
        worker = sealing.add_message(report, body="I can name the supervisor.", author=None).id
        db.session.commit()
    script = api_client(monitor_with_keys, unlocked=True)
    reply = script.post(f"/api/v1/worker-reports/{report_id}/messages", json={"body": "Please call us."})
    assert reply.status_code == 201
    with app.app_context():
        monitor = db.session.scalar(
            select(ReportMessage.id).where(
                ReportMessage.report_id == report_id, ReportMessage.from_worker.is_(False)
            )
        )
    return {
        "report_id": report_id,
        "receipt": receipt_private,
        "worker": worker,
        "monitor": monitor,
        "script": script,
        "monitor_id": monitor_with_keys.id,
    }


def _monitor_reads(conversation):
    return conversation["script"].post(f"/api/v1/worker-reports/{conversation['report_id']}/open", json=OPEN)


def _worker_reads(app, conversation):
    with app.app_context():
        report = db.session.get(WorkerReport, conversation["report_id"])
        return [
            (m.message.from_worker, m.body)
            for m in sealing.read_messages_with_receipt(report, conversation["receipt"])
        ]


def test_the_conversation_opens_as_written(app, conversation):
    response = _monitor_reads(conversation)
    assert response.status_code == 200
    assert [(m["from_worker"], m["body"]) for m in response.get_json()["messages"]] == [
        (True, "I can name the supervisor."),
        (False, "Please call us."),
    ]
    assert _worker_reads(app, conversation) == [
        (True, "I can name the supervisor."),
        (False, "Please call us."),
    ]


def test_a_worker_message_moved_into_the_monitors_row_does_not_open(app, conversation):
    with app.app_context():
        source = db.session.get(ReportMessage, conversation["worker"])
        target = db.session.get(ReportMessage, conversation["monitor"])
        for column in SEALED:
            setattr(target, column, getattr(source, column))
        db.session.commit()
    assert _monitor_reads(conversation).status_code == 403
    with pytest.raises(sealing.SealedAccessError):
        _worker_reads(app, conversation)


def test_a_worker_message_turned_into_a_monitors_does_not_open(app, conversation):
    with app.app_context():
        message = db.session.get(ReportMessage, conversation["worker"])
        message.from_worker = False
        message.author_id = conversation["monitor_id"]
        db.session.commit()
    assert _monitor_reads(conversation).status_code == 403
    with pytest.raises(sealing.SealedAccessError):
        _worker_reads(app, conversation)


def test_a_monitors_message_turned_into_the_workers_does_not_open(app, conversation):
    with app.app_context():
        message = db.session.get(ReportMessage, conversation["monitor"])
        assert db.session.get(User, message.author_id) is not None
        message.from_worker = True
        message.author_id = None
        db.session.commit()
    assert _monitor_reads(conversation).status_code == 403
    with pytest.raises(sealing.SealedAccessError):
        _worker_reads(app, conversation)
