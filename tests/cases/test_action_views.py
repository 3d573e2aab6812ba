"""The corrective-action pages, role by role: request, plan, decision, evidence, verification, closure."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from monitoring.cases.models import ActionState, CaseFile, CaseState, CorrectiveAction, SupplierResponse
from monitoring.core.db import db
from tests.cases.helpers import CaseWorld
from tests.conftest import csrf_token, post_form
from tests.testimony.monitor_helpers import PDF, PNG, make_report

# Every form handler of an action, with a body that would be valid for someone allowed.
HANDLERS = {
    "plan": {
        "root_cause": "Agents",
        "corrective": "Repay",
        "preventive": "Policy",
        "target_date": "2030-01-31",
    },
    "decision": {"decision": "reject", "reason": "Too vague."},
    "implementation": {"description": "Repaid."},
    "verification": {"result": "verified", "note": "Checked."},
    "close": {},
    "deadlines": {"plan_due_date": "2030-01-01", "closure_due_date": "2030-02-01", "reason": "Holidays."},
}


def _state(world: CaseWorld, action_id: int) -> ActionState:
    return world.get(CorrectiveAction, action_id).state


def _post(client, action_id: int, handler: str, data: dict | None = None):
    return post_form(client, f"/actions/{action_id}/{handler}", data or {}, form_page="/")


def _followed(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _forms(page: str, action_id: int) -> set[str]:
    """The action's forms a page offers (by the handler they post to)."""
    return set(re.findall(rf'action="/actions/{action_id}/(\w+)"', page))


def _file_count(app, action_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(CaseFile.id)).where(CaseFile.action_id == action_id)) or 0


def _request_action(world: CaseWorld, client, case_id: int, finding_id: int, **dates: str):
    url = f"/cases/{case_id}/actions/new"
    data = {
        "finding_id": finding_id,
        "supplier_id": world.orgs["supplier_x"],
        "request": "Repay every recruitment fee and return the passports.",
        **dates,
    }
    return post_form(client, url, data, form_page=url)


