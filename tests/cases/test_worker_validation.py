"""Worker-validated closure: validation questions through the receipt channel and in surveys,
counts on the case (suppressed below 5 for buyers and suppliers), and the closing rule."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from monitoring.cases import operations
from monitoring.cases.models import Case, CaseClosure, CaseOutcome, CaseState, RemedyKind
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.supplychain.models import Site
from monitoring.testimony import operations_outcomes
from monitoring.testimony.models import ReportMessage, WorkerReport
from monitoring.testimony.models_outcomes import ValidationAnswer, ValidationRequest
from tests.cases.helpers import CaseWorld
from tests.cases.worker_helpers import follow_up_page, priority_case, receipt_report
from tests.conftest import unlocked_as


def _ask(world: CaseWorld, case_id: int, finding_id: int, question: str = "passport_returned") -> int:
    with world.session():
        case = db.session.get(Case, case_id)
        return operations.ask_workers(world.user("monitor"), case, finding_id, question).asked


def _answer(world: CaseWorld, report_id: int, answer: str, comment: str | None = None) -> None:
    with world.session():
        report = db.session.get(WorkerReport, report_id)
        request = db.session.scalar(
            select(ValidationRequest).where(
                ValidationRequest.report_id == report_id, ValidationRequest.answer.is_(None)
            )
        )
        operations_outcomes.answer_question(report, request.id, answer, comment)


def _answer_on_page(app, receipt: str, answer: str, comment: str = "") -> tuple[object, str]:
    client = app.test_client()
    response, page = follow_up_page(app, receipt, client=client)
    request_id = page.split('name="validation_request" value="')[1].split('"')[0]
    prefix = f"validation-{request_id}"
    token = page.split(f'id="{prefix}-csrf_token" name="{prefix}-csrf_token" type="hidden" value="')[1]
    token = token.split('"')[0]
    response = client.post(
        "/report/follow-up/validation?lang=en",
        data={
            "validation_request": request_id,
            f"{prefix}-csrf_token": token,
            f"{prefix}-receipt": receipt,
            f"{prefix}-answer": answer,
            f"{prefix}-comment": comment,
        },
    )
    return response, response.get_data(as_text=True)


def _closed():
    from monitoring.cases.models import ActionState

    return ActionState.closed


def _closure(reason: str | None = None, outcome: str = "resolved") -> operations.ClosureData:
    return operations.ClosureData(
        outcome=CaseOutcome(outcome),
        note="Passports returned to every worker.",
        remedies=[operations.RemedyData(kind=RemedyKind.passports_returned, workers_covered=12)],
        workers_consulted=True,
        no_validation_reason=reason,
    )


# --- asking ------------------------------------------------------------------------------------


def test_the_monitor_asks_every_linked_report_with_a_receipt(app, case_world, api_client):
    w = case_world
    first, _r1 = receipt_report(w)
    second, _r2 = receipt_report(w)
    interview = w.report()  # an interview: no receipt, cannot be asked on the follow-up page
    case_id, finding_id = priority_case(w, [first, second, interview])
    api = api_client(w.monitor)
    response = api.post(
        f"/api/v1/cases/{case_id}/validations",
        json={"finding_id": finding_id, "question": "passport_returned"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"question": "passport_returned", "asked": 2, "without_receipt": 1}
    # Asking again while unanswered sends nothing new.
    again = api.post(
        f"/api/v1/cases/{case_id}/validations",
        json={"finding_id": finding_id, "question": "passport_returned"},
    )
    assert again.status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count(ValidationRequest.id))) == 2
    summary = api.get(f"/api/v1/cases/{case_id}/validations").get_json()
    assert summary["counts"] == [
        {
            "question": "passport_returned",
            "title": "Has your passport or identity document been returned?",
            "yes": 0,
            "no": 0,
            "partly": 0,
            "waiting": 2,
            "answered": 0,
            "suppressed": False,
        }
    ]
    assert summary["findings"][0]["finding_id"] == finding_id
    assert summary["findings"][0]["questions"] == ["problem_fixed", "passport_returned"]


@pytest.mark.parametrize(
    ("setup", "payload", "message"),
    [
        ("major", {"question": "problem_fixed"}, "priority findings only"),
        ("priority", {"question": "fee_repaid"}, "does not fit"),
        ("priority", {"question": "a free question?"}, "question"),
        ("no_receipt", {"question": "passport_returned"}, "has a receipt"),
        ("no_reports", {"question": "passport_returned"}, "link the reports"),
    ],
)
def test_asking_is_refused_clearly(app, case_world, api_client, setup, payload, message):
    w = case_world
    report_id, _receipt = receipt_report(w)
    if setup == "major":
        finding_id = w.finding(severity="major", standard="FL-2", report_ids=[report_id])
        case_id = w.case(findings=[finding_id])
    elif setup == "no_receipt":
        case_id, finding_id = priority_case(w, [w.report()])
    elif setup == "no_reports":
        case_id, finding_id = priority_case(w, [])
    else:
        case_id, finding_id = priority_case(w, [report_id])
    response = api_client(w.monitor).post(
        f"/api/v1/cases/{case_id}/validations", json={"finding_id": finding_id, **payload}
    )
    assert response.status_code == 422, response.get_json()
    assert message in str(response.get_json()["error"])


def test_only_the_case_monitors_ask(app, case_world, api_client, client_for):
    w = case_world
    report_id, _receipt = receipt_report(w)
    case_id, finding_id = priority_case(w, [report_id])
    w.action(case_id)
    for key in ("coordinator", "affiliate", "supplier", "other_monitor", "admin"):
        response = api_client(w.users[key]).post(
            f"/api/v1/cases/{case_id}/validations",
            json={"finding_id": finding_id, "question": "passport_returned"},
        )
        assert response.status_code == 404, key
    assert api_client(w.users["admin"]).get(f"/api/v1/cases/{case_id}/validations").status_code == 404
    assert api_client(w.users["other_monitor"]).get(f"/api/v1/cases/{case_id}/validations").status_code == 404
    page = client_for(w.monitor).get(f"/cases/{case_id}/workers").get_data(as_text=True)
    assert "Send the question" in page and "Has your passport or identity document been returned?" in page


# --- answering -----------------------------------------------------------------------------------


def test_the_worker_answers_on_the_follow_up_page_and_the_comment_is_sealed(app, case_world):
    w = case_world
    report_id, receipt = receipt_report(w)
    case_id, finding_id = priority_case(w, [report_id])
    _ask(w, case_id, finding_id)
    _response, page = follow_up_page(app, receipt)
    assert (
        "Questions from the monitors" in page
        and "Has your passport or identity document been returned?" in page
    )
    comment = "Only after the agent took 200 dollars COMMENT-CANARY"
    response, page = _answer_on_page(app, receipt, "partly", comment)
    assert response.status_code == 200, page
    assert "Thank you. Your answer was sent to the monitors." in page
    assert "You answered: Partly" in page
    assert comment in page  # the worker reads their own comment in the conversation
    with app.app_context():
        request = db.session.scalar(select(ValidationRequest).where(ValidationRequest.report_id == report_id))
        assert request.answer is ValidationAnswer.partly and request.answered_dt is not None
        message = db.session.get(ReportMessage, request.comment_message_id)
        assert message.from_worker and message.receipt_wrapped_key is not None
        assert b"COMMENT-CANARY" not in message.body_sealed
    with unlocked_as(app, w.monitor):
        from monitoring.testimony import sealing

        monitor = db.session.get(type(w.monitor), w.monitor.id)
        opened = sealing.read_messages(
            monitor, db.session.get(WorkerReport, report_id), reason="investigation"
        )
        assert [m.body for m in opened] == [comment]
    # The answer is a reply on the receipt channel: the report's monitors are told, metadata only.
    with app.app_context():
        told = db.session.scalars(
            select(Notification).where(
                Notification.kind == NotificationKind.worker_message, Notification.user_id == w.monitor.id
            )
        ).all()
        assert len(told) == 1 and "COMMENT-CANARY" not in str(told[0].params)
    # Answering twice is refused plainly.
    response, page = _answer_on_page_again(app, receipt, report_id)
    assert response.status_code == 422 and "answered this question already" in page


def _answer_on_page_again(app, receipt: str, report_id: int) -> tuple[object, str]:
    """Post an answer to the (answered) question with a token from a fresh follow-up page."""
    _response, page = follow_up_page(app, receipt)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    with app.app_context():
        request_id = db.session.scalar(
            select(ValidationRequest.id).where(ValidationRequest.report_id == report_id)
        )
    prefix = f"validation-{request_id}"
    client = app.test_client()
    # The CSRF token is per session: take one from this client's own page.
    from tests.conftest import csrf_token

    token = csrf_token(client, "/report/follow-up?lang=en")
    response = client.post(
        "/report/follow-up/validation?lang=en",
        data={
            "validation_request": str(request_id),
            f"{prefix}-csrf_token": token,
            f"{prefix}-receipt": receipt,
            f"{prefix}-answer": "yes",
        },
    )
    return response, response.get_data(as_text=True)


def test_a_bad_answer_is_explained_and_nothing_is_stored(app, case_world):
    w = case_world
    report_id, receipt = receipt_report(w)
    case_id, finding_id = priority_case(w, [report_id])
    _ask(w, case_id, finding_id)
    response, page = _answer_on_page(app, receipt, "maybe")
    assert response.status_code == 422 and "Not a valid choice" in page
    response, page = _answer_on_page(app, receipt, "")
    assert response.status_code == 422 and "Please choose an answer." in page
    with app.app_context():
        assert db.session.scalar(select(ValidationRequest.answer)) is None
    client = app.test_client()
    assert client.post("/report/follow-up/validation", data={"validation_request": "x"}).status_code == 400
    with w.session(), pytest.raises(OperationError):
        operations_outcomes.answer_question(db.session.get(WorkerReport, w.report()), 1, "yes")


# --- counts --------------------------------------------------------------------------------------


def test_counts_are_suppressed_below_five_for_buyers_and_suppliers(app, case_world, api_client, client_for):
    w = case_world
    reports = [receipt_report(w)[0] for _ in range(7)]
    case_id, finding_id = priority_case(w, reports)
    w.action(case_id)
    _ask(w, case_id, finding_id)
    for report_id, answer in zip(reports[:6], ["yes"] * 5 + ["no"], strict=True):
        _answer(w, report_id, answer)
    url = f"/api/v1/cases/{case_id}/validations"
    full = api_client(w.monitor).get(url).get_json()
    assert full["counts"][0] | {"title": ""} == {
        "question": "passport_returned",
        "title": "",
        "yes": 5,
        "no": 1,
        "partly": 0,
        "waiting": 1,
        "answered": 6,
        "suppressed": False,
    }
    assert full["total"] == 6
    assert api_client(w.coordinator).get(url).get_json()["counts"][0]["no"] == 1
    for key in ("affiliate", "supplier"):
        shown = api_client(w.users[key]).get(url).get_json()
        row = shown["counts"][0]
        assert (row["yes"], row["no"], row["partly"], row["waiting"]) == (5, None, None, None), key
        assert row["answered"] is None and row["suppressed"] is True and shown["total"] is None
        assert shown["findings"] == []
    page = client_for(w.affiliate).get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Workers&#39; confirmation of the remedy" in page or "Workers' confirmation of the remedy" in page
    assert "fewer than 5" in page


# --- surveys -------------------------------------------------------------------------------------


def _kobo(rows: list[dict[str, str]], questions: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["today", *questions])
    for row in rows:
        writer.writerow(["2026-11-10", *(row.get(q, "") for q in questions)])
    return out.getvalue().encode()


def test_a_survey_carries_validation_answers_that_count_for_the_case(app, case_world, api_client):
    from monitoring.testimony import survey

    w = case_world
    report_id, _receipt = receipt_report(w)
    case_id, _finding_id = priority_case(w, [report_id])
    data = _kobo(
        [
            {"testimony": "Passport back in March", "validation_passport_returned": "yes"},
            {"testimony": "Still with the agent", "validation_passport_returned": "No"},
            {"testimony": "Nothing about passports", "validation_passport_returned": ""},
        ],
        ["testimony", "validation_passport_returned"],
    )
    with w.session():
        monitor = w.user("monitor")
        try:
            survey.import_survey(monitor, monitor.organisation, data, site=db.session.get(Site, w.site))
        except survey.SurveyRefused as exc:
            raise AssertionError(exc.errors) from exc
    counts = api_client(w.monitor).get(f"/api/v1/cases/{case_id}/validations").get_json()["counts"]
    assert [(c["question"], c["yes"], c["no"]) for c in counts] == [("passport_returned", 1, 1)]
    bad = _kobo(
        [{"testimony": "x", "validation_passport_returned": "perhaps"}],
        ["testimony", "validation_passport_returned"],
    )
    with pytest.raises(survey.SurveyRefused) as refused, app.app_context():
        survey.parse_survey(bad, site=db.session.get(Site, w.site), default_language="th")
    assert "is not yes, no or partly" in refused.value.errors[0].message
    unknown = _kobo([{"testimony": "x"}], ["testimony", "validation_whatever"])
    with pytest.raises(survey.SurveyRefused) as refused, app.app_context():
        survey.parse_survey(unknown, site=db.session.get(Site, w.site), default_language="th")
    assert "not a validation question" in refused.value.errors[0].message


# --- closing -------------------------------------------------------------------------------------


def test_a_priority_case_closes_as_resolved_only_with_validations_or_a_reason(app, case_world, api_client):
    w = case_world
    report_id, _receipt = receipt_report(w)
    case_id, _finding_id = priority_case(w, [report_id])
    w.advance_case(case_id, CaseState.verification)
    for action_id in w.actions_of(case_id):
        w.advance_action(action_id, _closed())
    api = api_client(w.monitor)
    body = {
        "outcome": "resolved",
        "workers_consulted": True,
        "remedies": [{"kind": "passports_returned", "workers_covered": 12}],
    }
    refused = api.post(f"/api/v1/cases/{case_id}/closure", json=body)
    assert refused.status_code == 422
    assert "no_validation_reason" in refused.get_json()["error"]["errors"]
    assert "No worker has confirmed the remedy yet" in str(refused.get_json()["error"])
    reason = "Every worker concerned left the country; REASON-CANARY"
    closed = api.post(f"/api/v1/cases/{case_id}/closure", json={**body, "no_validation_reason": reason})
    assert closed.status_code == 200, closed.get_json()
    closure = closed.get_json()["closures"][-1]
    assert closure["no_validation_reason"] == reason and closure["validation_answers"] == 0
    with app.app_context():
        stored = db.session.scalar(select(CaseClosure).where(CaseClosure.case_id == case_id))
        assert b"REASON-CANARY" not in stored.no_validation_reason_ct
        assert stored.no_validation_reason == reason
    affiliate = api_client(w.affiliate).get(f"/api/v1/cases/{case_id}").get_json()["closures"][-1]
    assert "no_validation_reason" not in affiliate or affiliate["no_validation_reason"] is None


def test_a_validation_answer_lets_the_case_close_as_resolved(app, case_world, client_for):
    w = case_world
    report_id, _receipt = receipt_report(w)
    case_id, finding_id = priority_case(w, [report_id])
    _ask(w, case_id, finding_id)
    _answer(w, report_id, "yes")
    w.advance_case(case_id, CaseState.verification)
    for action_id in w.actions_of(case_id):
        w.advance_action(action_id, _closed())
    client = client_for(w.monitor)
    page = client.get(f"/cases/{case_id}/close").get_data(as_text=True)
    assert "1 worker has answered a validation question." in page
    from tests.conftest import csrf_token

    token = csrf_token(client, f"/cases/{case_id}/close")
    response = client.post(
        f"/cases/{case_id}/close",
        data={"csrf_token": token, "outcome": "resolved", "workers_consulted": "y", "remedies-0-kind": ""},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        closure = db.session.scalar(select(CaseClosure).where(CaseClosure.case_id == case_id))
        assert closure.validation_answers == 1 and closure.no_validation_reason is None


def test_the_closing_page_refuses_without_validation_or_reason(app, case_world, client_for):
    w = case_world
    report_id, _receipt = receipt_report(w)
    case_id, _finding_id = priority_case(w, [report_id])
    w.advance_case(case_id, CaseState.verification)
    for action_id in w.actions_of(case_id):
        w.advance_action(action_id, _closed())
    client = client_for(w.monitor)
    from tests.conftest import csrf_token

    token = csrf_token(client, f"/cases/{case_id}/close")
    data = {"csrf_token": token, "outcome": "resolved", "workers_consulted": "y"}
    response = client.post(f"/cases/{case_id}/close", data=data)
    assert response.status_code == 422
    assert "No worker has confirmed the remedy yet" in response.get_data(as_text=True)
    response = client.post(
        f"/cases/{case_id}/close",
        data={**data, "no_validation_reason": "Workers could not be reached safely."},
    )
    assert response.status_code == 302
    assert w.get(Case, case_id).state is CaseState.closed
    with app.app_context():
        closure = db.session.scalar(select(CaseClosure).where(CaseClosure.case_id == case_id))
        assert closure.validation_answers == 0
        assert closure.no_validation_reason == "Workers could not be reached safely."


def test_a_priority_case_closes_partly_resolved_without_validations(app, case_world):
    w = case_world
    report_id, _receipt = receipt_report(w)
    case_id, _finding_id = priority_case(w, [report_id])
    w.advance_case(case_id, CaseState.verification)
    for action_id in w.actions_of(case_id):
        w.advance_action(action_id, _closed())
    with w.session():
        case = db.session.get(Case, case_id)
        with pytest.raises(OperationError) as refused:
            operations.close_case(w.user("monitor"), case, _closure())
        assert refused.value.field == "no_validation_reason"
        closure = operations.close_case(w.user("monitor"), case, _closure(outcome="partially_resolved"))
        assert closure.validation_answers == 0 and closure.no_validation_reason is None
