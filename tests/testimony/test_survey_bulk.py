# ruff: noqa: F811  (setup, a fixture imported from test_survey, is an argument)
"""Survey reports sealed in bulk open exactly like reports from ``create_report``, and one audit
entry names them all."""

from __future__ import annotations

import json
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from monitoring.core import crypto
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.jobs import JobState
from monitoring.notifications import render
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.supplychain.models import Site
from monitoring.testimony import sealing, sealing_bulk
from monitoring.testimony.models import (
    IssueCategory,
    ReportChannel,
    RetaliationRisk,
    SurveyImport,
    WorkerReport,
)
from monitoring.testimony.models_outcomes import (
    ValidationAnswer,
    ValidationQuestion,
    ValidationRequest,
    ValidationSource,
)
from tests.conftest import unlocked_as
from tests.testimony.test_survey import _upload, run_import, run_worker, setup, valid_file  # noqa: F401
from tests.testimony.test_survey_jobs import job_id_of
from tests.testimony.test_survey_mapping import columns_url_of, renamed_file

IDENTITY = sealing.Identity(name="Mya Thandar", contact="Viber +66 90 111 2222", gender="woman")
TEXT = "We work 14 hours a day in the peak season.\nNo day off for weeks. ไม่มีวันหยุด"
CATEGORIES = [IssueCategory.wages, IssueCategory.working_hours, IssueCategory.wages]
QUESTION = next(iter(ValidationQuestion))

COMPARED = [
    "organisation_id", "organisation_key_id", "key_binding", "data_key_generation", "site_id", "country",
    "channel", "collected_date", "language", "consent_share_buyers", "consent_share_supplier",
    "consent_contact", "retaliation_risk", "status", "created_by_id", "source_digest", "receipt_lookup",
    "acknowledge_due_dt", "feedback_due_dt", "erased_dt",
]  # fmt: skip


def _both(monitor, site: Site, workplace: str = "Lanna, line 3") -> tuple[WorkerReport, WorkerReport]:
    """The same answers sealed once by ``create_report`` and once by the bulk path."""
    one = sealing.create_report(
        organisation=monitor.organisation,
        site=site,
        country=None,
        channel=ReportChannel.survey,
        collected_date=date(2025, 5, 2),
        language="my",
        consent_share_buyers=True,
        consent_share_supplier=False,
        consent_contact=True,
        retaliation_risk=RetaliationRisk.high,
        identity=IDENTITY,
        testimony=sealing.Testimony(text=TEXT, categories=CATEGORIES),
        workplace=workplace,
        created_by=monitor,
    )
    made = sealing_bulk.create_reports(
        organisation=monitor.organisation,
        reports=[
            sealing_bulk.NewReport(
                site_id=site.id,
                country=site.country,
                collected_date=date(2025, 5, 2),
                language="my",
                consent_share_buyers=True,
                consent_share_supplier=False,
                consent_contact=True,
                retaliation_risk=RetaliationRisk.high,
                identity=IDENTITY,
                testimony=TEXT,
                categories=CATEGORIES,
                workplace=workplace,
                validations={QUESTION: ValidationAnswer.yes},
            )
        ],
        channel=ReportChannel.survey,
        created_by=monitor,
        survey_import_id=None,
    )
    [bulk_id] = made.ids
    assert bulk_id > one.id
    bulk = db.session.get(WorkerReport, bulk_id)
    assert bulk is not None
    return one, bulk


def test_a_report_sealed_in_bulk_opens_like_one_from_create_report(app, setup):
    with unlocked_as(app, setup.monitor) as monitor:
        site = db.session.get(Site, setup.site_id)
        one, bulk = _both(monitor, site)
        for column in COMPARED:
            assert getattr(bulk, column) == getattr(one, column), column
        assert bulk.key_binding == sealing.BOUND
        assert {c.category for c in bulk.categories} == {c.category for c in one.categories}
        assert len(bulk.categories) == 2  # a repeated category is kept once, as create_report does
        [answer] = db.session.scalars(select(ValidationRequest).where(ValidationRequest.report_id == bulk.id))
        assert (answer.question, answer.answer, answer.source) == (
            QUESTION,
            ValidationAnswer.yes,
            ValidationSource.survey,
        )
        assert answer.asked_by_id == monitor.id and answer.answered_dt is not None
        opened_one = sealing.open_report(monitor, one, reason="test")
        opened_bulk = sealing.open_report(monitor, bulk, reason="test")
        assert opened_bulk == opened_one
        assert opened_bulk.testimony == TEXT and opened_bulk.identity == IDENTITY
        assert opened_bulk.workplace == "Lanna, line 3"
        assert TEXT.encode() not in bulk.testimony_sealed