def test_the_whole_path_through_the_pages_role_by_role(app, case_world, client_for):
    w = case_world
    finding_id = w.finding(severity="priority", summary="Forty workers paid fees to agents in Nepal.")
    case_id = w.case(findings=[finding_id])
    w.advance_case(case_id, CaseState.in_dialogue)
    coordinator, supplier, monitor = (client_for(w.users[k]) for k in ("coordinator", "supplier", "monitor"))
    today = datetime.now(UTC).date()

    # The coordinator requests the action; the deadlines are the defaults for a priority finding.
    page = coordinator.get(f"/cases/{case_id}/actions/new").get_data(as_text=True)
    assert f'value="{(today + timedelta(days=7)).isoformat()}"' in page
    assert f'value="{(today + timedelta(days=90)).isoformat()}"' in page
    response = _request_action(
        w,
        coordinator,
        case_id,
        finding_id,
        plan_due_date=(today + timedelta(days=7)).isoformat(),
        closure_due_date=(today + timedelta(days=90)).isoformat(),
    )
    assert response.status_code == 302
    action_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert "was requested from" in _followed(coordinator, response)
    action = w.get(CorrectiveAction, action_id)
    assert action.state is ActionState.requested and action.supplier_id == w.orgs["supplier_x"]
    assert action.plan_due_date == today + timedelta(days=7)

    # The supplier reads the request with the standard and the severity, not the summary.
    page = supplier.get(f"/actions/{action_id}").get_data(as_text=True)
    assert "Repay every recruitment fee" in page and "FL-1" in page and "Priority" in page
    assert "Forty workers" not in page
    assert _forms(page, action_id) == {"plan"}
    response = _post(supplier, action_id, "plan", HANDLERS["plan"] | {"root_cause": "Agents charge fees."})
    assert "Your plan was submitted" in _followed(supplier, response)
    assert _state(w, action_id) is ActionState.plan_submitted

    # A rejection needs a reason; without one nothing changes.
    before = w.counts()
    response = _post(coordinator, action_id, "decision", {"decision": "reject"})
    assert response.status_code == 422
    assert "Say why the plan is rejected." in response.get_data(as_text=True)
    assert _state(w, action_id) is ActionState.plan_submitted and w.counts() == before
    response = _post(
        coordinator, action_id, "decision", {"decision": "reject", "reason": "Agency staff left out."}
    )
    assert "The plan was rejected" in _followed(coordinator, response)
    assert _state(w, action_id) is ActionState.plan_rejected

    # The supplier reads the reason and submits a new plan, which a monitor accepts.
    page = supplier.get(f"/actions/{action_id}").get_data(as_text=True)
    assert "Agency staff left out." in page and "Agents charge fees." in page
    assert _forms(page, action_id) == {"plan"}
    response = _post(supplier, action_id, "plan", HANDLERS["plan"] | {"root_cause": "Agents and sub-agents."})
    assert response.status_code == 302
    page = monitor.get(f"/actions/{action_id}").get_data(as_text=True)
    assert "decision" in _forms(page, action_id)
    assert "Plan 2" in page and "Plan 1" in page
    response = _post(monitor, action_id, "decision", {"decision": "accept"})
    assert "The plan was accepted" in _followed(monitor, response)
    assert _state(w, action_id) is ActionState.plan_accepted
    with app.app_context():
        decisions = (
            db.session.execute(
                select(SupplierResponse.accepted)
                .where(SupplierResponse.action_id == action_id)
                .order_by(SupplierResponse.id)
            )
            .scalars()
            .all()
        )
    assert decisions == [False, True]

    # The supplier reports it implemented with two evidence files.
    page = supplier.get(f"/actions/{action_id}").get_data(as_text=True)
    assert _forms(page, action_id) == {"implementation"}
    assert 'enctype="multipart/form-data"' in page
    response = supplier.post(
        f"/actions/{action_id}/implementation",
        data={
            "csrf_token": csrf_token(supplier, f"/actions/{action_id}"),
            "description": "All fees repaid on 3 March; receipts signed by each worker.",
            "files": [(io.BytesIO(PDF + b"receipts"), "receipts-März.pdf"), (io.BytesIO(PNG), "photo.png")],
        },
        content_type="multipart/form-data",
    )
    assert "reported implemented" in _followed(supplier, response)
    assert _state(w, action_id) is ActionState.implemented
    assert _file_count(app, action_id) == 2
    page = supplier.get(f"/actions/{action_id}").get_data(as_text=True)
    assert "receipts-März.pdf" in page and "All fees repaid on 3 March" in page
    (pdf_url,) = re.findall(rf'href="(/actions/{action_id}/files/\d+)"[^>]*>receipts', page)

    # Everyone who sees the action downloads the file as an attachment nobody renders.
    for client in (supplier, monitor, coordinator, client_for(w.users["affiliate"])):
        download = client.get(pdf_url)
        assert download.status_code == 200
        assert download.data == PDF + b"receipts"
        assert download.headers["Content-Type"] == "application/pdf"
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert "filename*=UTF-8''receipts-M%C3%A4rz.pdf" in download.headers["Content-Disposition"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.headers["Content-Security-Policy"] == "sandbox"

    # A monitor verifies; a coordinator closes.
    page = monitor.get(f"/actions/{action_id}").get_data(as_text=True)
    assert _forms(page, action_id) == {"verification"}
    response = _post(
        monitor, action_id, "verification", {"result": "verified", "note": "Twelve workers confirmed."}
    )
    assert "is verified" in _followed(monitor, response)
    page = coordinator.get(f"/actions/{action_id}").get_data(as_text=True)
    assert _forms(page, action_id) == {"close", "deadlines"}
    response = _post(coordinator, action_id, "close")
    assert "is closed" in _followed(coordinator, response)
    assert _state(w, action_id) is ActionState.closed

    page = supplier.get(f"/actions/{action_id}").get_data(as_text=True)
    assert "Twelve workers confirmed." in page and _forms(page, action_id) == set()


def test_not_verified_needs_a_note_and_sends_the_supplier_back_to_work(case_world, client_for):
    w = case_world
    action_id = w.action(w.case())
    w.advance_action(action_id, ActionState.implemented)
    monitor = client_for(w.monitor)
    before = w.counts()
    response = _post(monitor, action_id, "verification", {"result": "not_verified"})
    assert response.status_code == 422
    assert "Say what is missing" in response.get_data(as_text=True)
    assert w.counts() == before and _state(w, action_id) is ActionState.implemented
    response = _post(
        monitor, action_id, "verification", {"result": "not_verified", "note": "Half was repaid."}
    )
    assert "is not verified" in _followed(monitor, response)
    page = client_for(w.supplier).get(f"/actions/{action_id}").get_data(as_text=True)
    assert "Half was repaid." in page and _forms(page, action_id) == {"implementation"}


@pytest.mark.parametrize(
    ("state", "who", "handler", "data"),
    [
        ("plan_submitted", "supplier", "plan", HANDLERS["plan"]),
        ("requested", "coordinator", "decision", {"decision": "accept"}),
        ("plan_accepted", "monitor", "decision", {"decision": "reject", "reason": "No."}),
        ("plan_submitted", "supplier", "implementation", HANDLERS["implementation"]),
        ("plan_accepted", "monitor", "verification", HANDLERS["verification"]),
        ("implemented", "coordinator", "close", {}),
    ],
)
def test_a_step_that_is_not_possible_now_is_refused_and_changes_nothing(
    case_world, client_for, state, who, handler, data
):
    w = case_world
    action_id = w.action(w.case())
    w.advance_action(action_id, ActionState(state))
    client = client_for(w.users[who])
    before = w.counts()
    page = _followed(client, _post(client, action_id, handler, data))
    assert "This is not possible while the corrective action is at" in page
    assert _state(w, action_id) is ActionState(state) and w.counts() == before


def test_nothing_changes_once_the_case_is_closed(case_world, client_for):
    w = case_world
    case_id = w.case()
    action_id = w.action(case_id)
    w.advance_case(case_id, CaseState.closed)
    coordinator = client_for(w.coordinator)
    page = coordinator.get(f"/actions/{action_id}").get_data(as_text=True)
    assert _forms(page, action_id) == set()
    response = coordinator.get(f"/cases/{case_id}/actions/new")
    assert response.status_code == 302
    assert "Corrective actions are requested while the case is" in coordinator.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "handler"),
    [
        ("coordinator", "plan"),
        ("monitor", "implementation"),
        ("coordinator", "verification"),
        ("supplier", "decision"),
        ("supplier", "close"),
        ("monitor", "deadlines"),
        ("affiliate", "decision"),
        ("affiliate", "plan"),
    ],
)
def test_a_role_that_may_not_use_a_form_gets_404(case_world, client_for, who, handler):
    w = case_world
    action_id = w.action(w.case())
    w.advance_action(action_id, ActionState.plan_submitted)
    client = client_for(w.users[who])
    before = w.counts()
    response = _post(client, action_id, handler, HANDLERS[handler])
    assert response.status_code == 404
    assert w.counts() == before and _state(w, action_id) is ActionState.plan_submitted


