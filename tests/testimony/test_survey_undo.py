"""Undoing a survey import: its reports crypto-shredded, audited, and the file importable again."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from monitoring.accounts.models import User, UserRole
from monitoring.cases import operations as cases
from monitoring.cases.models import EvidenceType, Severity
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.testimony import operations_erasure
from monitoring.testimony.models import ErasureReason, SurveyImport, WorkerReport
from tests.conftest import csrf_token
from tests.testimony.test_survey import (  # noqa: F401  (setup is a fixture)
    GROUPED,
    OS_ID,
    api_import_job,
    kobo_csv,
    setup,
    valid_file,
)

API = "/api/v1/testimony/survey-imports"


def api_import(app, api) -> int:
    """Import the valid file through the job; the survey import's id."""
    status = api_import_job(app, api, valid_file())
    assert status["state"] == "done", status
    return status["result"]["survey_import_id"]


def reports_of(app, import_id: int) -> list[WorkerReport]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(WorkerReport)
                .where(WorkerReport.survey_import_id == import_id)
                .order_by(WorkerReport.id)
            )
        )


def age_import(app, import_id: int, days: int) -> None:
    with app.app_context():
        item = db.session.get(SurveyImport, import_id)
        item.imported_dt = item.imported_dt - timedelta(days=days)
        db.session.commit()


def test_undo_shreds_the_reports_and_a_reimport_is_accepted(app, setup, api_client):  # noqa: F811
    api = api_client(setup.monitor)
    import_id = api_import(app, api)
    again = api_import_job(app, api, valid_file())
    assert again["state"] == "failed"  # every answer was imported before
    assert "imported before" in again["errors"][0]["message"]
    response = api.post(f"{API}/{import_id}/undo")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["undone_dt"] is not None and body["undone_by_id"] == setup.monitor.id
    reports = reports_of(app, import_id)
    assert len(reports) == 3
    for report in reports:
        assert report.erased_dt is not None and report.erasure_reason == ErasureReason.import_undone
        assert report.testimony_sealed is None and report.wrapped_key is None and report.source_digest is None
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "survey.undone")).all()
        assert json.loads(entry.data)["shredded"] == 3 and entry.object_id == str(import_id)
    # Undone once only.
    assert api.post(f"{API}/{import_id}/undo").status_code == 422
    # The same file again: accepted, three new reports.
    second = api_import(app, api)
    assert second != import_id and len(reports_of(app, second)) == 3
    assert api.get(f"{API}/{second}").get_json()["undone_dt"] is None


def test_undo_after_the_period_is_refused(app, setup, api_client):  # noqa: F811
    api = api_client(setup.monitor)
    import_id = api_import(app, api)
    age_import(app, import_id, app.config["SURVEY_UNDO_DAYS"] + 1)
    response = api.post(f"{API}/{import_id}/undo")
    assert response.status_code == 422
    assert "within 30 days" in response.get_json()["error"]["message"]
    assert all(report.erased_dt is None for report in reports_of(app, import_id))


def test_undo_is_refused_when_a_report_supports_a_finding(app, setup, api_client):  # noqa: F811
    api = api_client(setup.monitor)
    import_id = api_import(app, api)
    first = reports_of(app, import_id)[0]
    with app.app_context():
        data = cases.FindingData(
            site_id=setup.site_id,
            standard="FL-1",
            severity=Severity.major,
            workers_affected=3,
            evidence_type=EvidenceType.offsite_interviews,
            found_date=date(2026, 10, 1),
            summary="Workers paid recruitment fees.",
            report_ids=[first.id],
        )
        cases.file_finding(db.session.get(User, setup.monitor.id), data)
        db.session.commit()
    response = api.post(f"{API}/{import_id}/undo")
    assert response.status_code == 422
    assert "1 reports of this import support a finding" in response.get_json()["error"]["message"]
    assert all(report.erased_dt is None for report in reports_of(app, import_id))