def test_a_bulk_sealed_field_is_bound_to_its_row(app, setup):
    with unlocked_as(app, setup.monitor) as monitor:
        one, bulk = _both(monitor, db.session.get(Site, setup.site_id), workplace="")
        assert bulk.workplace_sealed is None
        assert sealing.open_report(monitor, bulk, reason="t").workplace == ""
        # The bulk report's sealed testimony, moved to the other row, opens there for nobody.
        one.testimony_sealed = bulk.testimony_sealed
        db.session.flush()
        with pytest.raises(sealing.SealedAccessError):
            sealing.open_report(monitor, one, reason="test")
        # Nor does its data key: its sealing names the row.
        data_key = sealing._report_data_key(monitor, bulk)
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_field(
                data_key, bulk.identity_sealed, table=sealing.REPORT, column="identity_sealed", row=one.id
            )


def test_one_audit_entry_names_every_report_of_the_import(app, setup, tmp_path):
    result = run_import(app, valid_file(), setup, tmp_path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        imported = db.session.scalar(select(SurveyImport))
        ids = list(
            db.session.scalars(
                select(WorkerReport.id)
                .where(WorkerReport.survey_import_id == imported.id)
                .order_by(WorkerReport.id)
            )
        )
        assert len(ids) == 3
        actions = list(db.session.scalars(select(AuditEntry.action)))
        assert "report.create" not in actions and actions.count("survey.import") == 1
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.import"))
        data = json.loads(entry.data)
        assert data["report_ids"] == {"first": ids[0], "last": ids[-1], "count": 3}
        assert data["channel"] == "survey" and data["anonymous"] is False
        assert data["reports_by_site"] == {str(setup.site_id): 3} and data["reports_by_country"] == {"TH": 3}
        key_id = db.session.scalar(select(WorkerReport.organisation_key_id).where(WorkerReport.id == ids[0]))
        assert data["organisation_key_id"] == key_id
        # A report made afterwards the ordinary way takes the next id: none was taken twice.
        with unlocked_as(app, setup.monitor) as monitor:
            one, bulk = _both(monitor, db.session.get(Site, setup.site_id))
            assert ids[-1] < one.id < bulk.id


# --- the job's notification and a held job's page ------------------------------------------------


def test_the_owner_is_sent_to_the_survey_job_page_when_it_is_over(app, setup, client_for):
    client = client_for(setup.monitor)
    job_id = job_id_of(_upload(client, valid_file()))
    assert [o.state for o in run_worker(app)] == [JobState.done]
    with app.app_context():
        mine = select(Notification).where(Notification.user_id == setup.monitor.id)
        [notice] = db.session.scalars(mine.where(Notification.kind == NotificationKind.import_finished)).all()
        with force_locale("en"):
            assert render.line(notice) == "The file export.csv was imported"
        path = render.target_path(notice)
    assert path == f"/testimony/survey-imports/jobs/{job_id}"
    assert client.get(path).status_code == 200


def test_a_held_job_does_not_refresh_and_links_to_its_columns(app, setup, client_for):
    client = client_for(setup.monitor)
    columns = columns_url_of(_upload(client, renamed_file()))
    job_id = int(columns.rsplit("/", 2)[1])
    page = client.get(f"/imports/jobs/{job_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page
    assert f'<a href="/testimony/survey-imports/jobs/{job_id}/columns">' in page
    running = job_id_of(_upload(client, valid_file()))
    assert 'http-equiv="refresh"' in client.get(f"/imports/jobs/{running}").get_data(as_text=True)