@pytest.mark.parametrize("who", ["supplier_y", "affiliate_b", "admin", "other_monitor"])
def test_who_does_not_see_the_action_gets_404_everywhere(app, case_world, client_for, who):
    w = case_world
    case_id = w.case()
    action_id = w.action(case_id)
    w.advance_action(action_id, ActionState.plan_accepted)
    with w.session() as session:
        from monitoring.cases import operations

        action = session.get(CorrectiveAction, action_id)
        operations.report_implemented(
            w.user("supplier"),
            action,
            "Done.",
            [operations.Upload("proof.pdf", None, io.BytesIO(PDF), len(PDF))],
        )
    with app.app_context():
        file_id = db.session.scalar(select(CaseFile.id).where(CaseFile.action_id == action_id))
    client = client_for(w.users[who])
    assert client.get(f"/actions/{action_id}").status_code == 404
    assert client.get(f"/actions/{action_id}/files/{file_id}").status_code == 404
    assert client.get(f"/cases/{case_id}/actions/new").status_code == 404
    before = w.counts()
    for handler, data in HANDLERS.items():
        assert _post(client, action_id, handler, data).status_code == 404, handler
    assert w.counts() == before


def test_a_file_of_another_action_is_not_served_under_this_one(app, case_world, client_for):
    w = case_world
    fees, hours = w.finding(), w.finding(standard="WH-1")
    case_id = w.case(findings=[fees, hours])
    first, second = w.action(case_id, finding_id=fees), w.action(case_id, finding_id=hours)
    w.advance_action(first, ActionState.plan_accepted)
    with w.session() as session:
        from monitoring.cases import operations

        operations.report_implemented(
            w.user("supplier"),
            session.get(CorrectiveAction, first),
            "Done.",
            [operations.Upload("proof.pdf", None, io.BytesIO(PDF), len(PDF))],
        )
    with app.app_context():
        file_id = db.session.scalar(select(CaseFile.id).where(CaseFile.action_id == first))
    client = client_for(w.supplier)
    assert client.get(f"/actions/{first}/files/{file_id}").status_code == 200
    assert client.get(f"/actions/{second}/files/{file_id}").status_code == 404