def test_monitor_undoes_an_import_on_its_page(app, setup, api_client, client_for):  # noqa: F811
    import_id = api_import(app, api_client(setup.monitor))
    client = client_for(setup.monitor)
    url = f"/testimony/survey-imports/{import_id}"
    assert "Undo the import and erase its reports" in client.get(url).get_data(as_text=True)
    token = csrf_token(client, url)
    response = client.post(f"{url}/undo", data={"csrf_token": token})
    assert response.status_code == 422  # not confirmed
    assert all(report.erased_dt is None for report in reports_of(app, import_id))
    response = client.post(f"{url}/undo", data={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "3 reports were erased" in page and 'data-undone="true"' in page
    assert "Undo the import and erase its reports" not in page
    assert all(report.erased_dt is not None for report in reports_of(app, import_id))


@pytest.mark.parametrize(
    "role", [UserRole.monitor, UserRole.admin, UserRole.coordinator, UserRole.affiliate, UserRole.supplier]
)
def test_others_get_404(app, setup, api_client, client_for, create_user, role):  # noqa: F811
    import_id = api_import(app, api_client(setup.monitor))
    other = create_user(role)  # a monitor of another organisation, or another role
    assert api_client(other).post(f"{API}/{import_id}/undo").status_code == 404
    client = client_for(other)
    token = csrf_token(client, "/")
    response = client.post(
        f"/testimony/survey-imports/{import_id}/undo", data={"csrf_token": token, "confirm": "yes"}
    )
    assert response.status_code == 404
    assert all(report.erased_dt is None for report in reports_of(app, import_id))


def _survey_of(rows: int, tag: str) -> bytes:
    """A Kobo export of ``rows`` short answers, each its own submission."""
    answers = [
        {
            "interview/site_os_id": OS_ID,
            "interview/testimony": f"{tag} answer {n}: the agency keeps our passports.",
            "interview/issues": "retained_documents",
            "_uuid": f"{tag}-{n}",
        }
        for n in range(rows)
    ]
    return kobo_csv(answers, questions=GROUPED)


def _undo_counting_statements(app, api, import_id: int) -> int:
    """Undo the import by the API; how many statements it ran, its audit entry's included."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = api.post(f"{API}/{import_id}/undo")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.get_json()
    return len(statements)


def test_undo_erases_a_larger_import_in_as_many_statements_as_a_small_one(
    app,
    setup,  # noqa: F811
    api_client,
):
    api = api_client(setup.monitor)
    small = api_import_job(app, api, _survey_of(3, "small"))["result"]["survey_import_id"]
    large = api_import_job(app, api, _survey_of(15, "large"))["result"]["survey_import_id"]
    assert _undo_counting_statements(app, api, large) == _undo_counting_statements(app, api, small)
    reports = reports_of(app, small) + reports_of(app, large)
    assert len(reports) == 18
    assert all(
        r.erased_dt is not None and r.testimony_sealed is None and r.wrapped_key is None for r in reports
    )
    with app.app_context():
        # One entry per undo, naming every report it erased (thousands of entries took most of
        # an undo's time); none per report.
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "survey.undone")).all()
        named = [report_id for entry in entries for report_id in json.loads(entry.data)["erased_report_ids"]]
        assert sorted(named) == sorted(r.id for r in reports)
        assert {json.loads(entry.data)["reason"] for entry in entries} == {"import_undone"}
        assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action == "report.erased")).all()


def test_undo_erases_batch_by_batch(app, setup, api_client, monkeypatch):  # noqa: F811
    monkeypatch.setattr(operations_erasure, "ERASE_BATCH", 4)
    api = api_client(setup.monitor)
    import_id = api_import_job(app, api, _survey_of(10, "batched"))["result"]["survey_import_id"]
    response = api.post(f"{API}/{import_id}/undo")
    assert response.status_code == 200, response.get_json()
    reports = reports_of(app, import_id)
    assert len(reports) == 10 and all(r.erased_dt is not None and r.identity_sealed is None for r in reports)
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "survey.undone")).all()
        assert json.loads(entry.data)["shredded"] == 10
