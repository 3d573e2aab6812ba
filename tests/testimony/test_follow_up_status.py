"""The worker's follow-up page shows the outcome: the statuses released about the case the
report is in (fixed texts, in the worker's language, newest first, dates only) and the questions
asked to confirm a remedy; never anything of another report or of the case's own texts."""

# ruff: noqa: F811  (the tests take the imported ``case_world`` fixture as an argument)

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from monitoring.cases import operations
from monitoring.cases.models import Case
from monitoring.core.db import db
from monitoring.testimony import operations_outcomes, outcomes
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.models_outcomes import ValidationQuestion, ValidationRequest, WorkerStatus
from tests.cases.conftest import case_world  # noqa: F401  (the cases tests' world, as a fixture here)
from tests.cases.helpers import CaseWorld
from tests.cases.worker_helpers import follow_up_page, priority_case, receipt_report
from tests.testimony.test_public import assert_worker_page


def _release(world: CaseWorld, case_id: int, status: WorkerStatus, report_id: int | None = None) -> int:
    with world.session():
        case = db.session.get(Case, case_id)
        return operations.release_status(world.user("monitor"), case, status, report_id).id


def test_nothing_released_nothing_shown(app, case_world):
    w = case_world
    report_id, receipt = receipt_report(w)
    priority_case(w, [report_id])
    response, page = follow_up_page(app, receipt)
    assert_worker_page(response)
    assert "News about your report" not in page and "Questions from the monitors" not in page


def test_each_status_once_with_its_latest_date_and_withdrawn_ones_gone(app, case_world):
    w = case_world
    report_id, receipt = receipt_report(w)
    case_id, _finding = priority_case(w, [report_id])
    with time_machine.travel(datetime(2027, 2, 1, 8, tzinfo=UTC), tick=False):
        _release(w, case_id, WorkerStatus.company_told)
        withdrawn = _release(w, case_id, WorkerStatus.closed_not_fixed)
    with time_machine.travel(datetime(2027, 4, 2, 8, tzinfo=UTC), tick=False):
        _release(w, case_id, WorkerStatus.company_told, report_id=report_id)
        with w.session():
            operations.withdraw_status(w.user("monitor"), db.session.get(Case, case_id), withdrawn)
    with app.app_context():
        shown = outcomes.released_statuses(db.session.get(WorkerReport, report_id))
    assert [(s.status, s.released_on.isoformat()) for s in shown] == [
        (WorkerStatus.company_told, "2027-04-02")
    ]
    response, page = follow_up_page(app, receipt)
    assert_worker_page(response)
    assert page.count("The company has been told about the problem and asked to fix it.") == 1
    assert "Apr 2, 2027" in page and "Feb 1, 2027" not in page
    assert "The case is closed, but the problem was not fixed." not in page


def test_a_case_of_another_report_tells_this_worker_nothing(app, case_world):
    w = case_world
    report_id, receipt = receipt_report(w)
    other_id, _other_receipt = receipt_report(w)
    case_id, finding_id = priority_case(w, [other_id])
    _release(w, case_id, WorkerStatus.plan_agreed)
    with w.session():
        operations.ask_workers(
            w.user("monitor"), db.session.get(Case, case_id), finding_id, "passport_returned"
        )
    _response, page = follow_up_page(app, receipt)
    assert "The company has agreed a plan" not in page and "Questions from the monitors" not in page
    with app.app_context():
        assert outcomes.released_statuses(db.session.get(WorkerReport, report_id)) == []


def test_statuses_and_questions_in_the_worker_language(app, case_world):
    from flask_babel import force_locale, gettext
    from markupsafe import escape

    w = case_world
    report_id, receipt = receipt_report(w, language="th")
    case_id, finding_id = priority_case(w, [report_id])
    _release(w, case_id, WorkerStatus.plan_agreed)
    with w.session():
        operations.ask_workers(w.user("monitor"), db.session.get(Case, case_id), finding_id, "problem_fixed")
    response, page = follow_up_page(app, receipt, lang="th")
    assert_worker_page(response)
    with app.test_request_context("/report/"), force_locale("th"):
        for message in (
            "The company has agreed a plan to fix this.",
            "Has the problem you reported been fixed?",
            "Questions from the monitors",
            "Yes",
            "Partly",
        ):
            assert str(escape(gettext(message))) in page, message


def test_an_answered_question_shows_the_answer_and_no_form(app, case_world):
    w = case_world
    report_id, receipt = receipt_report(w)
    case_id, finding_id = priority_case(w, [report_id])
    with w.session():
        operations.ask_workers(
            w.user("monitor"), db.session.get(Case, case_id), finding_id, "passport_returned"
        )
        query = select(ValidationRequest).where(ValidationRequest.report_id == report_id)
        request = db.session.scalar(query)
        operations_outcomes.answer_question(db.session.get(WorkerReport, report_id), request.id, "yes")
    _response, page = follow_up_page(app, receipt)
    assert "You answered: Yes" in page
    assert 'name="validation_request"' not in page
    with app.app_context():
        report = db.session.get(WorkerReport, report_id)
        # A new question of the same kind may be asked once the last one is answered.
        assert operations_outcomes.open_request(report, ValidationQuestion.passport_returned) is None


def test_a_status_source_sees_only_the_report(app, case_world):
    w = case_world
    report_id, _receipt = receipt_report(w)
    seen: list[int] = []

    def source(report: WorkerReport) -> list[outcomes.ReleasedStatus]:
        seen.append(report.id)
        return [outcomes.ReleasedStatus(WorkerStatus.looking_into, datetime(2027, 1, 5, tzinfo=UTC))]

    outcomes.register_status_source(source)
    try:
        with app.app_context():
            shown = outcomes.released_statuses(db.session.get(WorkerReport, report_id))
    finally:
        outcomes._sources.remove(source)
    assert seen == [report_id] and [s.title for s in shown] == [
        "The monitors are looking into the problem you reported."
    ]