def test_a_supplier_never_sees_the_summary_or_the_report_links(app, case_world, client_for):
    w = case_world
    report_id = make_report(app, w.monitor)
    finding_id = w.finding(summary="Passports kept in the HR office safe.", report_ids=[report_id])
    action_id = w.action(w.case(findings=[finding_id]))
    report_link = f"/testimony/reports/{report_id}"
    sees = {
        "supplier": (False, False),
        "affiliate": (True, False),
        "coordinator": (True, False),
        "monitor": (True, True),
    }
    for who, (summary, links) in sees.items():
        client = client_for(w.users[who])
        for url in (f"/actions/{action_id}", "/requests/" if who == "supplier" else "/verifications/"):
            response = client.get(url)
            if response.status_code == 404:
                continue
            page = response.get_data(as_text=True)
            if url.startswith("/actions/"):
                assert ("Passports kept in the HR office safe." in page) is summary, who
                assert (report_link in page) is links, who
            else:
                assert "Passports kept" not in page and "/testimony/reports/" not in page


def test_workers_affected_below_five_are_not_shown_to_suppliers_and_affiliates(case_world, client_for):
    w = case_world
    action_id = w.action(w.case(findings=[w.finding(workers_affected=3)]))
    for who, shown in (("supplier", False), ("affiliate", False), ("coordinator", True), ("monitor", True)):
        page = client_for(w.users[who]).get(f"/actions/{action_id}").get_data(as_text=True)
        assert ("fewer than 5" in page) is not shown, who


def test_each_role_is_offered_only_its_own_forms(case_world, client_for):
    w = case_world
    action_id = w.action(w.case())
    w.advance_action(action_id, ActionState.plan_submitted)
    offered = {
        "supplier": set(),
        "coordinator": {"decision", "deadlines"},
        "monitor": {"decision"},
        "affiliate": set(),
    }
    for who, forms in offered.items():
        page = client_for(w.users[who]).get(f"/actions/{action_id}").get_data(as_text=True)
        assert _forms(page, action_id) == forms, who


# --- requesting -------------------------------------------------------------------------------


def test_the_request_form_offers_the_findings_and_concerned_suppliers_with_the_defaults(
    case_world, client_for
):
    w = case_world
    frozen = datetime(2027, 3, 1, 10, tzinfo=UTC)
    with time_machine.travel(frozen, tick=False):
        major, priority = w.finding(severity="major"), w.finding(severity="priority", standard="FL-2")
        case_id = w.case(findings=[major, priority])
        w.advance_case(case_id, CaseState.in_dialogue)
        client = client_for(w.coordinator)
        page = client.get(f"/cases/{case_id}/actions/new").get_data(as_text=True)
        # Pre-filled for the most severe finding: plan in 7 days, closure in 90.
        assert 'value="2027-03-08"' in page and 'value="2027-05-30"' in page
        assert re.search(rf'<option selected value="{priority}"|<option value="{priority}" selected', page)
        # The defaults of every severity and what is allowed, in words.
        for default in ("2027-03-15", "2027-08-28", "2027-11-26"):
            assert f'datetime="{default}"' in page
        assert "closure 30 to 90 days from today" in page
        assert "closure at most 180 days from today" in page
        # Only the suppliers the site concerns.
        assert f'value="{w.orgs["supplier_x"]}"' in page and f'value="{w.orgs["supplier_y"]}"' not in page
        # A finding given in the address is chosen, with its own defaults.
        page = client.get(f"/cases/{case_id}/actions/new?finding={major}").get_data(as_text=True)
        assert 'value="2027-03-15"' in page and 'value="2027-08-28"' in page

        # Empty dates take the defaults of the chosen finding's severity.
        response = _request_action(w, client, case_id, major)
        action = w.get(CorrectiveAction, int(response.headers["Location"].rsplit("/", 1)[1]))
        assert (action.plan_due_date, action.closure_due_date) == (date(2027, 3, 15), date(2027, 8, 28))


