"""Workers hear the outcome: the case's monitor releases statuses from a fixed list to the
reports the case rests on; the worker's follow-up page shows them, and nothing else of the case."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine

from monitoring.cases import operations
from monitoring.cases.models import Case, CaseStatusRelease
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.testimony.models_outcomes import WorkerStatus
from tests.cases.helpers import CaseWorld
from tests.cases.worker_helpers import follow_up_page, priority_case, receipt_report
from tests.conftest import csrf_token

CANARY = "CANARY-7f3a-internal"


def _release(world: CaseWorld, case_id: int, status: WorkerStatus, report_id: int | None = None) -> int:
    with world.session():
        return operations.release_status(
            world.user("monitor"), db.session.get(Case, case_id), status, report_id
        ).id


def test_a_released_status_appears_on_the_follow_up_page_and_nothing_else_does(app, case_world, client_for):
    w = case_world
    report_id, receipt = receipt_report(w)
    other_id, other_receipt = receipt_report(w, text="Another worker")
    case_id, _finding = priority_case(w, [report_id, other_id], summary=f"Summary {CANARY}-summary")
    # Canaries in every internal text of the case: a message, a timeline reason.
    with w.session():
        case = db.session.get(Case, case_id)
        operations.post_message(w.user("monitor"), case, "internal", f"Message {CANARY}-message")
        operations.transition_case(w.user("coordinator"), case, "start_dialogue")
    _response, before = follow_up_page(app, receipt)
    assert "News about your report" not in before

    client = client_for(w.monitor)
    token = csrf_token(client, f"/cases/{case_id}/workers")
    response = client.post(
        f"/cases/{case_id}/workers/statuses",
        data={"status": "company_told", "report_id": "", "csrf_token": token},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    _release(w, case_id, WorkerStatus.plan_agreed, report_id=other_id)  # the other worker only

    response, page = follow_up_page(app, receipt)
    assert response.status_code == 200
    assert "News about your report" in page
    assert "The company has been told about the problem and asked to fix it." in page
    assert "The company has agreed a plan to fix this." not in page  # released to another report
    assert CANARY not in page
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case.reference not in page
        for site_name in (case.site.name,):
            assert page.count(site_name) == 1  # the workplace line the page always had, nothing more
    _response, other_page = follow_up_page(app, other_receipt)
    assert "The company has agreed a plan to fix this." in other_page
    assert "The company has been told about the problem" in other_page


def test_statuses_show_newest_first_with_dates_only(app, case_world):
    w = case_world
    report_id, receipt = receipt_report(w)
    case_id, _finding = priority_case(w, [report_id])
    with time_machine.travel(datetime(2027, 3, 1, 9, 30, tzinfo=UTC), tick=False):
        _release(w, case_id, WorkerStatus.looking_into)
    with time_machine.travel(datetime(2027, 5, 20, 16, 45, tzinfo=UTC), tick=False):
        _release(w, case_id, WorkerStatus.plan_agreed)
    _response, page = follow_up_page(app, receipt)
    section = page.split('id="outcome-heading"')[1].split("</section>")[0]
    assert section.index("The company has agreed a plan") < section.index("The monitors are looking into")
    assert "May 20, 2027" in section and "Mar 1, 2027" in section
    assert "16:45" not in section and "4:45" not in section and "9:30" not in section


def test_a_withdrawn_status_disappears(app, case_world, api_client):
    w = case_world
    report_id, receipt = receipt_report(w)
    case_id, _finding = priority_case(w, [report_id])
    api = api_client(w.monitor)
    created = api.post(f"/api/v1/cases/{case_id}/worker-statuses", json={"status": "closed_fees_repaid"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["to_every_report"] is True and body["withdrawn_dt"] is None
    assert "recruitment fees are being repaid" in follow_up_page(app, receipt)[1]
    withdrawn = api.post(f"/api/v1/cases/{case_id}/worker-statuses/{body['id']}/withdrawal")
    assert withdrawn.status_code == 200 and withdrawn.get_json()["withdrawn_dt"] is not None
    assert "recruitment fees are being repaid" not in follow_up_page(app, receipt)[1]
    again = api.post(f"/api/v1/cases/{case_id}/worker-statuses/{body['id']}/withdrawal")
    assert again.status_code == 422


def test_the_worker_reads_the_status_in_their_language(app, case_world):
    from flask_babel import force_locale, gettext
    from markupsafe import escape

    w = case_world
    report_id, receipt = receipt_report(w)
    case_id, _finding = priority_case(w, [report_id])
    _release(w, case_id, WorkerStatus.closed_documents_returned)
    _response, page = follow_up_page(app, receipt, lang="th")
    with app.test_request_context("/report/"), force_locale("th"):
        expected = str(escape(gettext("The case is closed: passports and documents have been returned.")))
        heading = str(escape(gettext("News about your report")))
    assert expected in page and heading in page
    assert 'lang="th"' in page


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "the fees are repaid, says the supplier"}, "status"),
        ({}, "status"),
        ({"status": "plan_agreed", "report_id": 999999}, "report_id"),
        ({"status": "plan_agreed", "report_id": "12"}, "report_id"),
        ({"status": "plan_agreed", "note": "free text"}, "note"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(app, case_world, api_client, payload, field):
    w = case_world
    report_id, _receipt = receipt_report(w)
    case_id, _finding = priority_case(w, [report_id])
    response = api_client(w.monitor).post(f"/api/v1/cases/{case_id}/worker-statuses", json=payload)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["errors"]


def test_a_case_without_linked_reports_or_a_duplicate_is_refused(app, case_world, api_client):
    w = case_world
    bare_case = w.case()
    api = api_client(w.monitor)
    response = api.post(f"/api/v1/cases/{bare_case}/worker-statuses", json={"status": "looking_into"})
    assert response.status_code == 422
    assert "No worker report is linked" in str(response.get_json()["error"])
    report_id, _receipt = receipt_report(w)
    case_id, _finding = priority_case(w, [report_id])
    assert (
        api.post(f"/api/v1/cases/{case_id}/worker-statuses", json={"status": "looking_into"}).status_code
        == 201
    )
    duplicate = api.post(f"/api/v1/cases/{case_id}/worker-statuses", json={"status": "looking_into"})
    assert duplicate.status_code == 422 and "released already" in str(duplicate.get_json()["error"])


def test_the_page_shows_a_refusal_next_to_the_field(app, case_world, client_for):
    w = case_world
    case_id = w.case()
    client = client_for(w.monitor)
    token = csrf_token(client, f"/cases/{case_id}/workers")
    response = client.post(
        f"/cases/{case_id}/workers/statuses", data={"status": "looking_into", "csrf_token": token}
    )
    assert response.status_code == 422
    assert "No worker report is linked" in response.get_data(as_text=True)
    response = client.post(
        f"/cases/{case_id}/workers/statuses", data={"status": "nonsense", "csrf_token": token}
    )
    assert response.status_code == 422


def test_who_may_see_and_release(app, case_world, api_client, client_for):
    w = case_world
    report_id, _receipt = receipt_report(w)
    case_id, _finding = priority_case(w, [report_id])
    w.action(case_id)  # the supplier sees the case
    release = _release(w, case_id, WorkerStatus.company_told, report_id=report_id)
    url = f"/api/v1/cases/{case_id}/worker-statuses"

    monitor = api_client(w.monitor).get(url)
    assert monitor.status_code == 200 and monitor.get_json()[0]["report_id"] == report_id
    coordinator = api_client(w.coordinator).get(url)
    assert coordinator.status_code == 200
    assert coordinator.get_json()[0]["report_id"] is None  # coordinators never learn the case's reports
    assert coordinator.get_json()[0]["to_every_report"] is False
    for key in ("affiliate", "supplier", "other_monitor", "admin"):
        assert api_client(w.users[key]).get(url).status_code == 404, key
    for key in ("coordinator", "affiliate", "supplier", "other_monitor", "admin"):
        api = api_client(w.users[key])
        assert api.post(url, json={"status": "plan_agreed"}).status_code == 404, key
        assert api.post(f"{url}/{release}/withdrawal").status_code == 404, key
    assert api_client(w.monitor).post(f"{url}/999999/withdrawal").status_code == 404

    page = client_for(w.monitor).get(f"/cases/{case_id}/workers")
    assert page.status_code == 200 and "Release to the workers" in page.get_data(as_text=True)
    page = client_for(w.coordinator).get(f"/cases/{case_id}/workers")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Release to the workers" not in text and "/withdrawal" not in text
    for key in ("affiliate", "supplier", "other_monitor"):
        assert client_for(w.users[key]).get(f"/cases/{case_id}/workers").status_code == 404, key
    with app.app_context():
        assert db.session.get(CaseStatusRelease, release).withdrawn_dt is None


def test_releases_are_audited_and_refusals_change_nothing(app, case_world):
    from sqlalchemy import select

    from monitoring.core.audit import AuditEntry

    w = case_world
    report_id, _receipt = receipt_report(w)
    case_id, _finding = priority_case(w, [report_id])
    release = _release(w, case_id, WorkerStatus.looking_into)
    with w.session():
        with pytest.raises(OperationError):
            operations.release_status(w.user("other_monitor"), db.session.get(Case, case_id), "plan_agreed")
        actions = list(
            db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(case_id)))
        )
    assert "case.release_status" in actions
    assert re.fullmatch(r"\d+", str(release))
