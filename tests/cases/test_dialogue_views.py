"""The dialogue on the case page: who writes to whom, who reads what, attachments, the timeline."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from monitoring.accounts.models import User
from monitoring.cases import operations
from monitoring.cases.models import Case, CaseFile, CaseMessage, CaseState
from monitoring.core.db import db
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form
from tests.supplychain.test_query_counts import counting
from tests.testimony.monitor_helpers import PDF, PNG

OPENED = datetime(2027, 3, 1, 10, tzinfo=UTC)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def _post(client, case_id: int, body: str, visibility: str, supplier: int | None = None, files=()):
    data: dict = {"body": body, "visibility": visibility}
    if supplier is not None:
        data["supplier"] = str(supplier)
    if files:
        data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return post_form(
        client,
        f"/cases/{case_id}/messages",
        data,
        form_page=f"/cases/{case_id}",
        content_type="multipart/form-data",
    )


def _file_ids(app, body: str) -> list[int]:
    """The attachments of the message with this body (bodies are protected: read them back)."""
    with app.app_context():
        for message in db.session.scalars(select(CaseMessage)):
            if message.body == body:
                return [f.id for f in message.attachments]
    raise AssertionError(f"no message {body!r}")


@pytest.fixture
def dialogue(app, case_world):
    """A case with actions for suppliers X and Y, and a message of each scope from each writer."""
    w: CaseWorld = case_world
    # Y also makes a product at the site, so it can be asked for a corrective action too.
    w.registry.disclose(w.supplier_y.id, w.products["phone"], w.site)
    with time_machine.travel(OPENED, tick=False):
        case_id = w.case()
        w.action(case_id, plan_due_date=date(2027, 3, 8))
        w.action(case_id, supplier="supplier_y")
    return case_id


def _write_everything(w: CaseWorld, case_id: int, client_for) -> None:
    x, y = w.orgs["supplier_x"], w.orgs["supplier_y"]
    coordinator = client_for(w.coordinator)
    for body, scope, supplier, files in [
        ("Coordinators only: agent fee schedule looks forged.", "internal", None, ()),
        ("Buyers: we ask for a joint call.", "buyers", None, ()),
        ("To X: please send payroll records.", "parties", x, [("payroll.pdf", PDF), ("dorm.png", PNG)]),
        ("To Y: please send agency contracts.", "parties", y, ()),
    ]:
        assert _post(coordinator, case_id, body, scope, supplier, files).status_code == 302, body
    affiliate = client_for(w.affiliate)
    assert _post(affiliate, case_id, "Buyer A supports the request.", "buyers").status_code == 302
    assert _post(affiliate, case_id, "Buyer A to X: we expect repayment.", "parties", x).status_code == 302
    supplier = client_for(w.supplier)
    assert _post(supplier, case_id, "X: records follow next week.", "parties").status_code == 302


MESSAGES = {
    "internal": "Coordinators only: agent fee schedule looks forged.",
    "buyers": "Buyers: we ask for a joint call.",
    "to_x": "To X: please send payroll records.",
    "to_y": "To Y: please send agency contracts.",
    "buyer_a": "Buyer A supports the request.",
    "buyer_a_to_x": "Buyer A to X: we expect repayment.",
    "from_x": "X: records follow next week.",
}
READS = {
    "coordinator": set(MESSAGES),
    "monitor": set(MESSAGES),
    "affiliate": set(MESSAGES) - {"internal"},
    "supplier": {"to_x", "buyer_a_to_x", "from_x"},
    "supplier_y": {"to_y"},
    # Y's disclosure brought buyer B's contract to the site: it reads what buyer A reads.
    "affiliate_b": set(MESSAGES) - {"internal"},
}


def test_each_reader_sees_only_the_messages_meant_for_it(case_world, dialogue, client_for):
    w = case_world
    _write_everything(w, dialogue, client_for)
    for who, expected in READS.items():
        page = _text(client_for(w.users[who]).get(f"/cases/{dialogue}"))
        shown = {key for key, body in MESSAGES.items() if body in page}
        assert shown == expected, who
    for who in ("other_monitor", "admin"):
        assert client_for(w.users[who]).get(f"/cases/{dialogue}").status_code == 404


def test_the_timeline_says_who_wrote_and_to_whom(case_world, dialogue, client_for):
    w = case_world
    _write_everything(w, dialogue, client_for)
    page = _text(client_for(w.monitor).get(f"/cases/{dialogue}"))
    item = page[page.index(MESSAGES["from_x"]) - 600 : page.index(MESSAGES["from_x"])]
    assert w.supplier.name in item and "Parties: also" in item
    assert "Internal: monitors and coordinators" in page
    # Oldest first.
    order = [page.index(body) for body in MESSAGES.values()]
    assert order == sorted(order)


def test_the_message_form_offers_the_readers_each_writer_may_choose(case_world, dialogue, client_for):
    w = case_world
    scopes = {
        "coordinator": ["internal", "buyers", "parties"],
        "monitor": ["internal", "buyers", "parties"],
        "affiliate": ["buyers", "parties"],
    }
    for who, expected in scopes.items():
        page = _text(client_for(w.users[who]).get(f"/cases/{dialogue}"))
        assert re.findall(r'name="visibility" required type="radio" value="(\w+)"', page) == expected, who
        assert 'name="supplier"' in page
    supplier = _text(client_for(w.supplier).get(f"/cases/{dialogue}"))
    assert '<input type="hidden" name="visibility" value="parties">' in supplier
    assert 'name="supplier"' not in supplier


@pytest.mark.parametrize(
    "who, scope, supplier, message",
    [
        ("affiliate", "internal", None, "Not a valid choice."),
        ("supplier", "buyers", None, "Not a valid choice."),
        ("coordinator", "parties", None, "Choose a supplier with a corrective action on this case."),
        ("coordinator", "nonsense", None, "Not a valid choice."),
    ],
)
def test_a_message_to_readers_the_writer_may_not_choose_is_refused(
    app, case_world, dialogue, client_for, who, scope, supplier, message
):
    w = case_world
    client = client_for(w.users[who])
    before = (w.counts(), _count(app, CaseMessage))
    response = _post(client, dialogue, "Forged scope.", scope, supplier)
    assert response.status_code == 422
    assert message in _text(response)
    assert (w.counts(), _count(app, CaseMessage)) == before


def test_a_message_needs_words(app, case_world, dialogue, client_for):
    response = _post(client_for(case_world.coordinator), dialogue, "   ", "buyers")
    assert response.status_code == 422 and "Write a message." in _text(response)
    assert _count(app, CaseMessage) == 0


def test_attachments_are_downloaded_by_those_who_read_the_message(app, case_world, dialogue, client_for):
    w = case_world
    _write_everything(w, dialogue, client_for)
    pdf_id, png_id = _file_ids(app, MESSAGES["to_x"])
    supplier = client_for(w.supplier)
    page = _text(supplier.get(f"/cases/{dialogue}"))
    assert f'href="/cases/{dialogue}/files/{pdf_id}"' in page and "payroll.pdf" in page
    response = supplier.get(f"/cases/{dialogue}/files/{pdf_id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="payroll.pdf"')
    assert client_for(w.affiliate).get(f"/cases/{dialogue}/files/{png_id}").data == PNG
    for who in ("supplier_y", "other_monitor", "admin"):
        assert client_for(w.users[who]).get(f"/cases/{dialogue}/files/{pdf_id}").status_code == 404, who
    # A file is only found under its own case.
    other = w.case(findings=[w.finding()])
    assert client_for(w.coordinator).get(f"/cases/{other}/files/{pdf_id}").status_code == 404


def test_an_internal_attachment_stays_with_monitors_and_coordinators(app, case_world, dialogue, client_for):
    w = case_world
    body = "Internal: the agent's ledger."
    response = _post(client_for(w.monitor), dialogue, body, "internal", files=[("ledger.pdf", PDF)])
    assert response.status_code == 302
    (file_id,) = _file_ids(app, body)
    url = f"/cases/{dialogue}/files/{file_id}"
    assert client_for(w.coordinator).get(url).data == PDF
    for who in ("affiliate", "supplier"):
        assert client_for(w.users[who]).get(url).status_code == 404, who
    assert "ledger.pdf" not in _text(client_for(w.affiliate).get(f"/cases/{dialogue}"))


def test_a_file_of_a_type_not_accepted_is_refused_and_nothing_is_written(
    app, case_world, dialogue, client_for
):
    w = case_world
    client = client_for(w.coordinator)
    before = (w.counts(), _count(app, CaseMessage), _count(app, CaseFile))
    response = _post(
        client,
        dialogue,
        "Here is a script.",
        "buyers",
        files=[("payroll.pdf", PDF), ("run.sh", b"#!/bin/sh\nrm -rf /\n")],
    )
    assert response.status_code == 422
    assert "“run.sh” is not a type of file accepted here." in _text(response)
    assert (w.counts(), _count(app, CaseMessage), _count(app, CaseFile)) == before


def test_too_large_uploads_are_refused(app, case_world, dialogue, client_for, monkeypatch):
    w = case_world
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 1000)
    monkeypatch.setitem(app.config, "CASE_UPLOAD_MAX_BYTES", 10_000)
    client = client_for(w.coordinator)
    # Larger than a file may be, but the request is small enough to be read: the field says so.
    response = _post(client, dialogue, "A big scan.", "buyers", files=[("scan.pdf", PDF + b"0" * 5000)])
    assert response.status_code == 422 and "The file is too large." in _text(response)
    # A body larger than every file together may be is refused before it is read.
    response = _post(client, dialogue, "Huge.", "buyers", files=[("huge.pdf", PDF + b"0" * 400_000)])
    assert response.status_code == 413 and "10 files, 0 MB together" in _text(response)
    assert _count(app, CaseMessage) == 0 and _count(app, CaseFile) == 0


def test_the_timeline_shows_events_and_deadlines_as_each_reader_may(case_world, dialogue, client_for):
    w = case_world
    with time_machine.travel(datetime(2027, 3, 5, 10, tzinfo=UTC), tick=False):
        before = _text(client_for(w.supplier).get(f"/cases/{dialogue}"))
    with time_machine.travel(datetime(2027, 3, 10, 10, tzinfo=UTC), tick=False):
        staff = _text(client_for(w.coordinator).get(f"/cases/{dialogue}"))
        supplier = _text(client_for(w.supplier).get(f"/cases/{dialogue}"))
    assert "Case opened" in staff and "from “Open” to “In dialogue”" in staff
    assert w.coordinator.name in staff and "Corrective action requested" in staff
    # Supplier X reads the events of its own action only, not the case's own events.
    assert "Corrective action requested" in supplier and "Case opened" not in supplier
    assert supplier.count("Corrective action requested") == 1
    assert staff.count("Corrective action requested") == 2
    # X's plan was due on 8 March: before, a plain date; after, overdue in words.
    deadline = re.search(r'<li class="timeline-deadline[^"]*" id="deadline-\d+-plan">.*?</li>', before, re.S)
    assert deadline and 'datetime="2027-03-08"' in deadline.group(0) and "overdue" not in deadline.group(0)
    late = re.findall(
        r'<li class="timeline-deadline overdue" id="deadline-\d+-plan">.*?</li>', supplier, re.S
    )
    assert len(late) == 1 and 'datetime="2027-03-08"' in late[0] and "overdue" in late[0]


def test_messages_go_on_after_the_case_is_closed(app, case_world, client_for):
    w = case_world
    case_id = w.case()
    w.advance_case(case_id, CaseState.closed)
    response = _post(client_for(w.affiliate), case_id, "Thank you for the remedy.", "buyers")
    assert response.status_code == 302
    assert "Thank you for the remedy." in _text(client_for(w.monitor).get(f"/cases/{case_id}"))


def test_the_case_page_runs_the_same_queries_for_ten_times_the_dialogue(app, case_world, client_for):
    w = case_world
    case_id = w.case()
    w.action(case_id)
    clients = {who: client_for(w.users[who]) for who in ("coordinator", "affiliate", "supplier")}
    x = w.orgs["supplier_x"]

    def grow(count: int) -> None:
        for n in range(count):
            scope = ("internal", "buyers", "parties")[n % 3]
            files = [("scan.pdf", PDF)] if n % 2 else ()
            response = _post(clients["coordinator"], case_id, f"Message {n}", scope, x, files)
            assert response.status_code == 302
            finding_id = w.finding(standard="WH-1")
            with w.session() as session:
                monitor = session.get(User, w.monitor.id)
                operations.add_findings(monitor, session.get(Case, case_id), [finding_id])
            w.action(case_id, finding_id=finding_id)

    def measure() -> dict[str, int]:
        counts = {}
        for who, client in clients.items():
            with counting(app) as count:
                assert client.get(f"/cases/{case_id}").status_code == 200
            counts[who] = count[0]
        return counts

    grow(3)
    small = measure()
    grow(27)
    large = measure()
    page = _text(clients["supplier"].get(f"/cases/{case_id}"))
    assert "Message 26<" in page and "Message 24<" not in page
    assert large == small