@pytest.mark.parametrize(
    ("dates", "field", "message"),
    [
        (
            {"plan_due_date": "2027-03-08", "closure_due_date": "2027-09-01"},
            "closure_due_date",
            "at most 90 days",
        ),
        (
            {"plan_due_date": "2027-03-08", "closure_due_date": "2027-03-20"},
            "closure_due_date",
            "at least 30 days",
        ),
        (
            {"plan_due_date": "2027-02-20", "closure_due_date": "2027-05-01"},
            "plan_due_date",
            "cannot be in the past",
        ),
        (
            {"plan_due_date": "2027-03-08", "closure_due_date": "tomorrow"},
            "closure_due_date",
            "Not a valid date",
        ),
    ],
)
def test_deadlines_out_of_bounds_are_shown_on_their_field_and_nothing_is_written(
    case_world, client_for, dates, field, message
):
    w = case_world
    with time_machine.travel(datetime(2027, 3, 1, 10, tzinfo=UTC), tick=False):
        finding_id = w.finding(severity="priority")
        case_id = w.case(findings=[finding_id])
        w.advance_case(case_id, CaseState.in_dialogue)
        client = client_for(w.coordinator)
        before = w.counts()
        response = _request_action(w, client, case_id, finding_id, **dates)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
        assert error and message in error.group(1)
        assert 'aria-invalid="true"' in page
        assert w.counts() == before


def test_a_supplier_the_site_does_not_concern_cannot_be_chosen(case_world, client_for):
    w = case_world
    finding_id = w.finding()
    case_id = w.case(findings=[finding_id])
    w.advance_case(case_id, CaseState.in_dialogue)
    client = client_for(w.coordinator)
    before = w.counts()
    url = f"/cases/{case_id}/actions/new"
    response = post_form(
        client,
        url,
        {"finding_id": finding_id, "supplier_id": w.orgs["supplier_y"], "request": "Fix it."},
        form_page=url,
    )
    assert response.status_code == 422 and w.counts() == before


def test_the_request_page_is_for_coordinators(case_world, client_for):
    w = case_world
    case_id = w.case()
    w.advance_case(case_id, CaseState.in_dialogue)
    for who in ("monitor", "affiliate", "supplier", "admin"):
        assert client_for(w.users[who]).get(f"/cases/{case_id}/actions/new").status_code == 404, who
    assert client_for(w.coordinator).get("/cases/999999/actions/new").status_code == 404


# --- deadlines --------------------------------------------------------------------------------


def test_a_coordinator_changes_the_deadlines_with_a_reason(case_world, client_for):
    w = case_world
    with time_machine.travel(datetime(2027, 3, 1, 10, tzinfo=UTC), tick=False):
        action_id = w.action(w.case(severity="major"))
        client = client_for(w.coordinator)
        page = client.get(f"/actions/{action_id}").get_data(as_text=True)
        assert 'value="2027-03-15"' in page and "at most 180 days from today" in page
        before = w.counts()
        response = _post(
            client,
            action_id,
            "deadlines",
            {"plan_due_date": "2027-02-01", "closure_due_date": "2027-06-01", "reason": "Holidays."},
        )
        assert response.status_code == 422
        assert "The plan deadline cannot be in the past." in response.get_data(as_text=True)
        assert w.counts() == before
        response = _post(
            client, action_id, "deadlines", {"plan_due_date": "2027-03-20", "closure_due_date": "2027-06-01"}
        )
        assert response.status_code == 422 and w.counts() == before
        response = _post(
            client,
            action_id,
            "deadlines",
            {"plan_due_date": "2027-03-20", "closure_due_date": "2027-06-01", "reason": "Lunar new year."},
        )
        assert "The deadlines are now" in _followed(client, response)
        action = w.get(CorrectiveAction, action_id)
        assert (action.plan_due_date, action.closure_due_date) == (date(2027, 3, 20), date(2027, 6, 1))


