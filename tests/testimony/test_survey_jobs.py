# ruff: noqa: F811  (setup, a fixture imported from test_survey, is every test's argument)
"""Survey uploads imported by the background worker: the request only checks the header and
stores the file encrypted; the worker checks the rows in batches and seals them all at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from monitoring.accounts.models import UserRole
from monitoring.core import jobs
from monitoring.core.db import db
from monitoring.core.jobs import Job, JobRow, JobState
from monitoring.core.storage import file_store
from monitoring.core.types import utcnow
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.survey_jobs import SURVEY_IMPORT
from tests.conftest import login
from tests.testimony.test_survey import (  # noqa: F401
    API,
    OS_ID,
    _upload,
    api_upload,
    counts,
    kobo_csv,
    run_worker,
    setup,
    valid_file,
)

TESTIMONY = "Answer number"


def many_rows(count: int) -> bytes:
    return kobo_csv(
        [{"site_os_id": OS_ID, "testimony": f"{TESTIMONY} {n}: no day off."} for n in range(count)],
        questions=["site_os_id", "testimony"],
    )


def job_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def job_of(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job is not None
        db.session.expunge(job)
        return job


def _make_stale(app, job_id: int) -> None:
    with app.app_context():
        stale = utcnow() - timedelta(seconds=jobs.DEFAULT_STALE_SECONDS + 1)
        db.session.execute(update(Job).where(Job.id == job_id).values(heartbeat_dt=stale))
        db.session.commit()


def test_the_upload_is_queued_encrypted_and_imported_by_the_worker(app, setup, client_for):
    client = client_for(setup.monitor)
    job_id = job_id_of(_upload(client, valid_file()))
    assert counts(app) == (0, 0)
    job = job_of(app, job_id)
    assert (job.kind, job.state, job.owner_id, job.filename) == (
        SURVEY_IMPORT,
        JobState.queued,
        setup.monitor.id,
        "export.csv",
    )
    assert job.file_key_ct is not None and job.storage_key
    with app.app_context(), file_store().open(job.storage_key) as fh:
        raw = fh.read()
    for clear in (b"14 hours", b"Mya Thandar", b"testimony", b"Viber"):
        assert clear not in raw
    outcomes = run_worker(app)
    assert [(o.job_id, o.state) for o in outcomes] == [(job_id, JobState.done)]
    assert counts(app) == (3, 1)
    done = job_of(app, job_id)
    assert (done.storage_key, done.file_key_ct, done.rows_done, done.rows_total) == (None, None, 3, 3)
    with app.app_context(), pytest.raises(FileNotFoundError):
        file_store().open(job.storage_key).__enter__()
    with app.app_context():
        [notice] = db.session.scalars(
            select(Notification).where(
                Notification.user_id == setup.monitor.id,
                Notification.kind == NotificationKind.import_finished,
            )
        ).all()
        assert notice.params["job_id"] == job_id


def test_nothing_of_a_row_is_staged_but_its_line(app, setup, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_ROWS", 2)
    job_id = job_id_of(_upload(client_for(setup.monitor), many_rows(5)))
    with app.app_context():
        claimed = jobs.claim()
        assert claimed is not None
        assert jobs.run(*claimed, max_batches=2) is None
        staged = db.session.execute(select(JobRow.line, JobRow.data).where(JobRow.job_id == job_id)).all()
    assert [(line, data) for line, data in staged] == [(2, "{}"), (3, "{}"), (4, "{}"), (5, "{}")]
    job = job_of(app, job_id)
    assert (job.state, job.rows_done) == (JobState.running, 4)
    assert 0 < job.fraction() < 1


def test_a_killed_worker_leaves_no_report_and_the_next_one_finishes(app, setup, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_ROWS", 2)
    job_id = job_id_of(_upload(client_for(setup.monitor), many_rows(5)))
    with app.app_context():
        assert jobs.work_once(max_batches=1) == []  # the worker "dies" after a batch
    assert counts(app) == (0, 0)
    assert job_of(app, job_id).state == JobState.running
    assert run_worker(app) == []  # its heartbeat is fresh: nobody takes it over yet
    _make_stale(app, job_id)
    assert [o.state for o in run_worker(app)] == [JobState.done]
    assert counts(app) == (5, 1)
    assert job_of(app, job_id).rows_done == 5


def test_a_bad_row_refuses_the_whole_file(app, setup, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_ROWS", 2)
    rows = [{"site_os_id": OS_ID, "testimony": f"{TESTIMONY} {n}"} for n in range(5)]
    rows[4]["site_os_id"] = "XX0000000000000"
    client = client_for(setup.monitor)
    job_id = job_id_of(_upload(client, kobo_csv(rows, questions=["site_os_id", "testimony"])))
    assert [o.state for o in run_worker(app)] == [JobState.failed]
    assert counts(app) == (0, 0)
    job = job_of(app, job_id)
    assert (job.problems, job.storage_key, job.file_key_ct) == (1, None, None)
    page = client.get(f"/testimony/survey-imports/jobs/{job_id}").get_data(as_text=True)
    assert '<th scope="row">6</th><td><code>site_os_id</code></td>' in page


def test_a_login_succeeds_while_a_job_is_between_batches(app, setup, client_for, create_user, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_ROWS", 2)
    job_id = job_id_of(_upload(client_for(setup.monitor), many_rows(5)))
    with app.app_context():
        claimed = jobs.claim()
        assert claimed is not None
        jobs.run(*claimed, max_batches=1)
    assert login(app.test_client(), create_user(UserRole.monitor)).status_code == 302
    assert job_of(app, job_id).state == JobState.running


def test_the_api_queues_and_follows_the_job(app, setup, api_client):
    api = api_client(setup.monitor)
    response = api_upload(api, valid_file(), language="th")
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert (body["state"], body["kind"], body["result"]) == ("queued", SURVEY_IMPORT, None)
    assert counts(app) == (0, 0)
    run_worker(app)
    status = api.get(f"{API}/jobs/{body['id']}").get_json()
    assert (status["state"], status["progress"], status["result"]["rows"]) == ("done", 1.0, 3)
    imported = api.get(f"{API}/{status['result']['survey_import_id']}").get_json()
    assert imported["rows"] == 3


@pytest.mark.parametrize(
    "role", [UserRole.monitor, UserRole.admin, UserRole.coordinator, UserRole.affiliate, UserRole.supplier]
)
def test_only_the_owner_sees_the_job(app, setup, client_for, api_client, create_user, role):
    job_id = job_id_of(_upload(client_for(setup.monitor), valid_file()))
    other = create_user(role)  # a monitor of another organisation, or another role
    assert client_for(other).get(f"/testimony/survey-imports/jobs/{job_id}").status_code == 404
    assert api_client(other).get(f"{API}/jobs/{job_id}").status_code == 404
    assert client_for(setup.monitor).get(f"/testimony/survey-imports/jobs/{job_id}").status_code == 200
    assert client_for(setup.monitor).get("/testimony/survey-imports/jobs/999999").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(WorkerReport.id))) == 0