def test_the_action_page_says_overdue_in_words(case_world, client_for):
    w = case_world
    with time_machine.travel(datetime(2027, 3, 1, 10, tzinfo=UTC), tick=False):
        action_id = w.action(w.case(severity="major"))
    with time_machine.travel(datetime(2027, 3, 20, 10, tzinfo=UTC), tick=False):
        page = client_for(w.supplier).get(f"/actions/{action_id}").get_data(as_text=True)
        assert "overdue by 5 days" in page
        assert "This action is overdue: the plan was due on" in page


# --- evidence uploads -------------------------------------------------------------------------


class Untouchable(io.RawIOBase):
    """A request body that must not be read."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise AssertionError("the body was read")


def _implement(client, action_id: int, files: list, token: str | None = None):
    data = {"description": "Fees repaid.", "files": files}
    if token is not False:
        data["csrf_token"] = token or csrf_token(client, f"/actions/{action_id}")
    return client.post(f"/actions/{action_id}/implementation", data=data, content_type="multipart/form-data")


@pytest.fixture
def accepted(case_world):
    action_id = case_world.action(case_world.case())
    case_world.advance_action(action_id, ActionState.plan_accepted)
    return action_id


def test_a_file_of_a_type_not_accepted_is_refused_on_its_field(app, case_world, accepted, client_for):
    client = client_for(case_world.supplier)
    before = case_world.counts()
    response = _implement(
        client, accepted, [(io.BytesIO(PDF), "ok.pdf"), (io.BytesIO(b"MZ\x90\x00"), "tool.exe")]
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(r'<p class="error" id="files-error">([^<]*)</p>', page)
    assert error and "tool.exe" in error.group(1) and "is not a type of file accepted here" in error.group(1)
    assert case_world.counts() == before and _file_count(app, accepted) == 0
    assert _state(case_world, accepted) is ActionState.plan_accepted


def test_evidence_over_the_size_limit_is_refused(app, case_world, accepted, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 100_000)
    client = client_for(case_world.supplier)
    before = case_world.counts()
    # One file over the limit, in a body the page accepts: refused on the field.
    response = _implement(client, accepted, [(io.BytesIO(PDF + b"\0" * 200_000), "big.pdf")])
    assert response.status_code == 422 and "The file is too large." in response.get_data(as_text=True)
    # A body larger than the limit of all files together: refused before it is read.
    monkeypatch.setitem(app.config, "CASE_UPLOAD_MAX_BYTES", 1_000_000)
    response = client.post(
        f"/actions/{accepted}/implementation",
        environ_overrides={"wsgi.input": Untouchable(), "CONTENT_LENGTH": str(50_000_000)},
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413
    assert "at most 10 files, 1 MB together and 0.1 MB each" in response.get_data(as_text=True)
    assert case_world.counts() == before and _file_count(app, accepted) == 0


def test_an_upload_without_the_form_token_is_refused(app, case_world, accepted, client_for):
    client = client_for(case_world.supplier)
    response = _implement(client, accepted, [(io.BytesIO(PDF), "ok.pdf")], token=False)
    assert response.status_code == 400
    assert _file_count(app, accepted) == 0 and _state(case_world, accepted) is ActionState.plan_accepted


def test_the_implementation_may_come_without_files(app, case_world, accepted, client_for):
    client = client_for(case_world.supplier)
    response = _implement(client, accepted, [])
    assert response.status_code == 302
    assert _state(case_world, accepted) is ActionState.implemented and _file_count(app, accepted) == 0
